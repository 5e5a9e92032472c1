"""Cameras and their detection zones."""

from __future__ import annotations

import json

import numpy as np

from seedgraph import TaskContext, task

from . import sim, vocab

ZONE_CLASSES = {
    "driveway": ["car", "truck", "person"], "entrance": ["person", "package"],
    "perimeter": ["person"], "pool": ["person", "dog"], "garage": ["car", "person"],
}


@task("cameras", upstream=["properties"], tags=["cameras", "config"], params=["cameras"])
async def cameras(ctx: TaskContext) -> None:
    """Registered cameras: Front Door, Driveway, Backyard, Garage, Side Gate, Porch, ..."""
    n = int(ctx.params["cameras"])
    props = await ctx.read("properties", ["id"])
    specs = [sim.camera_spec(i) for i in range(n)]
    now = sim.naive(ctx.as_of)
    status = np.where(np.arange(n) < 2, "online", ctx.rng.choice(
        np.array(["online", "offline", "error"]), n, p=[0.86, 0.1, 0.04])).astype(object)
    seen_ago = np.where(status == "online", ctx.rng.integers(5, 600, n),
                        ctx.rng.integers(3600, 3 * sim.DAY, n))
    prop = np.where(np.arange(n) < 6, props["id"][0], props["id"][min(1, len(props["id"]) - 1)])
    await ctx.write({
        "id": ctx.uuids(n),
        "name": [s[0] for s in specs],
        "folder_path": [f"/export/foscam/{s[1]}" for s in specs],
        "status": status,
        "property_id": prop,
        "created_at": now - sim.seconds(ctx.rng.integers(120 * sim.DAY, 365 * sim.DAY, n)),
        "last_seen_at": now - sim.seconds(seen_ago),
    })


@task("camera_zones", upstream=["cameras"], tags=["cameras", "config"],
      params={"zones_per_camera": 3})
async def camera_zones(ctx: TaskContext) -> None:
    """Detection zones per camera, with the documents' normalised polygons."""
    cams = await ctx.read("cameras", ["id", "name", "created_at"])
    k = int(ctx.params["zones_per_camera"])
    rows = []
    for cam_id, cam_name, created in zip(cams["id"], cams["name"], cams["created_at"],
                                         strict=True):
        spec = sim.camera_spec(sim.camera_index(str(cam_name)))
        types = list(spec[2]) + [t for t in vocab.ZONE_POLYGONS if t not in spec[2]]
        for prio, zone_type in enumerate(types[:k]):
            poly = vocab.ZONE_POLYGONS[zone_type]
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
        "enabled": ctx.rng.random(n) < 0.95,
        "created_at": created_at, "updated_at": created_at,
    })

