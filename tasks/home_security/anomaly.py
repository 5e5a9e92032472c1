"""Zone-hours measured against their baseline slot: z-scores, the four anomaly types, and
which anomalies the platform records.

A zone's baseline slot is (zone, hour of day, weekday): the mean and standard deviation
of the detections centred in the zone in that hour over the weeks the baseline was
learned from. A zone-hour of the window is scored against its slot,
``z = (actual - avg) / std``, and is anomalous when it is at least two standard
deviations out:

==================== =============================================================
schedule_violation   above the slot in the night hours (22:00-06:00), when zones
                     are expected to be quiet
new_pattern          activity in a slot that never had any (avg 0)
activity_spike       above the slot at any other time
activity_drop        a normally busy slot (avg >= 1) gone quiet: below the slot
==================== =============================================================

Pure numpy: the tasks and the invariants share these functions.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import sim, vocab

MIN_STD = 0.5  # a slot's spread is at least this (a slot that never varied is not exact)
THRESHOLD = 2.0  # |z| from which a zone-hour is anomalous
BUSY = 1.0  # a slot with at least this many detections an hour on average is "normally busy"
NIGHT = np.array([h in sim.NIGHT_HOURS for h in range(24)])


def count_in_zones(zones: Mapping[str, np.ndarray], camera_id: np.ndarray, at: np.ndarray,
                   cx: np.ndarray, cy: np.ndarray, start: np.datetime64, days: int) -> np.ndarray:
    """counts[zone, day, hour]: detections (camera_id, at, normalised box centre cx, cy)
    centred in each zone (id, camera_id, polygon_coords), by day of ``[start, start + days)``."""
    # the zones' cameras as numbers
    cams = list(dict.fromkeys(zones["camera_id"].tolist()))
    return count_in_zones_by_position(
        positions(zones["camera_id"], cams), zones["polygon_coords"], positions(camera_id, cams),
        at, cx, cy, start, days)


def count_in_zones_by_position(zone_camera: np.ndarray, polygons: Sequence[object],
                               camera: np.ndarray, at: np.ndarray, cx: np.ndarray,
                               cy: np.ndarray, start: np.datetime64, days: int) -> np.ndarray:
    """:func:`count_in_zones` with the cameras as numbers: *zone_camera* the camera of each
    zone (with its *polygons*), *camera* the camera of each detection (-1: none of them)."""
    secs = ((at - start) / np.timedelta64(1, "s")).astype(np.int64)
    inside = (secs >= 0) & (secs < days * sim.DAY)
    slot = (secs // sim.DAY * 24 + sim.hour_of(at))[inside]
    cam_of, cx, cy = np.asarray(camera)[inside], cx[inside], cy[inside]
    # the window's detections by camera; each zone tests only its camera's points
    rows: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    counts = np.zeros((len(zone_camera), days, 24), dtype=np.int64)
    for z, (cam, poly) in enumerate(zip(np.asarray(zone_camera).tolist(), polygons,
                                        strict=True)):
        if cam not in rows:
            r = np.flatnonzero(cam_of == cam)
            rows[cam] = (slot[r], cx[r], cy[r])
        s, x, y = rows[cam]
        near = _near(x, y, poly)
        counts[z] = np.bincount(s[near][sim.point_in_polygon(x[near], y[near], poly)],
                                minlength=days * 24).reshape(days, 24)
    return counts


def _near(x: np.ndarray, y: np.ndarray, polygon: object) -> np.ndarray:
    """The points the ray casting of :func:`sim.point_in_polygon` may find inside
    *polygon*: the others cross none of its edges (y below the lowest vertex, or at or
    above the highest) or lie right of every crossing (x past the rightmost vertex, with
    a margin for the rounding of the crossing's x)."""
    pts = np.asarray(polygon, dtype=float)
    if pts.ndim != 2 or len(pts) == 0:
        return np.arange(len(x))
    (x0, y0), (x1, y1) = pts.min(axis=0).tolist(), pts.max(axis=0).tolist()
    margin = 1e-9 * (1.0 + abs(x0) + abs(x1))
    return np.flatnonzero((y >= y0) & (y < y1) & (x < x1 + margin))


def positions(values: np.ndarray, keys: np.ndarray | Sequence[Any]) -> np.ndarray:
    """Each value's position in *keys* (-1: none of them): a column compared with a few
    known values, by one dictionary look-up a row."""
    index = {k: i for i, k in enumerate(np.asarray(keys, dtype=object).tolist())}
    return np.fromiter(map(index.get, np.asarray(values, dtype=object).tolist(),
                           itertools.repeat(-1)), dtype=np.int64, count=len(values))


def slot_stats(counts: np.ndarray, dows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """avg[zone, weekday, hour] and std[zone, weekday, hour] over the days of each weekday
    (*dows*: the weekday of each day of *counts*); std is the sample standard deviation,
    at least MIN_STD."""
    nz = counts.shape[0]
    avg = np.zeros((nz, 7, 24))
    std = np.full((nz, 7, 24), MIN_STD)
    for dow in range(7):
        sample = counts[:, dows == dow, :]
        if sample.shape[1]:
            avg[:, dow] = sample.mean(axis=1)
        if sample.shape[1] > 1:
            std[:, dow] = np.maximum(sample.std(axis=1, ddof=1), MIN_STD)
    return avg, std


def stored_slots(zone_ids: np.ndarray, rows: Mapping[str, np.ndarray]) -> tuple[
        np.ndarray, np.ndarray]:
    """avg[zone, weekday, hour] and std[...] from zone_activity_baselines rows (NaN where a
    slot is missing), zones in the order of *zone_ids*."""
    index = {str(z): i for i, z in enumerate(zone_ids)}
    avg = np.full((len(zone_ids), 7, 24), np.nan)
    std = np.full((len(zone_ids), 7, 24), np.nan)
    z = np.array([index.get(str(v), -1) for v in rows["zone_id"]], dtype=np.int64)
    known = z >= 0
    at = (z[known], rows["day_of_week"][known].astype(np.int64),
          rows["hour_of_day"][known].astype(np.int64))
    avg[at] = rows["avg_detections"][known]
    std[at] = rows["std_dev"][known]
    return avg, std


def classify(avg: np.ndarray, std: np.ndarray, actual: np.ndarray,
             hour: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The anomaly type of each zone-hour ("" when it is not anomalous) and its z-score."""
    with np.errstate(invalid="ignore"):
        z = (actual - avg) / std
        up, down = z >= THRESHOLD, z <= -THRESHOLD
        night = NIGHT[hour]
        kind = np.full(z.shape, "", dtype=object)
        kind[up] = "activity_spike"
        kind[up & (avg == 0)] = "new_pattern"
        kind[up & night] = "schedule_violation"
        kind[down & (avg >= BUSY)] = "activity_drop"
    return kind, z


@dataclass(frozen=True, slots=True)
class Anomaly:
    """One anomalous zone-hour of the window."""

    zone: int  # position in the zones read
    day: int  # day of the window
    hour: int
    kind: str
    baseline: float
    actual: int
    score: float


def find(counts: np.ndarray, avg: np.ndarray, std: np.ndarray,
         dows: np.ndarray) -> list[Anomaly]:
    """Every anomalous zone-hour of the window *counts*[zone, day, hour], scored against
    the slots avg/std[zone, weekday, hour]; *dows* is the weekday of each window day."""
    slot_avg, slot_std = avg[:, dows, :], std[:, dows, :]
    hours = np.broadcast_to(np.arange(24), counts.shape)
    kind, z = classify(slot_avg, slot_std, counts, hours)
    return [Anomaly(zi, di, hi, str(kind[zi, di, hi]), float(slot_avg[zi, di, hi]),
                    int(counts[zi, di, hi]), float(z[zi, di, hi]))
            for zi, di, hi in zip(*(a.tolist() for a in np.nonzero(kind != "")), strict=True)]


def strongest(found: Sequence[Anomaly], limit: int) -> list[Anomaly]:
    """The *limit* anomalies the platform records: the strongest (largest |z|) of each
    type, taking the types in turn so that every type that occurred is represented."""
    queues = [sorted((a for a in found if a.kind == kind),
                     key=lambda a: (-abs(a.score), a.zone, a.day, a.hour))
              for kind in vocab.ANOMALY_TYPES]
    out: list[Anomaly] = []
    rank = 0
    while len(out) < limit and any(rank < len(q) for q in queues):
        out.extend(q[rank] for q in queues if rank < len(q))
        rank += 1
    return out[:limit]
