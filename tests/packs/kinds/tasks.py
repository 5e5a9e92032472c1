import datetime as dt

import numpy as np

from seedgraph import TaskContext, task

N = 4


def _rows(nulls: bool) -> dict[str, object]:
    def hole(values: list[object]) -> list[object]:
        return [None, *values[1:]] if nulls else values

    return {
        "id": np.arange(1, N + 1),
        "i2": hole([1, -2, 32767, 0]), "i4": hole([5, 2**31 - 1, -7, 0]),
        "i8": hole([2**62, -(2**62), 0, 9]),
        "f4": hole([0.1, -2.5, 1e10, 3.0]), "f8": hole([0.1, -1e-9, 1e300, 3.25]),
        "num": hole([0.01, -12345.67, 0, 2.5]), "flag": hole([True, False, True, False]),
        "txt": hole(["plain", "tab\there", "é", ""]),
        "day": hole([dt.date(1999, 12, 31), dt.date(2000, 1, 1), dt.date(1970, 1, 1),
                     dt.date(2099, 6, 30)]),
        "at": hole([dt.datetime(2026, 1, 15, 12, 30), dt.datetime(1969, 7, 20, 20, 17, 40),
                    dt.datetime(2000, 1, 1, 0, 0, 0, 1), dt.datetime(2024, 2, 29)]),
        "atz": hole([dt.datetime(2026, 1, 15, 12, 30, tzinfo=dt.UTC),
                     dt.datetime(1999, 12, 31, 23, 59, 59, 999999,
                                 tzinfo=dt.timezone(dt.timedelta(hours=2))),
                     dt.datetime(2000, 1, 1, tzinfo=dt.UTC),
                     dt.datetime(2030, 5, 5, 5, 5, 5, tzinfo=dt.UTC)]),
        "clock": hole([dt.time(23, 0), dt.time(7, 30), dt.time(0, 0, 0, 1), dt.time(12, 0, 59)]),
        "uid": hole([f"00000000-0000-0000-0000-00000000000{i}" for i in range(N)]),
        "doc": hole([{"a": 1}, [1, 2.5, None], '"text"', {"nested": {"b": [True]}}]),
        "docb": hole([{"a": 1}, [], 3, {"z": None}]),
        "vec4": hole([[0.1, 0.2, 0.3], [1.0, 2.0, 3.0], [-0.5, 0.0, 0.5], [1e-3, 1e3, 7.0]]),
        "vec8": hole([[0.1, 0.2], [1.0, 2.0], [-0.5, 0.0], [1e-300, 1e300]]),
        "ragged": hole([[0.1], [1.0, 2.0], [], [3.0, None, 4.0]]),
        "ints4": hole([[1, 2], [], [3], [-4, 5, 6]]),
        "ints8": hole([[2**40], [0, 1], [], [7]]),
        "words": hole([["a", "b"], [], ["é"], ["x y"]]),
        "raw": hole([b"\x00\x01", b"", b"abc", bytes(range(256))]),
    }


@task("dense")
async def dense(ctx: TaskContext) -> None:
    await ctx.write(_rows(nulls=False))


@task("holes")
async def holes(ctx: TaskContext) -> None:
    await ctx.write(_rows(nulls=True))


@task("empty")
async def empty(ctx: TaskContext) -> None:
    await ctx.write({"id": np.arange(0)})
