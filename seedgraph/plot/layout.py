"""Layered left-to-right layout of the task graph (pure).

Layers are the topological generations. Edges that skip layers get virtual
"dummy" points in the layers they cross, so every edge segment joins adjacent
layers. The order within each layer comes from barycentre sweeps (down, then
up, repeated), the classic Sugiyama heuristic for few edge crossings; the best
order seen is kept.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import networkx as nx

__all__ = ["Layout", "count_crossings", "layout"]

COL_W = 260
ROW_H = 44
NODE_W = 210
NODE_H = 30
MARGIN = 40


@dataclass(frozen=True, slots=True)
class Layout:
    layers: tuple[tuple[str, ...], ...]  # real and dummy ids per layer, in drawing order
    positions: Mapping[str, tuple[float, float]]  # centre of each real node and dummy
    routes: Mapping[tuple[str, str], tuple[str, ...]]  # edge -> points it passes (incl. ends)
    crossings_before: int
    crossings_after: int
    width: float
    height: float

    def is_dummy(self, node: str) -> bool:
        return node.startswith("\x00")


def _segments(graph: nx.DiGraph, level: Mapping[str, int]) -> tuple[
        list[list[str]], dict[tuple[str, str], tuple[str, ...]], list[tuple[str, str]]]:
    depth = max(level.values(), default=-1) + 1
    layers: list[list[str]] = [[] for _ in range(depth)]
    for n in sorted(graph.nodes):
        layers[level[n]].append(n)
    routes: dict[tuple[str, str], tuple[str, ...]] = {}
    segments: list[tuple[str, str]] = []
    for u, v in sorted(graph.edges):
        path = [u]
        for lv in range(level[u] + 1, level[v]):
            dummy = f"\x00{u}>{v}@{lv}"
            layers[lv].append(dummy)
            path.append(dummy)
        path.append(v)
        routes[(u, v)] = tuple(path)
        segments += list(itertools.pairwise(path))
    return layers, routes, segments


def _crossings_between(upper: Sequence[str], lower: Sequence[str],
                       segments: Iterable[tuple[str, str]]) -> int:
    pos_u = {n: i for i, n in enumerate(upper)}
    pos_l = {n: i for i, n in enumerate(lower)}
    pairs = sorted((pos_u[a], pos_l[b]) for a, b in segments if a in pos_u and b in pos_l)
    count = 0
    for i in range(len(pairs)):
        for j in range(i + 1, len(pairs)):
            if pairs[i][0] < pairs[j][0] and pairs[i][1] > pairs[j][1]:
                count += 1
    return count


def _total(layers: Sequence[Sequence[str]], segments: Sequence[tuple[str, str]]) -> int:
    return sum(_crossings_between(layers[i], layers[i + 1], segments)
               for i in range(len(layers) - 1))


def count_crossings(graph: nx.DiGraph, order: Sequence[Sequence[str]] | None = None) -> int:
    """Edge crossings of *graph* drawn with the given layer order (default: alphabetical)."""
    level = {n: i for i, gen in enumerate(nx.topological_generations(graph)) for n in gen}
    layers, _, segments = _segments(graph, level)
    if order is not None:
        wanted = {n: (i, k) for i, layer in enumerate(order) for k, n in enumerate(layer)}
        layers = [sorted(layer, key=lambda n: wanted.get(n, (0, len(layer)))) for layer in layers]
    return _total(layers, segments)


def _sweep(layers: list[list[str]], segments: Sequence[tuple[str, str]], down: bool) -> None:
    neighbours: dict[str, list[str]] = {}
    for a, b in segments:
        if down:
            neighbours.setdefault(b, []).append(a)
        else:
            neighbours.setdefault(a, []).append(b)
    rng = range(1, len(layers)) if down else range(len(layers) - 2, -1, -1)
    for i in rng:
        ref = layers[i - 1] if down else layers[i + 1]
        pos = {n: k for k, n in enumerate(ref)}
        current = {n: k for k, n in enumerate(layers[i])}

        def key(n: str, pos: dict[str, int] = pos, current: dict[str, int] = current) -> float:
            ns = [pos[m] for m in neighbours.get(n, []) if m in pos]
            return sum(ns) / len(ns) if ns else float(current[n])

        layers[i].sort(key=lambda n: (key(n), current[n]))


def layout(graph: nx.DiGraph, sweeps: int = 12) -> Layout:
    """Compute layers, order (barycentre sweeps) and coordinates for *graph*."""
    level = {n: i for i, gen in enumerate(nx.topological_generations(graph)) for n in gen}
    layers, routes, segments = _segments(graph, level)
    before = _total(layers, segments)
    best, best_count = [list(layer) for layer in layers], before
    for i in range(sweeps):
        _sweep(layers, segments, down=i % 2 == 0)
        count = _total(layers, segments)
        if count < best_count:
            best, best_count = [list(layer) for layer in layers], count
    def step(n: str) -> float:  # virtual points of long edges take a thin slot
        return ROW_H * 0.3 if n.startswith("\x00") else ROW_H

    heights = [sum(step(n) for n in layer) for layer in best]
    tallest = max(heights, default=ROW_H)
    positions: dict[str, tuple[float, float]] = {}
    for i, layer in enumerate(best):
        y = MARGIN + 30 + (tallest - heights[i]) / 2
        for n in layer:
            positions[n] = (MARGIN + i * COL_W + NODE_W / 2, y + step(n) / 2)
            y += step(n)
    width = MARGIN * 2 + max(len(best) - 1, 0) * COL_W + NODE_W
    height = MARGIN * 2 + 30 + tallest
    return Layout(tuple(tuple(layer) for layer in best), positions, routes, before, best_count,
                  width, height)
