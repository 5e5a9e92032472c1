"""Simulated camera uploads: who comes and goes, when, on which camera, and where in frame.

One generator serves the window the ``detections`` table holds and any other stretch of
time the pack needs to describe the same household.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from . import sim, vocab

CLASSES = np.array(vocab.OBJECT_CLASSES, dtype=object)
IN_ZONE_SHARE = 0.65  # background detections centred inside one of the camera's zones


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
    cls: np.ndarray
    x: np.ndarray
    y: np.ndarray
    w: np.ndarray
    h: np.ndarray


def simulate(rng: np.random.Generator, cams: Mapping[str, np.ndarray],
             zones: Mapping[str, np.ndarray], images: int, start: np.datetime64,
             days: int) -> Uploads:
    """*images* uploads on the cameras *cams* (id, name) in ``[start, start + days)``.

    Uploads come in visits: 1-6 images a few seconds apart on one camera, at times
    that follow the hourly profile. Each image shows 0-4 objects drawn from the
    camera's class profile, the visit's main actor first; box centres sit inside one
    of the camera's *zones* (camera_id, polygon_coords) 65 % of the time.
    """
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
    main = (rng.random(nvisit)[:, None] > cum[visit_cam]).sum(axis=1)
    other = (rng.random(n)[:, None] > cum[img_cam[det_img]]).sum(axis=1)
    rank = np.arange(n) - np.repeat(np.concatenate([[0], np.cumsum(per_img)[:-1]]), per_img)
    cls_idx = np.where(rank == 0, main[img_visit[det_img]], other)
    cls = CLASSES[np.minimum(cls_idx, len(CLASSES) - 1)]
    # boxes: sizes by class, centres inside a zone of the camera 65 % of the time
    w, h = box_sizes(rng, cls)
    cx, cy = rng.uniform(0.05, 0.95, n), rng.uniform(0.1, 0.95, n)
    det_cam = img_cam[det_img]
    in_zone = rng.random(n) < IN_ZONE_SHARE
    zone_cam = zones["camera_id"]
    for ci, cam_id in enumerate(cams["id"]):
        polys = [p for z, p in zip(zone_cam, zones["polygon_coords"], strict=True) if z == cam_id]
        for zi, poly in enumerate(polys):
            pick = np.flatnonzero(in_zone & (det_cam == ci) & (np.arange(n) % len(polys) == zi))
            if len(pick):
                px, py = sim.sample_in_polygon(rng, poly, len(pick))
                cx[pick], cy[pick] = px, py
    x, y = place_boxes(cx, cy, w, h)
    return Uploads(img_time, img_cam, det_img, rank, cls, x, y, w, h)


def box_sizes(rng: np.random.Generator, cls: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Box widths and heights in pixels, by class."""
    w = np.empty(len(cls), dtype=np.int64)
    h = np.empty(len(cls), dtype=np.int64)
    for c, ((w0, w1), (h0, h1)) in sim.BOX_SIZES.items():
        m = cls == c
        w[m] = rng.integers(w0, w1, int(m.sum()))
        h[m] = rng.integers(h0, h1, int(m.sum()))
    return w, h


def place_boxes(cx: np.ndarray, cy: np.ndarray, w: np.ndarray,
                h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Top-left corners of boxes centred at normalised (cx, cy), kept inside the frame."""
    x = np.clip((cx * vocab.FRAME_W - w / 2).astype(np.int64), 0, vocab.FRAME_W - w)
    y = np.clip((cy * vocab.FRAME_H - h / 2).astype(np.int64), 0, vocab.FRAME_H - h)
    return x, y
