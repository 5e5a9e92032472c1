"""The detection pipeline: uploads become detections, detections become events, events
raise alerts and collect feedback and audits."""

from __future__ import annotations

import itertools
import json
from typing import Any

import numpy as np

from seedgraph import TaskContext, VerifyContext, invariant, task
from seedgraph.jsonarrays import json_runs

from . import sim, uploads, vocab


@task("detections", upstream=["cameras", "camera_zones"], tags=["pipeline"],
      params=["images", "days"], cost=8)
async def detections(ctx: TaskContext) -> None:
    """Object detections from simulated camera uploads (0-4 per image), with a daily rhythm.

    Uploads come in visits: 1-6 images a few seconds apart on one camera. Visit
    times follow an hourly profile (quiet at night, peaks around 08:00 and 18:00)
    inside [as_of - days, as_of]; the household's routines (the school run, the
    evening dog walk, ...) recur at their hour. Boxes mostly sit inside the camera's
    zones. See :mod:`uploads`.
    """
    images, days = int(ctx.params["images"]), int(ctx.params["days"])
    rng = ctx.rng
    cams = await ctx.read("cameras", ["id", "name", "folder_path"])
    zones = await ctx.read("camera_zones", ["camera_id", "zone_type", "polygon_coords"])
    # the shared stream: the cameras task drew the same uploads for last_seen_at
    cams, up = uploads.in_window(ctx.rng_for(uploads.STREAM), cams, zones, images,
                                 sim.naive(ctx.as_of), days)
    img_time, img_cam, det_img, rank = up.image_time, up.image_camera, up.image, up.rank
    cls, x, y, w, h = up.cls, up.x, up.y, up.w, up.h
    n = len(det_img)
    det_cam = img_cam[det_img]
    conf = np.round(np.clip(rng.beta(7, 2, n), 0.3, 0.99), 3)
    # ids in time order
    det_time = img_time[det_img]
    order = np.lexsort((rank, det_img, det_time))
    det_img, det_time, cls, conf = det_img[order], det_time[order], cls[order], conf[order]
    x, y, w, h, det_cam = x[order], y[order], w[order], h[order], det_cam[order]
    folders = [str(f).rsplit("/", 1)[-1] for f in cams["folder_path"]]
    stamp = np.datetime_as_string(img_time.astype("datetime64[s]"))
    img_path = np.array([f"/export/foscam/{folders[c]}/{s[:10].replace('-', '')}_"
                         f"{s[11:].replace(':', '')}_{i:06d}.jpg"
                         for i, (c, s) in enumerate(zip(img_cam.tolist(), stamp.tolist(),
                                                        strict=True))], dtype=object)
    ids = np.arange(1, n + 1)
    thumbs = np.array([f"/data/thumbnails/{i}.jpg" for i in ids.tolist()], dtype=object)
    thumbs[rng.random(n) < 0.08] = None
    inference = rng.gamma(4.0, 9.0, n).round(1)
    await ctx.write({
        "id": ids, "camera_id": cams["id"][det_cam], "file_path": img_path[det_img],
        "file_type": np.full(n, "image/jpeg", dtype=object), "detected_at": det_time,
        "object_type": cls, "confidence": conf, "bbox_x": x, "bbox_y": y,
        "bbox_width": w, "bbox_height": h, "thumbnail_path": thumbs,
        # JSON text, as the writer would encode {"model": ..., "inference_ms": t}: json.dumps
        # writes a float as its repr (!r), with ", " and ": " separators
        "enrichment_data": [f'{{"model": "rtdetr-v2", "inference_ms": {t!r}}}'
                            for t in inference.tolist()],
    })


async def _read_detections(ctx: TaskContext | VerifyContext) -> dict[str, np.ndarray]:
    return await ctx.read("detections", ["id", "camera_id", "detected_at", "object_type",
                                         "confidence", "file_path"])


@task("events", upstream=["detections", "cameras"], tags=["pipeline"], cost=18)
async def events(ctx: TaskContext) -> None:
    """Security events: batches of one camera's detections, with an LLM-style risk analysis."""
    det = await _read_detections(ctx)
    cams = await ctx.read("cameras", ["id", "name"])
    cam_name = dict(zip(cams["id"].tolist(), cams["name"].tolist(), strict=True))
    batches = sim.batch_events(det)
    for name in ("camera_id", "confidence", "file_path"):  # what only the batching needs
        del det[name]
    # by (time of the first detection, camera), stable: the cameras as numbers in their
    # (text) order, the times as integers
    at = det["detected_at"].astype("datetime64[us]")
    names = sorted({b.camera_id for b in batches})
    code = dict(zip(names, range(len(names)), strict=True))
    first = np.array([b.detection_index[0] for b in batches], dtype=np.int64)
    cam_code = np.array([code[b.camera_id] for b in batches], dtype=np.int64)
    batches = [batches[k] for k in np.lexsort((cam_code, at[first].astype(np.int64))).tolist()]
    n = len(batches)
    rng = ctx.rng
    # the batches' detections end to end, and where each batch's run starts
    sizes = np.array([len(b.detection_index) for b in batches], dtype=np.int64)
    flat = np.fromiter((i for b in batches for i in b.detection_index), dtype=np.int64,
                       count=int(sizes.sum()))
    runs = np.cumsum(sizes) - sizes
    us = at[flat].astype(np.int64)
    started = (np.minimum.reduceat(us, runs) if n else us[:0]).astype("datetime64[us]")
    ended = (np.maximum.reduceat(us, runs) if n else us[:0]).astype("datetime64[us]")
    bounds = [*runs.tolist(), len(flat)]
    kinds = det["object_type"][flat].astype(str)
    names = kinds.tolist()
    classes = [names[a:b] for a, b in itertools.pairwise(bounds)]
    hours = sim.hour_of(started)
    score = rng.beta(1.6, 5.5, n) * 100
    people = np.add.reduceat(kinds == "person", runs) if n else np.zeros(0, dtype=np.int64)
    person = people > 0
    night = np.isin(hours, list(sim.NIGHT_HOURS))
    crowd = people >= 3
    score = np.clip(np.round(score + 18 * (person & night) + 8 * crowd + 4 * person), 0, 100)
    score = score.astype(np.int64)
    level = sim.risk_level_of(score)
    minutes = (started.astype("datetime64[m]").astype(np.int64) % 60).tolist()
    duration = ((ended - started) / np.timedelta64(1, "s")).astype(np.int64).tolist()
    variants = rng.integers(0, 3, n).tolist()
    texts = [sim.write_analysis(cam_name[b.camera_id], classes[i], int(hours[i]), minutes[i],
                                int(score[i]), str(level[i]), duration[i], variants[i])
             for i, b in enumerate(batches)]
    age = (sim.naive(ctx.as_of) - ended) / np.timedelta64(1, "h")
    reviewed = rng.random(n) < np.where(age > 24, 0.7, 0.2)
    notes_pool = np.array(["Delivery driver, expected.", "Neighbor's cat again.",
                           "Family member arriving home.", "Checked footage - nothing wrong.",
                           "Landscaper on schedule.", "Unknown car, keep an eye on it."],
                          dtype=object)
    notes = np.where(reviewed & (rng.random(n) < 0.3), rng.choice(notes_pool, n), None)
    await ctx.write({
        "id": np.arange(1, n + 1), "batch_id": ctx.uuids(n),
        "camera_id": np.array([b.camera_id for b in batches], dtype=np.str_),
        "started_at": started, "ended_at": ended, "risk_score": score, "risk_level": level,
        "summary": [t[0] for t in texts], "reasoning": [t[1] for t in texts],
        "detection_ids": _id_lists(det["id"][flat], sizes),
        "object_types": _class_sets(kinds, runs),
        "reviewed": reviewed, "notes": notes,
        "is_fast_path": np.array([b.fast_path for b in batches], dtype=bool),
    })


def _id_lists(ids: np.ndarray, sizes: np.ndarray) -> list[str]:
    """``json.dumps(sorted(run))`` of each run of *sizes* integers of *ids*: the runs
    sorted in one lexsort, their JSON text made by jsonarrays.json_runs."""
    run = np.repeat(np.arange(len(sizes)), sizes)
    ordered = ids[np.lexsort((ids, run))].astype(np.int64)
    texts: list[str] = json_runs(ordered, sizes).tolist()
    return texts


def _class_sets(kinds: np.ndarray, runs: np.ndarray) -> list[str]:
    """The JSON text of ``sorted(set(run))`` for each run of *kinds* (a string array)
    starting at *runs*: a bit per kind, or-ed per run, a text per distinct set."""
    if len(runs) == 0:
        return []
    names, code = np.unique(kinds, return_inverse=True)
    if len(names) > 62:
        return [json.dumps(sorted(set(c.tolist()))) for c in np.split(kinds, runs[1:])]
    sets, which = np.unique(np.bitwise_or.reduceat(np.left_shift(1, code.astype(np.int64)),
                                                  runs), return_inverse=True)
    texts = [json.dumps([str(c) for j, c in enumerate(names) if s >> j & 1])
             for s in sets.tolist()]
    return np.array(texts, dtype=object)[which].tolist()


@task("event_detections", upstream=["events", "detections"], tags=["pipeline"], cost=2)
async def event_detections(ctx: TaskContext) -> None:
    """The event-detection junction, exactly what events.detection_ids lists."""
    ev = await ctx.read("events", ["id", "detection_ids", "ended_at"])
    # every event's JSON array of ids parsed in one go
    lists = json.loads("[" + ",".join(ev["detection_ids"].tolist()) + "]")
    counts = np.array([len(x) for x in lists], dtype=np.int64)
    await ctx.write({
        "event_id": np.repeat(ev["id"], counts),
        "detection_id": np.fromiter(itertools.chain.from_iterable(lists), dtype=np.int64,
                                    count=int(counts.sum())),
        "created_at": np.repeat(ev["ended_at"], counts) + np.timedelta64(2, "s"),
    })


RULES: tuple[dict[str, Any], ...] = (
    {"name": "Night-time person", "description": "A person on any camera between 22:00 and 06:00",
     "severity": "high", "risk_threshold": 40, "object_types": ["person"],
     "schedule": {"start_hour": 22, "end_hour": 6}, "min_confidence": 0.6,
     "dedup_key_template": "{camera_id}:{rule_id}", "cooldown_seconds": 600,
     "channels": ["push", "sms"]},
    {"name": "High risk anywhere", "description": "Any event the analysis rates 70 or above",
     "severity": "critical", "risk_threshold": 70, "dedup_key_template": "{camera_id}:{rule_id}",
     "cooldown_seconds": 300, "channels": ["push", "email", "sms"]},
    {"name": "Vehicle in driveway", "description": "Cars and trucks on the driveway camera",
     "severity": "low", "object_types": ["car", "truck"], "cameras": ["Driveway"],
     "dedup_key_template": "{camera_id}:{object_type}:{rule_id}", "cooldown_seconds": 1800,
     "channels": ["push"]},
    {"name": "Package delivered", "description": "A package appears at the door",
     "severity": "medium", "object_types": ["package"], "min_confidence": 0.5,
     "dedup_key_template": "{camera_id}:{object_type}", "cooldown_seconds": 3600,
     "channels": ["push", "email"]},
    {"name": "Backyard motion", "description": "People or animals in the backyard",
     "severity": "medium", "risk_threshold": 25, "object_types": ["person", "dog"],
     "cameras": ["Backyard"], "dedup_key_template": "{camera_id}:{rule_id}",
     "cooldown_seconds": 900, "channels": ["push"]},
    {"name": "Loitering (disabled)", "description": "Kept for reference; replaced by zones",
     "severity": "medium", "enabled": False, "risk_threshold": 20, "object_types": ["person"],
     "dedup_key_template": "{camera_id}:{rule_id}", "cooldown_seconds": 300,
     "channels": ["push"]},
)


@task("alert_rules", upstream=["cameras"], tags=["pipeline", "config"])
async def alert_rules(ctx: TaskContext) -> None:
    """Alert rules: night-time person, high risk, driveway vehicles, packages, ..."""
    cams = await ctx.read("cameras", ["id", "name", "created_at"])
    by_name = dict(zip(cams["name"].tolist(), cams["id"].tolist(), strict=True))
    n = len(RULES)
    created = cams["created_at"].max() + sim.seconds(ctx.rng.integers(sim.DAY, 30 * sim.DAY, n))
    await ctx.write({
        "id": ctx.uuids(n), "name": [r["name"] for r in RULES],
        "description": [r["description"] for r in RULES],
        "enabled": [r.get("enabled", True) for r in RULES],
        "severity": [r["severity"] for r in RULES],
        "risk_threshold": [r.get("risk_threshold") for r in RULES],
        "object_types": [r.get("object_types") for r in RULES],
        "camera_ids": [[by_name[c] for c in r.get("cameras", []) if c in by_name] or None
                       for r in RULES],
        "min_confidence": [r.get("min_confidence") for r in RULES],
        "schedule": [r.get("schedule") for r in RULES],
        "dedup_key_template": [r["dedup_key_template"] for r in RULES],
        "cooldown_seconds": [r["cooldown_seconds"] for r in RULES],
        "channels": [r["channels"] for r in RULES],
        "created_at": created, "updated_at": created,
    })


async def _event_columns(ctx: TaskContext | VerifyContext) -> dict[str, Any]:
    """What alert rules look at, per event (in id order), column by column."""
    ev = await ctx.read("events", ["id", "camera_id", "started_at", "ended_at", "risk_score",
                                   "object_types", "detection_ids"])
    det = await ctx.read("detections", ["id", "confidence"])
    # every event's detection ids parsed in one go (each is a JSON array of ints), and
    # the highest confidence of each event's detections (detections are in id order)
    lists = json.loads("[" + ",".join(ev["detection_ids"].tolist()) + "]")
    sizes = np.array([len(x) for x in lists], dtype=np.int64)
    flat = np.fromiter(itertools.chain.from_iterable(lists), dtype=np.int64,
                       count=int(sizes.sum()))
    at = np.minimum(np.searchsorted(det["id"], flat), max(len(det["id"]) - 1, 0))
    if (sizes == 0).any() or (len(flat) and (det["id"][at] != flat).any()):
        raise ValueError("an event without detections, or of an unknown detection")
    conf = det["confidence"][at]
    top = np.maximum.reduceat(conf, np.cumsum(sizes) - sizes) if len(flat) else conf[:0]
    return {"id": ev["id"], "camera_id": ev["camera_id"], "risk_score": ev["risk_score"],
            "object_types": ev["object_types"], "max_confidence": top,
            "hour": sim.hour_of(ev["started_at"]), "ended_at": ev["ended_at"]}


async def event_facts(ctx: TaskContext | VerifyContext) -> list[dict[str, Any]]:
    """What alert rules look at, per event (in id order)."""
    c = await _event_columns(ctx)
    return [{"id": i, "camera_id": str(cam), "risk_score": score, "object_types": list(types),
             "max_confidence": best, "hour": hour, "ended_at": ended}
            for i, cam, score, types, best, hour, ended in zip(
                c["id"].tolist(), c["camera_id"].tolist(), c["risk_score"].tolist(),
                c["object_types"], c["max_confidence"].tolist(), c["hour"].tolist(),
                c["ended_at"], strict=True)]


async def read_rules(ctx: TaskContext | VerifyContext) -> list[dict[str, Any]]:
    r = await ctx.read("alert_rules")
    keys = list(r)
    return [{k: (r[k][i].item() if isinstance(r[k][i], np.generic) else r[k][i]) for k in keys}
            for i in range(len(r["id"]))]


def precedent_rule(rules: list[dict[str, Any]], event: dict[str, Any]) -> dict[str, Any] | None:
    """The enabled rule matching *event* with the highest severity (first on a tie)."""
    matched = [r for r in rules if sim.rule_matches(r, event)]
    if not matched:
        return None
    return max(matched, key=lambda r: vocab.SEVERITIES.index(r["severity"]))


def rule_match_mask(rule: dict[str, Any], c: dict[str, Any], cameras: np.ndarray,
                    types: list[set[str]]) -> np.ndarray:
    """:func:`sim.rule_matches` of *rule* for every event of the columns *c* at once
    (*cameras*: the events' camera ids as text, *types*: each event's object types)."""
    n = len(c["id"])
    if not rule["enabled"]:
        return np.zeros(n, dtype=bool)
    ok = np.ones(n, dtype=bool)
    threshold = rule.get("risk_threshold")
    if threshold is not None:
        ok &= ~(c["risk_score"] < threshold)
    wanted = set(rule.get("object_types") or [])
    if wanted:
        ok &= np.fromiter((not wanted.isdisjoint(t) for t in types), dtype=bool, count=n)
    on = rule.get("camera_ids") or []
    if on:
        ok &= np.fromiter((cam in on for cam in cameras.tolist()), dtype=bool, count=n)
    min_conf = rule.get("min_confidence")
    if min_conf is not None:
        ok &= ~(c["max_confidence"] < min_conf)
    schedule = rule.get("schedule")
    if schedule:
        start, end = int(schedule["start_hour"]), int(schedule["end_hour"])
        hour = c["hour"]
        ok &= ((start <= hour) & (hour < end)) if start <= end else \
            ((hour >= start) | (hour < end))
    return ok


@task("alerts", upstream=["events", "alert_rules", "detections"], tags=["pipeline"], cost=5)
async def alerts(ctx: TaskContext) -> None:
    """Alerts only for events that match an enabled rule, deduplicated within its cooldown.
    When several rules match one event the higher severity takes precedence (003): the
    event's alert comes from its highest-severity rule (the first such rule on a tie), and
    none if that rule's key is still cooling down."""
    c = await _event_columns(ctx)
    rules = await read_rules(ctx)
    # each event's rule, as precedent_rule picks it: the first matching rule of the
    # highest severity (rules in their order, a later one only if strictly more severe)
    n_ev = len(c["id"])
    cameras = c["camera_id"].astype(str)
    types = [set(t) for t in c["object_types"]]
    best = np.full(n_ev, -1)
    rank = np.full(n_ev, -1)
    for k, rule in enumerate(rules):
        sev = vocab.SEVERITIES.index(rule["severity"])
        take = rule_match_mask(rule, c, cameras, types) & (rank < sev)
        best[take], rank[take] = k, sev
    matched = np.flatnonzero(best >= 0)
    ended_us = c["ended_at"].astype("datetime64[us]").astype(np.int64).tolist()
    cooldown = [int(r["cooldown_seconds"]) * 1_000_000 for r in rules]
    ids = [str(r["id"]) for r in rules]
    last_sent: dict[str, int] = {}
    rows: list[tuple[int, int, str]] = []  # (event index, rule index, dedup key)
    for i, k in zip(matched.tolist(), best[matched].tolist(), strict=True):
        rule = rules[k]
        main = min(types[i]) if types[i] else "none"  # sorted(object_types)[0]
        key = rule["dedup_key_template"].format(camera_id=cameras[i], rule_id=ids[k],
                                                object_type=main)
        prev = last_sent.get(key)
        if prev is not None and ended_us[i] - prev < cooldown[k]:
            continue
        last_sent[key] = ended_us[i]
        rows.append((i, k, key))
    n = len(rows)
    at = np.array([r[0] for r in rows], dtype=np.int64)
    chosen = [rules[r[1]] for r in rows]
    rng = ctx.rng
    # 1-20 s after the event, delivered 1-30 s later, updated up to 4 h after delivery;
    # each delay shrinks with the time left before as_of (none piles up at as_of)
    created = sim.within(ctx.as_of, c["ended_at"][at].astype("datetime64[us]"),
                         rng.integers(1, 20, n), 20)
    status = rng.choice(np.array(vocab.ALERT_STATUSES, dtype=object), n, p=[0.1, 0.5, 0.25, 0.15])
    delivered = np.where(status == "pending", np.datetime64("NaT"),
                         sim.within(ctx.as_of, created, rng.integers(1, 30, n), 30))
    updated = np.where(status == "pending", created,
                       sim.within(ctx.as_of, delivered, rng.integers(0, 4 * 3600, n), 4 * 3600))
    scores = c["risk_score"][at].tolist()
    await ctx.write({
        "id": ctx.uuids(n), "event_id": c["id"][at],
        "rule_id": [r["id"] for r in chosen], "severity": [r["severity"] for r in chosen],
        "status": status, "created_at": created,
        "updated_at": updated.astype("datetime64[us]"),
        "delivered_at": delivered.astype("datetime64[us]"),
        "channels": [r["channels"] for r in chosen], "dedup_key": [r[2] for r in rows],
        "metadata": [{"rule": r["name"], "risk_score": s} for r, s in zip(chosen, scores,
                                                                         strict=True)],
    })


@task("event_feedback", upstream=["events"], tags=["pipeline"],
      params={"feedback_fraction": 0.3}, cost=2)
async def event_feedback(ctx: TaskContext) -> None:
    """User feedback on ~30 % of events: 70 % correct, 20 % partially correct, 10 % incorrect,
    given 5 minutes to 2 days after the event and before as_of."""
    ev = await ctx.read("events", ["id", "risk_level", "object_types", "ended_at"])
    rng = ctx.rng
    chosen = np.flatnonzero(rng.random(len(ev["id"])) < float(ctx.params["feedback_fraction"]))
    n = len(chosen)
    kind = rng.choice(np.array(vocab.FEEDBACK_TYPES, dtype=object), n, p=vocab.FEEDBACK_P)
    levels = list(vocab.RISK_LEVELS)
    corrected: list[str | None] = []
    labels: list[Any] = []
    texts = []
    # rng.choice(options) draws rng.integers(0, len(options)) and takes that option: the
    # same draw without the array rng.choice makes of the options on every call
    integers, random = rng.integers, rng.random
    praise = ("Accurate.", "Spot on.", "Correct call.", None)
    for k, i in zip(kind.tolist(), chosen.tolist(), strict=True):
        lvl = str(ev["risk_level"][i])
        if k == "correct":
            corrected.append(None)
            labels.append(None)
            texts.append(str(praise[integers(0, 4)]))
        else:
            step = 1 if k == "partially_correct" else (-2, 2)[integers(0, 2)]
            j = min(max(levels.index(lvl) + (step if random() < 0.5 else -step), 0), 3)
            if levels[j] == lvl:
                j = (j + 1) % 4
            corrected.append(levels[j])
            types = list(ev["object_types"][i])
            labels.append(types if k == "partially_correct" else [t for t in types
                                                                    if t != "person"] or ["cat"])
            texts.append("Risk should be " + levels[j] + ("; labels mostly right."
                                                          if k == "partially_correct"
                                                          else "; misidentified object."))
    await ctx.write({
        "id": np.arange(1, n + 1), "event_id": ev["id"][chosen], "feedback_type": kind,
        "feedback_text": [t if t != "None" else None for t in texts],
        "corrected_risk_level": corrected, "corrected_labels": labels,
        "created_by": rng.choice(np.array(["john.smith", "jane.smith", "robert.johnson"],
                                          dtype=object), n),
        "created_at": feedback_times(ev["ended_at"][chosen], rng.integers(300, 2 * sim.DAY, n),
                                     sim.naive(ctx.as_of)),
    })


def feedback_times(ended: np.ndarray, delay_s: np.ndarray, as_of: np.datetime64) -> np.ndarray:
    """When feedback was given: 5 minutes to 2 days after the event ended, and before as_of.

    For an event that ended less than 2 days before as_of the delay shrinks in proportion
    to the time left, so recent events' feedback spreads over what remains instead of
    piling up at as_of."""
    room = (as_of - ended) / np.timedelta64(1, "us")
    scale = np.minimum(1.0, room / (2 * sim.DAY * 1e6))
    return ended + (delay_s * 1e6 * scale).astype(np.int64).astype("timedelta64[us]")


@task("event_audits", upstream=["events"], tags=["pipeline"])
async def event_audits(ctx: TaskContext) -> None:
    """Automated quality audits of the LLM analysis, one per event."""
    ev = await ctx.read("events", ["id", "ended_at", "risk_score"])
    n = len(ev["id"])
    rng = ctx.rng
    consistency = np.round(rng.beta(8, 2, n), 3)
    utilization = np.round(rng.beta(5, 3, n), 3)
    coherence = np.round(rng.beta(9, 2, n), 3)
    overall = np.round((consistency + utilization + coherence) / 3, 3)
    issues = np.where(utilization < 0.4, '["low enrichment use"]', None)  # the JSON text
    await ctx.write({
        "id": np.arange(1, n + 1), "event_id": ev["id"],
        "audited_at": sim.not_after(ctx.as_of,
                                    ev["ended_at"] + sim.seconds(rng.integers(60, 3600, n))),
        "model": np.full(n, "nemotron-mini", dtype=object),
        "consistency_score": consistency, "enrichment_utilization": utilization,
        "reasoning_coherence": coherence, "overall_quality": overall, "issues": issues,
    })


# -- invariants ---------------------------------------------------------------------------


@invariant("detections_in_window", tables=["detections"])
async def detections_in_window(ctx: VerifyContext) -> list[tuple[Any, ...]]:
    """Every detection lies inside [as_of - days, as_of]."""
    if ctx.as_of is None:
        return []
    det = await ctx.read("detections", ["id", "detected_at"])
    days = int(ctx.params.get("days", 7))
    end = np.datetime64(ctx.as_of.replace(tzinfo=None), "us")
    start = end - np.timedelta64(days * sim.DAY, "s")
    bad = (det["detected_at"] < start) | (det["detected_at"] > end)
    return [(int(i),) for i in det["id"][bad][:5]]


@invariant("events_are_batches_of_their_detections",
           tables=["events", "detections", "event_detections"])
async def events_are_batches(ctx: VerifyContext) -> list[tuple[Any, ...]]:
    """Events equal the batcher's output; times, detection_ids and the junction agree."""
    det = await _read_detections(ctx)
    ev = await ctx.read("events", ["id", "camera_id", "started_at", "ended_at", "detection_ids",
                                   "is_fast_path"])
    junction = await ctx.read("event_detections", ["event_id", "detection_id"])
    expected = {tuple(sorted(int(det["id"][i]) for i in b.detection_index)): b
                for b in sim.batch_events(det)}
    by_event: dict[int, list[int]] = {}
    for e, d in zip(junction["event_id"].tolist(), junction["detection_id"].tolist(), strict=True):
        by_event.setdefault(e, []).append(d)
    when = dict(zip(det["id"].tolist(), det["detected_at"], strict=True))
    bad: list[tuple[Any, ...]] = []
    for i, eid in enumerate(ev["id"].tolist()):
        ids = tuple(sorted(json.loads(ev["detection_ids"][i])))
        batch = expected.get(ids)
        if batch is None or batch.camera_id != ev["camera_id"][i] \
                or batch.fast_path != bool(ev["is_fast_path"][i]):
            bad.append((eid, "not a batch of one camera's detections"))
        elif tuple(sorted(by_event.get(eid, []))) != ids:
            bad.append((eid, "event_detections disagree with detection_ids"))
        elif min(when[d] for d in ids) != ev["started_at"][i] or \
                max(when[d] for d in ids) != ev["ended_at"][i]:
            bad.append((eid, "started_at/ended_at do not match the detections"))
    if len(expected) != len(ev["id"]):
        bad.append(("events", f"{len(ev['id'])} events for {len(expected)} batches"))
    return bad


@invariant("risk_level_matches_score_band", tables=["events"])
async def risk_level_matches_score(ctx: VerifyContext) -> list[tuple[Any, ...]]:
    """risk_level follows the fixed score bands (0-29 low, 30-59 medium, 60-84 high, 85+)."""
    conds = " OR ".join(f"(risk_level = '{lvl}' AND risk_score NOT BETWEEN {lo} AND {hi})"
                        for lo, hi, lvl in vocab.RISK_BANDS)
    return await ctx.query(f"SELECT id, risk_score, risk_level FROM events WHERE {conds}")


@invariant("alerts_match_enabled_rules", tables=["alerts", "alert_rules", "events", "detections"])
async def alerts_match_rules(ctx: VerifyContext) -> list[tuple[Any, ...]]:
    """Each alert's event matches its (enabled) rule, and the dedup key follows the template."""
    facts = {f["id"]: f for f in await event_facts(ctx)}
    rules = {str(r["id"]): r for r in await read_rules(ctx)}
    al = await ctx.read("alerts", ["id", "event_id", "rule_id", "dedup_key"])
    bad: list[tuple[Any, ...]] = []
    for aid, eid, rid, key in zip(al["id"], al["event_id"].tolist(), al["rule_id"],
                                  al["dedup_key"], strict=True):
        rule = rules.get(str(rid))
        if rule is None or not sim.rule_matches(rule, facts[eid]):
            bad.append((aid, eid, "event does not match an enabled rule"))
        elif key != sim.dedup_key(rule["dedup_key_template"], str(rid), facts[eid]):
            bad.append((aid, key, "dedup key does not follow the rule's template"))
    return bad


@invariant("alerts_follow_severity_precedence",
           tables=["alerts", "alert_rules", "events", "detections"])
async def alerts_follow_severity_precedence(ctx: VerifyContext) -> list[tuple[Any, ...]]:
    """At most one alert per event, from a rule of the highest severity the event matches."""
    facts = {f["id"]: f for f in await event_facts(ctx)}
    rules = await read_rules(ctx)
    al = await ctx.read("alerts", ["id", "event_id", "severity"])
    bad: list[tuple[Any, ...]] = []
    seen: set[int] = set()
    for aid, eid, severity in zip(al["id"], al["event_id"].tolist(), al["severity"],
                                  strict=True):
        top = precedent_rule(rules, facts[eid])
        if eid in seen:
            bad.append((aid, eid, "a second alert for the event"))
        elif top is None or top["severity"] != severity:
            bad.append((aid, eid, severity, "a higher-severity rule matches the event"))
        seen.add(eid)
    return bad[:10]


@invariant("children_never_predate_parents",
           tables=["events", "alerts", "event_feedback", "event_detections"])
async def children_after_parents(ctx: VerifyContext) -> list[tuple[Any, ...]]:
    """Alerts, feedback and junction rows are never older than their event."""
    out: list[tuple[Any, ...]] = []
    for table, col in (("alerts", "created_at"), ("event_feedback", "created_at"),
                       ("event_detections", "created_at")):
        out += await ctx.query(
            f"SELECT '{table}', e.id FROM {table} c JOIN events e ON e.id = c.event_id "
            f"WHERE c.{col} < e.started_at")
    return out[:10]
