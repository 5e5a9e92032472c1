"""AI enrichment: demographics, pose, actions and threats for person detections; re-ID
embeddings for person and vehicle detections (000: "person/vehicle appearance matching")."""

from __future__ import annotations

from typing import Any

import numpy as np

from seedgraph import TaskContext, VerifyContext, invariant, task

from . import sim, vocab
from .tracking import VEHICLES, entity_centroids, entity_ids, reid_entities

PIECE_ROWS = 4096  # rows of wide values (embeddings, skeletons) generated at once
REID_PIECE_ROWS = 2048  # embeddings: their temporaries are 8 MB per 2,048 rows


def _pieces(n: int, rows: int = PIECE_ROWS) -> list[slice]:
    """Consecutive slices of at most *rows* rows covering range(n)."""
    return [slice(start, min(n, start + rows)) for start in range(0, n, rows)]


BOX = ("bbox_x", "bbox_y", "bbox_width", "bbox_height")


async def _persons(ctx: TaskContext | VerifyContext,
                   extra: tuple[str, ...] = ()) -> dict[str, np.ndarray]:
    """id and detected_at of the person detections, and the *extra* columns asked for
    (each column decoded costs time: only what the task uses is read)."""
    det = await ctx.read("detections", ["id", "object_type", "detected_at", *extra])
    keep = det.pop("object_type") == "person"
    return {k: v[keep] for k, v in det.items()}


def _later(ctx: TaskContext, ts: np.ndarray) -> np.ndarray:
    return sim.not_after(ctx.as_of, ts + ctx.rng.integers(200_000, 3_000_000, len(ts))
                         .astype("timedelta64[us]"))


@task("demographics_results", upstream=["detections"], tags=["enrichment"])
async def demographics_results(ctx: TaskContext) -> None:
    """Age range and gender per person: ages 10/25/35/20/10 %, gender 48/48/4 %."""
    p = await _persons(ctx)
    n = len(p["id"])
    rng = ctx.rng
    bucket = rng.choice(len(vocab.DEMOGRAPHIC_AGES), n, p=vocab.DEMOGRAPHIC_AGE_P)
    ages = np.array(vocab.DEMOGRAPHIC_AGES)[bucket]
    await ctx.write({
        "detection_id": p["id"], "age_min": ages[:, 0], "age_max": ages[:, 1],
        "gender": rng.choice(np.array(vocab.GENDERS, dtype=object), n, p=vocab.GENDER_P),
        "gender_confidence": np.round(rng.beta(6, 2, n), 3),
        "created_at": _later(ctx, p["detected_at"]),
    })


def keypoints(rng: np.random.Generator, p: dict[str, np.ndarray]) -> np.ndarray:
    """COCO 17-point skeletons inside each person's box (pixels, with a visibility score),
    an (n, 17, 3) array (the writer makes the jsonb column's text of it, by table lookup:
    seedgraph/jsonarrays.py)."""
    n = len(p["id"])
    # template positions (fraction of box width, height) for a standing person
    tx = np.array([.5, .45, .55, .4, .6, .3, .7, .25, .75, .22, .78, .38, .62, .38, .62, .38, .62])
    ty = np.array([.08, .06, .06, .08, .08, .22, .22, .38, .38, .52, .52, .55, .55, .75, .75,
                   .95, .95])
    jx = np.clip(tx + rng.normal(0, 0.03, (n, 17)), 0, 1)
    jy = np.clip(ty + rng.normal(0, 0.02, (n, 17)), 0, 1)
    xs = p["bbox_x"][:, None] + jx * p["bbox_width"][:, None]
    ys = p["bbox_y"][:, None] + jy * p["bbox_height"][:, None]
    score = np.round(rng.beta(6, 2, (n, 17)), 2)
    return np.stack([np.round(xs, 1), np.round(ys, 1), score], axis=2)


@task("pose_results", upstream=["detections"], tags=["enrichment"], cost=11)
async def pose_results(ctx: TaskContext) -> None:
    """17-point COCO skeletons inside the person's box, with a pose class."""
    persons = await _persons(ctx, BOX)
    rng = ctx.rng
    for part in _pieces(len(persons["id"])):
        # piece by piece: a skeleton's JSON text is some 330 characters (and the piece
        # size fixes the order of the draws: changing it changes the data)
        p = {k: v[part] for k, v in persons.items()}
        n = len(p["id"])
        await ctx.write({
            "detection_id": p["id"], "keypoints": keypoints(rng, p),
            "pose_class": rng.choice(np.array(vocab.POSE_CLASSES, dtype=object), n,
                                     p=[0.45, 0.35, 0.06, 0.06, 0.07, 0.01]),
            "confidence": np.round(rng.beta(7, 2, n), 3),
            "created_at": _later(ctx, p["detected_at"]),
        })


@task("action_results", upstream=["detections"], tags=["enrichment"], cost=2)
async def action_results(ctx: TaskContext) -> None:
    """Action recognition per person detection."""
    p = await _persons(ctx)
    n = len(p["id"])
    rng = ctx.rng
    await ctx.write({
        "detection_id": p["id"],
        "action": rng.choice(np.array(vocab.ACTIONS, dtype=object), n,
                             p=[0.38, 0.05, 0.08, 0.01, 0.16, 0.12, 0.08, 0.12]),
        "confidence": np.round(rng.beta(5, 2, n), 3),
        "duration_ms": rng.integers(400, 8000, n), "created_at": _later(ctx, p["detected_at"]),
    })


@task("threat_detections", upstream=["detections"], tags=["enrichment"],
      params={"threat_rate": 0.03})
async def threat_detections(ctx: TaskContext) -> None:
    """Threat classifications: rare (about 3 % of person detections), mostly low severity."""
    p = await _persons(ctx)
    rng = ctx.rng
    hit = rng.random(len(p["id"])) < float(ctx.params["threat_rate"])
    if len(p["id"]) and not hit.any():
        hit[int(rng.integers(len(p["id"])))] = True  # the table is never empty
    n = int(hit.sum())
    await ctx.write({
        "detection_id": p["id"][hit],
        "threat_type": rng.choice(np.array(vocab.THREAT_TYPES, dtype=object), n,
                                  p=[0.05, 0.15, 0.3, 0.3, 0.2]),
        "severity": rng.choice(np.array(vocab.SEVERITIES, dtype=object), n,
                               p=[0.5, 0.3, 0.15, 0.05]),
        "confidence": np.round(rng.beta(3, 3, n), 3),
        "created_at": _later(ctx, p["detected_at"][hit]),
    })


@task("reid_embeddings", upstream=["detections", "entities"], tags=["enrichment"], cost=25)
async def reid_embeddings(ctx: TaskContext) -> None:
    """512-dim re-ID embeddings of people and vehicles, clustered around the centroid of the
    detection's entity (a resident or a stranger; a household car or a passing one)."""
    det = await ctx.read("detections", ["id", "camera_id", "detected_at", "object_type"])
    entity_of = reid_entities(ctx, det)
    del det["camera_id"], det["object_type"]  # what only the entities need
    keep = entity_of >= 0
    count = int(entity_of.max()) + 1 if keep.any() else 0
    centroids = entity_centroids(ctx, count)
    ids = entity_ids(ctx, count)
    rows = np.flatnonzero(keep)
    for piece in _pieces(len(rows), REID_PIECE_ROWS):
        # piece by piece (each piece's noise continues the same random stream, so the
        # vectors do not depend on the piece size): a whole table of 512-dim vectors
        # and their temporaries took gigabytes at 100,000 images
        part = rows[piece]
        await ctx.write({
            "detection_id": det["id"][part], "entity_id": ids[entity_of[part]],
            "embedding": sim.around(ctx.rng, centroids[entity_of[part]], 0.45),
            "created_at": det["detected_at"][part] + np.timedelta64(1, "s"),
        })


@invariant("enrichment_only_for_people", tables=["detections", "demographics_results",
                                                  "pose_results", "action_results",
                                                  "threat_detections"])
async def enrichment_only_for_people(ctx: VerifyContext) -> list[tuple[Any, ...]]:
    """Demographics, pose, action and threat rows reference person detections only."""
    out: list[tuple[Any, ...]] = []
    for table in ("demographics_results", "pose_results", "action_results", "threat_detections"):
        out += await ctx.query(f"SELECT '{table}', d.id, d.object_type FROM {table} t JOIN "
                               "detections d ON d.id = t.detection_id "
                               "WHERE d.object_type <> 'person'")
    return out[:10]


@invariant("reid_for_people_and_vehicles", tables=["detections", "reid_embeddings", "entities"])
async def reid_for_people_and_vehicles(ctx: VerifyContext) -> list[tuple[Any, ...]]:
    """Every person and vehicle detection, and nothing else, has one re-ID embedding, of an
    entity of its kind (000: "512-dim vectors for person/vehicle appearance matching")."""
    vehicles = ", ".join(f"'{v}'" for v in VEHICLES)
    kind = f"CASE WHEN d.object_type = 'person' THEN 'person' WHEN d.object_type IN ({vehicles}) " \
        "THEN 'vehicle' END"
    return (await ctx.query(
        f"SELECT d.id, d.object_type, e.entity_type FROM detections d LEFT JOIN reid_embeddings r "
        f"ON r.detection_id = d.id LEFT JOIN entities e ON e.id = r.entity_id "
        f"WHERE COALESCE({kind}, '') <> COALESCE(e.entity_type, '')"))[:10]


@invariant("keypoints_inside_box", tables=["pose_results", "detections"])
async def keypoints_inside_box(ctx: VerifyContext) -> list[tuple[Any, ...]]:
    """All 17 keypoints of a pose lie inside the detection's box."""
    p = await _persons(ctx, BOX)
    box = {int(i): (x, y, w, h) for i, x, y, w, h in zip(
        p["id"], p["bbox_x"], p["bbox_y"], p["bbox_width"], p["bbox_height"], strict=True)}
    poses = await ctx.read("pose_results", ["detection_id", "keypoints"])
    bad = []
    for did, kps in zip(poses["detection_id"].tolist(), poses["keypoints"], strict=True):
        x, y, w, h = box[did]
        pts = np.asarray(kps, dtype=float)
        if pts.shape != (17, 3) or (pts[:, 0] < x - 0.5).any() or (pts[:, 0] > x + w + 0.5).any() \
                or (pts[:, 1] < y - 0.5).any() or (pts[:, 1] > y + h + 0.5).any():
            bad.append((did, "keypoints outside the box or not 17"))
    return bad[:10]


@invariant("reid_clusters_by_entity", tables=["reid_embeddings", "entities"])
async def reid_clusters_by_entity(ctx: VerifyContext) -> list[tuple[Any, ...]]:
    """Re-ID embeddings sit closer to their own entity's mean than to other entities'."""
    r = await ctx.read("reid_embeddings", ["entity_id", "embedding"])
    emb = r["embedding"]
    if len(emb) == 0:
        return []
    if emb.shape[1] != 512 or np.abs(np.linalg.norm(emb, axis=1) - 1).max() > 1e-3:
        return [("reid_embeddings", "not 512-dim unit vectors")]
    ids = r["entity_id"].astype(str)
    uniq, inv = np.unique(ids, return_inverse=True)
    means = np.zeros((len(uniq), emb.shape[1]))
    np.add.at(means, inv, emb)
    means /= np.linalg.norm(means, axis=1, keepdims=True)
    sims = emb @ means.T
    own = sims[np.arange(len(emb)), inv]
    sims[np.arange(len(emb)), inv] = -np.inf
    other = sims.max(axis=1) if len(uniq) > 1 else np.full(len(emb), -1.0)
    wrong = np.flatnonzero(own <= other)
    return [(ids[i], float(own[i]), float(other[i])) for i in wrong[:5]]
