"""Cameras and their detection zones."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import numpy as np

from seedgraph import TaskContext, VerifyContext, gen, invariant, task

from . import sim, uploads, vocab

ZONE_CLASSES = {
    "driveway": ["car", "truck", "person"], "entrance": ["person", "package"],
    "perimeter": ["person"], "pool": ["person", "dog"], "garage": ["car", "person"],
}


ZONES_PER_CAMERA = 3


def zone_layout(camera_name: str, k: int) -> list[tuple[str, list[list[float]]]]:
    """The camera's first *k* zones, highest priority first: (zone type, polygon)."""
    spec = sim.camera_spec(sim.camera_index(camera_name))
    types = list(spec[2]) + [t for t in vocab.ZONE_POLYGONS if t not in spec[2]]
    return [(t, vocab.ZONE_POLYGONS[t]) for t in types[:k]]


@task("cameras", upstream=["properties"], tags=["cameras", "config"],
      params=["cameras", "images", "days", "zones_per_camera"])
async def cameras(ctx: TaskContext) -> None:
    """Registered cameras: Front Door, Driveway, Backyard, Garage, Side Gate, Porch, ...

    ``last_seen_at`` is the camera's last upload (003: "Last image received timestamp"),
    NULL if it has none: the uploads the ``detections`` task will store, drawn here from
    the same shared stream (see :func:`uploads.in_window`), with the zones
    ``camera_zones`` will write."""
    n = int(ctx.params["cameras"])
    props = await ctx.read("properties", ["id"])
    specs = [sim.camera_spec(i) for i in range(n)]
    now = sim.naive(ctx.as_of)
    status = np.where(np.arange(n) < 2, "online", gen.choice(
        ctx.rng, ["online", "offline", "error"], n, weights=[0.86, 0.1, 0.04]))
    prop = np.where(np.arange(n) < 6, props["id"][0], props["id"][min(1, len(props["id"]) - 1)])
    ids = ctx.uuids(n)
    names = np.array([s[0] for s in specs], dtype=object)
    k = int(ctx.params["zones_per_camera"])
    layout = [(cid, t, poly) for cid, name in zip(ids, names, strict=True)
              for t, poly in zone_layout(str(name), k)]
    zones = {"camera_id": np.array([z[0] for z in layout], dtype=object),
             "zone_type": np.array([z[1] for z in layout], dtype=object),
             "polygon_coords": [z[2] for z in layout]}
    ordered, up = uploads.in_window(ctx.rng_for(uploads.STREAM), {"id": ids, "name": names},
                                    zones, int(ctx.params["images"]), now,
                                    int(ctx.params["days"]))
    seen = dict(zip(ordered["id"].tolist(), uploads.last_upload(up, n), strict=True))
    await ctx.write({
        "id": ids,
        "name": names,
        "folder_path": [f"/export/foscam/{s[1]}" for s in specs],
        "status": status,
        "property_id": prop,
        "created_at": gen.timestamps(ctx.rng, n, ctx.as_of - timedelta(days=120),
                                     days=365 - 120),
        "last_seen_at": np.array([seen[i] for i in ids.tolist()], dtype="datetime64[us]"),
    })


@task("camera_zones", upstream=["cameras"], tags=["cameras", "config"],
      params={"zones_per_camera": ZONES_PER_CAMERA})
async def camera_zones(ctx: TaskContext) -> None:
    """Detection zones per camera, with the documents' normalised polygons."""
    cams = await ctx.read("cameras", ["id", "name", "created_at"])
    k = int(ctx.params["zones_per_camera"])
    rows = []
    for cam_id, cam_name, created in zip(cams["id"], cams["name"], cams["created_at"],
                                         strict=True):
        for prio, (zone_type, poly) in enumerate(zone_layout(str(cam_name), k)):
            axis_aligned = len(poly) == 4 and len({p[0] for p in poly}) == 2 \
                and len({p[1] for p in poly}) == 2
            rows.append((cam_id, f"{cam_name} {zone_type.replace('_', ' ').title()}",
                         zone_type, poly, "rectangle" if axis_aligned else "polygon",
                         vocab.ZONE_COLORS[zone_type], k - prio, ZONE_CLASSES[zone_type], created))
    n = len(rows)
    offsets = sim.seconds(ctx.rng.integers(3600, 20 * sim.DAY, n))
    created_at = np.array([r[8] for r in rows]) + offsets
    await ctx.write({
        "id": ctx.uuids(n), "camera_id": [r[0] for r in rows], "name": [r[1] for r in rows],
        "zone_type": [r[2] for r in rows], "polygon_coords": [r[3] for r in rows],
        "shape": [r[4] for r in rows], "color": [r[5] for r in rows],
        "priority": [r[6] for r in rows],
        "sensitivity": np.round(ctx.rng.uniform(0.4, 0.9, n), 2),
        "detection_classes": [json.dumps(r[7]) for r in rows],
        "enabled": gen.booleans(ctx.rng, n, 0.95),
        "created_at": created_at, "updated_at": created_at,
    })



@invariant("camera_last_seen_is_an_upload", tables=["cameras", "detections"])
async def camera_last_seen_is_an_upload(ctx: VerifyContext) -> list[tuple[Any, ...]]:
    """No camera has a detection after its last_seen_at (its last upload), and a camera
    with detections has been seen (003: "Last image received timestamp")."""
    return (await ctx.query(
        "SELECT c.id, c.last_seen_at, MAX(d.detected_at) FROM cameras c JOIN detections d "
        "ON d.camera_id = c.id GROUP BY c.id, c.last_seen_at "
        "HAVING c.last_seen_at IS NULL OR MAX(d.detected_at) > c.last_seen_at"))[:10]
