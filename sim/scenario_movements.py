"""The lane and priority fields of ``[[movements]]``: ``lanes = [indices]``, ``yield_to``,
``critical_gap_s``, ``follow_up_s``, ``on_red``, ``turn``.

Read per movement by :func:`read_lane_fields` and :func:`read_priority_fields`, then checked
across movements by :func:`resolve_priorities`: every movement named in ``yield_to``
exists at the same node, nobody yields in a circle (in a circle nobody has priority: each
would decide only as it goes, seeing none of the others coming, and the streams would cross
as if they did not conflict; the message names the circle, so an importer can rank them),
and a yielding movement without its own headways gets the defaults of its turn kind
(``sim.gaps``), kept in its :class:`MovementSpec` for everything that reads the scenario.

SUMO's ``<request response=...>`` bits at a traffic light cover foes of every phase, and
cycles among them are common (16 of grid4x4's 16 lights, 2 of cologne3's 3); a movement
gives way only to those that can have green while it has a minor green (``g``) or turns on
red (``s``), and those form no cycle on any of the six RESCO networks.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from trafficsim.sim.config import LinkSpec, MovementSpec, NodeKind, NodeSpec, OnRed, TurnKind
from trafficsim.sim.fields import FieldReader, describe
from trafficsim.sim.gaps import default_gap_params, turn_from_geometry

PRIORITY_KEYS = {"yield_to", "critical_gap_s", "follow_up_s", "on_red", "turn"}


def read_lane_fields(
    r: FieldReader, row: Mapping[str, Any], p: str, link: LinkSpec
) -> tuple[int | None, tuple[int, ...] | None]:
    """``lanes``: a count (today's form) or a list of lane indices of ``link``."""
    if "lanes" not in row:
        return None, None
    v = row["lanes"]
    if isinstance(v, list):
        if not v or not all(isinstance(x, int) and not isinstance(x, bool) for x in v):
            raise r.fail(
                f"{p}.lanes",
                f"expected lane indices such as [0, 1] (0 = rightmost), got {describe(v)}",
            )
        if len(set(v)) != len(v):
            raise r.fail(f"{p}.lanes", f"lane index listed twice in {v}")
        bad = [x for x in v if not 0 <= x < link.lanes]
        if bad:
            raise r.fail(
                f"{p}.lanes",
                f"lane {bad[0]} does not exist: link {link.id!r} has lanes 0 to "
                f"{link.lanes - 1} (0 = rightmost)",
            )
        return len(v), tuple(sorted(v))
    n = r.integer(row, "lanes", p)
    if n > link.lanes:
        raise r.fail(f"{p}.lanes", f"{n} lanes, but link {link.id!r} has {link.lanes}")
    return n, None


def read_priority_fields(
    r: FieldReader, row: Mapping[str, Any], p: str, node_kind: NodeKind
) -> dict[str, Any]:
    """The keyword arguments of :class:`MovementSpec` for who it yields to and how."""
    out: dict[str, Any] = {}
    if "yield_to" in row:
        v = row["yield_to"]
        if not isinstance(v, list) or not all(
            isinstance(x, list) and len(x) == 2 and all(isinstance(y, str) and y for y in x)
            for x in v
        ):
            raise r.fail(
                f"{p}.yield_to",
                'expected a list of [from_link, to_link] pairs such as [["S_in", "N_out"]], '
                f"got {describe(v)}",
            )
        out["yield_to"] = tuple(dict.fromkeys((a, b) for a, b in v))
    if "on_red" in row:
        v = row["on_red"]
        if v not in ("yield", "stop"):
            raise r.fail(f"{p}.on_red", f'expected "yield" or "stop", got {describe(v)}')
        if node_kind is not NodeKind.SIGNAL:
            raise r.fail(f"{p}.on_red", "only movements at signal nodes see red; remove it")
        out["on_red"] = OnRed(v)
    if "turn" in row:
        v = row["turn"]
        kinds = [k.value for k in TurnKind]
        if v not in kinds:
            raise r.fail(f"{p}.turn", f"expected one of {kinds}, got {describe(v)}")
        out["turn"] = TurnKind(v)
    gives_way = bool(out.get("yield_to")) or out.get("on_red") is OnRed.YIELD
    for key in ("critical_gap_s", "follow_up_s"):
        if key in row:
            if not gives_way:
                raise r.fail(
                    f"{p}.{key}", "only a movement that gives way (yield_to or on_red) has it"
                )
            out[key] = r.number(row, key, p, "seconds")
    return out


def resolve_priorities(
    r: FieldReader,
    movements: tuple[MovementSpec, ...],
    links: Mapping[str, LinkSpec],
    node_kind: Mapping[str, NodeKind],
    nodes: Mapping[str, NodeSpec] | None,
) -> tuple[MovementSpec, ...]:
    """Check ``yield_to`` across movements and fill default turn kinds and headways."""
    index = {m.key: i for i, m in enumerate(movements)}
    for i, m in enumerate(movements):
        for a, b in m.yield_to:
            j = index.get((a, b))
            p = f"movements[{i}].yield_to"
            if j is None:
                raise r.fail(p, f"no movement from {a!r} to {b!r}; add it to [[movements]]")
            if a == m.from_link:
                raise r.fail(
                    p,
                    f"[{a!r}, {b!r}] leaves the same link; a movement yields to traffic "
                    "from another approach",
                )
            if links[a].to_node != links[m.from_link].to_node:
                raise r.fail(
                    p,
                    f"[{a!r}, {b!r}] is at node {links[a].to_node!r}, not at "
                    f"{links[m.from_link].to_node!r} where this movement is",
                )
    _refuse_cycles(r, movements, index)
    priority_links = {m.from_link for m in movements if not m.yield_to}
    out = []
    for i, m in enumerate(movements):
        turn = m.turn or _turn(m, links, nodes)
        if not m.gives_way or (m.critical_gap_s is not None and m.follow_up_s is not None):
            out.append(dataclasses.replace(m, turn=turn))
            continue
        if turn is None:
            raise r.fail(
                f"movements[{i}].turn",
                "a movement that gives way needs its turn kind for its default headways: "
                'give turn = "left", "right", "through" or "uturn" (or node positions, '
                "or critical_gap_s and follow_up_s)",
            )
        node = links[m.from_link].to_node
        major_lanes = max((links[a].lanes for a, _ in m.yield_to), default=1)
        gp = default_gap_params(
            turn,
            at_signal=node_kind[node] is NodeKind.SIGNAL,
            on_red=m.on_red is OnRed.YIELD,
            from_major=m.from_link in priority_links,
            four_lane_major=major_lanes >= 2,
        )
        out.append(
            dataclasses.replace(
                m,
                turn=turn,
                critical_gap_s=gp.critical_gap_s if m.critical_gap_s is None else m.critical_gap_s,
                follow_up_s=gp.follow_up_s if m.follow_up_s is None else m.follow_up_s,
            )
        )
    return tuple(out)


def _turn(
    m: MovementSpec, links: Mapping[str, LinkSpec], nodes: Mapping[str, NodeSpec] | None
) -> TurnKind | None:
    if nodes is None:
        return None
    a, b = links[m.from_link], links[m.to_link]
    pos = {k: (nodes[k].x_m, nodes[k].y_m) for k in (a.from_node, a.to_node, b.to_node)}
    return turn_from_geometry(pos[a.from_node], pos[a.to_node], pos[b.to_node])


def _refuse_cycles(
    r: FieldReader, movements: tuple[MovementSpec, ...], index: Mapping[tuple[str, str], int]
) -> None:
    """A movement that (through others) yields to itself would wait for ever."""
    state = [0] * len(movements)  # 0 new, 1 on the path, 2 done
    for start in range(len(movements)):
        if state[start]:
            continue
        path: list[int] = []
        stack: list[tuple[int, int]] = [(start, 0)]
        while stack:
            i, k = stack.pop()
            if k == 0:
                state[i] = 1
                path.append(i)
            targets = movements[i].yield_to
            if k < len(targets):
                stack.append((i, k + 1))
                j = index[targets[k]]
                if state[j] == 1:
                    ring = [*path[path.index(j) :], j]
                    names = " -> ".join(
                        f"{movements[x].from_link}>{movements[x].to_link}" for x in ring
                    )
                    raise r.fail(
                        f"movements[{i}].yield_to",
                        f"movements yield to each other in a circle ({names}); one of them "
                        "must have priority",
                    )
                if state[j] == 0:
                    stack.append((j, 0))
            else:
                state[i] = 2
                path.pop()
