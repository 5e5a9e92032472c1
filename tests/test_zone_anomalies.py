"""Zone anomalies measured against the stored zone baselines, recomputed here from the rows.

The checks read only what landed in the database (anomalies, baseline slots, zones and
detections) and recompute with plain Python, not with the pack's own functions.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.helpers import REPO, checksums, cli, naive, query, seeded_once

PACK = str(REPO / "tasks" / "home_security")
SETS = {"images": 4000, "days": 14}
AS_OF = datetime(2026, 1, 15)
START = AS_OF - timedelta(days=SETS["days"])
NIGHT = {22, 23, 0, 1, 2, 3, 4, 5}
TYPES = {"activity_spike", "activity_drop", "new_pattern", "schedule_violation"}
WEEKS = 8  # the pack's default baseline_weeks


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield seeded_once(request, tmp_path_factory, "za", pack=PACK, sets=SETS, seed=3,
                      as_of="2026-01-15")



def inside(x: float, y: float, poly: Sequence[Sequence[float]]) -> bool:
    """Ray casting for one point."""
    found = False
    j = len(poly) - 1
    for i in range(len(poly)):
        (xi, yi), (xj, yj) = poly[i], poly[j]
        if (yi > y) != (yj > y) and x < (xj - xi) * (y - yi) / (yj - yi) + xi:
            found = not found
        j = i
    return found


class Window:
    """The database's zones, baseline slots, anomalies and per-zone hourly counts."""

    def __init__(self, url: str) -> None:
        self.zones = {str(z): (str(c), p if isinstance(p, list) else json.loads(p))
                      for z, c, p in query(url, "SELECT id, camera_id, polygon_coords "
                                                "FROM camera_zones")}
        self.slots = {(str(z), h, d): (avg, std, n) for z, h, d, avg, std, n in query(
            url, "SELECT zone_id, hour_of_day, day_of_week, avg_detections, std_dev, "
                 "sample_count FROM zone_activity_baselines")}
        self.anomalies = [(str(z), kind, base, actual, score, naive(at) - timedelta(hours=1))
                          for z, kind, base, actual, score, at in query(
                              url, "SELECT zone_id, anomaly_type, baseline_value, actual_value, "
                                   "deviation_score, detected_at FROM zone_anomalies")]
        # counts[(zone, hour start)] of detections centred in the zone
        self.counts: dict[tuple[str, datetime], int] = {}
        by_camera: dict[str, list[str]] = {}
        for z, (cam, _) in self.zones.items():
            by_camera.setdefault(cam, []).append(z)
        for cam, at, x, y, w, h in query(url, "SELECT camera_id, detected_at, bbox_x, bbox_y, "
                                              "bbox_width, bbox_height FROM detections"):
            hour = naive(at).replace(minute=0, second=0, microsecond=0)
            cx, cy = (x + w / 2) / 1920, (y + h / 2) / 1080
            for z in by_camera.get(str(cam), []):
                if inside(cx, cy, self.zones[z][1]):
                    self.counts[(z, hour)] = self.counts.get((z, hour), 0) + 1

    def slot(self, zone: str, hour: datetime) -> tuple[float, float, int]:
        return self.slots[(zone, hour.hour, hour.weekday())]


@pytest.fixture(scope="module")
def window(db: str) -> Window:
    return Window(db)


def test_zone_anomalies_measure_the_stored_baseline_slot(window: Window) -> None:
    """baseline_value is the stored (zone, hour, weekday) slot's avg_detections,
    actual_value the detections centred in the zone that hour, and deviation_score
    (actual - avg) / std_dev of the same slot."""
    assert window.anomalies
    for zone, _, base, actual, score, hour in window.anomalies:
        avg, std, _ = window.slot(zone, hour)
        assert base == pytest.approx(avg, abs=1e-9), (zone, hour)
        assert actual == window.counts.get((zone, hour), 0), (zone, hour)
        assert score == pytest.approx((actual - avg) / std, abs=1e-3), (zone, hour)


def test_zone_anomalies_have_all_four_types_each_by_its_rule(window: Window) -> None:
    kinds = {kind for _, kind, *_ in window.anomalies}
    assert kinds == TYPES
    for zone, kind, base, actual, score, hour in window.anomalies:
        night = hour.hour in NIGHT
        what = (kind, zone, hour, base, actual, score)
        if kind == "schedule_violation":
            assert night and score >= 2, what
        elif kind == "new_pattern":  # activity in a slot that never had any
            assert not night and base == 0 and actual > 0 and score >= 2, what
        elif kind == "activity_spike":
            assert not night and base > 0 and score >= 2, what
        else:  # a normally busy slot gone quiet
            assert base >= 1 and actual < base and score <= -2, what


def test_zone_anomaly_scores_spread_like_z_scores(window: Window) -> None:
    """Scores come from each slot's own mean and spread: they differ from row to row and
    point both ways, instead of one value for every row."""
    scores = [score for *_, score, _ in window.anomalies]
    assert len(set(scores)) > len(scores) / 2, scores
    assert min(scores) <= -2 and max(scores) >= 2


def test_zone_baselines_are_slots_learned_over_weeks(window: Window) -> None:
    """Every zone has its 168 (hour, weekday) slots, each learned over the weeks before the
    window with its own spread: a weekday's slot is not a copy of the hour's."""
    assert len(window.slots) == 168 * len(window.zones)
    assert {n for _, _, n in window.slots.values()} == {WEEKS}
    assert all(std >= 0.5 for _, std, _ in window.slots.values())
    own_spread = sum(
        1 for z in window.zones for h in range(24)
        if len({window.slots[(z, h, d)][1] for d in range(7)}) > 1)
    assert own_spread > 0.5 * 24 * len(window.zones)


def test_zone_baselines_predict_the_window(window: Window) -> None:
    """The baselines describe the same household as the detections: per zone, the window's
    detections are the sum of their slots' means, within four standard errors.

    The window's total varies by the slots' variances (one draw per zone-hour) and the
    expectation by the variance of each slot mean (std_dev^2 / weeks, used once per day
    of that weekday in the window)."""
    days = [START + timedelta(days=d) for d in range(SETS["days"])]
    for zone in window.zones:
        total = sum(n for (z, _), n in window.counts.items() if z == zone)
        expected = variance = 0.0
        for day in days:
            for hour in range(24):
                avg, std, _ = window.slot(zone, day + timedelta(hours=hour))
                expected += avg
                variance += std ** 2
        per_slot = SETS["days"] // 7  # each slot serves this many days of the window
        variance += sum(per_slot ** 2 * std ** 2 / n
                        for (z, _, _), (_, std, n) in window.slots.items() if z == zone)
        assert abs(total - expected) <= 4 * variance ** 0.5, (zone, total, expected)


def test_demo_size_shows_every_type_and_reruns_alone(tmp_path: Path) -> None:
    """At the default size (the demo: seed 42, 100 images, 7 days) all four types occur,
    and `--only zone_anomalies+` recomputes the same rows from the stored baselines."""
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    first = cli("run", "--db", url, "--seed", "42", "--as-of", "2026-01-15", "--quiet")
    assert first.returncode == 0, first.stderr
    assert {r[0] for r in query(url, "SELECT anomaly_type FROM zone_anomalies")} == TYPES
    before = checksums(url, ["zone_anomalies", "zone_activity_baselines"])
    again = cli("run", "--db", url, "--only", "zone_anomalies+", "--seed", "42", "--as-of",
                "2026-01-15", "--quiet")
    assert again.returncode == 0, again.stderr
    assert checksums(url, ["zone_anomalies", "zone_activity_baselines"]) == before
