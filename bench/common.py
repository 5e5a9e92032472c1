"""Helpers shared by the benchmark scripts: child processes and fresh databases."""

from __future__ import annotations

import contextlib
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg

REPO = Path(__file__).resolve().parent.parent


def child(cmd: list[str], cwd: Path = REPO) -> tuple[float, int, str]:
    """Wall seconds, peak RSS (MB, largest child so far) and stdout of a child process."""
    t0 = time.perf_counter()
    done = subprocess.run(cmd, check=True, cwd=cwd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    return wall, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024, done.stdout


async def fresh_db(admin: str, name: str) -> str:
    """Drop and create database *name* on the server of *admin*; return its URL."""
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return admin.rsplit("/", 1)[0] + "/" + name


async def drop_db(admin: str, name: str) -> None:
    """Drop database *name*, then let the machine settle: a loaded database left behind
    keeps autovacuum busy, and the server's and the kernel's dirty pages are written
    back, on the same cores while the next setting is measured."""
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute("CHECKPOINT")
    finally:
        await conn.close()
    os.sync()


@contextlib.contextmanager
def pg_admin(given: str | None) -> Iterator[str]:
    """The admin URL of the server *given* (``--pg-url``), or of a throwaway server
    started here and stopped afterwards."""
    if given:
        yield given
        return
    from tests.pgserver import start_server

    server = start_server()
    try:
        yield server.admin_url
    finally:
        server.stop()


def _children(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/task/{p}/children") as f:
                kids = [int(k) for k in f.read().split()]
        except OSError:
            kids = []
        out += kids
        todo += kids
    return out


def _peak_mb(pid: int) -> tuple[str, int] | None:
    """(command name, peak RSS in MB) of a live process, from /proc (Linux)."""
    try:
        with open(f"/proc/{pid}/comm") as f:
            name = f.read().strip()
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return name, int(line.split()[1]) // 1024
    except OSError:
        return None
    return None


def child_tree(cmd: list[str], cwd: Path = REPO, env: dict[str, str] | None = None
               ) -> tuple[float, list[int], str]:
    """Wall seconds, the peak RSS (MB) of the child and of each process it started
    (largest first; PostgreSQL's own processes left out), and the child's stdout.
    Peaks are read from /proc every 0.2 s while the processes live."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, text=True)
    peaks: dict[int, int] = {}
    import threading

    out: list[str] = []
    reader = threading.Thread(target=lambda: out.append(proc.stdout.read() if proc.stdout
                                                        else ""))
    reader.start()
    while proc.poll() is None:
        for pid in [proc.pid, *_children(proc.pid)]:
            seen = _peak_mb(pid)
            if seen is not None and seen[0] != "postgres":
                peaks[pid] = max(peaks.get(pid, 0), seen[1])
        time.sleep(0.2)
    reader.join()
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise subprocess.CalledProcessError(proc.returncode, cmd)
    return wall, sorted(peaks.values(), reverse=True), "".join(out)


def report_same_bytes(results: list[dict[str, object]]) -> None:
    """Print whether every run gave the same checksum; exit 1 if not."""
    same = len({r["checksum"] for r in results}) == 1
    print(json.dumps({"same_bytes": same}))
    if not same:
        sys.exit(1)
