"""Yielding movements against gap acceptance's closed forms, over a range of conflicting flows.

Usage: python benchmarks/gap_acceptance.py [--flows 200 400 ...] [--hours 3] [--json]

Prints one row per case and conflicting flow: the flow that really passed, the headways,
the engine's capacity, the closed form (Harders / HCM 6th ed. Ch. 20 potential capacity;
HCM Ch. 31 permitted left per cycle with its two sneakers) and Siegloch (1973) where it
applies, and the ratio. The cases are those of ``trafficsim.sim.gap_checks``; the
validation tests assert a subset within 10 %.
"""

from __future__ import annotations

import argparse
import json
import time

from trafficsim.sim.config import TurnKind
from trafficsim.sim.gap_checks import (
    CapacityCheck,
    permitted_left,
    priority_junction,
    right_turn_on_red,
)
from trafficsim.sim.gaps import GapParams, default_gap_params


def _twsc(turn: TurnKind, major: bool) -> GapParams:
    return default_gap_params(
        turn, at_signal=False, on_red=False, from_major=major, four_lane_major=False
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flows", type=float, nargs="+", default=[200, 400, 600, 800, 1000, 1200])
    parser.add_argument("--hours", type=float, default=3.0, help="simulated hours per case")
    parser.add_argument("--json", action="store_true", help="JSON lines instead of a table")
    args = parser.parse_args()
    dur = args.hours * 3600.0 + 900.0
    cases = [
        ("minor through", _twsc(TurnKind.THROUGH, False)),
        ("minor right", _twsc(TurnKind.RIGHT, False)),
        ("minor left", _twsc(TurnKind.LEFT, False)),
        ("major left", _twsc(TurnKind.LEFT, True)),
    ]
    rows: list[tuple[str, CapacityCheck, float]] = []
    for q in args.flows:
        for name, gp in cases:
            t0 = time.perf_counter()
            c = priority_junction(q, gp.critical_gap_s, gp.follow_up_s, duration_s=dur)
            rows.append((f"priority junction, {name}", c, time.perf_counter() - t0))
        t0 = time.perf_counter()
        rows.append(
            (
                "permitted left at a signal",
                permitted_left(q, duration_s=dur),
                time.perf_counter() - t0,
            )
        )
        t0 = time.perf_counter()
        rows.append(
            ("right turn on red", right_turn_on_red(q, duration_s=dur), time.perf_counter() - t0)
        )
    if args.json:
        for name, c, wall in rows:
            print(
                json.dumps(
                    {
                        "case": name,
                        "conflicting_veh_per_h": round(c.conflicting_veh_per_h, 1),
                        "critical_gap_s": c.critical_gap_s,
                        "follow_up_s": c.follow_up_s,
                        "simulated": round(c.simulated, 2),
                        "closed_form": round(c.closed_form, 2),
                        "siegloch": None if c.siegloch is None else round(c.siegloch, 2),
                        "unit": c.unit,
                        "ratio": round(c.ratio, 4),
                        "wall_s": round(wall, 3),
                    }
                )
            )
        return
    print(
        "| case | conflicting flow (veh/h) | t_c / t_f (s) | engine | closed form | Siegloch "
        "| engine / closed form |"
    )
    print("|---|---|---|---|---|---|---|")
    for name, c, _ in sorted(rows, key=lambda r: (r[0], r[1].conflicting_veh_per_h)):
        sieg = "-" if c.siegloch is None else f"{c.siegloch:.1f}"
        print(
            f"| {name} | {c.conflicting_veh_per_h:.0f} | {c.critical_gap_s:g} / {c.follow_up_s:g} "
            f"| {c.simulated:.1f} {c.unit} | {c.closed_form:.1f} | {sieg} | {c.ratio:.3f} |"
        )


if __name__ == "__main__":
    main()
