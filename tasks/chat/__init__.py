"""Chatter: the chat application of source document 004 — accounts, chat profiles,
prompt templates, conversations, documents and the model registry — seeded from
``seed_data.yaml`` in five modes, plus generated users for load tests.

    seedgraph run --pack tasks/chat                          # development (the default)
    seedgraph run --pack tasks/chat --profile demo
    seedgraph run --pack tasks/chat --profile testing --force
    CHAT_ADMIN_PASSWORD=... seedgraph run --pack tasks/chat --profile production
    seedgraph run --pack tasks/chat --set users=5000         # + 5,000 generated users
    seedgraph profiles --pack tasks/chat                     # the mode table

Configuration tables (users, profiles, prompts, the registry) are upserted by their
natural key: an existing row is kept (``--force`` updates it to the file's values) and
no row is ever deleted. Conversations, messages, documents and chunks are rebuilt.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from seedgraph import Profile, UsageError
from seedgraph.session import production_env

from . import accounts, content, library, registry, rules  # noqa: F401  (scanned)
from .accounts import ADMIN_PASSWORD_ENV
from .schema import METADATA

__all__ = ["METADATA", "NAME", "PARAMS", "PROFILES", "preflight"]

NAME = "chat"

PARAMS: dict[str, Any] = {
    # which groups of seed_data.yaml each mode takes
    "user_groups": ["admin", "dev"],
    "profile_groups": ["basic"],
    "prompt_groups": ["basic"],
    "conversation_groups": ["onboarding"],
    "document_groups": ["sample"],
    "admin_password_required": False,  # production: CHAT_ADMIN_PASSWORD must be set
    # generated data for load tests (0 users: the file's rows only)
    "users": 0,
    "days": 90,  # generated activity spans the days before as_of
    "conversations_per_user": 6.0,  # mean; per user it follows a Zipf law
    "activity_zipf": 0.7,  # Zipf exponent of conversations per user
    "turns_per_conversation": 3.0,  # mean user/assistant exchanges (geometric)
    "documents_per_user": 0.3,  # mean (Poisson)
}

_CONFIG_ONLY = "tag:config"

PROFILES = [
    Profile("minimal", "Admin only, 3 basic profiles and prompts, the model registry.",
            only=_CONFIG_ONLY,
            params={"user_groups": ["admin"], "profile_groups": ["basic"],
                    "prompt_groups": ["basic"]}),
    Profile("development", "Admin + 3 developers with known passwords, 3 basic profiles and "
            "prompts, 1 sample conversation, 2 sample documents.",
            params={"user_groups": ["admin", "dev"], "profile_groups": ["basic"],
                    "prompt_groups": ["basic"], "conversation_groups": ["onboarding"],
                    "document_groups": ["sample"]}),
    Profile("demo", "Admin + 3 developers, all 6 profiles and prompts, 2 sample "
            "conversations, 2 sample documents.",
            params={"user_groups": ["admin", "dev"], "profile_groups": ["basic", "extended"],
                    "prompt_groups": ["basic", "extended"],
                    "conversation_groups": ["onboarding", "code_review"],
                    "document_groups": ["sample"]}),
    Profile("testing", "Admin + 2 test users, 3 basic profiles and prompts, 1 test "
            "conversation, no documents: predictable data for automated tests.",
            params={"user_groups": ["admin", "test"], "profile_groups": ["basic"],
                    "prompt_groups": ["basic"], "conversation_groups": ["test"],
                    "document_groups": []}),
    Profile("production", "Admin only (password from CHAT_ADMIN_PASSWORD), 3 basic "
            "profiles and prompts, the model registry; upserts only, never deletes.",
            only=_CONFIG_ONLY,
            params={"user_groups": ["admin"], "profile_groups": ["basic"],
                    "prompt_groups": ["basic"], "admin_password_required": True}),
]
DEFAULT_PROFILE = "development"


def preflight(params: Mapping[str, Any]) -> None:
    """Before anything is written: the production mode needs the admin password."""
    if os.environ.get(ADMIN_PASSWORD_ENV) or "admin" not in params.get("user_groups", ()):
        return
    if params.get("admin_password_required"):
        why = "this mode needs"
    elif (marked := production_env()) is not None:
        why = f"{marked} marks production, which needs"
    else:
        return
    raise UsageError(
        f"{why} the admin password in {ADMIN_PASSWORD_ENV} (there is no default password "
        f"in production); export {ADMIN_PASSWORD_ENV}='...' and run again")
