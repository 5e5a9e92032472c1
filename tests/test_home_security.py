"""The home-security pack on SQLite and PostgreSQL: every table, every rule, every profile.

The pack is seeded once per database (larger than the default, so distributions are
measurable) and the realism rules are asserted against what landed in the database.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

import anyio
import numpy as np
import pytest
import sqlalchemy as sa

from seedgraph import api
from seedgraph.verify import run_checks
from tests.helpers import REPO, checksums, naive, query, run_engine, seeded_once

PACK = str(REPO / "tasks" / "home_security")
# large enough that the sampling error of each share is well under the effects checked
SETS = {"images": 4000, "days": 14, "jobs": 3000}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def hs(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield seeded_once(request, tmp_path_factory, "hs", pack=PACK, sets=SETS, seed=11,
                      as_of="2026-01-15")



def col(url: str, sql: str) -> list[Any]:
    return [r[0] for r in query(url, sql)]


def assert_share(count: int, n: int, p: float, what: object) -> None:
    """*count* of *n* independent draws with probability *p*: within four standard errors
    of a binomial share (a false alarm about once in 16,000 draws of the seed)."""
    assert n > 0, what
    tolerance = 4 * (p * (1 - p) / n) ** 0.5
    assert abs(count / n - p) <= tolerance, (what, count / n, p, tolerance)


def test_all_53_tables_are_filled_and_verify_passes(hs: str) -> None:
    async def checks() -> list[Any]:
        session = api.open_session(api.Options(pack=PACK, db=hs))
        db = await api.open_db(session)
        try:
            return await run_checks(db, session.pack, list(session.graph.nodes),
                                    params={"days": SETS["days"]}, as_of="2026-01-15")
        finally:
            await db.close()

    results = anyio.run(checks)
    failed = [(c.kind, c.name, c.sample) for c in results if not c.ok]
    assert failed == []
    assert sum(1 for c in results if c.kind == "rows") == 53
    assert sum(1 for c in results if c.kind == "invariant") >= 14


def test_detections_follow_a_daily_rhythm_inside_the_window(hs: str) -> None:
    raw = col(hs, "SELECT detected_at FROM detections")
    times = np.array([t.replace(tzinfo=None) if hasattr(t, "tzinfo") else t for t in raw],
                     dtype="datetime64[us]")
    hours = (times.astype("datetime64[h]").astype(np.int64) % 24)
    by_hour = np.bincount(hours, minlength=24)
    night, morning, evening = by_hour[1:5].mean(), by_hour[7:10].mean(), by_hour[17:20].mean()
    assert morning > 3 * night and evening > 3 * night
    assert times.min() >= np.datetime64("2026-01-01T00:00:00")
    assert times.max() <= np.datetime64("2026-01-15T00:00:00")


def _later_than_as_of(url: str) -> dict[str, int]:
    """Rows per timestamp column (expiry dates aside) later than the run's as_of."""
    session = api.open_session(api.Options(pack=PACK, db=url))
    # SQLite stores timestamps as text with six decimals; PostgreSQL compares instants
    as_of = "'2026-01-15 00:00:00.000000'" if url.startswith("sqlite") else \
        "'2026-01-15 00:00:00+00'"
    later = {}
    assert session.pack.metadata is not None
    for table in session.pack.metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, sa.DateTime) and column.name != "expires_at":
                found = query(url, f'SELECT COUNT(*) FROM "{table.name}" '
                                   f'WHERE "{column.name}" > {as_of}')[0][0]
                if found:
                    later[f"{table.name}.{column.name}"] = found
    return later


def test_nothing_happens_after_as_of(hs: str) -> None:
    """Every timestamp is at or before the run's as_of (2026-01-15), except expiry dates."""
    later = _later_than_as_of(hs)
    assert later == {}


def test_each_image_yields_zero_to_four_detections(hs: str) -> None:
    per_image = col(hs, "SELECT COUNT(*) FROM detections GROUP BY file_path")
    assert max(per_image) <= 4 and min(per_image) >= 1
    assert len(per_image) <= SETS["images"]


def test_risk_is_skewed_low_with_consistent_levels(hs: str) -> None:
    rows = query(hs, "SELECT risk_score, risk_level FROM events")
    scores = np.array([r[0] for r in rows])
    assert np.median(scores) < 35 and (scores >= 85).mean() < 0.05
    bands = {"low": (0, 29), "medium": (30, 59), "high": (60, 84), "critical": (85, 100)}
    assert all(bands[lvl][0] <= s <= bands[lvl][1] for s, lvl in rows)


def test_summaries_read_like_analyses_of_the_event(hs: str) -> None:
    rows = query(hs, "SELECT e.summary, e.reasoning, e.object_types, c.name FROM events e "
                     "JOIN cameras c ON c.id = e.camera_id")
    assert len(rows) > 200
    for summary, reasoning, types, camera in rows:
        types = types if isinstance(types, list) else json.loads(types)
        assert camera in summary
        assert "Risk assessed as" in reasoning and "lorem" not in reasoning.lower()
        words = {"person": ("person", "people")}
        assert any(w in summary.lower() for t in types for w in words.get(t, (t,)))
    assert len({r[0] for r in rows}) > 0.5 * len(rows)  # not one canned sentence


def test_fast_path_events_are_single_confident_people(hs: str) -> None:
    rows = query(hs, "SELECT e.detection_ids, d.object_type, d.confidence FROM events e "
                     "JOIN event_detections ed ON ed.event_id = e.id "
                     "JOIN detections d ON d.id = ed.detection_id WHERE e.is_fast_path")
    assert rows
    assert all(len(json.loads(ids)) == 1 and t == "person" and c >= 0.9 for ids, t, c in rows)


def test_enrichment_distributions(hs: str) -> None:
    ages = Counter(col(hs, "SELECT age_min FROM demographics_results"))
    total = sum(ages.values())
    assert total > 2000
    expected = {0: 0.10, 13: 0.25, 26: 0.35, 46: 0.20, 66: 0.10}
    assert set(ages) == set(expected)
    for lo, share in expected.items():
        assert_share(ages[lo], total, share, ("age", lo))
    genders = Counter(col(hs, "SELECT gender FROM demographics_results"))
    assert set(genders) == {"male", "female", "unknown"}
    for gender, share in {"male": 0.48, "female": 0.48, "unknown": 0.04}.items():
        assert_share(genders[gender], total, share, ("gender", gender))
    persons = col(hs, "SELECT COUNT(*) FROM detections WHERE object_type = 'person'")[0]
    threats = col(hs, "SELECT COUNT(*) FROM threat_detections")[0]
    assert total == persons
    assert_share(threats, persons, 0.03, "threats per person detection")


def test_jobs_states_and_finished_at(hs: str) -> None:
    states = Counter(col(hs, "SELECT status FROM jobs"))
    n = sum(states.values())
    assert n == SETS["jobs"]
    expected = {"completed": 0.70, "failed": 0.15, "running": 0.10, "pending": 0.05}
    assert set(states) == set(expected)
    for state, share in expected.items():
        assert_share(states[state], n, share, state)
    bad = col(hs, "SELECT COUNT(*) FROM jobs WHERE (finished_at IS NULL) <> "
                  "(status IN ('running', 'pending'))")[0]
    assert bad == 0


def test_feedback_on_a_third_of_events(hs: str) -> None:
    events = col(hs, "SELECT COUNT(*) FROM events")[0]
    kinds = Counter(col(hs, "SELECT feedback_type FROM event_feedback"))
    n = sum(kinds.values())
    assert_share(n, events, 0.30, "events with feedback")
    assert set(kinds) == {"correct", "partially_correct", "incorrect"}
    for kind, share in {"correct": 0.70, "partially_correct": 0.20, "incorrect": 0.10}.items():
        assert_share(kinds[kind], n, share, kind)


def test_feedback_comes_before_as_of_without_piling_up_at_it(hs: str) -> None:
    """Feedback is given 5 minutes to 2 days after its event and before as_of; none sits at
    exactly as_of. Where as_of leaves the full 2 days, the delay is uniform on
    [300 s, 2 days): its mean within four standard errors of the uniform's."""
    as_of = datetime(2026, 1, 15)
    rows = [(naive(c), naive(e)) for c, e in query(
        hs, "SELECT f.created_at, e.ended_at FROM event_feedback f "
            "JOIN events e ON e.id = f.event_id")]
    assert sum(1 for c, _ in rows if c == as_of) == 0
    assert all(e <= c < as_of for c, e in rows)
    lo, hi = 300, 2 * 86_400
    delays = [(c - e).total_seconds() for c, e in rows if as_of - e >= timedelta(seconds=hi)]
    sd = (hi - lo) / 12 ** 0.5
    assert abs(float(np.mean(delays)) - (lo + hi) / 2) <= 4 * sd / len(delays) ** 0.5
    assert min(delays) >= lo


def test_each_animal_is_its_own_entity(hs: str) -> None:
    """Dogs and cats are entities of their own species: Max, the family dog, is 70 % of the
    visits with a dog (passing dogs the rest); cats are neighbours' cats or strays."""
    rows = query(hs, "SELECT t.object_type, t.entity_id, e.entity_metadata FROM tracks t "
                     "JOIN entities e ON e.id = t.entity_id "
                     "WHERE t.object_type IN ('dog', 'cat')")
    species: dict[str, set[str]] = {}
    max_tracks = dog_tracks = 0
    for kind, entity, meta in rows:
        meta = meta if isinstance(meta, dict) else json.loads(meta)
        assert meta["species"] == kind, (kind, meta)
        species.setdefault(str(entity), set()).add(kind)
        dog_tracks += kind == "dog"
        max_tracks += meta.get("name") == "Max"
    assert all(len(kinds) == 1 for kinds in species.values())
    assert sum(1 for kinds in species.values() if kinds == {"cat"}) > 2
    assert_share(max_tracks, dog_tracks, 0.7, "dog tracks that are Max")


def test_alerts_only_for_enabled_rules(hs: str) -> None:
    disabled = col(hs, "SELECT COUNT(*) FROM alerts a JOIN alert_rules r ON r.id = a.rule_id "
                       "WHERE NOT r.enabled")[0]
    assert disabled == 0 and col(hs, "SELECT COUNT(*) FROM alerts")[0] > 0


def test_showcase_rows_and_hashed_keys(hs: str) -> None:
    assert query(hs, "SELECT address FROM properties WHERE name = 'Main Residence'")[0][0] \
        .startswith("123 Oak Street")
    members = col(hs, "SELECT name FROM household_members")
    assert {"John Smith", "Jane Smith", "Tommy Smith", "Max"} <= set(members)
    assert query(hs, "SELECT plate_number, make, model FROM registered_vehicles "
                     "WHERE plate_number = 'ABC-1234'") == [("ABC-1234", "Toyota", "Camry")]
    assert all(len(h) == 64 for h in col(hs, "SELECT key_hash FROM api_keys"))


def test_prompt_versions_have_exactly_one_active(hs: str) -> None:
    rows = query(hs, "SELECT prompt_config_id, SUM(CASE WHEN is_active THEN 1 ELSE 0 END), "
                     "MAX(version), COUNT(*) FROM prompt_versions GROUP BY prompt_config_id")
    assert rows and all(cur == 1 and mx == n for _, cur, mx, n in rows)


def test_zone_anomaly_scores_are_deviation_over_std(hs: str) -> None:
    rows = query(hs, "SELECT baseline_value, actual_value, deviation_score FROM zone_anomalies")
    assert rows
    for base, actual, score in rows:
        assert (actual - base) * score >= 0  # sign agrees
        assert abs(score) >= 1.0


@pytest.mark.parametrize(("profile", "present", "absent"), [
    ("minimal", {"cameras", "detections", "events", "event_detections", "alerts", "alert_rules"},
     {"jobs", "pose_results", "households"}),
    ("config-only", {"cameras", "camera_zones", "properties", "alert_rules", "prompt_configs"},
     {"detections", "events", "alerts", "jobs"}),
])
def test_profiles_select_the_documented_tables(
        profile: str, present: set[str], absent: set[str], tmp_path: Any) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'p.db'}"
    result = run_engine(url, pack=PACK, profile=profile)
    ran = {o.table for o in result.outcomes if o.status == "done"}
    assert present <= ran and not (absent & ran)
    assert all(query(url, f'SELECT COUNT(*) FROM "{t}"')[0][0] > 0 for t in ran)


def test_same_seed_same_database_on_a_second_run(hs: str, request: pytest.FixtureRequest,
                                                 tmp_path: Any) -> None:
    """A later run (another wall-clock time, one task at a time) writes the same rows in
    every table: nothing may depend on the clock or on the order tasks finish in."""
    if hs.startswith("sqlite"):
        other = f"sqlite+aiosqlite:///{tmp_path / 'again.db'}"
    else:
        other = request.getfixturevalue("pg").new()
    run_engine(other, pack=PACK, sets=SETS, seed=11, as_of="2026-01-15", concurrency=1)
    tables = [str(t) for t in api.open_session(api.Options(pack=PACK, db=hs)).graph.nodes]
    assert len(tables) == 53
    mine, theirs = checksums(hs, tables), checksums(other, tables)
    assert {t: mine[t] for t in tables if mine[t] != theirs[t]} == {}


def test_reid_embeddings_are_unit_vectors_clustered_by_entity(hs: str) -> None:
    rows = query(hs, "SELECT entity_id, embedding FROM reid_embeddings")
    emb = np.array([r[1] if isinstance(r[1], list) else json.loads(r[1]) for r in rows])
    assert emb.shape[1] == 512
    assert np.allclose(np.linalg.norm(emb, axis=1), 1, atol=1e-5)
    ids = np.array([str(r[0]) for r in rows])
    uniq = np.unique(ids)
    means = np.array([emb[ids == u].mean(axis=0) for u in uniq])
    means /= np.linalg.norm(means, axis=1, keepdims=True)
    own = np.einsum("ij,ij->i", emb, means[np.searchsorted(uniq, ids)])
    assert own.mean() > 0.8


def test_embeddings_are_float32_kept_in_the_row_and_read_alike_on_both(hs: str) -> None:
    """Embeddings are generated as float32 and stored as such: every value read back is
    exactly a float32 (on SQLite too, whose JSON holds the float32 values' full digits),
    and on PostgreSQL the column is real[] with STORAGE PLAIN (no TOAST table rows)."""
    for table, column in [("reid_embeddings", "embedding"), ("face_embeddings", "embedding"),
                          ("person_embeddings", "embedding"),
                          ("scene_changes", "after_embedding")]:
        values = np.array([_loads(v) for v in col(hs, f"SELECT {column} FROM {table}")])
        assert values.shape[1:] == (512,), table
        assert np.array_equal(values.astype(np.float32).astype(np.float64), values), table
    if hs.startswith("postgresql"):
        kinds = query(hs, "SELECT attrelid::regclass::text, format_type(atttypid, atttypmod),"
                          " attstorage::text FROM pg_attribute WHERE attname LIKE '%embedding' "
                          "AND attrelid::regclass::text IN ('reid_embeddings', "
                          "'face_embeddings', 'person_embeddings', 'scene_changes')")
        assert len(kinds) == 5
        assert {(k, s) for _, k, s in kinds} == {("real[]", "p")}
        toasted = col(hs, "SELECT pg_relation_size(reltoastrelid) FROM pg_class "
                          "WHERE relname = 'reid_embeddings'")
        assert toasted == [0]


def test_no_index_repeats_the_one_a_unique_constraint_has(hs: str) -> None:
    """Each index the database holds covers its own columns (a unique constraint's
    index included): read from each database's catalog."""
    if hs.startswith("postgresql"):
        twice = query(hs, "SELECT indrelid::regclass::text, indkey::text FROM pg_index i "
                          "JOIN pg_class c ON c.oid = i.indrelid "
                          "WHERE c.relnamespace = 'public'::regnamespace "
                          "GROUP BY 1, 2 HAVING count(*) > 1")
        assert twice == []
        return
    seen: Counter[tuple[str, tuple[str, ...]]] = Counter()
    for table in col(hs, "SELECT name FROM sqlite_master WHERE type = 'table' "
                         "AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'seedgraph%'"):
        for index in query(hs, f"PRAGMA index_list('{table}')"):
            columns = tuple(r[2] for r in query(hs, f"PRAGMA index_info('{index[1]}')"))
            seen[(table, columns)] += 1
    assert len(seen) > 100  # the unique constraints' own indexes are listed too
    assert [k for k, times in seen.items() if times > 1] == []


def _loads(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def test_prompt_models_are_unique_as_the_data_model_declares(hs: str) -> None:
    """003: a unique index on prompt_configs.model and a unique (model, version) on
    prompt_versions, declared in the schema and kept by the data."""
    metadata = api.open_session(api.Options(pack=PACK, db=hs)).pack.metadata
    assert metadata is not None

    def unique_sets(name: str) -> set[tuple[str, ...]]:
        table = metadata.tables[name]
        found = {tuple(c.name for c in i.columns) for i in table.indexes if i.unique}
        found |= {tuple(c.name for c in u.columns) for u in table.constraints
                  if isinstance(u, sa.UniqueConstraint)}
        found |= {(c.name,) for c in table.columns if c.unique}
        return found

    assert ("model",) in unique_sets("prompt_configs")
    assert ("model", "version") in unique_sets("prompt_versions")
    assert query(hs, "SELECT model, COUNT(*) FROM prompt_configs GROUP BY model "
                     "HAVING COUNT(*) > 1") == []
    assert query(hs, "SELECT model, version, COUNT(*) FROM prompt_versions "
                     "GROUP BY model, version HAVING COUNT(*) > 1") == []


def test_prompt_config_version_is_its_latest_version(hs: str) -> None:
    """003: prompt_configs.version increments on each update, so it is the latest version
    recorded for its model in prompt_versions (and that version is the active one)."""
    rows = query(hs, "SELECT c.model, c.version, MAX(v.version) FROM prompt_configs c "
                     "JOIN prompt_versions v ON v.model = c.model GROUP BY c.model, c.version")
    assert len(rows) == col(hs, "SELECT COUNT(*) FROM prompt_configs")[0]
    assert all(version == latest for _, version, latest in rows), rows
    assert max(r[1] for r in rows) > 1
    current = query(hs, "SELECT c.version, v.version FROM prompt_configs c "
                        "JOIN prompt_versions v ON v.prompt_config_id = c.id WHERE v.is_active")
    assert current and all(a == b for a, b in current)


def test_the_higher_severity_rule_takes_precedence_for_an_event(hs: str) -> None:
    """003: several rules may match one event; the higher-severity rule takes precedence,
    so an event has at most one alert, raised by a rule of the highest severity among the
    enabled rules it matches (recomputed here from the rules' conditions)."""
    order = {"low": 0, "medium": 1, "high": 2, "critical": 3}
    rules = [dict(zip(("id", "severity", "threshold", "types", "cameras", "conf", "sched"), r,
                      strict=True))
             for r in query(hs, "SELECT id, severity, risk_threshold, object_types, camera_ids, "
                                "min_confidence, schedule FROM alert_rules WHERE enabled")]
    conf = dict(query(hs, "SELECT id, confidence FROM detections"))
    events = {}
    for eid, cam, score, types, ids, started in query(
            hs, "SELECT id, camera_id, risk_score, object_types, detection_ids, started_at "
                "FROM events"):
        events[eid] = (str(cam), score, set(_loads(types)),
                       max(conf[d] for d in _loads(ids)), naive(started).hour)

    def matches(rule: dict[str, Any], event: tuple[Any, ...]) -> bool:
        cam, score, types, best, hour = event
        sched = _loads(rule["sched"])
        if sched:
            start, end = sched["start_hour"], sched["end_hour"]
            if not (start <= hour < end if start <= end else hour >= start or hour < end):
                return False
        return ((rule["threshold"] is None or score >= rule["threshold"])
                and (not _loads(rule["types"]) or bool(types & set(_loads(rule["types"]))))
                and (not _loads(rule["cameras"]) or cam in map(str, _loads(rule["cameras"])))
                and (rule["conf"] is None or best >= rule["conf"]))

    per_event = Counter(col(hs, "SELECT event_id FROM alerts"))
    assert per_event and max(per_event.values()) == 1, per_event.most_common(3)
    several = 0
    for eid, severity in query(hs, "SELECT event_id, severity FROM alerts"):
        matched = [order[r["severity"]] for r in rules if matches(r, events[eid])]
        several += len(matched) > 1
        assert matched and order[severity] == max(matched), (eid, severity, matched)
    assert several > 0  # the rule was exercised: some alerted events matched several rules


def test_prompt_versions_use_the_data_model_column_names(hs: str) -> None:
    """003 names prompt_versions' columns `change_description` and `is_active` (000 said
    `changelog` and `is_current`); the schema follows 003, one active version per model."""
    metadata = api.open_session(api.Options(pack=PACK, db=hs)).pack.metadata
    assert metadata is not None
    names = set(metadata.tables["prompt_versions"].columns.keys())
    assert {"change_description", "is_active"} <= names
    assert not {"changelog", "is_current"} & names
    rows = query(hs, "SELECT model, SUM(CASE WHEN is_active THEN 1 ELSE 0 END), MAX(version), "
                     "MAX(CASE WHEN is_active THEN version END) FROM prompt_versions "
                     "GROUP BY model")
    assert rows and all(active == 1 and top == latest for _, active, top, latest in rows)


@pytest.mark.parametrize(("table", "column", "values"), [
    ("camera_zones", "zone_type", ("entry_point", "driveway", "sidewalk", "yard", "other")),
    ("scene_changes", "change_type", ("lighting", "obstruction", "movement")),
])
def test_enum_checks_accept_every_value_the_data_model_lists(
        table: str, column: str, values: tuple[str, ...]) -> None:
    """003's enums are accepted by the CHECK constraints (the data keeps 000's values, which
    the CHECKs accept too: see the conformance table in docs/pack-home-security.md)."""
    metadata = api.open_session(api.Options(pack=PACK)).pack.metadata
    assert metadata is not None
    checks = [str(c.sqltext) for c in metadata.tables[table].constraints
              if isinstance(c, sa.CheckConstraint) and str(c.sqltext).startswith(f"{column} IN")]
    assert len(checks) == 1
    assert all(f"'{v}'" in checks[0] for v in values), (checks[0], values)


def test_gpu_is_sampled_every_five_seconds_by_default(hs: str) -> None:
    """003, gpu_stats: "Populated by GPUMonitor service at configurable intervals (default:
    5 seconds)" — one sample every 5 s over the whole window (`gpu_interval_s`; it was
    300 s), the first at the window's start, none after as_of."""
    stamps = [naive(t) for t in col(hs, "SELECT recorded_at FROM gpu_stats "
                                        "ORDER BY recorded_at")]
    assert len(stamps) == SETS["days"] * 86_400 // 5
    assert {round((b - a).total_seconds()) for a, b in pairwise(stamps)} == {5}
    assert stamps[0] == datetime(2026, 1, 15) - timedelta(days=SETS["days"])
    assert stamps[-1] < datetime(2026, 1, 15)


def test_kept_deviations_from_the_data_model_are_the_documented_ones(hs: str) -> None:
    """The deviations from 003 the conformance table keeps, as the data shows them: 003's
    `zones` folded into `camera_zones` (with its shape, color and priority), zone and
    scene-change types from 000."""
    metadata = api.open_session(api.Options(pack=PACK, db=hs)).pack.metadata
    assert metadata is not None
    assert "zones" not in metadata.tables
    assert {"shape", "color", "priority", "zone_type"} <= set(
        metadata.tables["camera_zones"].columns.keys())
    zone_types = set(col(hs, "SELECT DISTINCT zone_type FROM camera_zones"))
    assert "entrance" in zone_types and "entry_point" not in zone_types
    assert zone_types <= {"driveway", "entrance", "perimeter", "pool", "garage"}
    assert set(col(hs, "SELECT DISTINCT change_type FROM scene_changes")) <= {
        "object_left_behind", "object_removed", "door_opened", "light_changed",
        "camera_tampered"}
