"""Background jobs: each job's attempts, state transitions and logs agree with its final state."""

from __future__ import annotations

from typing import Any

import numpy as np

from seedgraph import TaskContext, VerifyContext, gen, invariant, task

from . import sim, vocab

WORKERS = ("worker-gpu-01", "worker-gpu-02", "worker-cpu-01")
ERRORS = ("GPU OOM at frame 73, retrying with smaller batch", "Timeout after 300 s",
          "Camera folder not readable", "Model server returned 503")
TIMEOUT_ERROR = ERRORS[1]  # a failed attempt's cause is one of ERRORS, equally likely
TIMEOUT_S = 300  # the time limit that error names: a timed-out attempt ran exactly this long
CANCEL_ERROR = "Cancelled by user"
CANCELLED_BY = "api"  # who cancels: a user, through the API
CANCEL_SHARE = 0.2  # of failed jobs, the share a user cancelled (the rest ran out of retries)
MAX_ATTEMPTS = 4  # a job fails for good after its 4th failed attempt
ATTEMPTS_PER_JOB = 2.0  # 000: seed_job_attempts(attempts_per_job: int = 2), over all jobs


def attempt_weights(q: float) -> np.ndarray:
    """P(k attempts), k = 1..MAX_ATTEMPTS, for a job that ends with its k-th attempt
    (completed, still running, or cancelled): each earlier attempt failed, each attempt
    failing with probability q, so P(k) is proportional to q^(k-1)."""
    w = q ** np.arange(MAX_ATTEMPTS, dtype=float)
    return w / w.sum()


def expected_attempts(q: float) -> float:
    """Mean attempts per job over 000's status mix: pending jobs have none, jobs that
    failed for good used all MAX_ATTEMPTS, the rest end at an attempt drawn by its weight."""
    share = dict(zip(vocab.JOB_STATUSES, vocab.JOB_STATUS_P, strict=True))
    ends = float((attempt_weights(q) * np.arange(1, MAX_ATTEMPTS + 1)).sum())
    return (share["completed"] + share["running"]) * ends + share["failed"] * (
        CANCEL_SHARE * ends + (1 - CANCEL_SHARE) * MAX_ATTEMPTS)


def _retry_odds() -> float:
    """The failure probability q that makes expected_attempts(q) = ATTEMPTS_PER_JOB
    (bisection; expected_attempts grows with q)."""
    lo, hi = 0.0, 1.0
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if expected_attempts(mid) < ATTEMPTS_PER_JOB else (lo, mid)
    return (lo + hi) / 2


ATTEMPT_FAILURE_P = _retry_odds()  # about 0.56
_ENDS_CDF = np.cumsum(attempt_weights(ATTEMPT_FAILURE_P))


def plan_job(ctx: TaskContext, job_id: str, status: str,
             created: np.datetime64) -> dict[str, Any]:
    """A job's life: attempts (with retries) and transitions, consistent with its status.

    Each attempt is claimed by a worker (any of WORKERS; a retry may land on another)
    and either fails (one of ERRORS; a timeout stops it at TIMEOUT_S), succeeds, is
    still running, or is cancelled by a user. Attempts are tuples (number, status,
    started, finished, error, worker); transitions (from, to, trigger, triggered_by, at).
    Drawn from a stream keyed by the job id, so every task re-plans the same life; the
    life's shape does not depend on *created*, only its clock does."""
    rng = ctx.rng_for("job-life", job_id)
    transitions: list[tuple[Any, ...]] = [(None, "pending", "scheduler", "scheduler", created)]
    if status == "pending":
        return {"attempts": [], "started": None, "finished": None, "transitions": transitions}
    cancelled = status == "failed" and bool(rng.random() < CANCEL_SHARE)
    if status == "failed" and not cancelled:
        tries = MAX_ATTEMPTS
    else:
        tries = 1 + min(int(np.searchsorted(_ENDS_CDF, rng.random(), side="right")),
                        MAX_ATTEMPTS - 1)
    # per attempt: its worker, failure cause, duration (unless a timeout: 5-299 s), the
    # pause before the retry (10-299 s), and the wait for the first claim (1-119 s);
    # one draw per job, as uniform variates scaled to integers
    u = rng.random((5, tries))
    workers = (u[0] * len(WORKERS)).astype(np.int64).tolist()
    causes = (u[1] * len(ERRORS)).astype(np.int64).tolist()
    durations = (5 + u[2] * (TIMEOUT_S - 5)).astype(np.int64).tolist()
    pauses = (10 + u[3] * 290).astype(np.int64).tolist()
    t = created + np.timedelta64(int(1 + u[4, 0] * 119), "s")
    attempts: list[tuple[Any, ...]] = []
    for a in range(1, tries + 1):
        start, last, worker = t, a == tries, WORKERS[int(workers[a - 1])]
        transitions.append(("pending", "running", "worker" if a == 1 else "manual_retry",
                            worker, start))
        if last and status == "running":
            attempts.append((a, "running", start, None, None, worker))
            break
        ok = last and status == "completed"
        err = None if ok else (CANCEL_ERROR if last and cancelled else ERRORS[causes[a - 1]])
        took = TIMEOUT_S if err == TIMEOUT_ERROR else durations[a - 1]
        t = start + np.timedelta64(took, "s")
        attempts.append((a, "succeeded" if ok else "failed", start, t, err, worker))
        if ok:
            transitions.append(("running", "completed", "worker", worker, t))
            break
        to = "failed" if last else "pending"
        if err == CANCEL_ERROR:
            transitions.append(("running", to, "cancel", CANCELLED_BY, t))
        elif err == TIMEOUT_ERROR:
            transitions.append(("running", to, "timeout", "scheduler", t))
        else:
            transitions.append(("running", to, "worker", worker, t))
        t = t + np.timedelta64(pauses[a - 1], "s")
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
    status = gen.choice(rng, vocab.JOB_STATUSES, n, weights=vocab.JOB_STATUS_P)
    now = sim.naive(ctx.as_of)
    created = np.sort(now - sim.seconds(rng.integers(3 * 3600, days * sim.DAY, n)))
    # a running job's current attempt started under TIMEOUT_S ago (else it had timed out):
    # its created_at is as_of minus that age minus its life before the attempt
    age = sim.seconds(rng.integers(5, TIMEOUT_S, n))
    kinds = gen.choice(rng, vocab.JOB_TYPES, n)
    ids = ctx.uuids(n)
    rows = []
    for i in range(n):
        if status[i] == "running":
            lead = plan_job(ctx, str(ids[i]), "running", now)["attempts"][-1][2] - now
            created[i] = now - lead - age[i]
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
    rows = [(jid, a, st, worker, s, f, e)
            for jid, life in zip(jobs_["id"], lives, strict=True)
            for a, st, s, f, e, worker in life["attempts"]]
    await ctx.write_rows(["job_id", "attempt_number", "status", "worker_id", "started_at",
                          "finished_at", "error"], rows)


@task("job_transitions", upstream=["jobs"], tags=["jobs"])
async def job_transitions(ctx: TaskContext) -> None:
    """The job state machine: pending -> running -> completed/failed (or back to pending).

    The worker that claims or finishes an attempt triggers its transition; a timeout is the
    scheduler's, a cancel the API's (a user's)."""
    jobs_, lives = await _jobs(ctx)
    rows = [(jid, f, t, trig, by, when)
            for jid, life in zip(jobs_["id"], lives, strict=True)
            for f, t, trig, by, when in life["transitions"]]
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
        for a, st, start, end, err, _ in life["attempts"]:
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
                         life["transitions"][0][4]))
    await ctx.write_rows(["job_id", "level", "message", "context", "logged_at"], rows)


@task("export_jobs", upstream=["jobs", "cameras"], tags=["jobs"], params={"exports": 10})
async def export_jobs(ctx: TaskContext) -> None:
    """Video and data exports, each backed by a video_export or report job."""
    jobs_ = await ctx.read("jobs", ["id", "status", "created_at", "finished_at"])
    cams = await ctx.read("cameras", ["id"])
    rng = ctx.rng
    n = min(int(ctx.params["exports"]), len(jobs_["id"]))
    pick = np.sort(rng.choice(len(jobs_["id"]), n, replace=False))
    kind = gen.choice(rng, vocab.EXPORT_TYPES, n)
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


@invariant("job_transitions_name_their_cause", tables=["job_attempts", "job_transitions"])
async def job_transitions_name_their_cause(ctx: VerifyContext) -> list[tuple[Any, ...]]:
    """Each attempt is claimed (pending -> running) by its own worker, and the transition
    that ends it names its cause: the worker, a timeout (an attempt stopped at TIMEOUT_S
    with TIMEOUT_ERROR, by the scheduler) or a cancel (CANCEL_ERROR, by the API)."""
    at = await ctx.read("job_attempts", ["job_id", "worker_id", "started_at", "finished_at",
                                         "error"])
    tr = await ctx.read("job_transitions", ["job_id", "from_status", "trigger", "triggered_by",
                                            "transitioned_at"])
    steps = {(str(j), f, t): (trig, by) for j, f, t, trig, by in zip(
        tr["job_id"], tr["from_status"], tr["transitioned_at"], tr["trigger"],
        tr["triggered_by"], strict=True) if f in ("pending", "running")}
    bad: list[tuple[Any, ...]] = []
    for jid, worker, start, end, err in zip(at["job_id"], at["worker_id"], at["started_at"],
                                            at["finished_at"], at["error"], strict=True):
        if steps.get((str(jid), "pending", start), (None, None))[1] != worker:
            bad.append((jid, "claimed by another worker"))
        if np.isnat(end):
            continue
        trig, by = steps.get((str(jid), "running", end), (None, None))
        took = (end - start) / np.timedelta64(1, "s")
        want = ("timeout", "scheduler") if err == TIMEOUT_ERROR else (
            ("cancel", CANCELLED_BY) if err == CANCEL_ERROR else ("worker", worker))
        if (trig, by) != want or (took == TIMEOUT_S) != (err == TIMEOUT_ERROR):
            bad.append((jid, str(err), trig, by, took))
    return bad[:10]
