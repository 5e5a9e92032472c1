"""Operations: Prometheus alerts, GPU statistics, application logs, audit logs, API keys."""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np

from seedgraph import TaskContext, VerifyContext, invariant, task

from . import sim, vocab

PROM = {  # alert name -> (severity, summary)
    "HighCPU": ("warning", "CPU usage above 90 % for 5 minutes"),
    "GPUMemoryPressure": ("warning", "GPU memory above 95 %"),
    "DiskSpaceLow": ("critical", "Less than 10 % disk space left on /data"),
    "AIServiceUnhealthy": ("critical", "Detector health check failing"),
    "HighLatency": ("warning", "p95 inference latency above 2 s"),
    "ErrorRateSpike": ("info", "Error rate doubled compared to the last hour"),
}
KEY_NAMES = ("Home Assistant integration", "Mobile app", "Grafana dashboard")


@task("prometheus_alerts", tags=["ops"], params={"prometheus_alerts": 25, "days": None})
async def prometheus_alerts(ctx: TaskContext) -> None:
    """Ingested Prometheus alerts; firing ones have no resolved_at."""
    n = int(ctx.params["prometheus_alerts"])
    days = int(ctx.params["days"])
    rng = ctx.rng
    names = rng.choice(np.array(vocab.PROMETHEUS_ALERT_NAMES, dtype=object), n)
    now = sim.naive(ctx.as_of)
    started = np.sort(now - sim.seconds(rng.integers(600, days * sim.DAY, n)))
    firing = rng.random(n) < 0.2
    resolved = started + sim.seconds(rng.integers(120, 4 * 3600, n))
    firing |= resolved > now
    await ctx.write({
        "alert_name": names, "status": np.where(firing, "firing", "resolved").astype(object),
        "severity": [PROM[str(a)][0] for a in names],
        "labels": [{"alertname": str(a), "instance": "nvr-01:9100", "job": "home-security"}
                   for a in names],
        "annotations": [{"summary": PROM[str(a)][1]} for a in names],
        "started_at": started,
        "resolved_at": np.where(firing, np.datetime64("NaT"), resolved).astype("datetime64[us]"),
        "created_at": started + np.timedelta64(15, "s"),
    })


@task("gpu_stats", upstream=["detections"], tags=["ops"], params={"days": None,
                                                                  "gpu_interval_s": 5}, cost=2)
async def gpu_stats(ctx: TaskContext) -> None:
    """GPU samples every `gpu_interval_s` seconds (003's GPUMonitor default: 5) over the
    window; utilisation follows the detection load."""
    days = int(ctx.params["days"])
    step = int(ctx.params["gpu_interval_s"])
    det = await ctx.read("detections", ["detected_at"])
    rng = ctx.rng
    start = sim.naive(ctx.as_of) - np.timedelta64(days * sim.DAY, "s")
    n = days * sim.DAY // step
    at = start + sim.seconds(np.arange(n) * step)
    slot = ((det["detected_at"] - start) / np.timedelta64(step, "s")).astype(np.int64)
    load = np.bincount(np.clip(slot, 0, n - 1), minlength=n)
    util = np.clip(8 + 30 * load + rng.normal(0, 3, n), 0, 100)
    mem_total = 24_576
    await ctx.write({
        "recorded_at": at, "gpu_name": np.full(n, "NVIDIA RTX A5500", dtype=object),
        "gpu_utilization": np.round(util, 1),
        "memory_used": np.clip(9000 + 120 * util + rng.normal(0, 200, n), 0, mem_total).astype(
            np.int64),
        "memory_total": np.full(n, mem_total),
        "temperature": np.round(38 + 0.35 * util + rng.normal(0, 1, n), 1),
        "power_usage": np.round(35 + 1.6 * util + rng.normal(0, 4, n), 1),
        "inference_fps": np.round(np.where(load > 0, rng.uniform(18, 32, n), 0.0), 1),
    })


LOG_PIECE = 1 << 15  # log lines built and handed to the writer at once


def _texts(values: np.ndarray) -> np.ndarray:
    """Integers (or text) as a numpy string array: what str() gives for each, in C."""
    if values.dtype.kind in "iuf":
        values = values.astype(np.int64)
    return values.astype(np.str_)


def _nulls(n: int) -> np.ndarray:
    return np.full(n, None, dtype=object)


@task("logs", upstream=["events", "detections", "cameras"], tags=["ops"], cost=12)
async def logs(ctx: TaskContext) -> None:
    """Application logs of the pipeline, referencing the detections and events they handled."""
    det = await ctx.read("detections", ["id", "camera_id", "detected_at", "object_type"])
    ev = await ctx.read("events", ["id", "camera_id", "ended_at", "risk_score"])
    rng = ctx.rng
    n_det, n_ev = len(det["id"]), len(ev["id"])
    ms = rng.gamma(4, 12, n_det).astype(np.int64)
    llm = rng.gamma(5, 300, n_ev).astype(np.int64)
    slow = llm > 2500
    n_front = max(3, n_ev // 10)
    front = np.arange(n_front)
    n = n_det + n_ev + n_front
    if n_ev:
        front_at = ev["ended_at"][front % n_ev] + np.timedelta64(60, "s")
    else:
        front_at = np.full(n_front, sim.naive(ctx.as_of), dtype="datetime64[us]")
    # the detection worker's lines, then the analyser's, then the frontend's
    stamps = sim.not_after(ctx.as_of, np.concatenate([
        det["detected_at"] + ms.astype("timedelta64[ms]"),
        ev["ended_at"] + llm.astype("timedelta64[ms]"), front_at]).astype("datetime64[us]"))
    request_ids = ctx.uuids(n)
    # a piece of lines at a time, the text as numpy string arrays built in C (which the
    # writer takes as they are); integer columns with NULLs as floats with NaN
    add = np.strings.add
    for a in range(0, n_det, LOG_PIECE):
        b = min(n_det, a + LOG_PIECE)
        k, ids = b - a, det["id"][a:b]
        await ctx.write({
            "timestamp": stamps[a:b], "level": np.full(k, "INFO"),
            "component": np.full(k, "detection_worker"),
            "message": add(add(add("Detected ", _texts(det["object_type"][a:b])),
                               " (detection "), add(_texts(ids), ")")),
            "camera_id": _texts(det["camera_id"][a:b]), "event_id": np.full(k, np.nan),
            "detection_id": ids, "duration_ms": ms[a:b], "extra": _nulls(k),
            "source": np.full(k, "backend"), "user_agent": _nulls(k),
            "request_id": request_ids[a:b],
        })
    for a in range(0, n_ev, LOG_PIECE):
        b = min(n_ev, a + LOG_PIECE)
        k, ids, late = b - a, _texts(ev["id"][a:b]), slow[a:b]
        await ctx.write({
            "timestamp": stamps[n_det + a:n_det + b],
            "level": np.where(late, "WARNING", "INFO"),
            "component": np.full(k, "nemotron_analyzer"),
            "message": np.where(late, add("Slow analysis for event ", ids),
                                add(add("Analyzed event ", ids),
                                    add(": risk ", _texts(ev["risk_score"][a:b])))),
            "camera_id": _texts(ev["camera_id"][a:b]), "event_id": ev["id"][a:b],
            "detection_id": np.full(k, np.nan), "duration_ms": llm[a:b],
            # the JSON text json.dumps gives {"model": "nemotron-mini"}
            "extra": np.full(k, '{"model": "nemotron-mini"}', dtype=object),
            "source": np.full(k, "backend"), "user_agent": _nulls(k),
            "request_id": request_ids[n_det + a:n_det + b],
        })
    error = front % 3 == 0
    await ctx.write({
        "timestamp": stamps[n_det + n_ev:], "level": np.where(error, "ERROR", "INFO"),
        "component": np.full(n_front, "frontend"),
        "message": np.where(error, "Failed to load thumbnail", "WebSocket reconnected"),
        "camera_id": _nulls(n_front), "event_id": np.full(n_front, np.nan),
        "detection_id": np.full(n_front, np.nan), "duration_ms": np.full(n_front, np.nan),
        "extra": _nulls(n_front), "source": np.full(n_front, "frontend"),
        "user_agent": np.full(n_front, "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X)"),
        "request_id": request_ids[n_det + n_ev:],
    })


ACTORS = ("john.smith", "jane.smith", "robert.johnson")


@task("audit_logs", upstream=["events", "alert_rules", "api_keys"], tags=["ops"], cost=2)
async def audit_logs(ctx: TaskContext) -> None:
    """Security-sensitive actions: rule changes, event reviews, logins, key creation."""
    ev = await ctx.read("events", ["id", "reviewed", "ended_at"])
    rules = await ctx.read("alert_rules", ["id", "name", "created_at"])
    keys = await ctx.read("api_keys", ["id", "created_at"])
    rng = ctx.rng
    integers, random = rng.integers, rng.random
    now = sim.naive(ctx.as_of)
    reviewed = np.flatnonzero(np.asarray(ev["reviewed"], dtype=bool))
    # per reviewed event, in order, the delay's seconds and the reviewer (the draws that
    # rng.integers(600, 86_400) and rng.choice(ACTORS) make, one event at a time)
    m = len(reviewed)
    wait, reviewer = np.empty(m, dtype=np.int64), np.empty(m, dtype=np.int64)
    for j in range(m):
        wait[j] = integers(600, 86_400)
        reviewer[j] = integers(0, 3)
    # reviewed 10 minutes to a day later, the delay shrinking with the time left before
    # as_of (none piles up at it): sim.within, the same arithmetic as one row at a time
    ended = ev["ended_at"][reviewed].astype("datetime64[us]")
    room = (now - ended) / np.timedelta64(1, "us")
    delay = wait * 1e6 * np.minimum(1.0, room / (86_400 * 1e6))
    n_rules, n_keys = len(rules["id"]), len(keys["id"])
    logins = max(2, (n_rules + n_keys + m) // 8)
    ok, ago, who = np.empty(logins, dtype=bool), np.empty(logins, dtype=np.int64), \
        np.empty(logins, dtype=np.int64)
    for j in range(logins):  # rng.random(), rng.integers(...), rng.choice(2 actors)
        ok[j] = random() < 0.85
        ago[j] = integers(60, 7 * 86_400)
        who[j] = integers(0, 2)
    # rule changes, key creations, reviews, logins; then in time order (a stable sort)
    actors = np.array(ACTORS, dtype=object)
    stamps = np.concatenate([
        rules["created_at"].astype("datetime64[us]"), keys["created_at"].astype("datetime64[us]"),
        ended + delay.astype(np.int64).astype("timedelta64[us]"),
        now - ago.astype("timedelta64[s]")]).astype("datetime64[us]")
    order = np.argsort(stamps.astype(np.int64), kind="stable")
    parts = (n_rules, n_keys, m, logins)
    n = sum(parts)

    def column(*values: Any) -> np.ndarray:
        out = np.empty(n, dtype=object)
        at = 0
        for size, v in zip(parts, values, strict=True):
            out[at:at + size] = v
            at += size
        return out[order]

    await ctx.write({
        "timestamp": stamps[order],
        "action": column("rule_created", "api_key_created", "event_reviewed", "login"),
        "resource_type": column("alert_rule", "api_key", "event", "session"),
        "resource_id": column([str(r) for r in rules["id"]], keys["id"].astype(str),
                              ev["id"][reviewed].astype(str), None),
        "actor": column("john.smith", "admin", actors[reviewer], actors[who]),
        "ip_address": np.array([f"192.168.1.{i}" for i in range(250)])[
            rng.integers(2, 250, n)],
        "user_agent": np.full(n, "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4)"),
        "details": column([{"name": str(name)} for name in rules["name"]], None, None,
                          '{"method": "password"}'),
        "status": column("success", "success", "success",
                         np.where(ok, "success", "failure").astype(object)),
    })


@task("api_keys", tags=["ops", "config"], params={"api_keys": 3})
async def api_keys(ctx: TaskContext) -> None:
    """API keys, stored only as SHA-256 hashes of keys that are never written anywhere."""
    n = int(ctx.params["api_keys"])
    raw = ctx.rng.integers(0, 256, (n, 32), dtype=np.uint8)
    hashes = [hashlib.sha256(b"sk_live_" + r.tobytes().hex().encode()).hexdigest() for r in raw]
    await ctx.write({
        "id": np.arange(1, n + 1), "key_hash": hashes,
        "name": [KEY_NAMES[i % len(KEY_NAMES)] + ("" if i < len(KEY_NAMES) else f" {i}")
                 for i in range(n)],
        "created_at": sim.naive(ctx.as_of)
        - sim.seconds(ctx.rng.integers(sim.DAY, 90 * sim.DAY, n)),
        "is_active": np.arange(n) < n - 1 if n > 1 else np.ones(n, dtype=bool),
    })


@invariant("api_keys_are_sha256_hashes", tables=["api_keys"])
async def api_keys_are_hashes(ctx: VerifyContext) -> list[tuple[Any, ...]]:
    """key_hash is 64 lowercase hex characters (a SHA-256 digest), never a raw key."""
    keys = await ctx.read("api_keys", ["id", "key_hash"])
    return [(int(i), h) for i, h in zip(keys["id"], keys["key_hash"], strict=True)
            if len(h) != 64 or any(c not in "0123456789abcdef" for c in h)]
