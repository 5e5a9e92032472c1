"""A password never appears in any output: not in errors, `status`, `--json`, progress,
nor the bookkeeping tables, however the URL carries it (user:password@, ?password=, an
unescaped '@' in the password, a URL that does not parse)."""

from __future__ import annotations

import pytest

from seedgraph.backends import mask_url, parse_url
from tests.helpers import MINI, cli, query

SECRET = "S3cr3tPw"


@pytest.mark.parametrize(("raw", "shown"), [
    (f"postgresql://u:{SECRET}@h/db", "postgresql://u:***@h/db"),
    (f"postgresql://u@h/db?password={SECRET}", "postgresql://u@h/db?password=***"),
    (f"postgresql://u@h/db?sslmode=require&sslpassword={SECRET}&x=1",
     "postgresql://u@h/db?sslmode=require&sslpassword=***&x=1"),
    (f"postgresql://u:pw@{SECRET}@127.0.0.1/db", "postgresql://u:***@127.0.0.1/db"),
    (f"postgresql:/u:{SECRET}@h/db", "postgresql:/u:***@h/db"),
    (f"postgresql//u:{SECRET}@h/db", "postgresql//u:***@h/db"),
    (f"u:{SECRET}@h", "u:***@h"),
    ("postgresql://u@h:5432/db", "postgresql://u@h:5432/db"),
    ("sqlite:///a/b.db", "sqlite:///a/b.db"),
])
def test_mask_url(raw: str, shown: str) -> None:
    assert mask_url(raw) == shown


def test_parsed_urls_display_no_password() -> None:
    for raw in (f"postgresql://u:{SECRET}@h/db", f"postgresql://u@h/db?password={SECRET}"):
        url = parse_url(raw)
        assert SECRET not in url.display and SECRET in url.url


def test_no_command_prints_the_password(pg_url: str) -> None:
    base = pg_url.replace("postgresql+asyncpg://", "postgresql://")
    userinfo, rest = base.split("//", 1)[1].split("@", 1)
    host, name = rest.split("/", 1)
    with_password = f"postgresql://{userinfo}:{SECRET}@{rest}"
    in_query = f"{base}?password={SECRET}"
    outputs = []
    for url in (with_password, in_query):  # the test server trusts any password
        for args in (["run", "--pack", MINI, "--seed", "3"], ["status"], ["status", "--json"],
                     ["plan", "--pack", MINI], ["verify", "--pack", MINI, "--json"]):
            if args[0] == "status":
                args = [*args, "--pack", MINI]
            r = cli(*args, "--db", url)
            assert r.returncode == 0, (args, r.stderr)
            outputs.append(r.stdout + r.stderr)
    bad = [f"postgresql://{userinfo}:pw@{SECRET}@{rest}",  # unescaped '@': cannot connect
           f"postgresql:/{userinfo}:{SECRET}@{host}/{name}",  # malformed
           f"postgresql://{userinfo}:{SECRET}@127.0.0.1:1/{name}"]  # nothing listens
    for url in bad:
        r = cli("status", "--pack", MINI, "--db", url)
        assert r.returncode != 0 and "Traceback" not in r.stderr
        outputs.append(r.stdout + r.stderr)
    assert all(SECRET not in out for out in outputs)
    assert any("***" in out for out in outputs)
    for table in ("seedgraph_runs", "seedgraph_tasks", "seedgraph_state"):
        for row in query(pg_url, f"SELECT * FROM {table}"):
            assert SECRET not in repr(row)
