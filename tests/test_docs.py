"""The complete example pack in docs/writing-a-pack.md runs as written."""

from __future__ import annotations

import re
from pathlib import Path

from tests.helpers import REPO, checksums, cli, query


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
    # posts per author are Poisson(4): 50 authors give 200 posts give or take four
    # standard deviations of the sum, sqrt(200)
    first_posts = query(db, "SELECT COUNT(*) FROM posts")[0][0]
    assert abs(first_posts - 200) <= 4 * 200 ** 0.5, first_posts
    authors_before = checksums(db, ["authors"])
    again = cli("run", "--pack", "seeds/", "--db", db, "--only", "posts", "--set",
                "posts_per_author=10", "--seed", "7", "--as-of", "2026-01-01", "--quiet",
                cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    posts = query(db, "SELECT COUNT(*) FROM posts")[0][0]
    assert abs(posts - 500) <= 4 * 500 ** 0.5, posts  # now Poisson(10) per author
    assert checksums(db, ["authors"]) == authors_before  # --only posts left authors alone
    assert query(db, "SELECT COUNT(*) FROM posts p LEFT JOIN authors a ON a.id = p.author_id "
                     "WHERE a.id IS NULL")[0][0] == 0
    verify = cli("verify", "--pack", "seeds/", "--db", db, cwd=tmp_path)
    assert verify.returncode == 0, verify.stderr
    assert "all checks passed" in verify.stdout
