"""The API's own rules, without a database."""

from __future__ import annotations

import pytest

from seedgraph import api
from seedgraph.errors import SafetyError


@pytest.mark.parametrize("value", ["production", "prod", "prd", "live", "Production",
                                   "production ", " PROD\n", "Live"])
@pytest.mark.parametrize("var", ["SEEDGRAPH_ENV", "APP_ENV"])
def test_the_production_guard_knows_the_usual_spellings(
        monkeypatch: pytest.MonkeyPatch, var: str, value: str) -> None:
    monkeypatch.delenv("SEEDGRAPH_ENV", raising=False)
    monkeypatch.delenv("APP_ENV", raising=False)
    monkeypatch.setenv(var, value)
    with pytest.raises(SafetyError, match=rf"refusing to seed this database: {var}=.*"
                                          r"add --allow-production"):
        api.check_production(api.Options(), "seed this database")
    api.check_production(api.Options(allow_production=True), "seed this database")


@pytest.mark.parametrize("value", ["", "development", "staging", "preprod", "production-like"])
def test_other_environments_pass(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("APP_ENV", value)
    monkeypatch.delenv("SEEDGRAPH_ENV", raising=False)
    api.check_production(api.Options(), "seed this database")


def test_the_api_exports_what_it_defines_and_everything_the_cli_uses() -> None:
    import ast
    import importlib
    import inspect as pyinspect
    import pkgutil

    from seedgraph import cli

    assert api.__all__ == sorted(api.__all__)
    for name in api.__all__:
        assert hasattr(api, name), name
    defined = {name for name, value in vars(api).items() if not name.startswith("_")
               and (pyinspect.isfunction(value) or pyinspect.isclass(value))
               and value.__module__ == api.__name__}
    assert defined <= set(api.__all__), defined - set(api.__all__)
    sources = [pyinspect.getsource(cli)] + [  # the cli package: every command module
        pyinspect.getsource(importlib.import_module(f"{cli.__name__}.{info.name}"))
        for info in pkgutil.iter_modules(cli.__path__)]
    used = {node.attr for source in sources for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
            and node.value.id == "api"}
    assert used and used <= set(api.__all__), used - set(api.__all__)


def test_the_package_exports_load_lazily() -> None:
    """`import seedgraph` (as the pytest plugin's import does in every pytest run) does not
    load numpy or SQLAlchemy; each exported name still resolves."""
    import subprocess
    import sys

    code = ("import sys, types, seedgraph; heavy = {'numpy', 'sqlalchemy'} & set(sys.modules); "
            "print(sorted(heavy)); import seedgraph.task, seedgraph.context; "
            "print(all(not isinstance(getattr(seedgraph, n), types.ModuleType) "
            "for n in seedgraph.__all__))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split("\n")
    assert out[:2] == ["[]", "True"], out
