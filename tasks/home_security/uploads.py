"""Simulated camera uploads: who comes and goes, when, on which camera, and where in frame.

Most uploads are chance visits that follow the hourly rhythm. A household also has
routines: the school run leaves the driveway around 07:30 on weekdays, the dog goes out
in the evening. Routines are what make a zone-hour "normally busy", so a skipped one is
what the platform flags as an activity drop.

One generator serves the window the ``detections`` table holds and the weeks before it
that the zone baselines were learned from, so both describe the same household.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from . import sim, vocab

CLASSES = np.array(vocab.OBJECT_CLASSES, dtype=object)
CLASS_CODE = {c: k for k, c in enumerate(vocab.OBJECT_CLASSES)}
# each class's position in sim.BOX_SIZES (-1: none)
BOX_OF_CLASS = np.array([list(sim.BOX_SIZES).index(c) if c in sim.BOX_SIZES else -1
                         for c in vocab.OBJECT_CLASSES], dtype=np.int64)
IN_ZONE_SHARE = 0.65  # chance detections centred inside one of the camera's zones
WEEKDAYS = (0, 1, 2, 3, 4)  # 0 = Monday


@dataclass(frozen=True, slots=True)
class Routine:
    """A recurring visit: the same camera, zone, hour and actors on given weekdays."""

    name: str
    camera: str  # the camera's display name (sim.CAMERA_SPECS)
    zone_type: str  # the camera's zone it happens in
    weekdays: tuple[int, ...]
    hour: int
    actors: tuple[str, ...]  # what each image shows, main actor first
    attendance: float  # share of its scheduled days it happens


ROUTINES = (
    Routine("school run", "Driveway", "driveway", WEEKDAYS, 7, ("car", "person", "person"), 0.9),
    Routine("commute home", "Garage", "garage", WEEKDAYS, 17, ("car", "person"), 0.9),
    Routine("evening dog walk", "Backyard", "entrance", (*WEEKDAYS, 5, 6), 18, ("dog", "person"),
            0.9),
    Routine("parcel delivery", "Porch", "entrance", (*WEEKDAYS, 5), 11, ("package", "person"),
            0.6),
)
ROUTINE_IMAGES = 2  # images per occurrence, seconds apart
ROUTINE_RECALL = 0.9  # each actor is detected in an image with this probability
ROUTINE_SHARE = 0.5  # routines use at most this share of the uploads


@dataclass(frozen=True, slots=True)
class Uploads:
    """Images and their detections, before ids, file names and confidences.

    Image arrays are per uploaded image; detection arrays are per detection, in the
    order they were drawn (``image`` points into the image arrays).
    """

    image_time: np.ndarray  # datetime64[us]
    image_camera: np.ndarray  # position in the cameras read
    image: np.ndarray
    rank: np.ndarray  # 0 for the image's first (main) detection
    cls_code: np.ndarray  # position in CLASSES
    x: np.ndarray
    y: np.ndarray
    w: np.ndarray
    h: np.ndarray

    @property
    def cls(self) -> np.ndarray:
        """Each detection's class name."""
        return CLASSES[self.cls_code]


STREAM = "uploads"  # the shared random stream of the detections window's uploads


def in_window(rng: np.random.Generator, cams: Mapping[str, np.ndarray],
              zones: Mapping[str, np.ndarray], images: int, as_of: np.datetime64,
              days: int) -> tuple[dict[str, np.ndarray], Uploads]:
    """The uploads of the window ``[as_of - days, as_of)`` the detections table holds.

    *rng* is the shared stream ``ctx.rng_for(STREAM)``: the ``cameras`` task (each
    camera's ``last_seen_at`` is its last upload) and the ``detections`` task draw the
    same uploads. Cameras are put in id order here, so the draw does not depend on the
    order a database returns them in; the returned cameras are in that order, and
    ``image_camera`` points into them.
    """
    order = np.argsort(np.asarray(cams["id"]).astype(str), kind="stable")
    cams = {k: np.asarray(v)[order] for k, v in cams.items()}
    start = as_of - np.timedelta64(days * sim.DAY, "s")
    return cams, simulate(rng, cams, zones, images, start, days)


def last_upload(up: Uploads, ncam: int) -> np.ndarray:
    """Per camera (in the order of ``in_window``'s cameras) the time of its last upload,
    NaT for a camera with none."""
    last = np.full(ncam, np.datetime64("NaT"), dtype="datetime64[us]")
    for c in range(ncam):
        mine = up.image_time[up.image_camera == c]
        if len(mine):
            last[c] = mine.max()
    return last


def simulate(rng: np.random.Generator, cams: Mapping[str, np.ndarray],
             zones: Mapping[str, np.ndarray], images: int, start: np.datetime64,
             days: int) -> Uploads:
    """*images* uploads on the cameras *cams* (id, name) in ``[start, start + days)``.

    The household's routines come first (at most half the uploads); the rest are chance
    visits: 1-6 images a few seconds apart on one camera, at times that follow the
    hourly profile. Each image shows 0-4 objects drawn from the camera's class profile,
    the visit's main actor first; box centres sit inside one of the camera's *zones*
    (camera_id, zone_type, polygon_coords) 65 % of the time.
    """
    routine = routines(rng, cams, zones, start, days, int(images * ROUTINE_SHARE))
    chance = chance_visits(rng, cams, zones, images - len(routine.image_time), start, days)
    shift = len(chance.image_time)
    return Uploads(*(np.concatenate([a, b]) for a, b in (
        (chance.image_time, routine.image_time), (chance.image_camera, routine.image_camera),
        (chance.image, routine.image + shift), (chance.rank, routine.rank),
        (chance.cls_code, routine.cls_code), (chance.x, routine.x), (chance.y, routine.y),
        (chance.w, routine.w), (chance.h, routine.h))))


def routines(rng: np.random.Generator, cams: Mapping[str, np.ndarray],
             zones: Mapping[str, np.ndarray], start: np.datetime64, days: int,
             max_images: int) -> Uploads:
    """The routines' visits in ``[start, start + days)``: each scheduled day it happens with
    its attendance, at a minute of its hour, two images seconds apart, each actor seen
    with probability 0.9, centred in the routine's zone. Past *max_images* a random
    subset of the occurrences is kept."""
    dows = sim.day_of_week(start + np.arange(days) * np.timedelta64(sim.DAY, "s"))
    names = [str(n) for n in cams["name"]]
    found: list[tuple[int, Routine, int]] = []  # (camera position, routine, second offset)
    for r in ROUTINES:
        if r.camera not in names or zone_polygon(cams, zones, names.index(r.camera),
                                                 r.zone_type) is None:
            continue
        day = np.flatnonzero(np.isin(dows, r.weekdays))
        day = day[rng.random(len(day)) < r.attendance]
        secs = day * sim.DAY + r.hour * 3600 + rng.integers(5 * 60, 45 * 60, len(day))
        found.extend((names.index(r.camera), r, int(t)) for t in secs.tolist())
    keep = max_images // ROUTINE_IMAGES
    if len(found) > keep:
        found = [found[i] for i in np.sort(rng.permutation(len(found))[:keep]).tolist()]
    img_time: list[np.datetime64] = []
    img_cam: list[int] = []
    image: list[int] = []
    rank: list[int] = []
    cls: list[int] = []
    cx: list[float] = []
    cy: list[float] = []
    for cam, r, t0 in found:
        poly = zone_polygon(cams, zones, cam, r.zone_type)
        assert poly is not None
        t = t0
        for _ in range(ROUTINE_IMAGES):
            seen = [a for a in r.actors if rng.random() < ROUTINE_RECALL]
            px, py = sim.sample_in_polygon(rng, poly, len(seen))
            image.extend([len(img_time)] * len(seen))
            rank.extend(range(len(seen)))
            cls.extend(CLASS_CODE[a] for a in seen)
            cx.extend(px.tolist())
            cy.extend(py.tolist())
            img_time.append(start + np.timedelta64(t, "s")
                            + np.timedelta64(int(rng.integers(0, 1_000_000)), "us"))
            img_cam.append(cam)
            t += int(rng.integers(3, 21))
    cls_arr = np.array(cls, dtype=np.int64)
    w, h = box_sizes(rng, BOX_OF_CLASS[cls_arr])
    x, y = place_boxes(np.array(cx, dtype=float), np.array(cy, dtype=float), w, h)
    return Uploads(np.array(img_time, dtype="datetime64[us]"), np.array(img_cam, dtype=np.int64),
                   np.array(image, dtype=np.int64), np.array(rank, dtype=np.int64), cls_arr,
                   x, y, w, h)


def zone_polygon(cams: Mapping[str, np.ndarray], zones: Mapping[str, np.ndarray], cam: int,
                 zone_type: str) -> list[list[float]] | None:
    """The polygon of the camera's first zone of *zone_type* (None if it has none)."""
    for cid, ztype, poly in zip(zones["camera_id"], zones["zone_type"], zones["polygon_coords"],
                                strict=True):
        if cid == cams["id"][cam] and ztype == zone_type:
            return list(poly)
    return None


def chance_visits(rng: np.random.Generator, cams: Mapping[str, np.ndarray],
                  zones: Mapping[str, np.ndarray], images: int, start: np.datetime64,
                  days: int) -> Uploads:
    """*images* uploads in visits at random times that follow the hourly profile."""
    if images <= 0:
        return routines(rng, cams, zones, start, 0, 0)  # no uploads
    ncam = len(cams["id"])
    spec_idx = np.array([sim.camera_index(str(n)) for n in cams["name"]])
    rate = sim.CAMERA_RATE[spec_idx % len(sim.CAMERA_RATE)]
    # visits and their images
    sizes = np.minimum(1 + rng.geometric(0.55, images), 6)
    sizes = sizes[: int(np.searchsorted(np.cumsum(sizes), images)) + 1]
    sizes[-1] -= int(sizes.sum() - images)
    sizes = sizes[sizes > 0]
    nvisit = len(sizes)
    visit_cam = rng.choice(ncam, nvisit, p=rate / rate.sum())
    offset = (rng.integers(0, days, nvisit) * sim.DAY
              + rng.choice(24, nvisit, p=sim.HOURLY_P) * 3600 + rng.integers(0, 3600, nvisit))
    img_visit = np.repeat(np.arange(nvisit), sizes)
    gaps = rng.integers(3, 21, len(img_visit))
    first = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    gaps[first] = 0
    within = np.cumsum(gaps) - np.repeat(np.cumsum(gaps)[first], sizes)
    img_secs = np.minimum(offset[img_visit] + within, days * sim.DAY - 1)
    img_time = start + sim.seconds(img_secs) + rng.integers(0, 1_000_000, len(img_visit)).astype(
        "timedelta64[us]")
    img_cam = visit_cam[img_visit]
    # detections per image, classes from the camera's profile; the visit's main actor first
    per_img = rng.choice(5, len(img_visit), p=sim.DETECTIONS_PER_IMAGE_P)
    det_img = np.repeat(np.arange(len(img_visit)), per_img)
    n = len(det_img)
    class_p = np.array([sim.camera_spec(int(i))[3] for i in spec_idx], dtype=float)
    class_p /= class_p.sum(axis=1, keepdims=True)
    cum = np.cumsum(class_p, axis=1)
    det_cam = img_cam[det_img]
    main = _class_of(rng.random(nvisit), cum, visit_cam)
    # one n x classes comparison, as before, rather than _class_of: its 10 MB temporary,
    # freed, lifts glibc's mmap threshold, and the detections task's later arrays then
    # reuse heap pages instead of faulting in fresh ones (twice the page faults without it)
    other = (rng.random(n)[:, None] > cum[det_cam]).sum(axis=1)
    rank = np.arange(n) - np.repeat(np.concatenate([[0], np.cumsum(per_img)[:-1]]), per_img)
    cls_idx = np.where(rank == 0, main[img_visit[det_img]], other)
    cls = np.minimum(cls_idx, len(CLASSES) - 1)
    # boxes: sizes by class, centres inside a zone of the camera 65 % of the time
    w, h = box_sizes(rng, BOX_OF_CLASS[cls])
    cx, cy = rng.uniform(0.05, 0.95, n), rng.uniform(0.1, 0.95, n)
    in_zone = rng.random(n) < IN_ZONE_SHARE
    zone_cam = zones["camera_id"]
    # the camera's detections placed in a zone, by camera (det_cam: camera positions)
    placed = np.flatnonzero(in_zone)
    placed_cam = det_cam[placed]
    for ci, cam_id in enumerate(cams["id"]):
        polys = [p for z, p in zip(zone_cam, zones["polygon_coords"], strict=True) if z == cam_id]
        if not polys:
            continue
        mine = placed[placed_cam == ci]
        zone_of = mine % len(polys)
        for zi, poly in enumerate(polys):
            pick = mine[zone_of == zi]
            if len(pick):
                px, py = sim.sample_in_polygon(rng, poly, len(pick))
                cx[pick], cy[pick] = px, py
    x, y = place_boxes(cx, cy, w, h)
    return Uploads(img_time, img_cam, det_img, rank, cls, x, y, w, h)


def _class_of(u: np.ndarray, cum: np.ndarray, cam: np.ndarray) -> np.ndarray:
    """The class position of each uniform draw *u* on camera *cam*: how many of the
    camera's cumulative class probabilities *cum* it exceeds, counted camera by camera."""
    out = np.empty(len(u), dtype=np.int64)
    for c in range(len(cum)):
        mine = np.flatnonzero(cam == c)
        mu = u[mine]
        above = np.zeros(len(mine), dtype=np.int64)
        for k in cum[c].tolist():
            above += mu > k
        out[mine] = above
    return out


def box_sizes(rng: np.random.Generator, box: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Box widths and heights in pixels, by class (*box*: each class's position in
    sim.BOX_SIZES, -1 for none: such a box is left unset)."""
    w = np.empty(len(box), dtype=np.int64)
    h = np.empty(len(box), dtype=np.int64)
    for k, ((w0, w1), (h0, h1)) in enumerate(sim.BOX_SIZES.values()):
        m = np.flatnonzero(box == k)
        w[m] = rng.integers(w0, w1, len(m))
        h[m] = rng.integers(h0, h1, len(m))
    return w, h


def place_boxes(cx: np.ndarray, cy: np.ndarray, w: np.ndarray,
                h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Top-left corners of boxes centred at normalised (cx, cy), kept inside the frame."""
    x = np.clip((cx * vocab.FRAME_W - w / 2).astype(np.int64), 0, vocab.FRAME_W - w)
    y = np.clip((cy * vocab.FRAME_H - h / 2).astype(np.int64), 0, vocab.FRAME_H - h)
    return x, y
