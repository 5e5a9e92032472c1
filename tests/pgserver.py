"""Start a throwaway PostgreSQL server for the test session from the machine's binaries.

Used by ``conftest.py``. Runs the server as the ``postgres`` OS user when the
tests run as root (the server refuses to run as root). Set
``SEEDGRAPH_TEST_PG_URL`` to use an existing server instead.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path


class PgUnavailable(RuntimeError):
    pass


def find_bindir() -> Path | None:
    if env := os.environ.get("SEEDGRAPH_PG_BINDIR"):
        return Path(env)
    pg_config = shutil.which("pg_config")
    if pg_config:
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True)
        if out.returncode == 0 and (Path(out.stdout.strip()) / "initdb").exists():
            return Path(out.stdout.strip())
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    if candidates:
        return Path(candidates[0]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PgServer:
    bindir: Path
    root: Path
    port: int
    user: str | None  # OS user the server runs as (None: current user)

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def url_for(self, dbname: str) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{dbname}"

    def _run(self, args: list[str]) -> subprocess.CompletedProcess[str]:
        if self.user:
            pw = pwd.getpwnam(self.user)

            def demote() -> None:
                os.setgid(pw.pw_gid)
                os.setuid(pw.pw_uid)

            return subprocess.run(
                args, capture_output=True, text=True, preexec_fn=demote, cwd=self.root,
                env={**os.environ, "HOME": str(self.root)},
            )
        return subprocess.run(args, capture_output=True, text=True, cwd=self.root)

    def start(self) -> None:
        data = self.root / "data"
        r = self._run([str(self.bindir / "initdb"), "-D", str(data), "-A", "trust",
                       "-U", "postgres", "--no-sync"])
        if r.returncode != 0:
            raise PgUnavailable(f"initdb failed: {r.stderr.strip()}")
        opts = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
                "-c max_connections=200")
        r = self._run([str(self.bindir / "pg_ctl"), "-D", str(data), "-o", opts,
                       "-l", str(self.root / "log"), "-w", "-t", "60", "start"])
        if r.returncode != 0:
            log = (self.root / "log").read_text() if (self.root / "log").exists() else ""
            raise PgUnavailable(f"pg_ctl start failed: {r.stderr.strip()} {log[-2000:]}")
        deadline = time.time() + 30
        while time.time() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.1)
        raise PgUnavailable("server did not accept connections within 30 s")

    def stop(self) -> None:
        self._run([str(self.bindir / "pg_ctl"), "-D", str(self.root / "data"),
                   "-m", "immediate", "stop"])
        shutil.rmtree(self.root, ignore_errors=True)


def start_server() -> PgServer:
    bindir = find_bindir()
    if bindir is None:
        raise PgUnavailable(
            "no PostgreSQL server binaries found (install postgresql, or set "
            "SEEDGRAPH_PG_BINDIR or SEEDGRAPH_TEST_PG_URL)"
        )
    root = Path(tempfile.mkdtemp(prefix="seedgraph-pg-"))
    user: str | None = None
    if os.geteuid() == 0:
        try:
            pw = pwd.getpwnam("postgres")
        except KeyError as exc:
            raise PgUnavailable("running as root and no 'postgres' OS user exists") from exc
        os.chown(root, pw.pw_uid, pw.pw_gid)
        user = "postgres"
    server = PgServer(bindir=bindir, root=root, port=_free_port(), user=user)
    server.start()
    return server
