"""pytest plugin: seed a template database once per session, hand each test a fresh copy.

Registered through the ``pytest11`` entry point ``seedgraph``, so it is active in every
project where seedgraph-db is installed. It therefore imports nothing heavy at import
time: seedgraph, SQLAlchemy, asyncpg and asyncio are imported inside the functions that
need them, the first time a test asks for a seedgraph fixture.

Fixtures (see docs/testing-with-pytest.md):

``seedgraph_db``
    the URL of a fresh copy of the seeded template, dropped after the test;
    ``@pytest.mark.seedgraph(profile=..., params=...)`` picks another template.
``seedgraph_template``
    a factory, ``seedgraph_template(pack=..., profile=..., ...) -> Template``, one template
    per distinct arguments, seeded on first use; ``Template.copy()`` / ``Template.drop()``.

On PostgreSQL a copy is ``CREATE DATABASE copy TEMPLATE template``; on SQLite a file copy
(both in :mod:`seedgraph.backends.templates`, imported when a fixture is first used).
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import os
import time
from collections.abc import Callable, Coroutine, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import pytest

if TYPE_CHECKING:
    from concurrent.futures import Future

    from seedgraph.backends.templates import Backend, Loop

__all__ = ["Template", "TemplateSpec"]

_T = TypeVar("_T")

_INI: tuple[tuple[str, Literal["string", "linelist"], str], ...] = (
    ("seedgraph_pack", "string", "the seedgraph pack to seed (path or module), e.g. tasks/chat"),
    ("seedgraph_profile", "string", "the pack profile to seed, e.g. testing"),
    ("seedgraph_only", "string", "selector of the tasks to seed (like seedgraph run --only)"),
    ("seedgraph_exclude", "string", "selector of tasks to leave out (--exclude)"),
    ("seedgraph_seed", "string", "random seed (default: the config's, else 42)"),
    ("seedgraph_as_of", "string", "reference date, YYYY-MM-DD (default: the config's, else "
                                  "today)"),
    ("seedgraph_params", "linelist", "parameter overrides, one key=value a line (--set)"),
    ("seedgraph_url", "string", "where templates and copies live: a PostgreSQL URL whose "
                                "user may CREATE DATABASE, or sqlite (a temporary directory, "
                                "the default) or sqlite:///DIRECTORY"),
)
_MARKER_KEYS = ("pack", "profile", "only", "exclude", "seed", "as_of", "params")
_TEMPLATE_PREFIX = "sg_tpl_"
_COPY_PREFIX = "sg_t_"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("seedgraph", "seedgraph: seeded test databases")
    group.addoption("--seedgraph-url", dest="seedgraph_url", default=None, metavar="URL",
                    help="where seedgraph's template and copies live (overrides the "
                         "seedgraph_url ini option): postgresql://user@host/db or "
                         "sqlite[:///DIRECTORY]")
    for name, kind, text in _INI:
        parser.addini(name, text, type=kind)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "seedgraph(pack=, profile=, only=, exclude=, seed=, as_of=, params=): which seeded "
        "template the test's seedgraph_db copies (overrides the seedgraph_* ini options)")


@dataclass(frozen=True, slots=True)
class TemplateSpec:
    """What a template is seeded with; None means "the default" (config, then seedgraph's)."""

    pack: str | None = None
    profile: str | None = None
    only: str | None = None
    exclude: str | None = None
    seed: int | None = None
    as_of: str | None = None
    params: tuple[tuple[str, str], ...] = ()  # (key, JSON value), sorted: hashable

    @property
    def digest(self) -> str:
        text = json.dumps(asdict(self), sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:12]

    def describe(self) -> str:
        parts = [f"{k}={v!r}" for k, v in asdict(self).items()
                 if v not in (None, ()) and k != "params"]
        parts += [f"{k}={v}" for k, v in self.params]
        return ", ".join(parts) or "defaults"


@dataclass(slots=True)
class Stats:
    """What the session did; printed in the terminal summary."""

    seeded: list[tuple[str, float]] = field(default_factory=list)  # (spec, seconds)
    copy_seconds: list[float] = field(default_factory=list)  # how long each test waited
    drop_seconds: list[float] = field(default_factory=list)


class Template:
    """One seeded template database; :meth:`copy` gives a fresh database with its data."""

    def __init__(self, store: _Store, spec: TemplateSpec, name: str, seconds: float) -> None:
        self._store = store
        self.spec = spec
        self.name = name
        self.seconds = seconds  # how long seeding it took

    def copy(self) -> str:
        """A new database holding the template's data; returns its URL
        (``postgresql+asyncpg://...`` or ``sqlite+aiosqlite:///...``). Drop it with
        :meth:`drop`; whatever is left is dropped when the session ends."""
        return self._store.copy(self)

    def drop(self, url: str) -> None:
        """Drop a copy made by :meth:`copy`."""
        self._store.drop(url)

    def __repr__(self) -> str:
        return f"<seedgraph Template {self.name} ({self.spec.describe()})>"


class _Store:
    """The session's templates and copies."""

    def __init__(self, config: pytest.Config, tmp: Callable[[], Path]) -> None:
        self._config = config
        self._tmp = tmp
        self._backend: Backend | None = None
        self._backend_error: str | None = None
        self._loop: Loop | None = None
        self._templates: dict[TemplateSpec, Template | str] = {}  # str: why seeding failed
        self._copies: dict[str, str] = {}  # url -> name
        self._spares: dict[str, tuple[str, Future[None]]] = {}  # template -> next copy
        self._dropping: list[tuple[str, Future[None]]] = []  # copies being dropped
        self._n = itertools.count()
        self.stats = Stats()
        workerinput = getattr(config, "workerinput", None)
        worker = str(workerinput["workerid"]) if workerinput else "main"
        # one name space per process: xdist workers and concurrent sessions never meet
        self.tag = f"{worker}_{os.getpid()}"

    # -- settings -------------------------------------------------------------------
    def _ini(self, name: str) -> str | None:
        value = self._config.getini(name)
        return (str(value).strip() or None) if value is not None else None

    def _pack(self, ref: str | None) -> str | None:
        if ref is None:
            return None
        path = self._config.rootpath / ref
        return str(path.resolve()) if path.exists() else ref

    def spec(self, **given: Any) -> TemplateSpec:
        unknown = sorted(set(given) - set(_MARKER_KEYS))
        if unknown:
            raise pytest.UsageError(
                f"seedgraph: unknown argument(s) {', '.join(unknown)}; use "
                f"{', '.join(_MARKER_KEYS)}")
        from seedgraph.config import parse_sets
        from seedgraph.errors import UsageError

        def pick(key: str) -> Any:
            value = given.get(key)
            return value if value is not None else self._ini(f"seedgraph_{key}")

        seed = pick("seed")
        if seed is not None:
            try:
                seed = int(seed)
            except ValueError:
                raise pytest.UsageError(
                    f"seedgraph: seedgraph_seed must be a whole number, got {seed!r}") from None
        try:
            params: dict[str, Any] = parse_sets(self._config.getini("seedgraph_params") or [])
        except UsageError as exc:
            raise pytest.UsageError(f"seedgraph: seedgraph_params: {exc}") from None
        extra = given.get("params") or {}
        if not isinstance(extra, Mapping):
            raise pytest.UsageError(f"seedgraph: params must be a dict, got {extra!r}")
        params.update(extra)
        as_of = pick("as_of")
        return TemplateSpec(
            pack=self._pack(pick("pack")), profile=pick("profile"), only=pick("only"),
            exclude=pick("exclude"), seed=seed,
            as_of=None if as_of is None else str(as_of),
            params=tuple(sorted((k, json.dumps(v, sort_keys=True)) for k, v in params.items())))

    # -- the backend ----------------------------------------------------------------
    def backend(self) -> Backend:
        if self._backend_error is not None:  # failed before: say so again, at once
            raise pytest.UsageError(self._backend_error)
        if self._backend is None:
            try:
                self._backend = self._open_backend()
            except pytest.UsageError as exc:
                self._backend_error = str(exc)
                raise
        return self._backend

    def _open_backend(self) -> Backend:
        from seedgraph.backends.templates import open_backend

        raw = (self._config.getoption("seedgraph_url", None)
               or self._ini("seedgraph_url") or "").strip()
        return open_backend(raw, self._config.rootpath, self._tmp, self._event_loop)

    def _event_loop(self) -> Loop:
        if self._loop is None:
            from seedgraph.backends.templates import Loop

            self._loop = Loop()
        return self._loop

    def _run(self, coro: Coroutine[Any, Any, _T]) -> _T:
        return self._event_loop().run(coro)

    # -- templates and copies ---------------------------------------------------------
    def template(self, spec: TemplateSpec) -> Template:
        known = self._templates.get(spec)
        if isinstance(known, Template):
            return known
        if isinstance(known, str):  # failed before: fail again at once, not seed again
            pytest.fail(known, pytrace=False)
        try:
            made = self._seed(spec)
        except pytest.UsageError as exc:
            self._templates[spec] = str(exc)
            raise
        except pytest.fail.Exception as exc:
            self._templates[spec] = str(exc.msg)
            raise
        self._templates[spec] = made
        return made

    def _seed(self, spec: TemplateSpec) -> Template:
        from seedgraph import api
        from seedgraph.config import load_config
        from seedgraph.errors import SeedgraphError

        if spec.pack is None and load_config().pack is None:
            raise pytest.UsageError(
                "seedgraph: no pack configured for seedgraph_db; set seedgraph_pack (e.g. "
                "seedgraph_pack = tasks/chat in [pytest] or [tool.pytest.ini_options]), or "
                "pack = \"...\" in seedgraph.toml / [tool.seedgraph], or pass pack= to "
                "@pytest.mark.seedgraph or seedgraph_template()")
        backend = self.backend()
        name = f"{_TEMPLATE_PREFIX}{spec.digest}_{self.tag}"
        backend.create_empty(name)
        options = api.Options(
            pack=spec.pack, db=backend.url_for(name), profile=spec.profile, only=spec.only,
            exclude=spec.exclude, seed=spec.seed, as_of=spec.as_of,
            sets={k: json.loads(v) for k, v in spec.params},
            concurrency=2)
        t0 = time.perf_counter()
        try:
            result = self._run(api.run(options, handle_signals=False))
        except Exception as exc:  # recorded: the next test fails at once, seeds nothing
            backend.drop(name)
            why = str(exc) if isinstance(exc, SeedgraphError) else f"{type(exc).__name__}: {exc}"
            pytest.fail(f"seedgraph could not seed the template ({spec.describe()}): {why}",
                        pytrace=False)
        if result.status != "done":
            backend.drop(name)
            failed = [f"{o.table}: {o.error}" for o in result.outcomes if o.status != "done"]
            pytest.fail(f"seedgraph could not seed the template ({spec.describe()}): run "
                        f"{result.status}; " + "; ".join(failed[:3]), pytrace=False)
        backend.after_seeding(name)
        seconds = time.perf_counter() - t0
        self.stats.seeded.append((spec.describe(), seconds))
        return Template(self, spec, name, seconds)

    def _new_name(self) -> str:
        return f"{_COPY_PREFIX}{self.tag}_{next(self._n)}"

    def copy(self, template: Template) -> str:
        backend = self.backend()
        t0 = time.perf_counter()
        name = None
        spare = self._spares.pop(template.name, None)
        if spare is not None:
            try:
                spare[1].result()
                name = spare[0]
            except Exception:  # made again below, where its error is raised
                backend.drop(spare[0])
        if name is None:
            name = self._new_name()
            backend.copy(template.name, name)
        self.stats.copy_seconds.append(time.perf_counter() - t0)
        url = backend.url_for(name)
        self._copies[url] = name
        if backend.prefetch:
            spare_name = self._new_name()
            self._spares[template.name] = (spare_name,
                                           backend.copy_later(template.name, spare_name))
        return url

    def drop(self, url: str) -> None:
        name = self._copies.pop(url, None)
        if name is None:
            raise ValueError("not a copy this session made (or dropped already)")
        backend = self.backend()
        t0 = time.perf_counter()
        if backend.prefetch:  # queued behind the next copy; the test need not wait
            self._dropping.append((name, backend.drop_later(name)))
        else:
            backend.drop(name)
        self.stats.drop_seconds.append(time.perf_counter() - t0)

    def close(self) -> None:
        try:
            if self._backend is not None:
                left = list(self._copies.values())
                for name, pending in self._spares.values():
                    with contextlib.suppress(Exception):
                        pending.result()
                    left.append(name)
                for name, pending in self._dropping:
                    if pending.exception() is not None:  # waits; a failed drop is tried again
                        left.append(name)
                self._spares.clear()
                self._dropping.clear()
                self._copies.clear()
                for name in left:
                    self._backend.drop(name)
                for made in self._templates.values():
                    if isinstance(made, Template):
                        self._backend.drop(made.name)
                self._backend.close()
        finally:
            if self._loop is not None:
                self._loop.close()


_STORE = pytest.StashKey[_Store]()


@pytest.fixture(scope="session")
def _seedgraph_store(pytestconfig: pytest.Config,
                     tmp_path_factory: pytest.TempPathFactory) -> Iterator[_Store]:
    store = _Store(pytestconfig, lambda: tmp_path_factory.mktemp("seedgraph"))
    pytestconfig.stash[_STORE] = store
    try:
        yield store
    finally:
        store.close()


@pytest.fixture(scope="session")
def seedgraph_template(_seedgraph_store: _Store) -> Callable[..., Template]:
    """``seedgraph_template(pack=, profile=, only=, exclude=, seed=, as_of=, params=)``: the
    template seeded with the seedgraph_* ini options, overridden by the arguments given
    (``params`` adds to seedgraph_params); seeded the first time each distinct set of
    arguments is asked for, then shared by the whole session."""

    def get(**given: Any) -> Template:
        try:
            return _seedgraph_store.template(_seedgraph_store.spec(**given))
        except pytest.UsageError as exc:  # a setting to fix: its message, no traceback
            pytest.fail(str(exc), pytrace=False)

    return get


@pytest.fixture
def seedgraph_db(request: pytest.FixtureRequest,
                 seedgraph_template: Callable[..., Template]) -> Iterator[str]:
    """The URL of a fresh database holding the seeded data, dropped after the test. The
    closest ``@pytest.mark.seedgraph(...)`` chooses the template."""
    marker = request.node.get_closest_marker("seedgraph")
    if marker is not None and marker.args:
        pytest.fail(
            "seedgraph: @pytest.mark.seedgraph takes keyword arguments only, e.g. "
            "@pytest.mark.seedgraph(profile=\"testing\")", pytrace=False)
    template = seedgraph_template(**(marker.kwargs if marker is not None else {}))
    url = template.copy()
    try:
        yield url
    finally:
        template.drop(url)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    store = config.stash.get(_STORE, None)
    if store is None or not store.stats.seeded:
        return
    stats = store.stats
    line = (f"seedgraph: {len(stats.seeded)} template(s) seeded ("
            + "; ".join(f"{spec}: {s:.2f} s" for spec, s in stats.seeded) + ")")
    if stats.copy_seconds:
        n = len(stats.copy_seconds)
        line += (f"; {n} cop{'y' if n == 1 else 'ies'}, tests waited "
                 f"{1000 * sum(stats.copy_seconds) / n:.1f} ms each")
    if stats.drop_seconds:
        line += f", dropped in {1000 * sum(stats.drop_seconds) / len(stats.drop_seconds):.1f} ms"
    terminalreporter.write_line(line)
