"""SUMO's own saturation flow and start-up lost time, measured on one approach.

The model discharges a queue at a saturation flow after a start-up lost time (HCM 6th ed.,
Ch. 19); SUMO's vehicles discharge by car following. For a SUMO network the fair default of
both is what SUMO itself does, so this builds one signalized approach with netconvert
(a straight road, red for 60 s, then green), queues vehicles of the network's vehicle type
at the stop line, runs SUMO and times each vehicle over the stop line (an instant
induction loop). As HCM measures it, the saturation headway is the mean headway from the
fifth vehicle on, and the start-up lost time is the time the first vehicles took beyond
that headway. A second run ends a short green with a yellow while the queue is still
discharging: the vehicles that still pass give the part of the yellow SUMO's drivers use
(HCM's extension of effective green, ``e = N h - G + l1``; HCM's default of 2 s assumes
drivers who go on far longer into the yellow than SUMO's, which brake whenever they can
stop at their comfortable deceleration). A third run sends vehicles one by one down the
green approach and times them over 400 m: how far below the road's speed SUMO's drivers
cruise (its Krauss model's random slowing, ``sim.dawdling``), with the spread of desired
speeds switched off so that only the dawdling is measured. Three runs of a second or two
each; the figures are written into the imported scenario with the runs that gave them.
"""

from __future__ import annotations

import itertools
import tempfile
import xml.etree.ElementTree as ET  # expat >= 2.4 bounds entity expansion
from dataclasses import dataclass
from pathlib import Path

from trafficsim.sim.interop import tools

QUEUE = 40
"""Vehicles queued at the red: enough for 35 headways after the fourth vehicle."""
GREEN_S = 900.0
"""Long enough for the whole queue even at walking speed."""
HCM_FIRST_SATURATED = 5
"""HCM's saturation headway counts from the fifth queued vehicle (HCM 6th ed., Ch. 19)."""
APPROACH_M = 600.0
"""Length of the approach: room for the whole queue (40 x 7.5 m) and a run-up."""
CRUISE_FROM_M, CRUISE_TO_M = 100.0, 500.0
"""Where the cruise run times its vehicles on the approach (up to speed, short of the
junction)."""
CRUISERS = 20
"""Vehicles of the cruise run, 30 s apart (none follows another)."""
TEST_GREEN_S = 20.0
"""The short green of the yellow run: about 10 of the 40 queued vehicles pass."""
YELLOW_S = 3.0
"""The yellow of the yellow run (the RESCO programs' and the usual urban yellow)."""


@dataclass(frozen=True, slots=True)
class Discharge:
    """What SUMO's queue discharge measured: saturation flow and start-up lost time."""

    sat_flow_veh_per_h_per_lane: float
    startup_lost_s: float
    yellow_end_use_s: float
    dawdle_mps: float
    headways_s: tuple[float, ...]
    speed_mps: float
    vtype: str


def measure(
    *,
    speed_mps: float = 13.89,
    length_m: float = 5.0,
    min_gap_m: float = 2.5,
    vclass: str = "passenger",
    vtype_attrs: dict[str, str] | None = None,
    test_green_s: float = TEST_GREEN_S,
) -> Discharge:
    """Queue discharge of SUMO 1.x at a signal, for one vehicle type and road speed
    (``test_green_s``: the green of the yellow run)."""
    # Red until the last vehicle (sent every 2 s) has joined the queue.
    red_s = float(round(2 * QUEUE + APPROACH_M / max(speed_mps, 0.5) + 30))
    with tempfile.TemporaryDirectory(prefix="trafficsim-sat-") as tmp:
        work = Path(tmp)
        (work / "n.nod.xml").write_text(
            f'<nodes><node id="A" x="0" y="0"/><node id="B" x="{APPROACH_M:g}" y="0" '
            f'type="traffic_light"/><node id="C" x="{2 * APPROACH_M:g}" y="0"/></nodes>',
            encoding="utf-8",
        )
        (work / "n.edg.xml").write_text(
            f'<edges><edge id="in" from="A" to="B" numLanes="1" speed="{speed_mps}"/>'
            f'<edge id="out" from="B" to="C" numLanes="1" speed="{speed_mps}"/></edges>',
            encoding="utf-8",
        )
        tools.run(
            "netconvert",
            [
                *("-n", str(work / "n.nod.xml"), "-e", str(work / "n.edg.xml")),
                *("-o", str(work / "n.net.xml"), "--no-turnarounds", "true"),
                *("--tls.default-type", "static"),
            ],
            "a one-approach test network",
        )
        attrs = {
            "id": "t",
            "vClass": vclass,
            "length": f"{length_m}",
            "minGap": f"{min_gap_m}",
            **(vtype_attrs or {}),
        }
        queue = _routes(work / "r.rou.xml", attrs, [2.0 * k for k in range(QUEUE)])
        cruise = _cruise_s(work, attrs)
        times = _passes(work, queue, [(red_s, "r"), (GREEN_S, "G")])
        short = _passes(
            work, queue, [(red_s, "r"), (test_green_s, "G"), (YELLOW_S, "y"), (GREEN_S, "r")]
        )
    if len(times) < QUEUE:
        raise RuntimeError(f"SUMO discharged {len(times)} of {QUEUE} queued vehicles")
    heads = [b - a for a, b in itertools.pairwise(times)]
    saturated = heads[HCM_FIRST_SATURATED - 1 :]
    h = sum(saturated) / len(saturated)
    # Start-up lost time: the first vehicles' time over the stop line beyond n headways.
    n = HCM_FIRST_SATURATED - 1
    lost = max(0.0, (times[n] - red_s) - n * h)
    # Effective green of the short green: the vehicles that passed, at the saturation
    # headway; what it has beyond the displayed green less the start-up lost time is the
    # part of the yellow they used.
    used = len(short) * h - test_green_s + lost
    yellow_use = min(YELLOW_S, max(0.0, used))
    dawdle = max(0.0, speed_mps - (CRUISE_TO_M - CRUISE_FROM_M) / cruise)
    return Discharge(3600.0 / h, lost, yellow_use, dawdle, tuple(heads), speed_mps, str(attrs))


def _routes(path: Path, attrs: dict[str, str], departs_s: list[float]) -> Path:
    """A route file of vehicles of type ``attrs`` entering the approach at ``departs_s``."""
    vt = ET.Element("vType", attrs)
    vehicles = "".join(
        f'<vehicle id="v{k}" type="{attrs["id"]}" depart="{t:g}" route="r" departSpeed="max"/>'
        for k, t in enumerate(departs_s)
    )
    path.write_text(
        f'<routes>{ET.tostring(vt, encoding="unicode")}<route id="r" edges="in out"/>'
        f"{vehicles}</routes>",
        encoding="utf-8",
    )
    return path


def _loop_passes(
    work: Path, routes: Path, phases: list[tuple[float, str]], loops: dict[str, float]
) -> list[tuple[str, str, float]]:
    """Run SUMO on ``work``'s network with ``routes`` under a one-group program of
    ``phases`` (duration, state) until it ends, with instant induction loops on the
    approach (id: position); every (loop, vehicle, time) a vehicle entered one."""
    shown = "".join(f'<phase duration="{d:g}" state="{st}"/>' for d, st in phases)
    detectors = "".join(
        f'<instantInductionLoop id="{i}" lane="in_0" pos="{pos:g}" file="loops.xml"/>'
        for i, pos in loops.items()
    )
    (work / "a.add.xml").write_text(
        '<additional><tlLogic id="B" type="static" programID="m" offset="0">'
        f"{shown}</tlLogic>{detectors}</additional>",
        encoding="utf-8",
    )
    tools.run(
        "sumo",
        [
            *("-n", str(work / "n.net.xml"), "-r", str(routes)),
            *("-a", str(work / "a.add.xml"), "--end", f"{sum(d for d, _ in phases):g}"),
            *("--no-step-log", "true", "--no-warnings", "true", "--seed", "0"),
        ],
        "a one-approach test network",
    )
    root = ET.parse(work / "loops.xml").getroot()  # noqa: S314 - our own output
    return [
        (e.get("id", ""), e.get("vehID", ""), float(e.get("time", "0")))
        for e in root
        if e.get("state") == "enter"
    ]


def _passes(work: Path, routes: Path, phases: list[tuple[float, str]]) -> list[float]:
    """Times the vehicles of ``routes`` pass the stop line under ``phases``, in order."""
    return sorted(t for _, _, t in _loop_passes(work, routes, phases, {"d": -0.1}))


def _cruise_s(work: Path, attrs: dict[str, str]) -> float:
    """Mean time SUMO's vehicles of type ``attrs`` take from ``CRUISE_FROM_M`` to
    ``CRUISE_TO_M`` on the free, green approach of ``work``'s network."""
    free = {**attrs, "speedDev": "0", "speedFactor": "1"}
    routes = _routes(work / "c.rou.xml", free, [30.0 * k for k in range(CRUISERS)])
    green = [(30.0 * CRUISERS + 600.0, "G")]
    seen: dict[str, dict[str, float]] = {}
    for loop, veh, t in _loop_passes(work, routes, green, {"a": CRUISE_FROM_M, "b": CRUISE_TO_M}):
        seen.setdefault(veh, {})[loop] = t
    spans = [v["b"] - v["a"] for v in seen.values() if "a" in v and "b" in v]
    if not spans:
        raise RuntimeError("SUMO's cruise run timed no vehicle")
    return sum(spans) / len(spans)
