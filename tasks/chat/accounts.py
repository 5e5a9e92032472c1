"""Accounts: the admin, developers with known passwords, test users, generated users.

Passwords are stored as Argon2id hashes (argon2-cffi, OWASP's minimum parameters). The
file's passwords are known development credentials; their salts derive from the seed so
the same seed gives the same database. The admin's password comes from
CHAT_ADMIN_PASSWORD when it is set (then with a random salt: a real secret never gets a
salt anyone could derive), else, outside production, the documented development default.
"""

from __future__ import annotations

import os
from datetime import timedelta
from functools import lru_cache

import numpy as np

from seedgraph import TaskContext, UsageError, gen, task
from seedgraph.session import production_env

from .clock import at
from .people import activity, generated_people

__all__ = ["ADMIN_PASSWORD_ENV", "DEV_ADMIN_PASSWORD", "hash_password", "users"]

ADMIN_PASSWORD_ENV = "CHAT_ADMIN_PASSWORD"
DEV_ADMIN_PASSWORD = "chatter-admin-dev"  # development modes only (docs/pack-chat.md)
LOADTEST_PASSWORD = "loadtest-pass"  # every generated user's password
HASH_POOL = 16  # generated users share this many distinct (salted) hashes
# OWASP Password Storage Cheat Sheet, Argon2id minimum: 19 MiB, 2 iterations, 1 lane
TIME_COST, MEMORY_KIB, LANES, HASH_BYTES = 2, 19 * 1024, 1, 32


def hash_password(password: str, salt: bytes) -> str:
    """The Argon2id PHC string of *password* with *salt*."""
    try:
        from argon2.low_level import Type, hash_secret
    except ImportError:
        raise UsageError("the chat pack hashes passwords with argon2-cffi; install it: "
                         "pip install 'seedgraph-db[chat]'") from None
    return hash_secret(password.encode(), salt, time_cost=TIME_COST, memory_cost=MEMORY_KIB,
                       parallelism=LANES, hash_len=HASH_BYTES, type=Type.ID).decode()


@lru_cache(maxsize=4)
def _loadtest_hashes(seed: int) -> tuple[str, ...]:
    rng = np.random.default_rng([seed, 7])
    return tuple(hash_password(LOADTEST_PASSWORD, rng.bytes(16)) for _ in range(HASH_POOL))


@task("users", data="seed_data.yaml", key="email", fields=["password"], tags=["config"],
      params=["user_groups", "admin_password_required", "users", "days",
              "conversations_per_user", "activity_zipf"])
async def users(ctx: TaskContext) -> None:
    """Accounts from the file's groups, then generated users (natural key: email)."""
    rows = ctx.records(ctx.params["user_groups"])
    passwords = rows.pop("password")
    hashes = []
    for record, password in zip(rows, passwords, strict=True):
        if password is not None:
            salt = ctx.rng_for("salt", record.values["email"]).bytes(16)
            hashes.append(hash_password(password, salt))
        elif record.values.get("role") == "admin":
            hashes.append(_admin_hash(ctx))
        else:
            raise UsageError(rows.where("give this user a password", record, "password"))
    rows.set("password_hash", hashes)
    # the registry came first, then the team, then its testers
    age = {"admin": 365.0, "developer": 240.0, "tester": 60.0}
    rows.setdefault("created_at", [at(ctx.as_of, age.get(r.values.get("role", ""), 30.0))
                                   for r in rows])
    rows.setdefault("is_active", [True] * len(rows))
    await ctx.write_records(rows)

    n = int(ctx.params["users"])
    if n == 0:
        return
    days = float(ctx.params["days"])
    # signed up in the year before the activity window
    created = gen.timestamps(ctx.rng, n, ctx.as_of - timedelta(days=days), days=365)
    # a user who chats logs in, last within the activity window (as _rhythm: a day at least)
    busy = activity(ctx.seed, n, ctx.params) > 0
    last_login = gen.timestamps(ctx.rng, n, ctx.as_of, days=max(days, 1))
    last_login[~busy] = np.datetime64("NaT")
    await ctx.write({
        **generated_people(ctx.seed, n),
        "password_hash": gen.choice(ctx.rng, _loadtest_hashes(ctx.seed), n),
        "role": np.full(n, "user", dtype=object),
        "is_active": gen.booleans(ctx.rng, n, 0.98),
        "created_at": created,
        "last_login_at": last_login,
    })


def _admin_hash(ctx: TaskContext) -> str:
    given = os.environ.get(ADMIN_PASSWORD_ENV)
    if given:
        return hash_password(given, os.urandom(16))
    if ctx.params["admin_password_required"] or production_env():  # preflight refused it
        raise UsageError(f"the admin password must be given in {ADMIN_PASSWORD_ENV}")
    return hash_password(DEV_ADMIN_PASSWORD, ctx.rng_for("salt", "admin").bytes(16))
