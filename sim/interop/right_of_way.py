"""SUMO's right of way as the model's ``yield_to``: only where two movements meet, and
never in a circle.

A junction's ``<request response=...>`` table says whom each connection gives way to when
every connection may go at once; at a traffic light most pairs never do (one of them is
red), so a yield there is kept only where the two can be green in the same phase (or the
yielding one turns on red, ``s``, while the other is green). The table can also hold
circles: right-before-left junctions (each approach gives way to the one on its right) and
two opposing permitted turns at a light that SUMO lets give way to each other. The model
needs one movement of a circle to have priority (a vehicle waiting for a vehicle that waits
for it never leaves), so each circle loses the yield of its most major movement: the one
from the road of the highest SUMO priority, then straight on before right, left and U-turn
(SUMO's ``dir`` of the connection), then the lower junction index. Each dropped yield is
counted in the import report.
"""

from __future__ import annotations

from collections.abc import Callable

from trafficsim.sim.interop.report import ImportReport

Move = tuple[str, str]
GREEN = "GgOo"
_DIRECTION_RANK = {"s": 0, "r": 1, "R": 1, "l": 2, "L": 2, "t": 3, "T": 3}
"""How major a turn is, straight on first (SUMO's ``dir`` codes)."""


def meet(a: str, b: str) -> bool:
    """Whether movements with state columns ``a`` and ``b`` may move at the same time:
    both green in a phase, or ``a`` turning on red while ``b`` is green. A column left empty
    (no light) meets everything."""
    if not a or not b:
        return True
    return any((x in GREEN or x == "s") and y in GREEN for x, y in zip(a, b, strict=False))


def break_circles(
    yields: dict[Move, list[Move]],
    rank: Callable[[Move], tuple[float, int, int]],
    report: ImportReport,
) -> None:
    """Remove yields (in place) until no movement waits, through others, for itself.

    ``rank`` orders movements from the most major (smallest) to the most minor.
    """
    while True:
        circle = _find_circle(yields)
        if circle is None:
            return
        major = min(circle, key=rank)
        nxt = circle[(circle.index(major) + 1) % len(circle)]
        yields[major].remove(nxt)
        report.skip(
            "yields",
            "would close a circle of movements giving way to each other; the most major "
            "movement of the circle keeps the right of way",
            f"{major[0]} -> {major[1]} to {nxt[0]} -> {nxt[1]}",
        )


def _find_circle(yields: dict[Move, list[Move]]) -> list[Move] | None:
    """A circle of the yields graph (movement -> the ones it gives way to), if any."""
    state: dict[Move, int] = {}  # 1: on the current path, 2: done
    for start in yields:
        if state.get(start):
            continue
        path: list[Move] = [start]
        iters = [iter(yields.get(start, ()))]
        state[start] = 1
        while iters:
            nxt = next(iters[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                iters.pop()
                continue
            if state.get(nxt) == 1:
                return path[path.index(nxt) :]
            if not state.get(nxt):
                state[nxt] = 1
                path.append(nxt)
                iters.append(iter(yields.get(nxt, ())))
    return None


def direction_rank(direction: str) -> int:
    return _DIRECTION_RANK.get(direction, 1)
