"""`make mutate`: mutation testing of the core and the guarantees with mutmut.

Starts one throwaway PostgreSQL server for the whole session (the forked mutant
runs share it through SEEDGRAPH_TEST_PG_URL instead of each starting their own),
then runs ``mutmut run`` with any arguments given (e.g. ``"seedgraph.graph*"``)
and prints the surviving mutants. See docs/testing.md.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.pgserver import start_server


def main(argv: list[str]) -> int:
    server = start_server()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the server on SIGTERM too
    try:
        env = {**os.environ, "SEEDGRAPH_TEST_PG_URL": server.admin_url}
        mutmut = [sys.executable, "-m", "mutmut"]
        code = subprocess.run([*mutmut, "run", *argv], env=env).returncode
        subprocess.run([*mutmut, "results"], env=env)
        return code
    finally:
        server.stop()


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
