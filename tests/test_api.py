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
