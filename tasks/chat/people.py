"""Generated users for load tests, and how active each one is.

Both the users task and the conversations task call these functions with the same
seed, so they agree on who the generated users are and how many conversations each
starts without reading each other's rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from faker import Faker

from seedgraph import gen
from seedgraph.context import derive_seed

__all__ = ["activity", "generated_people"]

NAME_POOL = 400  # distinct first and last names the generated users draw from


def generated_people(seed: int, n: int) -> dict[str, np.ndarray]:
    """*n* generated users: names from pools, emails that match them and usernames
    (both unique by number)."""
    fk = Faker("en_US")
    fk.seed_instance(derive_seed(seed, "chat", "names"))
    rng = np.random.default_rng(derive_seed(seed, "chat", "people"))
    first = gen.by_meaning(rng, fk, "first_name", n, pool=NAME_POOL)
    last = gen.by_meaning(rng, fk, "last_name", n, pool=NAME_POOL)
    username = np.array([f"{f[0]}{ln}{i}".lower().replace(" ", "").replace("'", "")
                         for f, ln, i in zip(first, last, range(1, n + 1), strict=True)],
                        dtype=object)
    return {"email": gen.emails_for(rng, first, last), "username": username,
            "full_name": first + " " + last}


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
