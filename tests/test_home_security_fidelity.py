"""Data-fidelity rules of the home-security pack that source document 000 states and
issue 12 found broken: re-ID for vehicles, job retries (attempts, timeouts, cancels,
workers) and each camera's ``last_seen_at``.

The checks read what landed in the database and recompute with plain Python. Shares
are held to four standard errors of their sampling error at the tested size.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from tests.helpers import REPO, query, run_engine

PACK = str(REPO / "tasks" / "home_security")
SETS = {"images": 4000, "days": 14, "jobs": 3000}
VEHICLES = ("car", "truck", "motorcycle")


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('hsf') / 'hsf.db'}"
    result = run_engine(url, pack=PACK, sets=SETS, seed=5, as_of="2026-01-15")
    assert result.status == "done", [o for o in result.outcomes if o.status != "done"]
    yield url


def col(url: str, sql: str) -> list[Any]:
    return [r[0] for r in query(url, sql)]


def assert_share(count: int, n: int, p: float, what: object) -> None:
    """*count* of *n* independent draws with probability *p*: within four standard errors."""
    assert n > 0, what
    tolerance = 4 * (p * (1 - p) / n) ** 0.5
    assert abs(count / n - p) <= tolerance, (what, count / n, p, tolerance)


def assert_mean(values: list[float], mu: float, what: object) -> None:
    """The mean of independent *values* is within four standard errors of *mu*."""
    x = np.asarray(values, dtype=float)
    assert len(x) > 1, what
    tolerance = 4 * x.std(ddof=1) / len(x) ** 0.5
    assert abs(x.mean() - mu) <= tolerance, (what, x.mean(), mu, tolerance)


def _vec(v: Any) -> list[float]:
    return json.loads(v) if isinstance(v, str) else list(v)


# -- 1. re-identification for people and vehicles ----------------------------------


def test_vehicle_detections_get_reid_embeddings_of_their_vehicle_entity(db: str) -> None:
    """000, seed_reid_embeddings: "512-dim vectors for person/vehicle appearance matching"."""
    kinds = dict(query(db, "SELECT d.object_type, COUNT(*) FROM detections d "
                           "GROUP BY d.object_type"))
    reid = dict(query(db, "SELECT d.object_type, COUNT(*) FROM reid_embeddings r JOIN "
                          "detections d ON d.id = r.detection_id GROUP BY d.object_type"))
    vehicles = sum(kinds.get(v, 0) for v in VEHICLES)
    assert vehicles > 500
    # every person and every vehicle detection is re-identified; nothing else is
    assert {k: reid.get(k, 0) for k in kinds} == {
        k: (n if k == "person" or k in VEHICLES else 0) for k, n in kinds.items()}
    mismatched = col(db, "SELECT COUNT(*) FROM reid_embeddings r JOIN detections d ON "
                         "d.id = r.detection_id JOIN entities e ON e.id = r.entity_id WHERE "
                         "e.entity_type <> CASE WHEN d.object_type = 'person' THEN 'person' "
                         "ELSE 'vehicle' END")[0]
    assert mismatched == 0


def test_vehicle_reid_similarity_matches_person_reid(db: str) -> None:
    """A vehicle's embeddings are as close to its entity's appearance vector as a person's
    are to theirs (same mechanism), far above the similarity to other vehicles."""
    rows = query(db, "SELECT d.object_type, r.embedding, e.embedding_vector, e.id FROM "
                     "reid_embeddings r JOIN detections d ON d.id = r.detection_id JOIN "
                     "entities e ON e.id = r.entity_id")
    emb = np.array([_vec(r[1]) for r in rows])
    own = np.array([_vec(r[2]) for r in rows])
    own /= np.linalg.norm(own, axis=1, keepdims=True)
    sim = np.einsum("ij,ij->i", emb, own)
    is_vehicle = np.array([r[0] in VEHICLES for r in rows])
    assert is_vehicle.sum() > 500 and (~is_vehicle).sum() > 500
    # the two means agree within four standard errors of their difference
    v, p = sim[is_vehicle], sim[~is_vehicle]
    se = (v.var(ddof=1) / len(v) + p.var(ddof=1) / len(p)) ** 0.5
    assert abs(v.mean() - p.mean()) <= 4 * se, (v.mean(), p.mean(), se)
    assert v.min() > 0.8
    # against other vehicles' appearance vectors: unrelated (cosine near 0)
    ents = {str(r[3]): o for r, o, veh in zip(rows, own, is_vehicle.tolist(), strict=True)
            if veh}
    assert len(ents) > 20
    ids = list(ents)
    mat = np.array([ents[i] for i in ids])
    cross = emb[is_vehicle] @ mat.T
    mine = np.array([ids.index(str(r[3])) for r, veh in zip(rows, is_vehicle.tolist(),
                                                              strict=True) if veh])
    cross[np.arange(len(mine)), mine] = np.nan
    assert np.nanmax(cross) < 0.5
