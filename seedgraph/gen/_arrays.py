"""Array helpers the generator modules share: the rng type, object arrays, distinct values.

Private to :mod:`seedgraph.gen`. Each helper exists because the obvious numpy call is
wrong or slow for a generator: ``np.array`` of lists makes a 2-D array where a column
needs one list per row, ``np.unique`` hashes a million ints slowly, and the cycle
collector runs needlessly while a million small lists and dicts are built.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

__all__ = ["Rng", "_distinct", "_gc_paused", "_objects"]

Rng = np.random.Generator


def _objects(items: Sequence[Any]) -> np.ndarray:
    """A 1-D object array holding *items* as they are (lists stay lists)."""
    return np.fromiter(items, dtype=object, count=len(items))


def _distinct(values: np.ndarray) -> np.ndarray:
    """The distinct values of a 1-D array: sorted when native, first seen first when object.
    (Sorting beats ``np.unique``, whose hash table takes seconds for a million ints.)"""
    if values.dtype == object:
        return _objects(list(dict.fromkeys(values.tolist())))
    ordered = np.sort(values)
    keep = np.ones(len(ordered), dtype=bool)
    keep[1:] = ordered[1:] != ordered[:-1]
    return ordered[keep]


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cycle collector while building a million small lists and dicts: it would
    run hundreds of times over objects that form no cycles (3-4x slower)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
