"""Where tasks run: ``--executor local|processes|dask://...``.

Every executor runs the same function on a job: open the target database, run the task
body for one partition (:class:`PartitionJob`) or a whole table (:class:`TableJob`),
and commit its rows with its checkpoint in one transaction. The checkpoint table is the
single source of truth, so a job lost with its worker (killed, or its machine gone) has
committed nothing and simply runs again. Whole tables go to the workers only on a
database that takes concurrent writers (PostgreSQL); on SQLite they stay in the run's
process, and only partitions go out.

- ``local`` (default): in this process, ``--concurrency`` partitions at a time;
- ``processes``: a pool of ``-j N`` worker processes on this machine, for CPU-bound
  generation (each imports the pack and connects to the database itself);
- ``dask://host:port``: tasks on an existing Dask cluster (``pip install
  'seedgraph-db[dask]'``); each worker generates and loads straight into the target
  database, which it must be able to reach.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import multiprocessing
import multiprocessing.util
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import anyio

from seedgraph import checkpoints, detach
from seedgraph.backends import Database, parse_url
from seedgraph.body import load_table
from seedgraph.context import Reader
from seedgraph.errors import TaskFailed, UsageError
from seedgraph.partitions import Partition, load_partition
from seedgraph.readcache import ReadCache
from seedgraph.task import TaskDef

__all__ = ["Executor", "LocalExecutor", "PartitionJob", "TableJob", "make_executor", "run_job"]

WORKER_CACHE = 32 << 20  # bytes a worker keeps of the run's finished tables


@dataclass(frozen=True, slots=True)
class PartitionJob:
    """Everything a worker needs to load one partition, as plain values (it is pickled
    to other processes and machines)."""

    pack: str  # the pack's reference, as given to --pack
    base_dir: str  # where a relative pack reference is resolved
    url: str  # the database URL (with its password: never printed)
    table: str
    key: Any
    count: int
    run_id: int
    seed: int
    as_of: datetime
    fingerprint: str
    chunk_rows: int
    params: Mapping[str, Any] = field(default_factory=dict)
    data: Mapping[str, str] = field(default_factory=dict)  # data files the config replaced


@dataclass(frozen=True, slots=True)
class TableJob(PartitionJob):
    """A whole, unpartitioned table (``key`` and ``count`` unused)."""

    append: bool = False
    force: bool = False
    started_at: str = ""


class Executor(Protocol):
    workers: int
    remote: bool  # runs jobs outside the run's process (whole tables too)

    async def load(self, task: TaskDef, job: PartitionJob, on_rows: Callable[[int], None],
                   reader: Reader) -> int: ...

    async def load_table(self, job: TableJob) -> tuple[int, str | None]: ...

    def close(self) -> None: ...


class LocalExecutor:
    """Partitions in this process, on the run's own connections."""

    remote = False

    def __init__(self, db: Database, workers: int) -> None:
        self.db = db
        self.workers = workers

    async def load(self, task: TaskDef, job: PartitionJob, on_rows: Callable[[int], None],
                   reader: Reader) -> int:
        return await load_partition(
            self.db, task, Partition(job.key, job.count), reader=reader, run_id=job.run_id,
            seed=job.seed, as_of=job.as_of, params=job.params, fingerprint=job.fingerprint,
            chunk_rows=job.chunk_rows, on_rows=on_rows)

    async def load_table(self, job: TableJob) -> tuple[int, str | None]:
        raise AssertionError("the runner loads whole tables itself with a local executor")

    def close(self) -> None:
        return None


class ProcessExecutor:
    """Jobs in a pool of worker processes (started fresh: ``spawn``)."""

    remote = True

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._pool = concurrent.futures.ProcessPoolExecutor(
            max_workers=workers, mp_context=multiprocessing.get_context("spawn"))
        # each worker starts now and imports seedgraph (about a second) while the run
        # plans and creates the schema, instead of before its first table
        for _ in range(workers):
            self._pool.submit(_started)

    async def load(self, task: TaskDef, job: PartitionJob, on_rows: Callable[[int], None],
                   reader: Reader) -> int:
        rows: int = await self._result(job, f"partition {job.key}", "that partition rolled "
                                       "back: `seedgraph run --resume` runs it and the others "
                                       "that did not commit")
        on_rows(rows)
        return rows

    async def load_table(self, job: TableJob) -> tuple[int, str | None]:
        out: tuple[int, str | None] = await self._result(
            job, f"table '{job.table}'", "the table rolled back: `seedgraph run --resume` "
            "loads it again")
        return out

    async def _result(self, job: PartitionJob, what: str, then: str) -> Any:
        future = self._pool.submit(run_job, job)
        try:
            return await anyio.to_thread.run_sync(future.result, abandon_on_cancel=True)
        except concurrent.futures.process.BrokenProcessPool:
            raise TaskFailed(job.table, RuntimeError(
                f"a worker process died while loading {what} (killed, or out of memory); "
                f"{then}")) from None

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


class DaskExecutor:
    """Jobs as tasks on a Dask cluster."""

    remote = True

    def __init__(self, address: str, workers: int) -> None:
        try:
            from distributed import Client
        except ImportError:
            raise UsageError("--executor dask://... needs Dask's distributed scheduler: "
                             "pip install 'seedgraph-db[dask]'") from None
        try:
            self._client = Client(address, timeout="10s")  # type: ignore[no-untyped-call]
        except OSError as exc:
            raise UsageError(f"cannot reach the Dask scheduler at {address}: {exc}; start one "
                             "(dask scheduler) or check the address") from None
        self.workers = workers or max(1, len(self._client.scheduler_info()["workers"]))

    async def load(self, task: TaskDef, job: PartitionJob, on_rows: Callable[[int], None],
                   reader: Reader) -> int:
        rows: int = await self._result(job, f"seedgraph-{job.table}-{job.key}-{job.run_id}")
        on_rows(rows)
        return rows

    async def load_table(self, job: TableJob) -> tuple[int, str | None]:
        out: tuple[int, str | None] = await self._result(
            job, f"seedgraph-{job.table}-{job.run_id}")
        return out

    async def _result(self, job: PartitionJob, key: str) -> Any:
        # a lost worker's task is rerun by Dask on another: its job never committed
        future = self._client.submit(run_job, job, pure=False, retries=2, key=key)
        return await anyio.to_thread.run_sync(future.result, abandon_on_cancel=True)

    def close(self) -> None:
        self._client.close()  # type: ignore[no-untyped-call]


def make_executor(spec: str, db: Database, workers: int) -> Executor:
    """The executor ``--executor`` names."""
    if spec == "local":
        return LocalExecutor(db, workers)
    if spec == "processes":
        return ProcessExecutor(workers)
    if spec.startswith(("dask://", "tcp://")):
        return DaskExecutor("tcp://" + spec.split("://", 1)[1], workers)
    raise UsageError(f"unknown --executor '{spec}'; use local, processes (with -j N), or "
                     "dask://HOST:PORT")


def _started() -> None:
    """A worker's first job: nothing (importing this module, to unpickle it, is the work)."""


def run_job(job: PartitionJob) -> Any:
    """Run one job in this (worker) process: a partition's rows, or a whole table's rows
    and note. A worker thread keeps one event loop, and on it one connection to the
    run's database, for all its jobs: a new connection is a new server process whose
    caches start cold (about 0.3 s of the server's CPU per job, on a small table)."""
    worker = _worker
    if getattr(worker, "loop", None) is None:
        worker.loop, worker.db = asyncio.Runner(), None
        if threading.current_thread() is threading.main_thread():  # a pool's process
            multiprocessing.util.Finalize(None, _close_worker, exitpriority=10)
    try:
        return worker.loop.run(_run_job(job))
    finally:
        _give_back_memory()


# per worker thread (a pool's process has one; a Dask worker runs jobs in several):
# its event loop, and the database its jobs write to as ((url, run), Database)
_worker = threading.local()


async def _database(job: PartitionJob) -> Database:
    """The run's database, opened by this worker's first job of the run."""
    key = (job.url, job.run_id)
    held: tuple[tuple[str, int], Database] | None = _worker.db
    if held is not None and held[0] == key:
        return held[1]
    _worker.db = None
    if held is not None:
        await held[1].close()
    db = await Database.open(parse_url(job.url), pool_size=1)
    _worker.db = (key, db)
    return db


def _close_worker() -> None:
    """At the worker's exit: close its connection (the server then logs no lost client)."""
    held = getattr(_worker, "db", None)
    if held is not None:
        with contextlib.suppress(Exception):
            _worker.loop.run(held[1].close())


def _give_back_memory() -> None:
    """Hand the heap a job freed back to the system (glibc keeps it otherwise): a
    worker's size is then what its next jobs need, not the most it ever held."""
    import ctypes

    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to do
        ctypes.CDLL(None).malloc_trim(0)


# a worker keeps what it read from the run's finished tables for its next jobs
_worker_cache: tuple[tuple[str, int], ReadCache] | None = None


async def _run_job(job: PartitionJob) -> Any:
    from seedgraph.pack import load_pack

    pack = load_pack(job.pack, Path(job.base_dir))
    task = pack.tasks[job.table]
    if job.table in job.data:
        import dataclasses

        task = dataclasses.replace(task, data=job.data[job.table])
    db = await _database(job)
    db.register(pack.metadata)
    if isinstance(job, TableJob):
        return await _load_table(db, task, job)
    return await LocalExecutor(db, 1).load(task, job, lambda rows: None,
                                           _cache(job).reader(db, job.table))


def _cache(job: PartitionJob) -> ReadCache:
    """This worker's cache for the job's run (a new run starts an empty one)."""
    global _worker_cache
    if _worker_cache is None or _worker_cache[0] != (job.url, job.run_id):
        _worker_cache = ((job.url, job.run_id), ReadCache(None, budget=WORKER_CACHE))
    return _worker_cache[1]


async def _load_table(db: Database, task: TaskDef, job: TableJob) -> tuple[int, str | None]:
    """Load a whole table and commit its checkpoint with it, as the runner does."""
    reader = _cache(job).reader(db, job.table)
    t0 = time.perf_counter()
    spec = await db.spec(job.table)
    for name in sorted(task.upstream):  # reflected before the transaction locks anything
        await db.spec(name)
    async with detach.detached(db, job.table, job.run_id, enabled=not job.append) as away, \
            db.transaction() as tx:
        try:
            rows, note = await load_table(
                tx, task, spec, reader=reader, dialect=db.dialect, seed=job.seed,
                as_of=job.as_of, params=job.params, chunk_rows=job.chunk_rows,
                append=job.append, update=job.force)
            await detach.attach(tx, away)
            await checkpoints.mark_done(
                tx, run_id=job.run_id, table=job.table, rows=rows, fingerprint=job.fingerprint,
                started_at=job.started_at, seconds=time.perf_counter() - t0, append=job.append)
        except (TaskFailed, anyio.get_cancelled_exc_class()):
            raise
        except Exception as exc:
            raise TaskFailed(job.table, exc) from exc
    return rows, note
