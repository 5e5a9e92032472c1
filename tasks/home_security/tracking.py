"""Tracking and scene understanding: entities, tracks, dwell times, faces, actions, scene
changes and heatmaps, all derived from the detections."""

from __future__ import annotations

from typing import Any

import numpy as np

from seedgraph import TaskContext, VerifyContext, gen, invariant, task
from seedgraph.jsonarrays import json_runs

from . import sim, vocab

RESIDENTS = 6  # recurring people: the household and its regular visitors
HOME_VEHICLES = 3
MAX_P = 0.7  # a dog on camera is Max, the family dog; otherwise a dog passing by
NEIGHBOUR_CATS = 2  # the family has no cat: cats are two neighbours' cats or a stray
NEIGHBOUR_CAT_P = 0.6
MAX = RESIDENTS + HOME_VEHICLES  # Max's entity number; the neighbours' cats follow
VEHICLES = ("car", "truck", "motorcycle")
CLOTHING = ("black jacket", "blue jeans", "red hoodie", "grey coat", "white t-shirt",
            "high-visibility vest", "green raincoat")
COLORS = ("silver", "black", "white", "blue", "red")  # a vehicle's
BODIES = ("sedan", "suv", "pickup", "van")
ACTION_SUSPICIOUS = {"loitering", "climbing", "looking_around"}


def assign_entities(ctx: TaskContext, det: dict[str, np.ndarray]) -> tuple[np.ndarray, list[str],
                                                                           list[str]]:
    """Which entity each detection shows (-1: none), plus each entity's type and trust.

    Every visit's people are one entity: a recurring resident (trusted) with
    probability 0.55, else a stranger seen on that visit only. Vehicles likewise,
    with the household's cars. A visit's dog is Max, the family dog (trusted), with
    probability 0.7, else a dog passing by; its cat is one of two neighbours' cats
    with probability 0.6, else a stray. Uses the shared stream "entities", so every
    task that calls it gets the same answer.
    """
    rng = ctx.rng_for("entities")
    visit = sim.visits(det)
    nvisit = int(visit.max()) + 1 if len(visit) else 0
    kind = np.full(len(visit), "", dtype=object)
    kind[det["object_type"] == "person"] = "person"
    kind[np.isin(det["object_type"], VEHICLES)] = "vehicle"
    kind[det["object_type"] == "dog"] = "dog"
    kind[det["object_type"] == "cat"] = "cat"
    resident_p = 1.0 / np.arange(1, RESIDENTS + 1)
    vehicle_p = 1.0 / np.arange(1, HOME_VEHICLES + 1)
    pick_resident = rng.random(nvisit) < 0.55
    resident = rng.choice(RESIDENTS, nvisit, p=resident_p / resident_p.sum())
    pick_home_car = rng.random(nvisit) < 0.6
    home_car = rng.choice(HOME_VEHICLES, nvisit, p=vehicle_p / vehicle_p.sum())
    pick_max = rng.random(nvisit) < MAX_P
    pick_cat = rng.random(nvisit) < NEIGHBOUR_CAT_P
    cat = rng.integers(0, NEIGHBOUR_CATS, nvisit)
    types = ["person"] * RESIDENTS + ["vehicle"] * HOME_VEHICLES + ["animal"] * (
        1 + NEIGHBOUR_CATS)
    trust = ["trusted"] * (RESIDENTS + HOME_VEHICLES + 1) + ["unknown"] * NEIGHBOUR_CATS
    entity_of = np.full(len(visit), -1, dtype=np.int64)
    dog, cat_, person, vehicle = (kind == k for k in ("dog", "cat", "person", "vehicle"))
    home = (dog & pick_max[visit]) | (cat_ & pick_cat[visit]) | (
        person & pick_resident[visit]) | (vehicle & pick_home_car[visit])
    entity_of[dog] = MAX
    entity_of[cat_] = MAX + 1 + cat[visit[cat_]]
    entity_of[person] = resident[visit[person]]
    entity_of[vehicle] = RESIDENTS + home_car[visit[vehicle]]
    # everyone else is a stranger of that visit: one entity per (visit, kind), numbered
    # in the order of each one's first detection (by visit, then detection id)
    order = np.lexsort((det["id"], visit))
    strange = order[(kind[order] != "") & ~home[order]]
    code = np.select([dog, cat_, person], [0, 1, 2], 3)[strange]
    _, first, which = np.unique(visit[strange] * 4 + code, return_index=True,
                                return_inverse=True)
    rank = np.empty(len(first), dtype=np.int64)
    rank[np.argsort(first)] = np.arange(len(first))
    entity_of[strange] = len(types) + rank[which]
    made = np.sort(first)
    kinds = kind[strange[made]]
    types += ["animal" if k in ("dog", "cat") else str(k) for k in kinds.tolist()]
    untrusted = rng.random(len(made)) < 0.1
    trust += np.where(untrusted, "untrusted", "unknown").tolist()
    return entity_of, types, trust


def entities_of_type(ctx: TaskContext, det: dict[str, np.ndarray],
                     kinds: tuple[str, ...]) -> np.ndarray:
    """The entity of each detection whose entity is one of *kinds* (-1 for the rest)."""
    entity_of, types, _ = assign_entities(ctx, det)
    wanted = np.isin(np.array(types, dtype=object), list(kinds))
    return np.where((entity_of >= 0) & wanted[np.maximum(entity_of, 0)], entity_of, -1)


REID_KINDS = ("person", "vehicle")  # 000: re-ID vectors "for person/vehicle appearance matching"


def reid_entities(ctx: TaskContext, det: dict[str, np.ndarray]) -> np.ndarray:
    """The entity each detection is re-identified as: people and vehicles (-1: neither)."""
    return entities_of_type(ctx, det, REID_KINDS)


def entity_ids(ctx: TaskContext, n: int) -> np.ndarray:
    return gen.uuid4_texts(ctx.rng_for("entity-ids").integers(0, 256, (n, 16), dtype=np.uint8))


def entity_centroids(ctx: TaskContext, n: int) -> np.ndarray:
    return sim.unit_vectors(ctx.rng_for("entity-centroids"), n)


ENTITY_COLUMNS = ("id", "camera_id", "detected_at", "object_type")  # what assign_entities reads
BOX_COLUMNS = ("bbox_x", "bbox_y", "bbox_width", "bbox_height")


async def _detections(ctx: TaskContext | VerifyContext, *more: str) -> dict[str, np.ndarray]:
    """The detections' columns :func:`assign_entities` needs, and *more* (only what a task
    uses: each column read costs a decode of every row)."""
    return await ctx.read("detections", [*ENTITY_COLUMNS, *more])


@task("entities", upstream=["detections"], tags=["pipeline"], cost=11)
async def entities(ctx: TaskContext) -> None:
    """Unique people, vehicles and pets for re-identification across cameras."""
    det = await _detections(ctx, "confidence")
    entity_of, types, trust = assign_entities(ctx, det)
    n = len(types)
    seen = entity_of >= 0
    counts = np.bincount(entity_of[seen], minlength=n)
    species = np.full(n, "", dtype=object)
    species[entity_of[seen]] = det["object_type"][seen]  # an animal entity is one species
    rows = np.flatnonzero(seen)
    ent = entity_of[rows]
    at = det["detected_at"][rows].astype("datetime64[us]").view(np.int64)
    first = np.full(n, np.iinfo(np.int64).max)
    last = np.full(n, np.iinfo(np.int64).min)
    np.minimum.at(first, ent, at)
    np.maximum.at(last, ent, at)
    keep = counts > 0
    first = np.where(keep, first, np.datetime64("NaT").view(np.int64)).view("datetime64[us]")
    last = np.where(keep, last, np.datetime64("NaT").view(np.int64)).view("datetime64[us]")
    # the primary detection: the most confident, the first such one on a tie
    order = np.lexsort((rows, -det["confidence"][rows], ent))
    _, head = np.unique(ent[order], return_index=True)
    best = np.full(n, -1, dtype=np.int64)
    best[ent[order][head]] = det["id"][rows[order][head]]
    rng = ctx.rng
    meta: list[Any] = []
    # rng.choice(a) of a Generator (no p, one value) is a[rng.integers(0, len(a))]: the
    # same draw, without making an array of *a* each time
    draw = rng.integers
    for e in range(n):
        if types[e] == "person":
            meta.append({"clothing": CLOTHING[draw(0, len(CLOTHING))],
                         "height_cm": int(draw(120, 200))})
        elif types[e] == "vehicle":
            meta.append({"color": COLORS[draw(0, len(COLORS))],
                         "body": BODIES[draw(0, len(BODIES))]})
        elif e == MAX:
            meta.append({"species": "dog", "name": "Max"})
        else:
            meta.append({"species": str(species[e])})
    ids = entity_ids(ctx, n)
    kept = np.flatnonzero(keep)
    kinds, trusts = np.array(types, dtype=object), np.array(trust, dtype=object)
    # the centroids (entity_centroids(ctx, n)) drawn a block at a time, as the rows
    # written need them: a Generator's normals drawn in pieces are the numbers of one
    # draw, and each row is normalised on its own, so the vectors are the same, without
    # all n x 512 of them (and their temporaries) at once
    stream = ctx.rng_for("entity-centroids")
    drawn = 0
    for start in range(0, len(kept), 1024):  # 512-float vectors: a thousand at a time
        k = kept[start:start + 1024]
        block = sim.unit_vectors(stream, int(k[-1]) + 1 - drawn)
        vectors = np.round(block[k - drawn], 4)
        drawn += len(block)
        del block
        await ctx.write({
            "id": ids[k], "entity_type": kinds[k], "trust_status": trusts[k],
            "embedding_vector": vectors, "first_seen_at": first[k],
            "last_seen_at": last[k], "detection_count": counts[k],
            "entity_metadata": [meta[i] for i in k.tolist()], "primary_detection_id": best[k],
        })


def _tracks(ctx: TaskContext, det: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """One track per (visit, entity): the box centres over the visit.

    Column arrays, one row per track in the tracks table's order (by first sighting,
    then entity id), and the points ``x``, ``y``, ``t`` (seconds since the track's first
    point), rounded to 4, 4 and 2 decimals, track after track (``count`` of them each).
    """
    entity_of, types, _ = assign_entities(ctx, det)
    visit = sim.visits(det)
    cx, cy = sim.box_centres(det)
    rows = np.flatnonzero(entity_of >= 0)
    at = det["detected_at"]
    # each (visit, entity)'s detections together, in time order
    r = rows[np.lexsort((det["id"][rows], at[rows], entity_of[rows], visit[rows]))]
    vr, er, atr = visit[r], entity_of[r], at[r]
    group = np.ones(len(r), dtype=bool)
    group[1:] = (vr[1:] != vr[:-1]) | (er[1:] != er[:-1])
    starts = np.flatnonzero(group)
    size = np.diff(np.append(starts, len(r)))
    t0 = np.repeat(atr[starts], size)
    # round() of each number, as Python's round would (not np.round: see sim.py_round)
    xs = sim.py_round(cx[r], 4)
    ys = sim.py_round(cy[r], 4)
    dts = sim.py_round((atr - t0) / np.timedelta64(1, "s"), 2)
    seg = np.sqrt(np.diff(xs) ** 2 + np.diff(ys) ** 2) if len(r) > 1 else np.zeros(0)
    # a track's length: the sum of its slice of seg; summed for all tracks of one
    # length at once, row by row (numpy sums a row exactly as it sums a 1-D slice)
    distance = np.zeros(len(starts))
    for m in np.unique(size).tolist():
        if m > 1:
            which = np.flatnonzero(size == m)
            distance[which] = seg[starts[which][:, None] + np.arange(m - 1)].sum(axis=1)
    distance = sim.py_round(distance, 4)
    ids = entity_ids(ctx, len(types))
    # the order tracks were found in (by their first detection's row), then sorted by
    # first sighting and entity id (a stable sort, as list.sort is)
    found = np.argsort(np.minimum.reduceat(r, starts) if len(r) else r, kind="stable")
    first_at = atr[starts]
    ent = er[starts]
    id_rank = np.unique(ids.astype(str), return_inverse=True)[1].reshape(-1)
    final = found[np.lexsort((id_rank[ent[found]], first_at[found].view(np.int64)))]
    count = size[final]
    # the points of the tracks in that order
    point = np.repeat(starts[final] - (np.cumsum(count) - count), count) + np.arange(len(r))
    head = r[starts[final]]
    return {
        "camera_id": det["camera_id"][head], "entity_id": ids[ent[final]],
        "object_type": det["object_type"][head], "first": first_at[final],
        "last": atr[starts[final] + count - 1], "distance": distance[final], "count": count,
        "x": xs[point], "y": ys[point], "t": dts[point],
    }


@task("tracks", upstream=["detections", "entities"], tags=["pipeline"], cost=5)
async def tracks(ctx: TaskContext) -> None:
    """Movement trajectories: one per entity per visit, in normalised frame coordinates."""
    det = await _detections(ctx, *BOX_COLUMNS)
    tr = _tracks(ctx, det)
    n = len(tr["count"])
    await ctx.write({
        "id": np.arange(1, n + 1), "camera_id": tr["camera_id"], "entity_id": tr["entity_id"],
        "object_type": tr["object_type"],
        "trajectory": json_runs(np.stack([tr["x"], tr["y"], tr["t"]], axis=1), tr["count"]),
        "first_seen_at": tr["first"].astype("datetime64[us]"),
        "last_seen_at": tr["last"].astype("datetime64[us]"),
        "point_count": tr["count"], "total_distance": tr["distance"],
    })


@task("dwell_time_records", upstream=["tracks", "camera_zones", "detections", "entities"],
      tags=["pipeline"], cost=5)
async def dwell_time_records(ctx: TaskContext) -> None:
    """How long each tracked object stayed inside each zone it entered."""
    det = await _detections(ctx, *BOX_COLUMNS)
    tr = _tracks(ctx, det)
    zones = await ctx.read("camera_zones", ["id", "camera_id", "polygon_coords"])
    n = len(tr["count"])
    owner = np.repeat(np.arange(n), tr["count"])
    cams = {c: k for k, c in enumerate(sorted(set(tr["camera_id"].tolist())))}
    point_cam = np.array([cams[c] for c in tr["camera_id"].tolist()], dtype=np.int64)[owner]
    found: list[tuple[np.ndarray, ...]] = []
    for z, (zcam, poly) in enumerate(zip(zones["camera_id"], zones["polygon_coords"],
                                         strict=True)):
        on_cam = np.flatnonzero(point_cam == cams.get(zcam, -1))
        inside = on_cam[sim.point_in_polygon(tr["x"][on_cam], tr["y"][on_cam], poly)]
        enter = np.full(n, np.inf)
        leave = np.full(n, -np.inf)
        np.minimum.at(enter, owner[inside], tr["t"][inside])
        np.maximum.at(leave, owner[inside], tr["t"][inside])
        k = np.flatnonzero(np.isfinite(enter))
        found.append((np.full(len(k), z), k, enter[k], leave[k]))
    zone, k, enter, leave = (np.concatenate(parts) for parts in zip(*found, strict=True)) \
        if found else (np.zeros(0, dtype=np.int64),) * 2 + (np.zeros(0),) * 2
    # by track, then zone id (as text)
    zone_rank = np.unique(np.array([str(i) for i in zones["id"]], dtype=str),
                          return_inverse=True)[1].reshape(-1)
    order = np.lexsort((zone_rank[zone], k))
    zone, k, enter, leave = zone[order], k[order], enter[order], leave[order]
    end = leave + 2.0
    total = sim.py_round(end - enter, 2)
    first = tr["first"][k].astype("datetime64[us]")
    kind = tr["object_type"][k]
    await ctx.write({
        "zone_id": zones["id"][zone], "track_id": k + 1, "camera_id": tr["camera_id"][k],
        "object_class": kind,
        "entry_time": first + (enter * 1e6).astype(np.int64).astype("timedelta64[us]"),
        "exit_time": first + (end * 1e6).astype(np.int64).astype("timedelta64[us]"),
        "total_seconds": total, "triggered_alert": (total > 30) & (kind == "person"),
    })


@task("face_detection_events", upstream=["detections", "entities", "known_persons"],
      tags=["pipeline"], cost=3)
async def face_detection_events(ctx: TaskContext) -> None:
    """Faces found in person detections; residents match a known person, strangers do not."""
    det = await _detections(ctx, *BOX_COLUMNS)
    kp = await ctx.read("known_persons", ["id"])
    entity_of, _, trust = assign_entities(ctx, det)
    rng = ctx.rng
    face = (det["object_type"] == "person") & (det["bbox_height"] > 220) & (rng.random(
        len(det["id"])) < 0.6)
    idx = np.flatnonzero(face)
    n = len(idx)
    ent = entity_of[idx]
    known = (np.array(trust, dtype=object)[ent] == "trusted") & (ent < RESIDENTS)
    person = np.where(known, kp["id"][np.minimum(ent, len(kp["id"]) - 1) % len(kp["id"])], 0)
    fw = (det["bbox_width"][idx] * 0.4).astype(np.int64)
    w, h = det["bbox_width"][idx], det["bbox_height"][idx]
    # the face box [x, y, w, h]
    box = np.stack([(det["bbox_x"][idx] + w * 0.3).astype(np.int64),
                    (det["bbox_y"][idx] + h * 0.02).astype(np.int64), fw,
                    (fw * 1.25).astype(np.int64)], axis=1)
    await ctx.write({
        "camera_id": det["camera_id"][idx], "detection_id": det["id"][idx],
        "known_person_id": np.where(known, person, np.nan),  # NaN: NULL
        "match_confidence": np.where(known, np.round(rng.beta(8, 2, n), 3), np.nan),
        "face_quality": np.round(rng.beta(5, 2, n), 3),
        "bbox": box,
        "is_unknown": ~known, "detected_at": det["detected_at"][idx] + np.timedelta64(1, "s"),
    })


@task("action_events", upstream=["events"], tags=["pipeline"], cost=3)
async def action_events(ctx: TaskContext) -> None:
    """X-CLIP action recognition on events that show a person."""
    ev = await ctx.read("events", ["id", "camera_id", "object_types", "ended_at"])
    rng = ctx.rng
    idx = np.array([i for i, t in enumerate(ev["object_types"]) if "person" in list(t)],
                   dtype=np.int64)
    n = len(idx)
    probs = np.array([0.38, 0.05, 0.08, 0.01, 0.16, 0.12, 0.08, 0.12])
    action = rng.choice(np.array(vocab.ACTIONS, dtype=object), n, p=probs)
    conf = np.round(rng.beta(5, 2, n), 3)
    scores = []
    for a, c in zip(action.tolist(), conf.tolist(), strict=True):
        rest = [x for x in vocab.ACTIONS if x != a]
        second = rest[int(rng.integers(len(rest)))]
        scores.append({a: c, second: round((1 - c) * 0.6, 3)})
    await ctx.write({
        "camera_id": ev["camera_id"][idx], "event_id": ev["id"][idx], "action": action,
        "confidence": conf, "is_suspicious": np.isin(action, list(ACTION_SUSPICIOUS)),
        "frame_count": rng.integers(8, 64, n), "all_scores": scores,
        "created_at": ev["ended_at"][idx] + np.timedelta64(5, "s"),
    })


@task("scene_changes", upstream=["cameras", "events"], tags=["pipeline"], params=["days"])
async def scene_changes(ctx: TaskContext) -> None:
    """Scene changes (objects left or removed, doors, lighting, tampering), a few per camera."""
    cams = await ctx.read("cameras", ["id"])
    ev = await ctx.read("events", ["id", "camera_id", "started_at"])
    rng = ctx.rng
    days = int(ctx.params["days"])
    per = np.maximum(rng.poisson(0.4 * days, len(cams["id"])), 1)
    cam = np.repeat(cams["id"], per)
    n = len(cam)
    start = sim.naive(ctx.as_of) - np.timedelta64(days * sim.DAY, "s")
    when = np.sort(start + sim.seconds(rng.integers(0, days * sim.DAY, n)))
    before = sim.unit_vectors(rng, n)
    change = rng.choice(np.array(vocab.SCENE_CHANGE_TYPES, dtype=object), n,
                        p=[0.25, 0.2, 0.3, 0.2, 0.05])
    spread = np.where(change == "camera_tampered", 3.0, rng.uniform(0.4, 1.2, n))
    noisy = before + spread[:, None] * rng.standard_normal(before.shape) / np.sqrt(512)
    # stored as float32 (real[]); the similarity is that of the vectors stored
    before = before.astype(np.float32)
    after = (noisy / np.linalg.norm(noisy, axis=1, keepdims=True)).astype(np.float32)
    similarity = np.round(np.einsum("ij,ij->i", before.astype(np.float64),
                                    after.astype(np.float64)), 4)
    # the first event (by id) of the camera starting within 10 minutes of the change
    event_id: list[int | None] = []
    ev_cam = ev["camera_id"]
    for c, t in zip(cam.tolist(), when, strict=True):
        near = np.flatnonzero((ev_cam == c) & (
            np.abs((ev["started_at"] - t) / np.timedelta64(1, "s")) < 600))
        event_id.append(int(ev["id"][near[0]]) if len(near) else None)
    resolved = rng.random(n) < 0.7
    await ctx.write({
        "camera_id": cam, "event_id": event_id, "change_type": change,
        "severity": np.where(change == "camera_tampered", "high",
                             rng.choice(np.array(["low", "medium"], dtype=object), n)),
        "before_embedding": before, "after_embedding": after, "similarity_score": similarity,
        "detected_at": when,
        "resolved_at": np.where(resolved, when + sim.seconds(rng.integers(300, 6 * 3600, n)),
                                np.datetime64("NaT")).astype("datetime64[us]"),
        "details": [{"region": [round(float(a), 2) for a in rng.uniform(0, 1, 4)]}
                    for _ in range(n)],
    })


@task("heatmap_data", upstream=["detections", "cameras"], tags=["pipeline"])
async def heatmap_data(ctx: TaskContext) -> None:
    """Hourly 16x9 grids of detection box centres per camera."""
    det = await ctx.read("detections", ["camera_id", "detected_at", *BOX_COLUMNS])
    cx, cy = sim.box_centres(det)
    gx = np.clip((cx * 16).astype(np.int64), 0, 15)
    gy = np.clip((cy * 9).astype(np.int64), 0, 8)
    hour = det["detected_at"].astype("datetime64[h]").view(np.int64)
    cams = np.array(sorted(set(det["camera_id"].tolist())), dtype=object)
    code = sim.camera_codes(det["camera_id"])  # the camera's place in that (text) order
    # a grid per (hour, camera), in that order
    keys, at = np.unique(hour * max(len(cams), 1) + code, return_inverse=True)
    n = len(keys)
    grids = np.bincount(at.reshape(-1) * 144 + gy * 16 + gx, minlength=n * 144).reshape(n, 9, 16)
    await ctx.write({
        "camera_id": cams[keys % max(len(cams), 1)],
        "bucket_start": (keys // max(len(cams), 1)).astype("datetime64[h]").astype(
            "datetime64[us]"),
        "resolution": np.full(n, "hour", dtype=object), "grid_width": np.full(n, 16),
        "grid_height": np.full(n, 9),
        "grid": grids,
        "total_detections": grids.sum(axis=(1, 2)),
    })


@invariant("tracks_follow_their_detections", tables=["tracks", "entities"])
async def tracks_follow_detections(ctx: VerifyContext) -> list[tuple[Any, ...]]:
    """A track lies within its entity's first/last sighting, and points match point_count."""
    tr = await ctx.read("tracks", ["id", "entity_id", "first_seen_at", "last_seen_at",
                                   "trajectory", "point_count"])
    ent = await ctx.read("entities", ["id", "first_seen_at", "last_seen_at"])
    span = {str(i): (f, last) for i, f, last in zip(ent["id"], ent["first_seen_at"],
                                                    ent["last_seen_at"], strict=True)}
    bad = []
    for tid, eid, f, last, traj, k in zip(tr["id"].tolist(), tr["entity_id"], tr["first_seen_at"],
                                          tr["last_seen_at"], tr["trajectory"],
                                          tr["point_count"].tolist(), strict=True):
        ef, el = span[str(eid)]
        if f < ef or last > el or len(traj) != k:
            bad.append((tid, str(eid)))
    return bad[:10]
