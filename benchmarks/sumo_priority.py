"""A minor stream giving way at a priority junction: SUMO's capacity beside HCM's closed form
and the engine's, on the same scenario.

Usage (SUMO from the ``import`` extra: ``pip install '.[import]'``):

    python benchmarks/sumo_priority.py [--flows 200 400 600 800 1000] [--hours 1] [--json]

The scenario is the engine's own check of gap acceptance (``trafficsim.sim.gap_checks.
priority_junction_scenario``: a major road W to E, two lanes, Poisson arrivals; a minor
road S to N crossing it, always queued), with HCM 6th ed.'s critical gap and follow-up time
for a minor through movement across a two-lane major road (6.5 s, 4.0 s; Exhibit 20-11).
The engine runs it; ``trafficsim export sumo`` writes it for SUMO (a ``priority``
junction, the minor connection ``m``), which runs it with its default junction model.
Per conflicting flow the script prints the minor stream's discharge over the hour after a
15-minute warm-up in each simulator and Harders' potential capacity (HCM Eq. 20-37) at the
major flow that really passed, and the ratios. It is why the per-link delays on the RESCO
networks differ at priority junctions (``benchmarks/resco.py --approaches``).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import xml.etree.ElementTree as ET  # expat >= 2.4 bounds entity expansion
from pathlib import Path

from rich.console import Console
from rich.table import Table

from trafficsim.sim.config import TurnKind
from trafficsim.sim.gap_checks import WARMUP_S, priority_junction, priority_junction_scenario
from trafficsim.sim.gaps import default_gap_params, potential_capacity_veh_per_h
from trafficsim.sim.interop import tools
from trafficsim.sim.interop.sumo_export import export_sumo


def _sumo_rates(
    flow_veh_per_h: float, tc_s: float, tf_s: float, dur_s: float
) -> tuple[float, float]:
    """(major, minor) vehicles per hour past the junction in SUMO, in [WARMUP_S, dur_s)."""
    sc = priority_junction_scenario(flow_veh_per_h, tc_s, tf_s, dur_s)
    with tempfile.TemporaryDirectory(prefix="trafficsim-prio-") as tmp:
        files = export_sumo(sc, Path(tmp))
        cfg = next(p for p in files if p.suffix == ".sumocfg")
        tools.run(
            "sumo",
            ["-c", str(cfg), "--no-step-log", "true", "--no-warnings", "true", "--seed", "0"],
            str(cfg),
        )
        info = next(Path(tmp).glob("*.tripinfo.xml"))
        root = ET.parse(info).getroot()  # noqa: S314 - SUMO's output of our own run
    out_m = {link.id: link.length_m for link in sc.links}
    counts = {"W_in": 0, "S_in": 0}
    for t in root.iter("tripinfo"):
        edge = t.get("departLane", "").rsplit("_", 1)[0]
        arrival = float(t.get("arrival", "-1"))
        if edge not in counts or arrival < 0:
            continue
        # When it crossed: its arrival less the far link at free speed (13.89 m/s).
        crossed = arrival - out_m["N_out" if edge == "S_in" else "E_out"] / 13.89
        if WARMUP_S <= crossed < dur_s:
            counts[edge] += 1
    span_h = (dur_s - WARMUP_S) / 3600.0
    return counts["W_in"] / span_h, counts["S_in"] / span_h


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flows", type=float, nargs="+", default=[200, 400, 600, 800, 1000])
    parser.add_argument("--hours", type=float, default=1.0, help="measured hours per case")
    parser.add_argument("--json", action="store_true", help="JSON lines instead of a table")
    args = parser.parse_args()
    gp = default_gap_params(
        TurnKind.THROUGH, at_signal=False, on_red=False, from_major=False, four_lane_major=False
    )
    tc, tf = gp.critical_gap_s, gp.follow_up_s
    dur = WARMUP_S + args.hours * 3600.0
    table = Table(title=f"Minor through stream at a priority junction (t_c {tc:g} s, t_f {tf:g} s)")
    for col in (
        "major veh/h",
        "HCM veh/h",
        "trafficsim veh/h",
        "SUMO veh/h",
        "trafficsim / HCM",
        "SUMO / HCM",
    ):
        table.add_column(col, justify="right")
    for q in args.flows:
        ours = priority_junction(q, tc, tf, duration_s=dur)
        major_sumo, minor_sumo = _sumo_rates(q, tc, tf, dur)
        hcm_sumo = potential_capacity_veh_per_h(major_sumo, tc, tf)
        row = {
            "major_veh_per_h": q,
            "trafficsim_major_veh_per_h": round(ours.conflicting_veh_per_h, 1),
            "trafficsim_minor_veh_per_h": round(ours.simulated, 1),
            "hcm_at_trafficsim_major_veh_per_h": round(ours.closed_form, 1),
            "sumo_major_veh_per_h": round(major_sumo, 1),
            "sumo_minor_veh_per_h": round(minor_sumo, 1),
            "hcm_at_sumo_major_veh_per_h": round(hcm_sumo, 1),
        }
        if args.json:
            print(json.dumps(row))
            continue
        table.add_row(
            f"{q:.0f}",
            f"{ours.closed_form:.0f}",
            f"{ours.simulated:.0f}",
            f"{minor_sumo:.0f}",
            f"{ours.ratio:.2f}",
            f"{minor_sumo / hcm_sumo:.2f}",
        )
    if not args.json:
        Console().print(table)
        Console().print(
            "HCM: Harders' potential capacity at the major flow that passed in each simulator."
        )


if __name__ == "__main__":
    main()
