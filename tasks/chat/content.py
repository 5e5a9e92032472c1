"""What users make: conversations with their messages, documents with their chunks.

The file's samples come first (their groups chosen by the mode); generated users
(``--set users=N``) then add conversations whose number per user follows a Zipf law,
started on a daily rhythm (busy working hours, quiet nights and weekends), with
alternating user/assistant turns whose timestamps increase and whose token counts
follow their text (about four characters a token).
"""

from __future__ import annotations

import re
from datetime import timedelta

import numpy as np

from seedgraph import TaskContext, UsageError, gen, task

from .clock import at, naive
from .people import activity, generated_people

__all__ = ["chunks_of", "conversations", "document_chunks", "documents", "messages",
           "tokens"]

CHARS_PER_TOKEN = 4.0  # OpenAI's rule of thumb for English text
CHUNK_WORDS = 120  # a document chunk holds whole paragraphs up to about this many words
# share of conversations started in each hour of the day (UTC): office hours peak
HOURLY = np.array([1, 1, 1, 1, 1, 2, 3, 5, 8, 10, 11, 10, 8, 9, 10, 10, 9, 7, 6, 5, 4, 3, 2, 1],
                  dtype=np.float64)
WEEKDAY = np.array([1.0, 1.05, 1.05, 1.0, 0.9, 0.45, 0.4])  # Monday .. Sunday
POOL = 600  # distinct generated texts per kind

_TOPICS = ["Python", "SQL", "Kubernetes", "React", "pandas", "Rust", "Docker", "PostgreSQL",
           "TypeScript", "Terraform", "Go", "Git", "Redis", "GraphQL", "Linux"]
_ASKS = ["How do I {t} in {x}?", "Why does my {x} {o} fail with a timeout?",
         "Can you explain {o} in {x} with an example?", "What is the best way to {t} with {x}?",
         "Is it safe to {t} in production {x}?", "Write a short {x} snippet to {t}."]
_TASKS = ["paginate results", "parse dates", "cache responses", "retry failed requests",
          "stream a large file", "write a unit test", "profile memory use", "rename a column",
          "handle time zones", "validate input"]
_THINGS = ["connection pool", "migration", "query plan", "build", "deployment", "test suite",
           "index", "background job"]
_OPENERS = ["Sure.", "Good question.", "Here is one way.", "Short answer: yes.",
            "It depends on your data.", "Two things to check."]
_TITLES = ["Help with {x} {o}", "{x}: how to {t}", "Debugging a {x} {o}", "Question about {x}",
           "Planning the {o} change", "Ideas for {t}"]


def tokens(text: np.ndarray) -> np.ndarray:
    """Token counts of *text*: about one per four characters, at least one."""
    lengths = np.fromiter((len(t) for t in text), dtype=np.int64, count=len(text))
    return np.maximum(1, np.ceil(lengths / CHARS_PER_TOKEN)).astype(np.int64)


def _fill(rng: np.random.Generator, templates: list[str], n: int) -> np.ndarray:
    out = np.empty(n, dtype=object)
    t = rng.integers(0, len(templates), n)
    x, o, k = (rng.integers(0, len(v), n) for v in (_TOPICS, _THINGS, _TASKS))
    for i in range(n):
        out[i] = templates[t[i]].format(x=_TOPICS[x[i]], o=_THINGS[o[i]], t=_TASKS[k[i]])
    return out


def _rhythm(ctx: TaskContext, n: int, days: float) -> np.ndarray:
    """*n* start times within *days* before as_of, on the daily and weekly rhythm."""
    end = np.datetime64(naive(ctx.as_of), "s")
    first_day = (end - np.timedelta64(int(days * 86_400), "s")).astype("datetime64[D]")
    span = max(1, int(days))
    day = first_day + np.arange(span).astype("timedelta64[D]")
    dow = (day.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday
    on = gen.choice(ctx.rng, day, n, weights=WEEKDAY[dow])
    hour = gen.choice(ctx.rng, np.arange(24), n, weights=HOURLY)
    second = ctx.rng.integers(0, 3600, n)
    start = on.astype("datetime64[s]") + (hour * 3600 + second).astype("timedelta64[s]")
    return np.minimum(start, end - np.timedelta64(3600, "s")).astype("datetime64[us]")


@task("conversations", data="seed_data.yaml", upstream=["users", "chat_profiles"],
      params=["conversation_groups", "users", "days", "conversations_per_user",
              "activity_zipf"])
async def conversations(ctx: TaskContext) -> None:
    """The file's sample conversations, then the generated users' (Zipf per user)."""
    rows = ctx.records(ctx.params["conversation_groups"])
    start = [at(ctx.as_of, 3 + 4 * i) for i in range(len(rows))]
    rows.setdefault("created_at", start)
    rows.setdefault("updated_at", [s + timedelta(minutes=12 + 5 * i)
                                   for i, s in enumerate(start)])
    await ctx.write_records(rows)

    n = int(ctx.params["users"])
    counts = activity(ctx.seed, n, ctx.params)
    total = int(counts.sum())
    if total == 0:
        return
    ids = await ctx.read("users", ["id", "email"])
    by_email = dict(zip(ids["email"].tolist(), ids["id"].tolist(), strict=True))
    emails = generated_people(ctx.seed, n)["email"]
    missing = [e for e in emails if e not in by_email]
    if missing:
        raise UsageError(f"generated user {missing[0]} is not in users; rerun users too: "
                         "--only 'users+'")
    user_ids = np.array([by_email[e] for e in emails], dtype=np.int64)
    profiles = (await ctx.read("chat_profiles", ["id"]))["id"]
    if len(profiles) == 0:
        raise UsageError("no chat profiles to start conversations with; seed chat_profiles")
    file_titles = set(rows.get("title"))
    titles = _fill(ctx.rng, _TITLES, total)
    titles[np.isin(titles, list(file_titles))] = "Untitled conversation"
    created = _rhythm(ctx, total, float(ctx.params["days"]))
    minutes = np.clip(ctx.rng.lognormal(np.log(15), 0.9, total), 1, 600)
    updated = np.minimum(created + (minutes * 60).astype(np.int64).astype("timedelta64[s]"),
                         np.datetime64(naive(ctx.as_of), "s")).astype("datetime64[us]")
    await ctx.write({
        "user_id": np.repeat(user_ids, counts),
        # the first profiles are the popular ones
        "profile_id": gen.choice(ctx.rng, profiles, total, weights=1.0 / gen.ids(len(profiles))),
        "title": titles,
        "created_at": created,
        "updated_at": updated,
    })


@task("messages", data="seed_data.yaml", upstream=["conversations"],
      params=["conversation_groups", "turns_per_conversation"])
async def messages(ctx: TaskContext) -> None:
    """Turns of every conversation: roles alternate, times rise from the conversation's
    start to its last update, token counts follow the text. A conversation with
    messages in the file gets those; every other one gets generated turns."""
    conv = await ctx.read("conversations", ["id", "created_at", "updated_at"])
    rows = ctx.records(ctx.params["conversation_groups"])
    await ctx.resolve(rows)  # each message names its conversation by title
    conv_id = np.array(rows.get("conversation_id"), dtype=np.int64)
    where = np.searchsorted(conv["id"], conv_id)
    position = gen.numbered_within(where) - 1
    length = np.bincount(where, minlength=len(conv["id"]))
    rows.set("position", position.tolist())
    rows.set("created_at", _times(conv, where, position, length[where]).tolist())
    rows.set("token_count", tokens(np.array(rows.get("content"), dtype=object)).tolist())
    await ctx.write_records(rows)

    todo = np.flatnonzero(length == 0)
    if len(todo) == 0:
        return
    mean = max(1.0, float(ctx.params["turns_per_conversation"]))
    turns = ctx.rng.geometric(1.0 / mean, len(todo))
    which = np.repeat(todo, 2 * turns)
    pos = gen.numbered_within(which) - 1
    n = len(which)
    asks = _fill(ctx.rng, _ASKS, POOL)
    answers = _answers(ctx, POOL)
    role = np.where(pos % 2 == 0, "user", "assistant").astype(object)
    content = np.where(pos % 2 == 0, gen.choice(ctx.rng, asks, n),
                       gen.choice(ctx.rng, answers, n))
    await ctx.write({
        "conversation_id": conv["id"][which],
        "position": pos,
        "role": role,
        "content": content,
        "token_count": tokens(content),
        "created_at": _times(conv, which, pos, np.repeat(2 * turns, 2 * turns)),
    })


def _times(conv: dict[str, np.ndarray], where: np.ndarray, position: np.ndarray,
           length: np.ndarray) -> np.ndarray:
    """The first message at the conversation's start, the last at its update, the rest
    evenly between, to the second (a one-message conversation: at its start)."""
    start = conv["created_at"][where].astype("datetime64[s]")
    span = (conv["updated_at"][where].astype("datetime64[s]") - start).astype(np.int64)
    step = np.where(length > 1, position / np.maximum(length - 1, 1), 0.0)
    return (start + (span * step).astype("timedelta64[s]")).astype("datetime64[us]")


def _answers(ctx: TaskContext, n: int) -> np.ndarray:
    fk = ctx.faker
    out = np.empty(n, dtype=object)
    opener = ctx.rng.integers(0, len(_OPENERS), n)
    for i in range(n):
        out[i] = f"{_OPENERS[opener[i]]} " + fk.paragraph(nb_sentences=int(2 + i % 4))
    return out


@task("documents", data="seed_data.yaml", upstream=["users"],
      params=["document_groups", "users", "days", "documents_per_user"])
async def documents(ctx: TaskContext) -> None:
    """The file's sample documents, then the generated users' uploads (Poisson per user),
    each processed into chunks."""
    rows = ctx.records(ctx.params["document_groups"])
    body = rows.get("content")
    rows.set("size_bytes", [len(c.encode()) for c in body])
    rows.set("chunk_count", [len(chunks_of(c)) for c in body])
    rows.setdefault("status", ["processed"] * len(rows))
    rows.setdefault("created_at", [at(ctx.as_of, 200 - 30 * i) for i in range(len(rows))])
    await ctx.write_records(rows)

    n = int(ctx.params["users"])
    if n == 0:
        return
    ids = await ctx.read("users", ["id", "email"])
    by_email = dict(zip(ids["email"].tolist(), ids["id"].tolist(), strict=True))
    owners = np.array([by_email[e] for e in generated_people(ctx.seed, n)["email"]])
    owner = gen.children_per_parent(ctx.rng, owners,
                                    mean=float(ctx.params["documents_per_user"]))
    total = len(owner)
    if total == 0:
        return
    fk = ctx.faker
    title = gen.choice(ctx.rng, [fk.catch_phrase() for _ in range(POOL)], total)
    paragraphs = ctx.rng.integers(2, 9, total)
    content = np.array(["\n\n".join(fk.paragraph(nb_sentences=5) for _ in range(int(k)))
                        for k in paragraphs], dtype=object)
    kind = gen.choice(ctx.rng, ["text/plain", "text/markdown", "application/pdf"], total,
                      weights=[0.5, 0.3, 0.2])
    ext = np.where(kind == "text/plain", ".txt", np.where(kind == "text/markdown", ".md", ".pdf"))
    slug = [re.sub(r"[^a-z0-9]+", "-", t.lower()).strip("-") for t in title]
    tag = gen.choice(ctx.rng, ["report", "notes", "spec", "manual", "faq", "policy"], total)
    await ctx.write({
        "owner_id": owner,
        "title": title,
        "filename": np.array([s + e for s, e in zip(slug, ext, strict=True)], dtype=object),
        "content_type": kind,
        "content": content,
        "size_bytes": np.array([len(c.encode()) for c in content]),
        "status": np.full(total, "processed", dtype=object),
        "chunk_count": np.array([len(chunks_of(c)) for c in content]),
        "metadata": [{"source": "upload", "tags": [t], "language": "en"} for t in tag],
        "created_at": _rhythm(ctx, total, float(ctx.params["days"])),
    })


@task("document_chunks", upstream=["documents", "embedding_spaces"])
async def document_chunks(ctx: TaskContext) -> None:
    """Each document's chunks with an embedding in the default space: unit vectors,
    chunks of one document near each other (a shared direction plus noise)."""
    spaces = await ctx.read("embedding_spaces", ["id", "dimension", "is_default"])
    default = np.flatnonzero(spaces["is_default"])
    if len(default) != 1:
        raise UsageError(f"expected exactly one default embedding space, found {len(default)}")
    space, dim = int(spaces["id"][default[0]]), int(spaces["dimension"][default[0]])
    docs = await ctx.read("documents", ["id", "content"])
    for lo in range(0, len(docs["id"]), 500):  # bounded memory: 500 documents at a time
        doc_ids, texts, first, last, index, owner = [], [], [], [], [], []
        batch = docs["id"][lo:lo + 500]
        for j, (d, content) in enumerate(zip(batch, docs["content"][lo:lo + 500],
                                             strict=True)):
            for i, (text, a, b) in enumerate(chunks_of(content)):
                doc_ids.append(int(d))
                texts.append(text)
                first.append(a)
                last.append(b)
                index.append(i)
                owner.append(j)
        n = len(texts)
        if n == 0:
            continue
        rng = ctx.rng_for("embeddings", int(batch[0]))
        base = rng.standard_normal((len(batch), dim))
        vec = base[np.array(owner)] + 0.6 * rng.standard_normal((n, dim))
        vec /= np.linalg.norm(vec, axis=1, keepdims=True)
        text_arr = np.array(texts, dtype=object)
        await ctx.write({
            "document_id": np.array(doc_ids),
            "embedding_space_id": np.full(n, space),
            "chunk_index": np.array(index),
            "content": text_arr,
            "token_count": tokens(text_arr),
            "embedding": vec.astype(np.float32),
            "metadata": [{"start_char": a, "end_char": b} for a, b in zip(first, last,
                                                                           strict=True)],
        })


def chunks_of(content: str) -> list[tuple[str, int, int]]:
    """A document's chunks: whole paragraphs, up to about CHUNK_WORDS words each, with
    their character range in the document."""
    out: list[tuple[str, int, int]] = []
    start = end = words = 0
    for m in re.finditer(r"\S(?:[^\n]|\n(?![ \t]*\n))*", content):
        n = len(m.group().split())
        if words and words + n > CHUNK_WORDS:
            out.append((content[start:end], start, end))
            words = 0
        if words == 0:
            start = m.start()
        end, words = m.start() + len(m.group().rstrip()), words + n
    if words:
        out.append((content[start:end], start, end))
    return out
