"""Activity baselines per camera and zone, and zone anomalies measured against them.

Zone statistics use the detections whose box centre falls inside the zone's
polygon. For zone z and hour h, counts[z, d, h] is the number of such detections
on day d of the window; a (hour, weekday) slot's baseline is the mean over the
window's days with that weekday; its std_dev is the standard deviation over all
days of that hour (at least 0.5). An anomaly's deviation_score is
(actual - baseline) / std_dev with baseline the hour's mean over all days.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from seedgraph import TaskContext, VerifyContext, invariant, task

from . import sim, vocab

MIN_STD = 0.5


async def zone_counts(ctx: TaskContext | VerifyContext, days: int) -> tuple[
        dict[str, np.ndarray], np.ndarray, np.datetime64]:
    """Zones, counts[zone, day, hour] of detections centred in each zone, and window start."""
    assert ctx.as_of is not None
    zones = await ctx.read("camera_zones", ["id", "camera_id", "polygon_coords"])
    det = await ctx.read("detections", ["camera_id", "detected_at", "bbox_x", "bbox_y",
                                        "bbox_width", "bbox_height"])
    start = sim.naive(ctx.as_of) - np.timedelta64(days * sim.DAY, "s")
    cx, cy = sim.box_centres(det)
    secs = ((det["detected_at"] - start) / np.timedelta64(1, "s")).astype(np.int64)
    day = np.clip(secs // sim.DAY, 0, days - 1)
    hour = sim.hour_of(det["detected_at"])
    counts = np.zeros((len(zones["id"]), days, 24), dtype=np.int64)
    for z, (cam, poly) in enumerate(zip(zones["camera_id"], zones["polygon_coords"],
                                        strict=True)):
        m = (det["camera_id"] == cam) & sim.point_in_polygon(cx, cy, poly)
        np.add.at(counts[z], (day[m], hour[m]), 1)
    return zones, counts, start


def hour_stats(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per zone and hour: mean and std (floored) over all days."""
    return counts.mean(axis=1), np.maximum(counts.std(axis=1), MIN_STD)


@task("activity_baselines", upstream=["detections", "cameras"], tags=["baselines"],
      params=["days"])
async def activity_baselines(ctx: TaskContext) -> None:
    """Typical detections per camera per (hour, weekday): 168 slots per camera."""
    days = int(ctx.params["days"])
    cams = await ctx.read("cameras", ["id"])
    det = await ctx.read("detections", ["camera_id", "detected_at"])
    start = sim.naive(ctx.as_of) - np.timedelta64(days * sim.DAY, "s")
    dows = sim.day_of_week(start + np.arange(days) * np.timedelta64(sim.DAY, "s"))
    rows = []
    for cam in cams["id"]:
        ts = det["detected_at"][det["camera_id"] == cam]
        grid = np.zeros((7, 24))
        np.add.at(grid, (sim.day_of_week(ts), sim.hour_of(ts)), 1)
        for dow in range(7):
            samples = int((dows == dow).sum())
            for hour in range(24):
                avg = grid[dow, hour] / samples if samples else 0.0
                rows.append((cam, hour, dow, round(float(avg), 3), samples))
    n = len(rows)
    await ctx.write({
        "camera_id": [r[0] for r in rows], "hour": [r[1] for r in rows],
        "day_of_week": [r[2] for r in rows], "avg_count": [r[3] for r in rows],
        "sample_count": [r[4] for r in rows],
        "last_updated": np.full(n, sim.naive(ctx.as_of)),
    })


@task("class_baselines", upstream=["detections", "cameras"], tags=["baselines"],
      params=["days"])
async def class_baselines(ctx: TaskContext) -> None:
    """How often each object class appears per camera and hour (detections per day)."""
    days = int(ctx.params["days"])
    cams = await ctx.read("cameras", ["id"])
    det = await ctx.read("detections", ["camera_id", "detected_at", "object_type"])
    now = sim.naive(ctx.as_of)
    rows = []
    for cam in cams["id"]:
        m = det["camera_id"] == cam
        for cls in vocab.OBJECT_CLASSES:
            mm = m & (det["object_type"] == cls)
            if not mm.any():
                continue
            per_hour = np.bincount(sim.hour_of(det["detected_at"][mm]), minlength=24)
            for hour in range(24):
                rows.append((cam, cls, hour, round(per_hour[hour] / days, 4), days, now))
    await ctx.write_rows(["camera_id", "detection_class", "hour", "frequency", "sample_count",
                          "last_updated"], rows)


@task("zone_activity_baselines", upstream=["detections", "camera_zones"], tags=["baselines"],
      params=["days"])
async def zone_activity_baselines(ctx: TaskContext) -> None:
    """Per-zone baselines by (hour, weekday) from the detections centred in the zone."""
    days = int(ctx.params["days"])
    zones, counts, start = await zone_counts(ctx, days)
    dows = sim.day_of_week(start + np.arange(days) * np.timedelta64(sim.DAY, "s"))
    _, std = hour_stats(counts)
    rows = []
    for z, zid in enumerate(zones["id"]):
        for dow in range(7):
            pick = dows == dow
            if not pick.any():
                continue
            for hour in range(24):
                avg = float(counts[z, pick, hour].mean())
                rows.append((zid, hour, dow, round(avg, 4), round(float(std[z, hour]), 4),
                             int(pick.sum())))
    n = len(rows)
    await ctx.write({
        "id": ctx.uuids(n), "zone_id": [r[0] for r in rows], "hour_of_day": [r[1] for r in rows],
        "day_of_week": [r[2] for r in rows], "avg_detections": [r[3] for r in rows],
        "std_dev": [r[4] for r in rows], "sample_count": [r[5] for r in rows],
        "updated_at": np.full(n, sim.naive(ctx.as_of)),
    })


@task("zone_anomalies", upstream=["zone_activity_baselines", "detections", "camera_zones",
                                  "events"],
      tags=["baselines"], params={"days": None, "anomalies": 15})
async def zone_anomalies(ctx: TaskContext) -> None:
    """The hours that deviate most from their zone's baseline (spikes, drops, new patterns)."""
    days = int(ctx.params["days"])
    zones, counts, start = await zone_counts(ctx, days)
    mean, std = hour_stats(counts)
    dev = (counts - mean[:, None, :]) / std[:, None, :]
    flat = np.argsort(-np.abs(dev), axis=None, kind="stable")[: int(ctx.params["anomalies"])]
    z, d, h = np.unravel_index(flat, dev.shape)
    ev = await ctx.read("events", ["id", "camera_id", "started_at"])
    rows = []
    for zi, di, hi in zip(z.tolist(), d.tolist(), h.tolist(), strict=True):
        actual, base = float(counts[zi, di, hi]), float(mean[zi, hi])
        score = (actual - base) / float(std[zi, hi])
        if base == 0 and actual > 0:
            kind = "new_pattern"
        elif score > 0 and hi in sim.NIGHT_HOURS:
            kind = "schedule_violation"
        else:
            kind = "activity_spike" if score > 0 else "activity_drop"
        hour_start = start + np.timedelta64(di * sim.DAY + hi * 3600, "s")
        hour_end = hour_start + np.timedelta64(3600, "s")
        cam = zones["camera_id"][zi]
        match = (ev["camera_id"] == cam) & (ev["started_at"] >= hour_start) & (
            ev["started_at"] < hour_end)
        event_id = int(ev["id"][match][0]) if match.any() and score > 0 else None
        rows.append((zones["id"][zi], kind, round(base, 4), actual, round(score, 4), event_id,
                     hour_end))
    n = len(rows)
    await ctx.write({
        "id": ctx.uuids(n), "zone_id": [r[0] for r in rows], "anomaly_type": [r[1] for r in rows],
        "baseline_value": [r[2] for r in rows], "actual_value": [r[3] for r in rows],
        "deviation_score": [r[4] for r in rows], "event_id": [r[5] for r in rows],
        "detected_at": np.array([r[6] for r in rows], dtype="datetime64[us]"),
    })


@invariant("zone_stats_follow_detections",
           tables=["zone_anomalies", "zone_activity_baselines", "detections", "camera_zones"])
async def zone_stats_follow_detections(ctx: VerifyContext) -> list[tuple[Any, ...]]:
    """Baselines and anomalies recompute from the detections centred in each zone, and
    deviation_score = (actual - baseline) / std_dev."""
    if ctx.as_of is None:
        return []
    days = int(ctx.params.get("days", 7))
    zones, counts, start = await zone_counts(ctx, days)
    mean, std = hour_stats(counts)
    zi = {str(z): i for i, z in enumerate(zones["id"])}
    bad: list[tuple[Any, ...]] = []
    an = await ctx.read("zone_anomalies", ["id", "zone_id", "baseline_value", "actual_value",
                                           "deviation_score", "detected_at"])
    for aid, zid, base, actual, score, when in zip(
            an["id"], an["zone_id"], an["baseline_value"], an["actual_value"],
            an["deviation_score"], an["detected_at"], strict=True):
        z = zi[str(zid)]
        secs = int((when - start) / np.timedelta64(1, "s")) - 3600
        d, h = secs // sim.DAY, (secs % sim.DAY) // 3600
        if counts[z, d, h] != actual or abs(mean[z, h] - base) > 1e-3 or \
                abs((actual - base) / std[z, h] - score) > 1e-3:
            bad.append((aid, "does not match the zone's detections"))
    bl = await ctx.read("zone_activity_baselines", ["zone_id", "hour_of_day", "std_dev"])
    for zid, hour, sd in zip(bl["zone_id"], bl["hour_of_day"].tolist(), bl["std_dev"],
                             strict=True):
        if abs(std[zi[str(zid)], hour] - sd) > 1e-3:
            bad.append((str(zid), hour, "std_dev does not match"))
            break
    return bad[:10]
