"""Activity baselines per camera and zone, and zone anomalies measured against them.

Zone statistics count the detections whose box centre falls inside the zone's polygon,
per zone, day and hour. A zone baseline slot (zone, hour, weekday) is what the platform
learned over the ``baseline_weeks`` weeks before the window: the mean and sample
standard deviation (at least 0.5) of that slot's counts. An anomaly is a zone-hour of
the window two or more standard deviations from its slot, with
``deviation_score = (actual - avg_detections) / std_dev`` of the stored slot
(see :mod:`anomaly` for the four types).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from seedgraph import TaskContext, VerifyContext, invariant, task

from . import anomaly, sim, uploads, vocab

BASELINE_WEEKS = 8


async def window_counts(ctx: TaskContext | VerifyContext, days: int) -> tuple[
        dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Zones, counts[zone, day, hour] of the window's detections centred in each zone, and
    the weekday of each day of the window."""
    assert ctx.as_of is not None
    zones = await ctx.read("camera_zones", ["id", "camera_id", "polygon_coords"])
    det = await ctx.read("detections", ["camera_id", "detected_at", "bbox_x", "bbox_y",
                                        "bbox_width", "bbox_height"])
    start = window_start(ctx, days)
    cx, cy = sim.box_centres(det)
    counts = anomaly.count_in_zones(zones, det["camera_id"], det["detected_at"], cx, cy,
                                    start, days)
    return zones, counts, day_of_week(start, days)


def window_start(ctx: TaskContext | VerifyContext, days: int) -> np.datetime64:
    return sim.naive(ctx.as_of) - np.timedelta64(days * sim.DAY, "s")


def day_of_week(start: np.datetime64, days: int) -> np.ndarray:
    return sim.day_of_week(start + np.arange(days) * np.timedelta64(sim.DAY, "s"))


@task("activity_baselines", upstream=["detections", "cameras"], tags=["baselines"],
      params=["days"])
async def activity_baselines(ctx: TaskContext) -> None:
    """Typical detections per camera per (hour, weekday): 168 slots per camera."""
    days = int(ctx.params["days"])
    cams = await ctx.read("cameras", ["id"])
    det = await ctx.read("detections", ["camera_id", "detected_at"])
    start = sim.naive(ctx.as_of) - np.timedelta64(days * sim.DAY, "s")
    dows = sim.day_of_week(start + np.arange(days) * np.timedelta64(sim.DAY, "s"))
    ncam = len(cams["id"])
    cam = anomaly.positions(det["camera_id"], cams["id"])
    mine = cam >= 0
    ts = det["detected_at"][mine]
    # grid[camera, weekday, hour]: the camera's detections in that slot
    grid = np.bincount((cam[mine] * 7 + sim.day_of_week(ts)) * 24 + sim.hour_of(ts),
                       minlength=ncam * 168).reshape(ncam, 7, 24)
    samples = np.bincount(dows, minlength=7)[:7]
    avg = np.where(samples[:, None] > 0, grid / np.maximum(samples, 1)[:, None], 0.0)
    n = ncam * 168
    await ctx.write({
        "camera_id": np.repeat(cams["id"], 168), "hour": np.tile(np.arange(24), ncam * 7),
        "day_of_week": np.tile(np.repeat(np.arange(7), 24), ncam),
        "avg_count": sim.py_round(avg.ravel(), 3),
        "sample_count": np.tile(np.repeat(samples, 24), ncam),
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
    ncls = len(vocab.OBJECT_CLASSES)
    cam = anomaly.positions(det["camera_id"], cams["id"])
    cls = anomaly.positions(det["object_type"], vocab.OBJECT_CLASSES)
    known = (cam >= 0) & (cls >= 0)
    # per_hour[(camera, class), hour]; the pairs with any detection, camera by camera
    per_hour = np.bincount((cam[known] * ncls + cls[known]) * 24
                           + sim.hour_of(det["detected_at"][known]),
                           minlength=len(cams["id"]) * ncls * 24).reshape(-1, 24)
    pair = np.flatnonzero(per_hour.any(axis=1))
    n = len(pair) * 24
    if not n:
        return
    await ctx.write({
        "camera_id": np.repeat(cams["id"][pair // ncls], 24),
        "detection_class": np.repeat(np.array(vocab.OBJECT_CLASSES, dtype=object)[pair % ncls],
                                     24),
        "hour": np.tile(np.arange(24), len(pair)),
        # round() of a numpy float is numpy's rounding
        "frequency": np.round(per_hour[pair] / days, 4).ravel(),
        "sample_count": np.full(n, days), "last_updated": np.full(n, now),
    })


@task("zone_activity_baselines", upstream=["cameras", "camera_zones"], tags=["baselines"],
      params={"images": None, "days": None, "baseline_weeks": BASELINE_WEEKS})
async def zone_activity_baselines(ctx: TaskContext) -> None:
    """What the platform learned about each zone over the weeks before the window: per
    (hour, weekday) slot, the mean and spread of the detections centred in the zone.

    Those weeks' detections are not stored (the detections table holds the window), so
    they are simulated by the generator that made the window's, at the same upload
    rate, with the same cameras, zones, hourly rhythm and household routines.
    """
    images, days = int(ctx.params["images"]), int(ctx.params["days"])
    weeks = int(ctx.params["baseline_weeks"])
    cams = await ctx.read("cameras", ["id", "name"])
    zones = await ctx.read("camera_zones", ["id", "camera_id", "zone_type", "polygon_coords"])
    first = window_start(ctx, days) - np.timedelta64(weeks * 7 * sim.DAY, "s")
    per_week = round(images * 7 / days)
    counts = np.zeros((len(zones["id"]), weeks * 7, 24), dtype=np.int64)
    # each zone's camera as its position in cams (-1: none), as the uploads give theirs
    zone_camera = anomaly.positions(zones["camera_id"], cams["id"])
    for week in range(weeks):
        start = first + np.timedelta64(week * 7 * sim.DAY, "s")
        up = uploads.simulate(ctx.rng, cams, zones, per_week, start, 7)
        cx = (up.x + up.w / 2) / vocab.FRAME_W
        cy = (up.y + up.h / 2) / vocab.FRAME_H
        counts[:, week * 7:(week + 1) * 7] = anomaly.count_in_zones_by_position(
            zone_camera, zones["polygon_coords"], up.image_camera[up.image],
            up.image_time[up.image], cx, cy, start, 7)
    avg, std = anomaly.slot_stats(counts, day_of_week(first, weeks * 7))
    nz = len(zones["id"])
    zi, dow, hour = (a.ravel() for a in np.meshgrid(np.arange(nz), np.arange(7), np.arange(24),
                                                     indexing="ij"))
    n = len(zi)
    await ctx.write({
        "id": ctx.uuids(n), "zone_id": zones["id"][zi], "hour_of_day": hour, "day_of_week": dow,
        "avg_detections": avg.ravel().round(4), "std_dev": std.ravel().round(4),
        "sample_count": np.full(n, weeks), "updated_at": np.full(n, window_start(ctx, days)),
    })


@task("zone_anomalies", upstream=["zone_activity_baselines", "detections", "camera_zones",
                                  "events"],
      tags=["baselines"], params={"days": None, "anomalies": 15})
async def zone_anomalies(ctx: TaskContext) -> None:
    """The window's zone-hours that deviate from their baseline slot (zone, hour, weekday)
    by two standard deviations or more: spikes, drops, new patterns and night-time
    activity, the strongest of each type (see :mod:`anomaly`)."""
    days = int(ctx.params["days"])
    zones, counts, dows = await window_counts(ctx, days)
    avg, std = anomaly.stored_slots(zones["id"], await ctx.read("zone_activity_baselines"))
    chosen = anomaly.strongest(anomaly.find(counts, avg, std, dows), int(ctx.params["anomalies"]))
    ev = await ctx.read("events", ["id", "camera_id", "started_at"])
    start = window_start(ctx, days)
    # the cameras of the zones and of the events as numbers
    zone_cams = list(dict.fromkeys(zones["camera_id"].tolist()))
    zone_cam = anomaly.positions(zones["camera_id"], zone_cams)
    ev_cam = anomaly.positions(ev["camera_id"], zone_cams)
    rows = []
    for a in chosen:
        hour_start = start + np.timedelta64(a.day * sim.DAY + a.hour * 3600, "s")
        hour_end = hour_start + np.timedelta64(3600, "s")
        match = (ev_cam == zone_cam[a.zone]) & (
            ev["started_at"] >= hour_start) & (ev["started_at"] < hour_end)
        event_id = int(ev["id"][match][0]) if match.any() and a.score > 0 else None
        rows.append((zones["id"][a.zone], a.kind, a.baseline, float(a.actual),
                     round(a.score, 4), event_id, hour_end))
    n = len(rows)
    await ctx.write({
        "id": ctx.uuids(n), "zone_id": [r[0] for r in rows], "anomaly_type": [r[1] for r in rows],
        "baseline_value": [r[2] for r in rows], "actual_value": [r[3] for r in rows],
        "deviation_score": [r[4] for r in rows], "event_id": [r[5] for r in rows],
        "detected_at": np.array([r[6] for r in rows], dtype="datetime64[us]"),
    })


@dataclass(frozen=True, slots=True)
class Recorded:
    """The zone_anomalies rows with what they are measured against."""

    rows: dict[str, np.ndarray]
    at: np.ndarray  # each row's (zone, day, hour) of the window
    counts: np.ndarray  # [zone, day, hour] of the window
    avg: np.ndarray  # stored slots, [zone, weekday, hour]
    std: np.ndarray
    dows: np.ndarray  # weekday of each day of the window

    def slot(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Each row's slot avg, slot std and window count."""
        z, d, h = self.at.T
        dow = self.dows[d]
        return self.avg[z, dow, h], self.std[z, dow, h], self.counts[z, d, h]


async def recorded(ctx: VerifyContext) -> Recorded:
    """The anomaly rows, the window's counts, the stored slots and each row's zone-hour."""
    days = int(ctx.params.get("days", 7))
    zones, counts, dows = await window_counts(ctx, days)
    avg, std = anomaly.stored_slots(zones["id"], await ctx.read("zone_activity_baselines"))
    an = await ctx.read("zone_anomalies", ["id", "zone_id", "anomaly_type", "baseline_value",
                                           "actual_value", "deviation_score", "detected_at"])
    index = {str(z): i for i, z in enumerate(zones["id"])}
    secs = ((an["detected_at"] - window_start(ctx, days)) / np.timedelta64(1, "s")).astype(
        np.int64) - 3600
    at = np.stack([np.array([index[str(z)] for z in an["zone_id"]], dtype=np.int64),
                   np.clip(secs // sim.DAY, 0, days - 1), (secs % sim.DAY) // 3600], axis=1)
    return Recorded(an, at.reshape(-1, 3), counts, avg, std, dows)


@invariant("zone_anomalies_measure_their_baseline_slot",
           tables=["zone_anomalies", "zone_activity_baselines", "detections", "camera_zones"])
async def zone_anomalies_measure_their_slot(ctx: VerifyContext) -> list[tuple[Any, ...]]:
    """An anomaly's baseline_value is its stored slot's avg_detections (zone, hour,
    weekday), actual_value the detections centred in the zone that hour, and
    deviation_score = (actual - avg) / std_dev of that slot."""
    if ctx.as_of is None:
        return []
    rec = await recorded(ctx)
    an = rec.rows
    bad: list[tuple[Any, ...]] = []
    for aid, base, actual, score, avg, std, count in zip(
            an["id"], an["baseline_value"], an["actual_value"], an["deviation_score"],
            *rec.slot(), strict=True):
        if abs(base - avg) > 1e-6:
            bad.append((aid, f"baseline_value {base} is not the slot's {avg}"))
        elif actual != count:
            bad.append((aid, f"actual_value {actual} but {count} detections that hour"))
        elif abs((actual - avg) / std - score) > 1e-3:
            bad.append((aid, f"deviation_score {score} is not (actual - avg) / std_dev"))
    return bad


@invariant("zone_anomaly_types_follow_their_rules",
           tables=["zone_anomalies", "zone_activity_baselines", "detections", "camera_zones"])
async def zone_anomaly_types_follow_rules(ctx: VerifyContext) -> list[tuple[Any, ...]]:
    """Each anomaly is 2+ standard deviations out and typed by its rule: schedule_violation
    above the slot at night, new_pattern in a slot that never had activity,
    activity_spike above it otherwise, activity_drop below a normally busy slot."""
    if ctx.as_of is None:
        return []
    rec = await recorded(ctx)
    kind, _ = anomaly.classify(*rec.slot(), rec.at[:, 2])
    return [(aid, f"{found} should be {want or 'no anomaly'}")
            for aid, found, want in zip(rec.rows["id"], rec.rows["anomaly_type"], kind,
                                        strict=True)
            if found != want]


@invariant("zone_anomalies_are_the_strongest_of_each_type",
           tables=["zone_anomalies", "zone_activity_baselines", "detections", "camera_zones"])
async def zone_anomalies_are_strongest(ctx: VerifyContext) -> list[tuple[Any, ...]]:
    """The recorded anomalies are the strongest of each type, the types taken in turn:
    every type that occurs in the window is represented, and scores spread as the data do."""
    if ctx.as_of is None:
        return []
    rec = await recorded(ctx)
    limit = int(ctx.params.get("anomalies", 15))
    want = {(a.zone, a.day, a.hour, a.kind) for a in anomaly.strongest(
        anomaly.find(rec.counts, rec.avg, rec.std, rec.dows), limit)}
    have = {(z, d, h, str(k)) for (z, d, h), k in zip(rec.at.tolist(), rec.rows["anomaly_type"],
                                                       strict=True)}
    return ([("missing", *w) for w in sorted(want - have)]
            + [("not among the strongest", *h) for h in sorted(have - want)])


@invariant("zone_baselines_cover_every_slot", tables=["zone_activity_baselines", "camera_zones"])
async def zone_baselines_cover_every_slot(ctx: VerifyContext) -> list[tuple[Any, ...]]:
    """Every zone has all 168 (hour, weekday) slots, learned over the same number of weeks,
    with a spread of at least MIN_STD."""
    zones = await ctx.read("camera_zones", ["id"])
    bl = await ctx.read("zone_activity_baselines")
    avg, _ = anomaly.stored_slots(zones["id"], bl)
    bad: list[tuple[Any, ...]] = [(str(zones["id"][z]), "missing slots")
                                  for z in np.flatnonzero(np.isnan(avg).any(axis=(1, 2)))]
    if len(set(bl["sample_count"].tolist())) > 1:
        bad.append(("sample_count differs between slots",))
    if (bl["std_dev"] < anomaly.MIN_STD - 1e-9).any():
        bad.append(("std_dev below", anomaly.MIN_STD))
    return bad
