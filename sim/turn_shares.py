"""Where turn-share vehicles can go, and the checks that only matter there.

A vehicle of a ``[[demand]]`` entry flow has no route: at the end of each link it draws its
movement by the movements' shares. So every link such a vehicle can reach needs movements
whose shares sum to 1, and a way on to a boundary node (else it circulates for ever). A link
only routed vehicles use needs neither: a routed vehicle takes the movement its route
names, and its trip ends where its route does. Imported networks (SUMO, OpenStreetMap) have
many such links, often with no share anyone could state, so ``share`` is optional there.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from trafficsim.sim.config import DemandSpec, LinkSpec, MovementSpec, NodeKind
from trafficsim.sim.fields import FieldReader


def turn_share_links(movements: Iterable[MovementSpec], demands: Iterable[DemandSpec]) -> set[str]:
    """Links a turn-share vehicle can reach from the ``[[demand]]`` entries: through every
    movement whose share is not 0 (a missing share counts, so that it is reported)."""
    out_of: dict[str, list[str]] = {}
    for m in movements:
        if m.share is None or m.share > 0.0:
            out_of.setdefault(m.from_link, []).append(m.to_link)
    reach = {d.entry_link for d in demands}
    todo = list(reach)
    while todo:
        for nxt in out_of.get(todo.pop(), ()):
            if nxt not in reach:
                reach.add(nxt)
                todo.append(nxt)
    return reach


def check_turn_shares(
    r: FieldReader,
    links: Mapping[str, LinkSpec],
    movements: tuple[MovementSpec, ...],
    node_kind: Mapping[str, NodeKind],
    reach: set[str],
) -> None:
    """Every link in ``reach`` that enters an intersection has movements, each with a share,
    summing to 1."""
    by_link: dict[str, list[tuple[int, MovementSpec]]] = {}
    for i, m in enumerate(movements):
        by_link.setdefault(m.from_link, []).append((i, m))
    for lid, ln in links.items():
        if lid not in reach or node_kind[ln.to_node] is NodeKind.BOUNDARY:
            continue
        moves = by_link.get(lid)
        if not moves:
            raise r.fail(
                "movements",
                f"link {lid!r} enters node {ln.to_node!r} but no "
                "movement leaves it; add [[movements]] with from = " + repr(lid),
            )
        for i, m in moves:
            if m.share is None:
                raise r.fail(
                    f"movements[{i}].share",
                    f"missing; turn-share vehicles of [[demand]] reach link {lid!r}, so each "
                    "of its movements needs the share of the link's vehicles taking it",
                )
        total = sum(m.share or 0.0 for _, m in moves)
        if abs(total - 1.0) > 1e-6:
            raise r.fail(
                f"movements[{moves[0][0]}].share",
                f"shares of movements from link {lid!r} sum to {total:g}; they must sum to 1",
            )
