"""Background jobs: each job's attempts, state transitions and logs agree with its final state."""

from __future__ import annotations

from typing import Any

import numpy as np

from seedgraph import TaskContext, VerifyContext, invariant, task

from . import sim, vocab

WORKERS = ("worker-gpu-01", "worker-gpu-02", "worker-cpu-01")
ERRORS = ("GPU OOM at frame 73, retrying with smaller batch", "Timeout after 300 s",
          "Camera folder not readable", "Model server returned 503")


def plan_job(ctx: TaskContext, job_id: str, status: str,
             created: np.datetime64) -> dict[str, Any]:
    """A job's life: attempts (with retries) and transitions, consistent with its status.

    Drawn from a stream keyed by the job id, so every task re-plans the same life."""
    rng = ctx.rng_for("job-life", job_id)
    if status == "pending":
        return {"attempts": [], "started": None, "finished": None,
                "transitions": [(None, "pending", "scheduler", created)]}
    tries = 1 + int(rng.random() < (0.7 if status == "failed" else 0.2)) + int(
        status == "failed" and rng.random() < 0.5)
    t = created + np.timedelta64(int(rng.integers(1, 120)), "s")
    transitions: list[tuple[Any, ...]] = [(None, "pending", "scheduler", created)]
    attempts = []
    for a in range(1, tries + 1):
        start = t
        last = a == tries
        transitions.append(("pending", "running", "worker" if a == 1 else "manual_retry", start))
        if last and status == "running":
            attempts.append((a, "running", start, None, None))
            break
        t = start + np.timedelta64(int(rng.integers(5, 900)), "s")
        ok = last and status == "completed"
        err = None if ok else str(rng.choice(ERRORS))
        attempts.append((a, "succeeded" if ok else "failed", start, t, err))
        if ok:
            transitions.append(("running", "completed", "worker", t))
        elif last:
            transitions.append(("running", "failed", "timeout" if "Timeout" in str(err)
                                else "worker", t))
        else:
            transitions.append(("running", "pending", "worker", t))
            t = t + np.timedelta64(int(rng.integers(10, 300)), "s")
    finished = attempts[-1][3] if status in ("completed", "failed") else None
    return {"attempts": attempts, "started": attempts[0][2], "finished": finished,
            "transitions": transitions}


async def _jobs(ctx: TaskContext) -> tuple[dict[str, np.ndarray], list[dict[str, Any]]]:
    jobs_ = await ctx.read("jobs", ["id", "status", "created_at", "job_type"])
    lives = [plan_job(ctx, str(j), str(s), c) for j, s, c in zip(
        jobs_["id"], jobs_["status"], jobs_["created_at"], strict=True)]
    return jobs_, lives


@task("jobs", upstream=["cameras"], tags=["jobs"], params={"jobs": 20, "days": None})
async def jobs(ctx: TaskContext) -> None:
    """Background jobs: 70 % completed, 15 % failed, 10 % running, 5 % pending."""
    n = int(ctx.params["jobs"])
    days = int(ctx.params["days"])
    cams = await ctx.read("cameras", ["name"])
    rng = ctx.rng
    status = rng.choice(np.array(vocab.JOB_STATUSES, dtype=object), n, p=vocab.JOB_STATUS_P)
    now = sim.naive(ctx.as_of)
    created = np.sort(now - sim.seconds(rng.integers(3 * 3600, days * sim.DAY, n)))
    running = status == "running"
    # a running job's life so far (queueing, a failed try, the retry) fits in the last hour
    created[running] = now - sim.seconds(rng.integers(1800, 3600, int(running.sum())))
    kinds = rng.choice(np.array(vocab.JOB_TYPES, dtype=object), n)
    ids = ctx.uuids(n)
    rows = []
    for i in range(n):
        life = plan_job(ctx, str(ids[i]), str(status[i]), created[i])
        cam = str(cams["name"][i % len(cams["name"])])
        payload = {"camera": cam, "hours": int(rng.integers(1, 24))}
        result = {"output": f"/data/exports/job_{i + 1}.out", "frames": int(rng.integers(100,
                                                                                          5000))} \
            if status[i] == "completed" else None
        error = life["attempts"][-1][4] if status[i] == "failed" else None
        rows.append((payload, result, error, len(life["attempts"]), life["started"],
                     life["finished"]))
    await ctx.write({
        "id": ids, "job_type": kinds, "status": status,
        "payload": [r[0] for r in rows], "result": [r[1] for r in rows],
        "error": [r[2] for r in rows], "attempts": [r[3] for r in rows],
        "created_at": created,
        "started_at": np.array([r[4] if r[4] is not None else np.datetime64("NaT") for r in rows],
                               dtype="datetime64[us]"),
        "finished_at": np.array([r[5] if r[5] is not None else np.datetime64("NaT")
                                 for r in rows], dtype="datetime64[us]"),
    })


@task("job_attempts", upstream=["jobs"], tags=["jobs"])
async def job_attempts(ctx: TaskContext) -> None:
    """Attempt history: retries after failures, the last attempt matching the job's state."""
    jobs_, lives = await _jobs(ctx)
    rows = [(jid, a, st, WORKERS[(a + k) % len(WORKERS)], s, f, e)
            for k, (jid, life) in enumerate(zip(jobs_["id"], lives, strict=True))
            for a, st, s, f, e in life["attempts"]]
    await ctx.write_rows(["job_id", "attempt_number", "status", "worker_id", "started_at",
                          "finished_at", "error"], rows)


@task("job_transitions", upstream=["jobs"], tags=["jobs"])
async def job_transitions(ctx: TaskContext) -> None:
    """The job state machine: pending -> running -> completed/failed (or back to pending)."""
    jobs_, lives = await _jobs(ctx)
    rows = [(jid, f, t, trig, "scheduler" if trig == "scheduler" else "worker-gpu-01", when)
            for jid, life in zip(jobs_["id"], lives, strict=True)
            for f, t, trig, when in life["transitions"]]
    await ctx.write_rows(["job_id", "from_status", "to_status", "trigger", "triggered_by",
                          "transitioned_at"], rows)


@task("job_logs", upstream=["jobs", "cameras"], tags=["jobs"], params={"logs_per_job": 5})
async def job_logs(ctx: TaskContext) -> None:
    """Structured execution logs that tell the same story as the attempts."""
    jobs_, lives = await _jobs(ctx)
    cams = await ctx.read("cameras", ["name"])
    rng = ctx.rng
    rows: list[tuple[Any, ...]] = []
    for k, (jid, kind, life) in enumerate(zip(jobs_["id"], jobs_["job_type"], lives,
                                              strict=True)):
        cam = str(cams["name"][k % len(cams["name"])]).lower().replace(" ", "_")
        for a, st, start, end, err in life["attempts"]:
            rows.append((jid, "INFO", f"Starting {str(kind).replace('_', ' ')} for camera {cam}, "
                         f"{int(rng.integers(1, 6))}h timerange", {"attempt": a}, start))
            steps = int(ctx.params["logs_per_job"]) - 2
            stop = end if end is not None else sim.naive(ctx.as_of)
            for s in range(1, steps + 1):
                at = start + (stop - start) * s // (steps + 1)
                rows.append((jid, "DEBUG", f"Processed {s * 100 // (steps + 1)}/100 frames",
                             {"attempt": a}, at))
            if st == "failed":
                rows.append((jid, "ERROR", str(err), {"attempt": a}, end))
            elif st == "succeeded":
                rows.append((jid, "INFO", "Finished successfully", {"attempt": a}, end))
        if not life["attempts"]:
            rows.append((jid, "INFO", "Queued; waiting for a free worker", None,
                         life["transitions"][0][3]))
    await ctx.write_rows(["job_id", "level", "message", "context", "logged_at"], rows)


@task("export_jobs", upstream=["jobs", "cameras"], tags=["jobs"], params={"exports": 10})
async def export_jobs(ctx: TaskContext) -> None:
    """Video and data exports, each backed by a video_export or report job."""
    jobs_ = await ctx.read("jobs", ["id", "status", "created_at", "finished_at"])
    cams = await ctx.read("cameras", ["id"])
    rng = ctx.rng
    n = min(int(ctx.params["exports"]), len(jobs_["id"]))
    pick = np.sort(rng.choice(len(jobs_["id"]), n, replace=False))
    kind = rng.choice(np.array(vocab.EXPORT_TYPES, dtype=object), n)
    fmt = np.array([{"video_clip": "mp4", "event_report": "pdf", "csv_export": "csv",
                     "timelapse": "mp4"}[k] for k in kind], dtype=object)
    end = jobs_["created_at"][pick] - sim.seconds(rng.integers(60, 3600, n))
    start = end - sim.seconds(rng.integers(600, 4 * 3600, n))
    done = jobs_["status"][pick] == "completed"
    await ctx.write({
        "job_id": jobs_["id"][pick], "export_type": kind,
        "camera_ids": [list(rng.choice(cams["id"], int(rng.integers(1, 3)), replace=False))
                       for _ in range(n)],
        "time_range_start": start, "time_range_end": end, "format": fmt,
        "file_size_bytes": np.where(done, rng.integers(200_000, 900_000_000, n), 0),
        "download_url": [f"https://nvr.local/exports/{j}.{f}" if d else None
                         for j, f, d in zip(jobs_["id"][pick], fmt, done.tolist(), strict=True)],
        "expires_at": np.where(done, jobs_["finished_at"][pick] + np.timedelta64(7 * sim.DAY, "s"),
                               np.datetime64("NaT")).astype("datetime64[us]"),
    })


@invariant("job_history_agrees_with_status", tables=["jobs", "job_attempts", "job_transitions"])
async def job_history_agrees(ctx: VerifyContext) -> list[tuple[Any, ...]]:
    """Transitions form a valid state machine in time order, ending in the job's status;
    the last attempt matches it; finished_at is null exactly for running/pending jobs."""
    allowed = {(None, "pending"), ("pending", "running"), ("running", "completed"),
               ("running", "failed"), ("running", "pending")}
    jobs_ = await ctx.read("jobs", ["id", "status", "finished_at", "attempts"])
    tr = await ctx.read("job_transitions", ["job_id", "from_status", "to_status",
                                            "transitioned_at"])
    at = await ctx.read("job_attempts", ["job_id", "attempt_number", "status"])
    bad: list[tuple[Any, ...]] = []
    for jid, status, finished, attempts in zip(jobs_["id"], jobs_["status"], jobs_["finished_at"],
                                               jobs_["attempts"].tolist(), strict=True):
        m = tr["job_id"] == jid
        steps = sorted(zip(tr["transitioned_at"][m], tr["from_status"][m], tr["to_status"][m],
                           strict=True), key=lambda s: s[0])
        if not steps or steps[-1][2] != status or any(
                (f, t) not in allowed for _, f, t in steps) or any(
                steps[i][2] != steps[i + 1][1] for i in range(len(steps) - 1)):
            bad.append((jid, status, "transitions"))
        ma = at["job_id"] == jid
        tries = sorted(zip(at["attempt_number"][ma].tolist(), at["status"][ma], strict=True))
        want = {"completed": "succeeded", "failed": "failed", "running": "running"}.get(status)
        if len(tries) != attempts or (want and (not tries or tries[-1][1] != want)):
            bad.append((jid, status, "attempts"))
        if np.isnat(finished) != (status in ("running", "pending")):
            bad.append((jid, status, "finished_at"))
    return bad[:10]
