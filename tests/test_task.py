"""Task and invariant definitions: the decorators, their validation and the code closure."""

from __future__ import annotations

import sys
from types import ModuleType
from typing import Any

import pytest

from seedgraph import PackError, TaskContext, VerifyContext
from seedgraph.fingerprint import _package_closure
from seedgraph.task import InvariantDef, TaskDef, invariant, task


async def documented(ctx: TaskContext) -> None:
    """First line of the doc.

    More detail that is not the description.
    """


async def undocumented(ctx: TaskContext) -> None:
    return None


def test_task_with_arguments_builds_the_definition() -> None:
    d = task("orders", upstream=["customers", "products"], tags=("facts", "daily"),
             params={"n": 3, "k": None})(documented)
    assert d == TaskDef(table="orders", fn=documented, upstream=("customers", "products"),
                        tags=("facts", "daily"), params={"n": 3, "k": None},
                        description="First line of the doc.")
    assert d.name == "orders"


def test_params_mapping_is_copied_and_a_sequence_means_pack_defaults() -> None:
    given = {"n": 3}
    d = task("t", params=given)(undocumented)
    given["n"] = 4
    assert d.params == {"n": 3}
    assert task("t", params=("a", "b"))(undocumented).params == {"a": None, "b": None}
    assert task("t")(undocumented).params == {}


def test_bare_task_is_named_after_the_function_and_has_empty_defaults() -> None:
    d = task(undocumented)
    assert (d.table, d.upstream, d.tags, d.params, d.description) == (
        "undocumented", (), (), {}, "")


def test_description_comes_from_the_first_docstring_line_unless_given() -> None:
    assert task("t")(documented).description == "First line of the doc."
    assert task("t", description="Given.\nSecond.")(documented).description == "Given."
    assert task("t", description="")(documented).description == ""
    assert task("t", description="   ")(documented).description == ""
    assert task("t")(undocumented).description == ""


@pytest.mark.parametrize("bad", ["", 3, None])
def test_upstream_and_tags_must_be_non_empty_strings(bad: Any) -> None:
    with pytest.raises(PackError) as exc:
        task("orders", upstream=["customers", bad])(undocumented)
    assert str(exc.value) == f"task 'orders': upstream must be non-empty strings, got {bad!r}"
    with pytest.raises(PackError) as exc:
        task("orders", tags=[bad, "facts"])(undocumented)
    assert str(exc.value) == f"task 'orders': tags must be non-empty strings, got {bad!r}"


def test_cost_is_a_positive_number_and_one_by_default() -> None:
    assert task("t")(undocumented).cost == 1.0
    assert task("t", cost=25)(undocumented).cost == 25.0
    assert task("t", cost=0.5)(undocumented).cost == 0.5
    import numpy as np

    assert task("t", cost=np.int64(3))(undocumented).cost == 3.0
    assert task("t", cost=np.float32(2.5))(undocumented).cost == 2.5


@pytest.mark.parametrize("bad", [0, -1, True, "5", float("inf"), float("nan"), None, 10**400])
def test_a_cost_that_is_not_a_positive_number_is_refused(bad: Any) -> None:
    with pytest.raises(PackError) as exc:
        task("orders", cost=bad)(undocumented)
    assert str(exc.value) == ("task 'orders': cost must be a positive number (a typical "
                              f"task is 1), got {bad!r}")


def test_bare_task_error_names_the_function() -> None:
    def sync_body(ctx: TaskContext) -> None:
        return None

    with pytest.raises(PackError) as exc:
        task(sync_body)  # type: ignore[arg-type]
    assert str(exc.value) == (
        "task 'sync_body' must be an async function (write `async def ...(ctx)`)")
    with pytest.raises(PackError, match=r"^task 'named' must be an async function"):
        task("named")(sync_body)  # type: ignore[arg-type]


def test_error_for_a_nameless_callable_shows_the_callable() -> None:
    class Callable:
        def __repr__(self) -> str:
            return "<the callable>"

        def __call__(self, ctx: TaskContext) -> None:
            return None

    with pytest.raises(PackError, match=r"^task '<the callable>' must be an async function"):
        task(Callable())  # type: ignore[arg-type]


async def no_orphans(ctx: VerifyContext) -> list[Any]:
    """Every order has a customer.

    Checked with a join.
    """
    return []


async def bare_rule(ctx: VerifyContext) -> list[Any]:
    return []


def test_invariant_builds_the_definition() -> None:
    d = invariant("no_orphans", tables=["orders", "customers"])(no_orphans)
    assert d == InvariantDef(name="no_orphans", fn=no_orphans, tables=("orders", "customers"),
                             description="Every order has a customer.")


def test_invariant_single_table_and_descriptions() -> None:
    d = invariant("r", tables="orders")(bare_rule)
    assert (d.name, d.fn, d.tables, d.description) == ("r", bare_rule, ("orders",), "")
    given = invariant("r", tables="orders", description="Given.\nMore.")(no_orphans)
    assert given.description == "Given."
    assert invariant("r", tables="orders", description="")(no_orphans).description == ""


def test_invariant_tables_must_be_non_empty_strings() -> None:
    with pytest.raises(PackError) as exc:
        invariant("rule", tables=["orders", ""])(bare_rule)
    message = str(exc.value)
    assert "'rule'" in message and "tables must be non-empty strings, got ''" in message


def test_invariant_must_be_async() -> None:
    def sync_rule(ctx: VerifyContext) -> list[Any]:
        return []

    with pytest.raises(PackError) as exc:
        invariant("rule", tables="orders")(sync_rule)  # type: ignore[arg-type]
    assert str(exc.value) == "invariant 'rule' must be an async function"


def _module(name: str, file: bool = True, **values: Any) -> ModuleType:
    mod = ModuleType(name)
    if file:
        mod.__file__ = f"/nowhere/{name.replace('.', '/')}.py"
    vars(mod).update(values)
    return mod


def _function_of(module: str) -> Any:
    def f() -> None:
        return None

    f.__module__ = module
    return f


def test_package_closure_follows_modules_functions_and_classes_of_the_same_package(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Reached: modules imported directly, modules of imported functions (also a module
    reached twice), transitively; not reached: other packages, modules without a file,
    modules nothing refers to."""
    helper = _module("cpk.helper")
    deep = _module("cpk.deep")
    b = _module("cpk.b", d=deep)
    c = _module("cpk.c")
    nofile = _module("cpk.nofile", file=False)
    foreign = _module("other.x")
    unused = _module("cpk.unused")
    anonymous = type("Anonymous", (), {})()
    anonymous.__module__ = None  # type: ignore[attr-defined]
    a = _module("cpk.a", b=b, c=c, c_fn=_function_of("cpk.c"), values=_function_of("cpk.helper"),
                nofile=nofile, foreign=foreign, number=42, anonymous=anonymous)
    b.back = a  # a cycle must not loop
    for mod in (helper, deep, b, c, nofile, foreign, unused, a):
        monkeypatch.setitem(sys.modules, mod.__name__, mod)

    closure = _package_closure(a)
    assert [m.__name__ for m in closure] == ["cpk.a", "cpk.b", "cpk.c", "cpk.deep", "cpk.helper"]
    assert [m.__name__ for m in _package_closure(helper)] == ["cpk.helper"]


def test_names_that_are_not_a_list_are_a_pack_error_naming_the_owner() -> None:
    with pytest.raises(PackError, match=r"^task 'orders': upstream must be a name or a list "
                                        r"of names, got 3$"):
        task("orders", upstream=3)(documented)  # type: ignore[arg-type]
    with pytest.raises(PackError, match=r"^invariant 'rule': tables must be non-empty "
                                        r"strings, got ''$"):
        invariant("rule", tables=[""])(bare_rule)
