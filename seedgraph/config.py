"""Project configuration: ``seedgraph.toml``, ``[tool.seedgraph]`` in ``pyproject.toml``,
or a file given with ``--config`` (TOML or YAML), plus ``--set key=value`` parsing.

Precedence for every setting, lowest first: built-in default, config file,
environment (``SEEDGRAPH_DATABASE_URL``), command-line flag.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

from seedgraph.errors import UsageError

__all__ = ["ENGINE_KEYS", "Config", "Settings", "load_config", "parse_as_of", "parse_sets",
           "parse_value"]

ENGINE_KEYS = frozenset(
    {"pack", "db", "seed", "as_of", "profile", "params", "profiles", "concurrency", "chunk_rows",
     "auto", "data", "columns"}
)


@dataclass(frozen=True, slots=True)
class Settings:
    """The settings a config file and a command's flags share; None: not given. A flag
    wins over the config, the config over the defaults."""

    pack: str | None = None
    db: str | None = None
    seed: int | None = None
    as_of: str | None = None
    profile: str | None = None
    concurrency: int | None = None
    chunk_rows: int | None = None
    auto: bool = False  # infer a task for every table the pack does not fill


@dataclass(frozen=True, slots=True, kw_only=True)
class Config(Settings):
    """What the config file said; ``base_dir`` anchors relative paths."""

    base_dir: Path
    source: Path | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    profiles: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    extra: Mapping[str, Any] = field(default_factory=dict)  # non-engine keys, for the pack hook
    # the pack's data files replaced: file name -> absolute path; "" names the pack's
    # only data file
    data: Mapping[str, str] = field(default_factory=dict)
    # per-column overrides of what --auto infers: "table.column" -> {meaning|values|min,max}
    columns: Mapping[str, Any] = field(default_factory=dict)


def _read_file(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read config file {path}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise UsageError(f"config file {path} is not UTF-8 text (byte {exc.start}); save it "
                         "as UTF-8") from None
    try:
        if path.suffix in {".yaml", ".yml"}:
            import yaml

            doc = yaml.safe_load(text) or {}
        elif path.suffix == ".json":
            doc = json.loads(text)
        else:
            doc = tomllib.loads(text)
    except Exception as exc:
        raise UsageError(f"config file {path} does not parse: {exc}") from exc
    if not isinstance(doc, dict):
        raise UsageError(f"config file {path} must hold a table/mapping at the top level")
    if path.name == "pyproject.toml":
        doc = doc.get("tool", {}).get("seedgraph", {})
    out: dict[str, Any] = _jsonable(doc)
    return out


def _jsonable(value: Any) -> Any:
    """YAML/TOML dates become ISO strings so params stay JSON-serialisable."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return value


def _discover(start: Path) -> Path | None:
    for folder in [start, *start.parents]:
        toml = folder / "seedgraph.toml"
        if toml.exists():
            return toml
        pyproject = folder / "pyproject.toml"
        if pyproject.exists():
            try:
                if "seedgraph" in tomllib.loads(pyproject.read_text()).get("tool", {}):
                    return pyproject
            except (OSError, tomllib.TOMLDecodeError):
                continue
    return None


def load_config(explicit: Path | None = None, cwd: Path | None = None) -> Config:
    """Load ``explicit`` or the nearest seedgraph.toml / pyproject.toml [tool.seedgraph]."""
    here = cwd or Path.cwd()
    path = explicit if explicit is not None else _discover(here)
    if path is None:
        return Config(base_dir=here)
    if explicit is not None and not path.exists():
        raise UsageError(f"config file {path} does not exist")
    doc = _read_file(path)
    project = _discover(here) if explicit is not None else None
    base = _read_file(project) if project is not None and project != path else {}
    merged = {**base, **doc}
    params = merged.get("params", {})
    profiles = merged.get("profiles", {})
    if not isinstance(params, dict) or not isinstance(profiles, dict):
        raise UsageError(f"config {path}: 'params' and 'profiles' must be tables/mappings")
    for name, body in profiles.items():
        if not isinstance(body, dict):
            raise UsageError(f"config {path}: profile '{name}' must be a table/mapping")
    seed = merged.get("seed")
    concurrency = merged.get("concurrency")
    chunk_rows = merged.get("chunk_rows")
    for key, value, low in (("seed", seed, 0), ("concurrency", concurrency, 1),
                            ("chunk_rows", chunk_rows, 1)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                  or not low <= value < 2**63):
            raise UsageError(f"config {path}: '{key}' must be a whole number from {low} "
                             f"to 2**63-1, got {value!r}")
    for key in ("pack", "db", "profile"):
        if merged.get(key) is not None and not isinstance(merged[key], str):
            raise UsageError(f"config {path}: '{key}' must be a string, got {merged[key]!r}")
    data = merged.get("data", {})
    if isinstance(data, str):
        data = {"": data}
    if not isinstance(data, dict) or not all(isinstance(v, str) and v for v in data.values()):
        raise UsageError(f"config {path}: 'data' must be a file path, or a table mapping the "
                         f"pack's data file names to paths, e.g. data = {{\"seed_data.yaml\" = "
                         f"\"my_data.yaml\"}}; got {data!r}")
    columns = merged.get("columns", {})
    if not isinstance(columns, dict):
        raise UsageError(f"config {path}: 'columns' must be a table of \"table.column\" = "
                         f"{{ ... }} entries, got {columns!r}")
    auto = merged.get("auto", False)
    if not isinstance(auto, bool):
        raise UsageError(f"config {path}: 'auto' must be true or false, got {auto!r}")
    return Config(
        base_dir=(project or path).parent.resolve() if "pack" in base and "pack" not in doc
        else path.parent.resolve(),
        source=path,
        pack=merged.get("pack"),
        db=merged.get("db"),
        seed=seed,
        as_of=None if merged.get("as_of") is None else str(merged["as_of"]),
        profile=merged.get("profile"),
        concurrency=concurrency,
        chunk_rows=chunk_rows,
        auto=auto,
        params=params,
        profiles=profiles,
        columns=columns,
        data={str(k): str((((path if "data" in doc else project) or path).parent / v).resolve())
              for k, v in data.items()},
        extra={k: v for k, v in doc.items() if k not in ENGINE_KEYS},
    )


def parse_value(text: str) -> Any:
    """``--set`` values: JSON when they parse (numbers, true/false, lists, dicts), else strings."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        lowered = text.lower()
        if lowered in {"yes", "on"}:
            return True
        if lowered in {"no", "off"}:
            return False
        return text


def parse_sets(items: Sequence[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--set expects key=value, got '{item}' (e.g. --set images=500)")
        out[key.strip()] = parse_value(value.strip())
    return out


AS_OF_RANGE = (1900, 2200)  # years: timestamps derived from as_of stay representable


def parse_as_of(text: str | None) -> datetime:
    """``--as-of``: a date or ISO datetime; naive means UTC. Default: today 00:00 UTC."""
    if text is None:
        today = datetime.now(UTC).date()
        return datetime.combine(today, time(), tzinfo=UTC)
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(
            f"--as-of '{text}' is not a date; use YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS"
        ) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    if not AS_OF_RANGE[0] <= value.year <= AS_OF_RANGE[1]:
        raise UsageError(
            f"--as-of '{text}' is out of range; use a date from year {AS_OF_RANGE[0]} to "
            f"{AS_OF_RANGE[1]} (seeded timestamps reach years before it)")
    return value.astimezone(UTC)
