"""Helpers shared by the benchmark scripts: child processes and fresh databases."""

from __future__ import annotations

import contextlib
import resource
import subprocess
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
