"""SUMO traffic lights and right of way as the scenario's signal groups, stages and yields.

A SUMO program (``<tlLogic>``) is a list of phases, each a state string with one character
per controlled connection (``linkIndex``). The scenario's per-group form is the same idea
read by columns: the connections whose columns are identical (the same character in every
phase) form one signal group, each phase becomes a stage (``[[signals.stages]]``: its
duration, the groups green in it, the groups yellow in it), and consecutive stages that
look the same at a junction are one stage. State characters (SUMO, "Traffic Lights",
sumo.dlr.de/docs/Simulation/Traffic_Lights.html): ``G`` and ``g`` are green (``g`` gives
way), ``O`` and ``o`` (signal off) are taken as green that gives way, ``y``/``Y`` yellow, and
``r``, ``u`` (red-yellow) red; ``s`` is a green right arrow after a stop: red in the stages,
with the movement marked ``on_red = "yield"``.

Right of way comes from the junction's ``<request index= response=>`` bits: bit ``j`` of
connection ``i``'s response (counted from the right) says that ``i`` must give way to ``j``.
At signals it binds only the movements that give way in some state (``g``, ``s``, ``o``); at
junctions without signals, every minor stream.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from trafficsim.sim.interop.report import ImportReport
from trafficsim.sim.interop.right_of_way import break_circles, direction_rank, meet

GREEN = "GgOo"
YELLOW = "yY"
GIVE_WAY = "gso"


@dataclass(frozen=True, slots=True)
class Conn:
    """One SUMO connection between road lanes, where the model needs it."""

    junction: str
    from_edge: str
    to_edge: str
    from_lane: int
    """Index among the road lanes of the edge it leaves (0 = rightmost)."""
    junction_index: int
    """Its index in the junction's right-of-way table (``<request index=>``)."""
    tls: str
    tl_index: int
    via: str
    direction: str = ""
    """SUMO's ``dir``: ``t`` for a U-turn."""


Move = tuple[str, str]


def signal_tables(
    net: Any,
    conns: list[Conn],
    node_of: dict[str, str],
    begin_s: float,
    report: ImportReport,
) -> tuple[dict[Move, str], list[dict[str, Any]], dict[Move, str]]:
    """Signal groups of the movements at signals (``""``: never green, dropped), the
    ``[[signals]]`` tables, and each movement's state column (for the yields)."""
    groups: dict[Move, str] = {}
    columns: dict[Move, str] = {}
    signals: list[dict[str, Any]] = []
    by_tls: dict[str, list[Conn]] = {}
    for c in conns:
        if c.tls:
            by_tls.setdefault(c.tls, []).append(c)
    for tls in net.getTrafficLights():
        mine = by_tls.get(tls.getID())
        programs = list(tls.getPrograms().values())
        if not mine or not programs:
            continue
        prog = programs[-1]
        phases = [p for p in prog.getPhases() if float(p.duration) > 0]
        if len(phases) < len(prog.getPhases()):
            report.skip("signal phases", "duration 0 s", tls.getID())
        if not phases:
            continue
        if prog.getType() != "static":
            report.note(
                f"{prog.getType()} signal programs run as fixed time with their phases' "
                "durations (SUMO's defaults for them); e.g. " + tls.getID()
            )
        durations = [float(p.duration) for p in phases]
        states = [p.state for p in phases]
        per_junction: dict[str, list[Conn]] = {}
        for c in sorted(mine, key=lambda c: c.tl_index):
            per_junction.setdefault(c.junction, []).append(c)
        # Connections of the junction that the light does not control are free (they
        # keep the junction's priorities, like a minor green).
        for c in conns:
            if not c.tls and c.junction in per_junction:
                per_junction[c.junction].append(c)
        for jid, jconns in per_junction.items():
            col_of: dict[Move, str] = {}
            for c in jconns:
                col = _column(states, c.tl_index) if c.tls else "g" * len(states)
                move = (c.from_edge, c.to_edge)
                if move in col_of and col_of[move] != col:
                    report.skip(
                        "lane signals",
                        "lanes of one movement show different states; the movement takes "
                        "the states of its first lane",
                        f"{tls.getID()} linkIndex {c.tl_index}",
                    )
                    continue
                col_of.setdefault(move, col)
            names: dict[str, str] = {}
            for move, col in col_of.items():
                if not any(ch in GREEN for ch in col) and "s" in col:
                    col = col.replace("s", "g")
                    report.note(
                        "a connection whose only green is 's' (stop, then go) in every phase "
                        "gives way at all times (a minor green)"
                    )
                if not any(ch in GREEN for ch in col):
                    groups[move] = ""
                    report.skip(
                        "movements",
                        "never green in the signal program (SUMO's vehicles cannot use them)",
                        f"{move[0]} -> {move[1]}",
                    )
                    continue
                columns[move] = col
                groups[move] = names.setdefault(col, f"g{len(names)}")
            if names:
                signals.append(
                    _signal(node_of[jid], names, durations, float(prog.getOffset()), begin_s)
                )
    return groups, signals, columns


def _column(states: list[str], index: int) -> str:
    return "".join(s[index] if index < len(s) else "r" for s in states)


def _signal(
    node: str, names: dict[str, str], durations: list[float], offset_s: float, begin_s: float
) -> dict[str, Any]:
    """A ``[[signals]]`` table: one stage per phase, alike consecutive stages merged."""
    stages: list[dict[str, Any]] = []
    for k, dur in enumerate(durations):
        green = [g for col, g in names.items() if col[k] in GREEN]
        yellow = [g for col, g in names.items() if col[k] in YELLOW]
        if stages and stages[-1]["green"] == green and stages[-1]["yellow"] == yellow:
            stages[-1]["duration_s"] = round(stages[-1]["duration_s"] + dur, 3)
        else:
            stages.append({"duration_s": round(dur, 3), "green": green, "yellow": yellow})
    cycle = sum(s["duration_s"] for s in stages)
    # SUMO starts phase 0 at simulation times equal to offset modulo the cycle; the
    # scenario's clock starts at the import window's begin.
    offset = round((offset_s - begin_s) % cycle, 3) if cycle > 0 else 0.0
    return {"node": node, "offset_s": offset, "stages": stages}


def yield_tables(
    net: Any, conns: list[Conn], columns: dict[Move, str], report: ImportReport
) -> dict[Move, tuple[list[Move], bool]]:
    """For each movement: the movements it gives way to, and whether it may go on red
    (see :mod:`~trafficsim.sim.interop.right_of_way` for which yields are kept)."""
    by_junction: dict[str, list[Conn]] = {}
    for c in conns:
        by_junction.setdefault(c.junction, []).append(c)
    foes_of: dict[Move, list[Move]] = {}
    on_red: dict[Move, bool] = {}
    rank: dict[Move, tuple[float, int, int]] = {}
    for jid, jconns in by_junction.items():
        node = net.getNode(jid)
        responses: dict[int, str] = node._prohibits  # sumolib's <request response=> table
        index_of = {c.junction_index: (c.from_edge, c.to_edge) for c in jconns}
        signal = any(c.tls for c in jconns)
        for c in jconns:
            move = (c.from_edge, c.to_edge)
            col = columns.get(move, "")
            priority = float(net.getEdge(c.from_edge).getPriority())
            rank.setdefault(move, (-priority, direction_rank(c.direction), c.junction_index))
            if signal and not any(ch in GIVE_WAY for ch in col):
                continue
            resp = responses.get(c.junction_index, "")
            foes = foes_of.setdefault(move, [])
            for j, bit in enumerate(reversed(resp)):
                foe = index_of.get(j)
                if (
                    bit == "1"
                    and foe is not None
                    and foe != move
                    and foe not in foes
                    and (not signal or meet(col, columns.get(foe, "")))
                ):
                    foes.append(foe)
            on_red[move] = on_red.get(move, False) or (
                "s" in col and any(ch in GREEN for ch in col)
            )
    break_circles(foes_of, lambda m: rank[m], report)
    out: dict[Move, tuple[list[Move], bool]] = {}
    for move in foes_of.keys() | on_red.keys():
        foes, red = foes_of.get(move, []), on_red.get(move, False)
        if foes or red:
            out[move] = (foes, red)
    return out
