"""Rules ``seedgraph verify`` checks on the chat pack's data."""

from __future__ import annotations

from typing import Any

import numpy as np

from seedgraph import VerifyContext, invariant

from .content import CHARS_PER_TOKEN, chunks_of
from .library import placeholders


@invariant("one_default_embedding_space", tables=["embedding_spaces"])
async def one_default_embedding_space(ctx: VerifyContext) -> list[Any]:
    """Exactly one embedding space is the default."""
    rows = await ctx.query("SELECT COUNT(*) FROM embedding_spaces WHERE is_default")
    n = int(rows[0][0])
    return [] if n == 1 else [f"{n} default embedding spaces"]


@invariant("template_variables_declared", tables=["prompts"])
async def template_variables_declared(ctx: VerifyContext) -> list[Any]:
    """Every {variable} in a template is declared in 'variables', and no other."""
    cols = await ctx.read("prompts", ["name", "template", "variables"])
    return [(name, sorted(placeholders(t) ^ set(v)))
            for name, t, v in zip(cols["name"], cols["template"], cols["variables"],
                                  strict=True) if placeholders(t) != set(v)]


@invariant("passwords_hashed", tables=["users"])
async def passwords_hashed(ctx: VerifyContext) -> list[Any]:
    """Every password is an Argon2id hash (a PHC string), never plain text."""
    return await ctx.query("SELECT email FROM users WHERE password_hash NOT LIKE '$argon2id$%'")


@invariant("turns_alternate", tables=["messages"])
async def turns_alternate(ctx: VerifyContext) -> list[Any]:
    """After an optional system message, user and assistant take turns, starting with
    the user; positions run 0, 1, 2, ... and times never go back."""
    return await ctx.query(
        "SELECT a.conversation_id, b.position FROM messages a JOIN messages b "
        "ON b.conversation_id = a.conversation_id AND b.position = a.position + 1 "
        "WHERE a.role = b.role OR b.role = 'system' OR b.created_at < a.created_at "
        "OR (a.role = 'system' AND b.role <> 'user') "
        "UNION ALL SELECT conversation_id, MAX(position) FROM messages "
        "GROUP BY conversation_id HAVING MAX(position) + 1 <> COUNT(*) OR MIN(position) <> 0")


@invariant("messages_within_conversation", tables=["messages", "conversations"])
async def messages_within_conversation(ctx: VerifyContext) -> list[Any]:
    """A conversation's first message is at its start and its last at its update."""
    return await ctx.query(
        "SELECT c.id FROM conversations c JOIN messages m ON m.conversation_id = c.id "
        "GROUP BY c.id, c.created_at, c.updated_at "
        "HAVING MIN(m.created_at) <> c.created_at OR MAX(m.created_at) <> c.updated_at")


@invariant("token_counts_follow_text", tables=["messages"])
async def token_counts_follow_text(ctx: VerifyContext) -> list[Any]:
    """A message's token count is its length over about four characters."""
    cols = await ctx.read("messages", ["id", "content", "token_count"])
    expect = np.maximum(1, np.ceil(np.array([len(c) for c in cols["content"]])
                                   / CHARS_PER_TOKEN))
    return cols["id"][cols["token_count"] != expect].tolist()[:20]


@invariant("documents_chunked", tables=["documents", "document_chunks"])
async def documents_chunked(ctx: VerifyContext) -> list[Any]:
    """A document's chunk_count, size and chunks agree with its content."""
    docs = await ctx.read("documents", ["id", "content", "size_bytes", "chunk_count"])
    chunks = await ctx.read("document_chunks", ["document_id"])
    have = dict(zip(*np.unique(chunks["document_id"], return_counts=True), strict=True))
    bad = []
    for d, content, size, count in zip(docs["id"], docs["content"], docs["size_bytes"],
                                       docs["chunk_count"], strict=True):
        if len(content.encode()) != size or len(chunks_of(content)) != count \
                or have.get(d, 0) != count:
            bad.append(int(d))
    return bad[:20]


@invariant("embeddings_fit_space", tables=["document_chunks", "embedding_spaces"])
async def embeddings_fit_space(ctx: VerifyContext) -> list[Any]:
    """Every chunk's embedding has its space's dimension and unit length."""
    chunks = await ctx.read("document_chunks", ["id", "embedding_space_id", "embedding"])
    spaces = await ctx.read("embedding_spaces", ["id", "dimension"])
    dims = dict(zip(spaces["id"].tolist(), spaces["dimension"].tolist(), strict=True))
    bad = []
    for i, s, e in zip(chunks["id"], chunks["embedding_space_id"], chunks["embedding"],
                       strict=True):
        v = np.asarray(e, dtype=np.float64)
        if len(v) != dims.get(int(s)) or abs(float(np.linalg.norm(v)) - 1.0) > 1e-3:
            bad.append(int(i))
    return bad[:20]
