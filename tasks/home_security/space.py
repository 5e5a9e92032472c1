"""Logical areas, camera coverage, calibration, zone-household rules, per-camera overrides."""

from __future__ import annotations

from typing import Any

import numpy as np

from seedgraph import TaskContext, task

from . import sim

AREAS = {
    0: (("Front Yard", "Lawn and walkway up to the front door"),
        ("Backyard", "Patio, pool and garden"), ("Side Gate", "Gate between house and garage"),
        ("Driveway", "Paved driveway and street edge"), ("Interior", "Entry hall and garage")),
    1: (("Dock", "Boat dock and shoreline"), ("Front Yard", "Gravel path to the door"),
        ("Interior", "Mud room")),
}
CAMERA_AREAS = {"Front Door": ("Front Yard",), "Driveway": ("Driveway", "Front Yard"),
                "Backyard": ("Backyard",), "Garage": ("Interior", "Driveway"),
                "Side Gate": ("Side Gate", "Backyard"), "Porch": ("Front Yard",),
                "Lake Dock": ("Dock",), "Lake House Door": ("Front Yard", "Interior")}
LABELS = ("Fence line along the street", "Driveway edge to garage door", "Front door frame",
          "Pool coping, long side", "Gate post to gate post")


@task("areas", upstream=["properties"], tags=["space", "config"])
async def areas(ctx: TaskContext) -> None:
    """Named areas within each property (Front Yard, Backyard, Side Gate, ...)."""
    props = await ctx.read("properties", ["id", "created_at"])
    rows = []
    for i, (pid, created) in enumerate(zip(props["id"].tolist(), props["created_at"],
                                           strict=True)):
        for name, desc in AREAS.get(i, AREAS[1]):
            rows.append((pid, name, desc, created + np.timedelta64(2 * sim.DAY, "s")))
    await ctx.write_rows(["property_id", "name", "description", "created_at"], rows)


@task("camera_areas", upstream=["cameras", "areas"], tags=["space", "config"])
async def camera_areas(ctx: TaskContext) -> None:
    """Which areas each camera covers (many-to-many)."""
    cams = await ctx.read("cameras", ["id", "name", "property_id"])
    ar = await ctx.read("areas", ["id", "property_id", "name"])
    rows = []
    for cid, name, pid in zip(cams["id"], cams["name"], cams["property_id"].tolist(),
                              strict=True):
        wanted = CAMERA_AREAS.get(str(name), ("Front Yard",))
        for aid, apid, aname in zip(ar["id"].tolist(), ar["property_id"].tolist(), ar["name"],
                                    strict=True):
            if apid == pid and aname in wanted:
                rows.append((cid, aid))
    await ctx.write_rows(["camera_id", "area_id"], rows)


@task("camera_calibrations", upstream=["cameras"], tags=["space", "config"])
async def camera_calibrations(ctx: TaskContext) -> None:
    """Lens and mounting calibration for distance and size estimates."""
    cams = await ctx.read("cameras", ["id", "created_at"])
    n = len(cams["id"])
    rng = ctx.rng
    height = np.round(rng.uniform(2.2, 3.6, n), 2)
    focal = np.round(rng.choice([2.8, 3.6, 4.0, 6.0], n), 1)
    await ctx.write({
        "camera_id": cams["id"], "focal_length_mm": focal, "mounting_height_m": height,
        "tilt_angle_deg": np.round(rng.uniform(15, 40, n), 1),
        "reference_object_size": np.round(rng.choice([0.9, 1.8, 2.0], n), 2),
        "pixels_per_meter": np.round(focal * 48 / height, 1),
        "calibrated_at": cams["created_at"] + sim.seconds(rng.integers(3600, 5 * sim.DAY, n)),
    })


@task("user_calibrations", upstream=["cameras"], tags=["space", "config"])
async def user_calibrations(ctx: TaskContext) -> None:
    """User reference lines: 'this line is my fence, it is 15 m long'."""
    cams = await ctx.read("cameras", ["id", "created_at"])
    rng = ctx.rng
    rows: list[tuple[Any, ...]] = []
    for cid, created in zip(cams["id"], cams["created_at"], strict=True):
        for _ in range(int(rng.integers(1, 3))):
            p1 = [round(float(rng.uniform(0.05, 0.45)), 3), round(float(rng.uniform(0.5, 0.95)), 3)]
            p2 = [round(float(rng.uniform(0.55, 0.95)), 3), round(float(rng.uniform(0.5, 0.95)), 3)]
            dist = round(float(rng.uniform(2.0, 25.0)), 2)
            label = str(rng.choice(LABELS))
            when = created + np.timedelta64(int(rng.integers(sim.DAY, 20 * sim.DAY)), "s")
            rows.append((cid, "reference_line", {"points": [p1, p2], "distance_m": dist,
                                                 "label": label},
                         p1, p2, dist, label, when, when))
    await ctx.write_rows(["camera_id", "calibration_type", "calibration_data", "point1", "point2",
                          "real_world_distance_m", "label", "created_at", "updated_at"], rows)


@task("zone_household_configs", upstream=["camera_zones", "cameras", "households"],
      tags=["space", "config"])
async def zone_household_configs(ctx: TaskContext) -> None:
    """Per-zone household rules, e.g. no alerts for known family members in the driveway."""
    zones = await ctx.read("camera_zones", ["id", "camera_id", "zone_type", "created_at"])
    cams = await ctx.read("cameras", ["id", "property_id"])
    hh = await ctx.read("households", ["id", "property_id"])
    prop_of = dict(zip(cams["id"].tolist(), cams["property_id"].tolist(), strict=True))
    rows = []
    for zid, cid, ztype, created in zip(zones["id"], zones["camera_id"], zones["zone_type"],
                                        zones["created_at"], strict=True):
        for hid, hpid in zip(hh["id"].tolist(), hh["property_id"].tolist(), strict=True):
            if hpid == prop_of[cid]:
                rows.append((zid, hid, ztype in ("driveway", "entrance", "garage"),
                             ztype in ("driveway", "garage"), created + np.timedelta64(3600, "s")))
    await ctx.write_rows(["zone_id", "household_id", "suppress_known_members",
                          "suppress_known_vehicles", "created_at"], rows)


@task("camera_notification_settings", upstream=["cameras", "notification_preferences"],
      tags=["space", "config"])
async def camera_notification_settings(ctx: TaskContext) -> None:
    """Per-camera overrides: the backyard always notifies, the garage only for high risk."""
    cams = await ctx.read("cameras", ["id", "name"])
    prefs = await ctx.read("notification_preferences", ["id"])
    special = {"Backyard": "low", "Garage": "high", "Side Gate": "medium"}
    rows = []
    for cid, name in zip(cams["id"], cams["name"], strict=True):
        for pid in prefs["id"].tolist()[:3]:
            level = special.get(str(name))
            if level is not None or ctx.rng.random() < 0.25:
                rows.append((cid, pid, True, level or str(ctx.rng.choice(["medium", "high"]))))
    await ctx.write_rows(["camera_id", "notification_preference_id", "override_enabled",
                          "min_severity_override"], rows)
