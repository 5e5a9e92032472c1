"""Pure simulation helpers for the home-security pack (numpy in, numpy out).

Tasks and invariants share these functions, so a rule such as "events are
batches of one camera's detections" is written once and checked against the
same code that produced the data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import vocab

DAY = 86_400
# relative detection rate per hour of day: quiet at night, peaks morning and evening
HOURLY_WEIGHTS = np.array([
    0.6, 0.4, 0.3, 0.3, 0.4, 0.8, 2.0, 3.6, 4.2, 3.0, 2.2, 2.0,
    2.2, 2.1, 2.0, 2.3, 2.9, 3.9, 4.4, 3.6, 2.6, 1.8, 1.2, 0.8,
])
HOURLY_P = HOURLY_WEIGHTS / HOURLY_WEIGHTS.sum()
NIGHT_HOURS = frozenset({22, 23, 0, 1, 2, 3, 4, 5})

# (display name, folder, zone types in order, class weights over vocab.OBJECT_CLASSES)
CAMERA_SPECS: tuple[tuple[str, str, tuple[str, ...], tuple[float, ...]], ...] = (
    ("Front Door", "front_door", ("entrance", "perimeter", "driveway"),
     (0.55, 0.08, 0.04, 0.08, 0.05, 0.04, 0.14, 0.02)),
    ("Driveway", "driveway", ("driveway", "garage", "perimeter"),
     (0.30, 0.38, 0.12, 0.06, 0.03, 0.05, 0.02, 0.04)),
    ("Backyard", "backyard", ("pool", "perimeter", "entrance"),
     (0.40, 0.00, 0.00, 0.30, 0.22, 0.03, 0.00, 0.05)),
    ("Garage", "garage", ("garage", "driveway", "entrance"),
     (0.35, 0.35, 0.08, 0.08, 0.06, 0.06, 0.00, 0.02)),
    ("Side Gate", "side_gate", ("perimeter", "entrance", "garage"),
     (0.60, 0.00, 0.00, 0.15, 0.15, 0.08, 0.00, 0.02)),
    ("Porch", "porch", ("entrance", "driveway", "perimeter"),
     (0.50, 0.10, 0.03, 0.10, 0.07, 0.02, 0.18, 0.00)),
    ("Lake Dock", "lake_dock", ("perimeter", "pool", "entrance"),
     (0.55, 0.00, 0.00, 0.20, 0.10, 0.15, 0.00, 0.00)),
    ("Lake House Door", "lake_house_door", ("entrance", "driveway", "perimeter"),
     (0.50, 0.20, 0.05, 0.08, 0.05, 0.02, 0.08, 0.02)),
)
CAMERA_RATE = np.array([1.6, 1.5, 0.9, 0.8, 0.6, 1.0, 0.5, 0.7])
# (width range, height range) in pixels of a 1920x1080 frame
BOX_SIZES = {
    "person": ((70, 220), (180, 520)), "car": ((280, 720), (160, 380)),
    "truck": ((380, 860), (220, 480)), "dog": ((90, 260), (70, 200)),
    "cat": ((50, 150), (40, 120)), "bicycle": ((120, 280), (90, 220)),
    "package": ((40, 140), (30, 110)), "motorcycle": ((160, 360), (120, 260)),
}
DETECTIONS_PER_IMAGE_P = np.array([0.12, 0.45, 0.25, 0.12, 0.06])  # 0-4 per upload
BATCH_WINDOW_S = 90
BATCH_IDLE_S = 30
FAST_PATH_CONFIDENCE = 0.9
VISIT_GAP_S = 60


def camera_spec(index: int) -> tuple[str, str, tuple[str, ...], tuple[float, ...]]:
    """The spec of the index-th camera (past the named ones: numbered cameras)."""
    if index < len(CAMERA_SPECS):
        return CAMERA_SPECS[index]
    n = index + 1
    return (f"Camera {n}", f"camera_{n}", ("entrance", "perimeter", "driveway"),
            CAMERA_SPECS[index % len(CAMERA_SPECS)][3])


def camera_index(name: str) -> int:
    """Inverse of :func:`camera_spec` on the camera's name."""
    for i, spec in enumerate(CAMERA_SPECS):
        if spec[0] == name:
            return i
    return int(name.rsplit(" ", 1)[1]) - 1


def naive(as_of: Any) -> np.datetime64:
    """``ctx.as_of`` (UTC, aware) as a naive numpy timestamp in microseconds."""
    return np.datetime64(as_of.replace(tzinfo=None), "us")


def not_after(as_of: Any, ts: np.ndarray) -> np.ndarray:
    """*ts* with anything later than ``as_of`` moved back to it: nothing has happened
    after the run's "now" (NaT stays NaT)."""
    return np.minimum(ts, naive(as_of))


def within(as_of: Any, start: np.ndarray, delay_s: np.ndarray, longest_s: float) -> np.ndarray:
    """*start* plus a delay drawn on [0, *longest_s*) seconds, before ``as_of``: when less
    than *longest_s* is left between *start* and ``as_of`` the delay shrinks in proportion,
    so follow-ups of the last events spread over the time left instead of piling up at
    ``as_of`` (which clipping with :func:`not_after` does). NaT stays NaT."""
    start = np.asarray(start).astype("datetime64[us]")
    room = (naive(as_of) - start) / np.timedelta64(1, "us")
    scale = np.clip(room / (float(longest_s) * 1e6), 0.0, 1.0)
    scale = np.where(np.isnan(scale), 1.0, scale)
    step = (np.asarray(delay_s, dtype=np.float64) * 1e6 * scale).astype(np.int64)
    return start + step.astype("timedelta64[us]")


def seconds(delta: np.ndarray) -> np.ndarray:
    return delta.astype("timedelta64[s]")


def point_in_polygon(x: np.ndarray, y: np.ndarray,
                     polygon: Sequence[Sequence[float]]) -> np.ndarray:
    """Vectorised ray casting: which points (x, y) lie inside *polygon*."""
    inside = np.zeros(len(x), dtype=bool)
    pts = np.asarray(polygon, dtype=float)
    j = len(pts) - 1
    for i in range(len(pts)):
        xi, yi = pts[i]
        xj, yj = pts[j]
        crosses = (yi > y) != (yj > y)
        with np.errstate(divide="ignore", invalid="ignore"):
            x_at = (xj - xi) * (y - yi) / (yj - yi) + xi
        inside ^= crosses & (x < x_at)
        j = i
    return inside


def sample_in_polygon(rng: np.random.Generator, polygon: Sequence[Sequence[float]],
                      n: int) -> tuple[np.ndarray, np.ndarray]:
    """n uniform points inside a polygon (rejection sampling in its bounding box)."""
    pts = np.asarray(polygon, dtype=float)
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    xs = np.empty(0)
    ys = np.empty(0)
    while len(xs) < n:
        cand_x = rng.uniform(lo[0], hi[0], 2 * n + 8)
        cand_y = rng.uniform(lo[1], hi[1], 2 * n + 8)
        keep = point_in_polygon(cand_x, cand_y, pts)
        xs = np.concatenate([xs, cand_x[keep]])
        ys = np.concatenate([ys, cand_y[keep]])
    return xs[:n], ys[:n]


def box_centres(det: Mapping[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Normalised (0-1) centres of detection boxes."""
    cx = (det["bbox_x"] + det["bbox_width"] / 2) / vocab.FRAME_W
    cy = (det["bbox_y"] + det["bbox_height"] / 2) / vocab.FRAME_H
    return cx, cy


def py_round(values: Any, decimals: int) -> np.ndarray:
    """``round(v, decimals)`` of Python for every float of *values*, as a float64 array.

    Python rounds the exact binary value to the nearest multiple of 10**-decimals (ties
    to even) and returns the double nearest that decimal: ``k / 10**decimals`` for the
    integer *k* it picked, a correctly rounded division. ``np.rint(v * 10**decimals)``
    picks the same *k* except where the rounding error of the product (at most half an
    ulp) may put it on the other side of a half step: those few values, and anything
    not finite or too large, take Python's ``round`` itself. (``np.round`` alone differs
    from ``round`` on such values.)
    """
    if decimals < 0:
        raise ValueError("decimals must be >= 0")
    v = np.asarray(values, dtype=np.float64)
    scale = 10.0 ** decimals
    p = v * scale
    out: np.ndarray = np.rint(p) / scale
    with np.errstate(invalid="ignore"):
        doubt = np.abs(p - np.floor(p) - 0.5) <= np.maximum(1e-6, 4 * np.abs(np.spacing(p)))
    doubt |= np.isfinite(v) & ~(np.abs(p) < 2.0 ** 50)
    if doubt.any():
        out[doubt] = [round(x, decimals) for x in v[doubt].tolist()]
    return out


def hour_of(ts: np.ndarray) -> np.ndarray:
    return (ts.astype("datetime64[h]").astype(np.int64) % 24).astype(np.int64)


def day_of_week(ts: np.ndarray) -> np.ndarray:
    """0 = Monday (1970-01-01 was a Thursday)."""
    return ((ts.astype("datetime64[D]").astype(np.int64) + 3) % 7).astype(np.int64)


# -- events --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EventBatch:
    camera_id: str
    detection_index: tuple[int, ...]  # positions in the detections arrays
    fast_path: bool


def batch_events(det: Mapping[str, np.ndarray]) -> list[EventBatch]:
    """Group detections into events the way the platform's batch aggregator does.

    Per camera, in time order, an image's detections join the open batch while the
    batch is younger than 90 s and the camera has not been idle for 30 s; otherwise
    the batch closes and a new one opens. A lone high-confidence person detection
    takes the fast path: an event of its own, immediately.
    """
    n = len(det["id"])
    if n == 0:
        return []
    order = np.lexsort((det["id"], det["detected_at"], camera_codes(det["camera_id"])))
    cams = det["camera_id"][order]
    times = det["detected_at"][order].astype("datetime64[us]").astype(np.int64) // 1_000_000
    paths = det["file_path"][order]
    # images: runs of equal file paths in that order (first row, size)
    first = np.flatnonzero(np.concatenate([[True], paths[1:] != paths[:-1]]))
    size = np.diff(np.append(first, n))
    fast = (size == 1) & (det["object_type"][order][first] == "person") \
        & (det["confidence"][order][first] >= FAST_PATH_CONFIDENCE)
    # the other images, in order, open a batch on a new camera, after 30 s idle, or
    # once the open batch is over 90 s old (only that last rule needs the loop)
    slow = np.flatnonzero(~fast)
    t = times[first[slow]]
    cam = cams[first[slow]]
    opens = np.ones(len(slow), dtype=bool)
    opens[1:] = (cam[1:] != cam[:-1]) | (np.diff(t) > BATCH_IDLE_S)
    flags = opens.tolist()
    start = 0
    for k, tk in enumerate(t.tolist()):
        if flags[k] or tk - start > BATCH_WINDOW_S:
            flags[k] = True
            start = tk
    opens = np.array(flags, dtype=bool)
    # a batch's rows: its images' rows in order; a batch is emitted when the next one
    # opens (or at the end), a fast-path event at its image: sort by that position
    heads = slow[opens]
    batch_rows = order[np.repeat(~fast, size)].tolist()
    cuts = np.cumsum(size[slow])[np.flatnonzero(opens)[1:] - 1].tolist()
    bounds = [0, *cuts, len(batch_rows)] if len(heads) else [0]
    emitted = np.concatenate([np.append(heads[1:], len(first))[:len(heads)],
                              np.flatnonzero(fast)])
    batches = [EventBatch(str(cams[first[g]]), tuple(batch_rows[a:b]), False)
               for g, a, b in zip(heads.tolist(), bounds[:-1], bounds[1:], strict=True)]
    batches += [EventBatch(str(cams[first[g]]), (int(order[first[g]]),), True)
                for g in np.flatnonzero(fast).tolist()]
    return [batches[k] for k in np.argsort(emitted, kind="stable").tolist()]


def camera_codes(camera_id: np.ndarray) -> np.ndarray:
    """The cameras as numbers in their (text) order, what ``np.unique(camera_id,
    return_inverse=True)[1]`` gives: sorting numbers is much faster than sorting the text,
    and a dict lookup per row is much faster than np.unique's sort of objects."""
    values = camera_id.tolist()
    code = {c: k for k, c in enumerate(sorted(set(values)))}
    return np.fromiter(map(code.__getitem__, values), dtype=np.int64, count=len(values))


def visits(det: Mapping[str, np.ndarray]) -> np.ndarray:
    """A visit number per detection: a camera's detections with no gap over 60 s."""
    camera = camera_codes(det["camera_id"])
    order = np.lexsort((det["id"], det["detected_at"], camera))
    t = det["detected_at"][order].astype("datetime64[s]").astype(np.int64)
    cam = camera[order]
    new = np.ones(len(order), dtype=bool)
    if len(order) > 1:
        new[1:] = (cam[1:] != cam[:-1]) | (np.diff(t) > VISIT_GAP_S)
    number = np.cumsum(new) - 1
    out = np.empty(len(order), dtype=np.int64)
    out[order] = number
    return out


def risk_level_of(scores: np.ndarray) -> np.ndarray:
    out = np.empty(len(scores), dtype=object)
    for lo, hi, level in vocab.RISK_BANDS:
        out[(scores >= lo) & (scores <= hi)] = level
    return out


_COUNT_WORDS = {1: "a", 2: "two", 3: "three", 4: "four", 5: "five"}
_PLURAL = {"person": "people", "bicycle": "bicycles", "package": "packages"}


def describe_classes(classes: Sequence[str]) -> str:
    counts: dict[str, int] = {}
    for c in classes:
        counts[c] = counts.get(c, 0) + 1
    parts = []
    for c, k in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        word = _COUNT_WORDS.get(k, str(k))
        name = c if k == 1 else _PLURAL.get(c, c + "s")
        parts.append(f"{word} {name}")
    if len(parts) == 1:
        return parts[0]
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def time_phrase(hour: int) -> str:
    if hour < 5 or hour >= 23:
        return "in the middle of the night"
    if hour < 8:
        return "in the early morning"
    if hour < 12:
        return "in the morning"
    if hour < 17:
        return "in the afternoon"
    if hour < 21:
        return "in the evening"
    return "late in the evening"


_REASONS = {
    "person": ("An unidentified person", "approached", "Human presence near an entry point"),
    "car": ("A vehicle", "stopped", "Vehicle activity"),
    "truck": ("A truck", "idled", "Large vehicle activity"),
    "package": ("A package", "was left", "A delivery"),
    "dog": ("A dog", "crossed", "Animal movement"),
    "cat": ("A cat", "crossed", "Animal movement"),
    "bicycle": ("A bicycle", "passed", "Cyclist activity"),
    "motorcycle": ("A motorcycle", "passed", "Motorcycle activity"),
}


def write_analysis(camera: str, classes: Sequence[str], hour: int, minute: int, score: int,
                   level: str, duration_s: int, variant: int) -> tuple[str, str]:
    """A summary and reasoning that read like the platform's LLM analysis."""
    what = describe_classes(classes)
    clock = f"{hour:02d}:{minute:02d}"
    when = time_phrase(hour)
    main = max(set(classes), key=lambda c: (classes.count(c), c == "person", c))
    subject, verb, theme = _REASONS.get(main, ("Activity", "occurred", "Activity"))
    summaries = (
        f"{what[0].upper()}{what[1:]} detected at the {camera} {when} ({clock}).",
        f"{camera}: {what} observed at {clock}.",
        f"Activity at the {camera} {when}: {what}.",
    )
    night = hour in NIGHT_HOURS
    context = ("Night-time activity raises the concern level."
               if night else "Daytime activity of this kind is common for the property.")
    if level in ("high", "critical"):
        verdict = (f"{subject} {verb} near the {camera} and stayed in view for about "
                   f"{max(duration_s, 1)} s; the pattern does not match routine household "
                   "activity and warrants review.")
    elif level == "medium":
        verdict = (f"{theme} at the {camera} is plausible but unconfirmed; no threatening "
                   "behaviour was observed.")
    else:
        verdict = f"{theme} consistent with normal use of the property; no action needed."
    reasoning = (f"Detected {what} over {max(duration_s, 1)} s. {context} {verdict} "
                 f"Risk assessed as {level} ({score}/100).")
    return summaries[variant % len(summaries)], reasoning


# -- alert rules ------------------------------------------------------------------


def hour_in_schedule(hour: int, schedule: Mapping[str, Any] | None) -> bool:
    if not schedule:
        return True
    start, end = int(schedule["start_hour"]), int(schedule["end_hour"])
    return start <= hour < end if start <= end else (hour >= start or hour < end)


def rule_matches(rule: Mapping[str, Any], event: Mapping[str, Any]) -> bool:
    """All of an enabled rule's conditions hold for the event (AND logic)."""
    if not rule["enabled"]:
        return False
    threshold = rule.get("risk_threshold")
    if threshold is not None and event["risk_score"] < threshold:
        return False
    types = rule.get("object_types") or []
    if types and not set(types) & set(event["object_types"]):
        return False
    cameras = rule.get("camera_ids") or []
    if cameras and event["camera_id"] not in cameras:
        return False
    min_conf = rule.get("min_confidence")
    if min_conf is not None and event["max_confidence"] < min_conf:
        return False
    return hour_in_schedule(event["hour"], rule.get("schedule"))


def dedup_key(template: str, rule_id: str, event: Mapping[str, Any]) -> str:
    main = sorted(event["object_types"])[0] if event["object_types"] else "none"
    return template.format(camera_id=event["camera_id"], rule_id=rule_id, object_type=main)


# -- embeddings ------------------------------------------------------------------------


def unit_vectors(rng: np.random.Generator, n: int, dim: int = 512) -> np.ndarray:
    v = rng.standard_normal((n, dim))
    v /= np.linalg.norm(v, axis=1, keepdims=True)  # in place: 11,606 x 512 is 47 MB
    return v


def around(rng: np.random.Generator, centroids: np.ndarray, spread: float) -> np.ndarray:
    """L2-normalised float32 samples clustered around the given unit centroids (float32,
    the values a real[] column stores, so what is written is what was made)."""
    v = rng.standard_normal(centroids.shape, dtype=np.float32)
    v *= np.float32(spread / np.sqrt(centroids.shape[1]))
    v += centroids
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    return v
