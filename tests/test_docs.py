"""The complete example pack in docs/writing-a-pack.md runs as written."""

from __future__ import annotations

import re
from pathlib import Path

from tests.helpers import REPO, cli, query


def test_the_documented_example_pack_runs(tmp_path: Path) -> None:
    doc = (REPO / "docs" / "writing-a-pack.md").read_text()
    blocks = re.findall(r"```python\n(# seeds/(\w+)\.py\n.*?)```", doc, re.S)
    assert {name for _, name in blocks} == {"schema", "tasks", "__init__"}
    (tmp_path / "seeds").mkdir()
    for body, name in blocks:
        (tmp_path / "seeds" / f"{name}.py").write_text(body)
    db = f"sqlite:///{tmp_path / 'blog.db'}"
    first = cli("run", "--pack", "seeds/", "--db", db, "--seed", "7", "--as-of", "2026-01-01",
                "--quiet", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert query(db, "SELECT COUNT(*) FROM authors")[0][0] == 50
    again = cli("run", "--pack", "seeds/", "--db", db, "--only", "posts", "--set",
                "posts_per_author=10", "--seed", "7", "--as-of", "2026-01-01", "--quiet",
                cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert query(db, "SELECT COUNT(*) FROM posts")[0][0] > 300
    verify = cli("verify", "--pack", "seeds/", "--db", db, cwd=tmp_path)
    assert verify.returncode == 0, verify.stderr
