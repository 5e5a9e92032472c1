"""Load a task pack (a directory, a ``.py`` file or an importable module) into a :class:`Pack`."""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import pkgutil
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import sqlalchemy as sa

from seedgraph.cycles import CycleKey
from seedgraph.errors import PackError, UsageError, did_you_mean
from seedgraph.fingerprint import pack_fingerprint
from seedgraph.graph import ForeignKey
from seedgraph.task import InvariantDef, Profile, TaskDef

__all__ = ["Pack", "load_pack"]


@dataclass(frozen=True, slots=True)
class Pack:
    name: str
    ref: str
    tasks: Mapping[str, TaskDef]
    invariants: tuple[InvariantDef, ...] = ()
    metadata: sa.MetaData | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    profiles: Mapping[str, Profile] = field(default_factory=dict)
    default_profile: str | None = None
    config_params: Callable[[Mapping[str, Any]], dict[str, Any]] | None = None
    # checks the resolved parameters (and the environment) before anything is written
    preflight: Callable[[Mapping[str, Any]], None] | None = None
    # tables an inferred task cannot seed (--auto), and why: refused before anything is written
    problems: Mapping[str, str] = field(default_factory=dict)
    # foreign keys written as placeholders because they close a cycle (--auto): table →
    # columns; cycle_keys says how each is filled in once its unit is loaded
    nulled: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    cycle_keys: tuple[CycleKey, ...] = ()

    def foreign_keys(self) -> list[ForeignKey]:
        if self.metadata is None:
            return []
        out: list[ForeignKey] = []
        for table in self.metadata.tables.values():
            for fk in table.foreign_keys:
                if fk.parent.name not in self.nulled.get(table.name, ()):
                    out.append((table.name, fk.parent.name, fk.column.table.name))
        return out

    def table(self, name: str) -> sa.Table | None:
        if self.metadata is None:
            return None
        return self.metadata.tables.get(name)

    def profile(self, name: str) -> Profile:
        try:
            return self.profiles[name]
        except KeyError:
            known = ", ".join(sorted(self.profiles)) or "none"
            raise UsageError(
                f"unknown profile '{name}' for pack {self.name}.{did_you_mean(name, self.profiles)}"
                f" Known profiles: {known} (see `seedgraph profiles`)"
            ) from None

    def fingerprint(self) -> str:
        return pack_fingerprint(self.tasks)


def _import_path(path: Path) -> ModuleType:
    path = path.resolve()
    if path.is_dir():
        init = path / "__init__.py"
        if not init.exists():
            raise PackError(f"pack directory {path} has no __init__.py; add one (it may be empty)")
        location, search = init, [str(path)]
    else:
        location, search = path, None
    safe = re.sub(r"\W", "_", path.stem if path.is_file() else path.name)
    digest = hashlib.sha1(str(path).encode()).hexdigest()[:8]
    modname = f"_seedgraph_pack_{safe}_{digest}"
    if modname in sys.modules:
        return sys.modules[modname]
    spec = importlib.util.spec_from_file_location(
        modname, location, submodule_search_locations=search
    )
    if spec is None or spec.loader is None:
        raise PackError(f"cannot import pack from {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[modname] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        del sys.modules[modname]
        raise PackError(f"importing pack {path} failed: {type(exc).__name__}: {exc}") from exc
    return module


def _import_ref(ref: str, base_dir: Path) -> ModuleType:
    candidate = Path(ref)
    if not candidate.is_absolute():
        candidate = base_dir / candidate
    if candidate.exists():
        return _import_path(candidate)
    if candidate.with_suffix(".py").exists():
        return _import_path(candidate.with_suffix(".py"))
    looks_like_path = "/" in ref or ref.endswith(".py") or ref.startswith(".")
    if not looks_like_path:
        try:
            return importlib.import_module(ref)
        except ModuleNotFoundError as exc:
            if exc.name and ref.startswith(exc.name):
                raise PackError(
                    f"pack '{ref}' is neither a path nor an importable module; "
                    "pass a directory like --pack tasks/retail or a module name on sys.path"
                ) from exc
            raise PackError(f"importing pack '{ref}' failed: {exc}") from exc
        except Exception as exc:
            raise PackError(f"importing pack '{ref}' failed: {type(exc).__name__}: {exc}") from exc
    raise PackError(
        f"pack path '{ref}' does not exist (looked in {base_dir}); "
        "pass a directory like --pack tasks/retail"
    )


def _submodules(module: ModuleType) -> list[ModuleType]:
    mods = [module]
    search = getattr(module, "__path__", None)
    if search is None:
        return mods
    for info in sorted(pkgutil.walk_packages(search, prefix=module.__name__ + "."),
                       key=lambda i: i.name):
        leaf = info.name.rsplit(".", 1)[-1]
        if leaf.startswith("test") or leaf.startswith("_"):
            continue
        try:
            mods.append(importlib.import_module(info.name))
        except Exception as exc:
            raise PackError(f"importing {info.name} failed: {type(exc).__name__}: {exc}") from exc
    return mods


def load_pack(ref: str, base_dir: Path | None = None) -> Pack:
    """Import the pack named by *ref* and collect its tasks, invariants, schema and profiles."""
    base = base_dir or Path.cwd()
    module = _import_ref(ref, base)
    tasks: dict[str, TaskDef] = {}
    invariants: dict[str, InvariantDef] = {}
    seen_ids: set[int] = set()
    for mod in _submodules(module):
        for value in vars(mod).values():
            if id(value) in seen_ids:
                continue
            if isinstance(value, TaskDef):
                seen_ids.add(id(value))
                if value.table in tasks:
                    raise PackError(
                        f"two tasks fill table '{value.table}' "
                        f"({tasks[value.table].fn.__module__} and {value.fn.__module__}); "
                        "keep one task per table"
                    )
                tasks[value.table] = value
            elif isinstance(value, InvariantDef):
                seen_ids.add(id(value))
                invariants[value.name] = value
    if not tasks:
        raise PackError(
            f"pack '{ref}' defines no tasks; decorate async functions with @seedgraph.task"
        )
    metadata = getattr(module, "METADATA", None)
    if metadata is not None and not isinstance(metadata, sa.MetaData):
        raise PackError(f"pack '{ref}': METADATA must be a sqlalchemy.MetaData")
    raw_profiles = getattr(module, "PROFILES", ()) or ()
    if isinstance(raw_profiles, Mapping):
        raw_profiles = list(raw_profiles.values())
    profiles: dict[str, Profile] = {}
    for p in raw_profiles:
        if not isinstance(p, Profile):
            raise PackError(f"pack '{ref}': PROFILES must hold seedgraph.Profile values, got {p!r}")
        profiles[p.name] = p
    default_profile = getattr(module, "DEFAULT_PROFILE", None)
    if default_profile is not None and default_profile not in profiles:
        raise PackError(f"pack '{ref}': DEFAULT_PROFILE '{default_profile}' is not in PROFILES")
    cycles = tuple(getattr(module, "CYCLES", ()) or ())
    if not all(isinstance(k, CycleKey) for k in cycles):
        raise PackError(f"pack '{ref}': CYCLES must hold seedgraph.cycles.CycleKey values")
    hook = getattr(module, "config_params", None)
    name = getattr(module, "NAME", None) or Path(ref.rstrip("/")).stem.replace(".py", "")
    return Pack(
        name=str(name),
        ref=ref,
        tasks=dict(sorted(tasks.items())),
        invariants=tuple(invariants[k] for k in sorted(invariants)),
        metadata=metadata,
        params=dict(getattr(module, "PARAMS", {}) or {}),
        profiles=profiles,
        default_profile=default_profile,
        config_params=hook if callable(hook) else None,
        preflight=check if callable(check := getattr(module, "preflight", None)) else None,
        cycle_keys=cycles,
        nulled={t: tuple(c for k in cycles if k.child == t for c in k.columns)
                for t in sorted({k.child for k in cycles})},
    )
