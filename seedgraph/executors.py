"""Where a partitioned table's partitions run: ``--executor local|processes|dask://...``.

Every executor runs the same function on a :class:`PartitionJob`: open the target
database, run the task body for one partition, commit its rows with its checkpoint
(:func:`seedgraph.partitions.load_partition`). The checkpoint table is the single
source of truth, so a partition lost with its worker (killed, or its machine gone)
has committed nothing and simply runs again.

- ``local`` (default): in this process, ``--concurrency`` partitions at a time;
- ``processes``: a pool of ``-j N`` worker processes on this machine, for CPU-bound
  generation (each imports the pack and connects to the database itself);
- ``dask://host:port``: tasks on an existing Dask cluster (``pip install
  'seedgraph-db[dask]'``); each worker generates and loads straight into the target
  database, which it must be able to reach.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import anyio

from seedgraph.backends import Database, parse_url
from seedgraph.errors import TaskFailed, UsageError
from seedgraph.partitions import Partition, load_partition
from seedgraph.task import TaskDef

__all__ = ["Executor", "LocalExecutor", "PartitionJob", "make_executor", "run_job"]


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


class Executor(Protocol):
    workers: int

    async def load(self, task: TaskDef, job: PartitionJob,
                   on_rows: Callable[[int], None]) -> int: ...

    def close(self) -> None: ...


class LocalExecutor:
    """Partitions in this process, on the run's own connections."""

    def __init__(self, db: Database, workers: int) -> None:
        self.db = db
        self.workers = workers

    async def load(self, task: TaskDef, job: PartitionJob,
                   on_rows: Callable[[int], None]) -> int:
        return await load_partition(
            self.db, task, Partition(job.key, job.count), run_id=job.run_id, seed=job.seed,
            as_of=job.as_of, params=job.params, fingerprint=job.fingerprint,
            chunk_rows=job.chunk_rows, on_rows=on_rows)

    def close(self) -> None:
        return None


class ProcessExecutor:
    """Partitions in a pool of worker processes (started fresh: ``spawn``)."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._pool = concurrent.futures.ProcessPoolExecutor(
            max_workers=workers, mp_context=multiprocessing.get_context("spawn"))

    async def load(self, task: TaskDef, job: PartitionJob,
                   on_rows: Callable[[int], None]) -> int:
        future = self._pool.submit(run_job, job)
        try:
            rows: int = await anyio.to_thread.run_sync(future.result, abandon_on_cancel=True)
        except concurrent.futures.process.BrokenProcessPool:
            raise TaskFailed(job.table, RuntimeError(
                f"a worker process died while loading partition {job.key} (killed, or out of "
                "memory); that partition rolled back: `seedgraph run --resume` runs it and "
                "the others that did not commit")) from None
        on_rows(rows)
        return rows

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


class DaskExecutor:
    """Partitions as tasks on a Dask cluster."""

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

    async def load(self, task: TaskDef, job: PartitionJob,
                   on_rows: Callable[[int], None]) -> int:
        # a lost worker's task is rerun by Dask on another: its partition never committed
        future = self._client.submit(run_job, job, pure=False, retries=2,
                                     key=f"seedgraph-{job.table}-{job.key}-{job.run_id}")
        rows: int = await anyio.to_thread.run_sync(future.result, abandon_on_cancel=True)
        on_rows(rows)
        return rows

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


def run_job(job: PartitionJob) -> int:
    """Load one partition in this (worker) process; returns its rows."""
    return anyio.run(_run_job, job)


async def _run_job(job: PartitionJob) -> int:
    from seedgraph.pack import load_pack

    pack = load_pack(job.pack, Path(job.base_dir))
    task = pack.tasks[job.table]
    if job.table in job.data:
        import dataclasses

        task = dataclasses.replace(task, data=job.data[job.table])
    db = await Database.open(parse_url(job.url), pool_size=1)
    try:
        db.register(pack.metadata)
        return await LocalExecutor(db, 1).load(task, job, lambda rows: None)
    finally:
        await db.close()
