"""Routes on the link graph: links are the vertices, movements the arcs.

A route is a sequence of links in which each link is joined to the next by a movement, so
the graph a router searches is the one vehicles can drive: a turn the file does not allow is
no arc. The cost of a route is the time to drive each of its links (length over the lower of
the link's free speed and the class's speed cap) plus, for each movement taken, the wait at
that movement's stop line (zero at free flow; measured waits for time-dependent routing).
The last link has no stop-line wait: the trip ends at its downstream end.

Shortest routes are found with Dijkstra's algorithm over a binary heap (the standard
library's ``heapq``): label-setting is exact because every cost is non-negative, and the
graphs (a city has 10^3-10^5 links) are small enough that a pure-Python search per origin
and class is a few milliseconds; a graph library would add a dependency to ``sim`` for no
gain. Ties are broken by link order in the file (the heap holds ``(cost, index)``), so the
same scenario always gets the same routes.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Sequence

from trafficsim.sim.config import LinkSpec, MovementSpec

_INF = float("inf")


class MovementGraph:
    """The links of a scenario and the movements that join them, by link index."""

    __slots__ = ("arcs", "ids", "index", "pairs")

    def __init__(self, links: Sequence[LinkSpec], movements: Sequence[MovementSpec]) -> None:
        self.ids: tuple[str, ...] = tuple(ln.id for ln in links)
        self.index: dict[str, int] = {lid: i for i, lid in enumerate(self.ids)}
        # arcs[i]: (next link index, arc number) in movement order; the arc number indexes
        # per-movement costs (``arc_costs``).
        self.arcs: list[list[tuple[int, int]]] = [[] for _ in links]
        for k, m in enumerate(movements):
            self.arcs[self.index[m.from_link]].append((self.index[m.to_link], k))
        self.pairs: frozenset[tuple[str, str]] = frozenset(
            (m.from_link, m.to_link) for m in movements
        )

    def joined(self, a: str, b: str) -> bool:
        """Whether a movement leads from link ``a`` into link ``b``."""
        return (a, b) in self.pairs

    def first_gap(self, links: Sequence[str]) -> tuple[str, str] | None:
        """The first two consecutive links of ``links`` that no movement joins, or None."""
        pairs = self.pairs
        for ab in itertools.pairwise(links):
            if ab not in pairs:
                return ab
        return None

    def reachable(self, start: str) -> set[int]:
        """Indices of the links a vehicle on ``start`` can drive onto (``start`` included)."""
        seen = {self.index[start]}
        todo = [self.index[start]]
        while todo:
            for nxt, _ in self.arcs[todo.pop()]:
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return seen

    def shortest_tree(
        self,
        start: int,
        link_cost_s: Sequence[float],
        arc_cost_s: Sequence[float] | None = None,
    ) -> list[int]:
        """Predecessor of every link on the least-cost routes from link ``start``.

        ``link_cost_s[i]``: time to drive link ``i``; ``arc_cost_s[k]``: the wait before
        taking movement ``k`` (None: no waits, free flow). The predecessor of ``start`` is
        ``start`` itself; links that cannot be reached have -1.
        """
        n = len(self.ids)
        dist = [_INF] * n
        pred = [-1] * n
        dist[start] = link_cost_s[start]
        pred[start] = start
        heap = [(dist[start], start)]
        arcs = self.arcs
        while heap:
            d, u = heapq.heappop(heap)
            if d > dist[u]:
                continue
            for v, k in arcs[u]:
                nd = d + link_cost_s[v] + (arc_cost_s[k] if arc_cost_s is not None else 0.0)
                if nd < dist[v]:
                    dist[v] = nd
                    pred[v] = u
                    heapq.heappush(heap, (nd, v))
        return pred

    def path(self, pred: Sequence[int], start: int, end: int) -> tuple[int, ...] | None:
        """The route from ``start`` to ``end`` in a tree of :meth:`shortest_tree`."""
        if pred[end] < 0:
            return None
        out = [end]
        while out[-1] != start:
            out.append(pred[out[-1]])
        out.reverse()
        return tuple(out)

    def free_flow_s(self, route: Sequence[int], link_cost_s: Sequence[float]) -> float:
        """Free-flow time of a route: the sum of its links' driving times."""
        return sum(link_cost_s[i] for i in route)


def link_times_s(links: Sequence[LinkSpec], max_speed_mps: float) -> list[float]:
    """Free-flow driving time of each link for a class with speed cap ``max_speed_mps``."""
    return [ln.length_m / min(ln.free_speed_mps, max_speed_mps) for ln in links]
