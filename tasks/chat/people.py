"""Generated users for load tests, and how active each one is.

Both the users task and the conversations task call these functions with the same
seed, so they agree on who the generated users are and how many conversations each
starts without reading each other's rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from faker import Faker

from seedgraph.context import derive_seed

__all__ = ["activity", "generated_people"]

NAME_POOL = 400  # distinct first and last names the generated users draw from


def generated_people(seed: int, n: int) -> dict[str, np.ndarray]:
    """*n* generated users: first/last names, emails and usernames (unique by number)."""
    fk = Faker("en_US")
    fk.seed_instance(derive_seed(seed, "chat", "names"))
    firsts = np.array(sorted({fk.first_name() for _ in range(NAME_POOL)}), dtype=object)
    lasts = np.array(sorted({fk.last_name() for _ in range(NAME_POOL)}), dtype=object)
    rng = np.random.default_rng(derive_seed(seed, "chat", "people"))
    first = firsts[rng.integers(0, len(firsts), n)]
    last = lasts[rng.integers(0, len(lasts), n)]
    number = np.arange(1, n + 1)
    email = np.array([f"{f}.{ln}.{i}@example.com".lower().replace(" ", "")
                      for f, ln, i in zip(first, last, number, strict=True)], dtype=object)
    username = np.array([f"{f[0]}{ln}{i}".lower().replace(" ", "").replace("'", "")
                         for f, ln, i in zip(first, last, number, strict=True)], dtype=object)
    full = np.array([f"{f} {ln}" for f, ln in zip(first, last, strict=True)], dtype=object)
    return {"email": email, "username": username, "full_name": full}


def activity(seed: int, n: int, params: Any) -> np.ndarray:
    """Conversations each generated user starts: a Zipf law over users (a few heavy
    users, a long tail), scaled so the mean is ``conversations_per_user``."""
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    rng = np.random.default_rng(derive_seed(seed, "chat", "activity"))
    ranks = rng.permutation(n) + 1  # who is the heaviest user is random
    weight = ranks.astype(np.float64) ** -float(params["activity_zipf"])
    total = round(float(params["conversations_per_user"]) * n)
    counts: np.ndarray = rng.multinomial(total, weight / weight.sum())
    return counts.astype(np.int64)
