"""How soon cabinets fall back when the optimizer goes quiet, in cycles of their stored plan.

Usage: python benchmarks/fallback_delay.py [--size 2] [--stop 300] [--duration 900]
       [--seed 1] [--controllers fixed,actuated,max-pressure,predictive]

Scenario: the built-in grid (stored 60 s two-phase plans), in memory; the optimizer answers
until ``--stop`` simulated seconds and never again (a crashed or hung optimizer). For each
controller and cabinet it prints when the cabinet last accepted a command, when it fell
back (the last commanded green ended), the delay after the last command and after the
silence began, both in seconds and in stored cycles, then one JSON line with the worst
delays. The target: at most one stored cycle after the last command.
"""

from __future__ import annotations

import argparse
import json

from trafficsim.runner.closed_loop import LoopOptions, run_closed_loop
from trafficsim.sim import load_scenario


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=2)
    ap.add_argument("--stop", type=float, default=300.0)
    ap.add_argument("--duration", type=float, default=900.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--controllers", default="fixed,actuated,max-pressure,predictive")
    args = ap.parse_args()
    worst_last = worst_silence = 0.0
    print(f"{'controller':13s} {'cabinet':7s} {'last cmd s':>10s} {'fell back s':>11s} "
          f"{'after last (cycles)':>20s} {'after silence (cycles)':>23s}")  # fmt: skip
    for name in args.controllers.split(","):
        sc = load_scenario("grid", {"size": args.size, "duration_s": args.duration})
        world, stats = run_closed_loop(
            sc, args.seed, LoopOptions(controller=name), stop_optimizer_at_s=args.stop
        )
        for e in stats.fallback_episodes:
            cycle = world.heads[e.intersection].plan.cycle_s  # phases or stages
            last = e.last_command_s if e.last_command_s is not None else 0.0
            after_last = (e.fell_back_at_s - last) / cycle
            after_silence = (e.fell_back_at_s - args.stop) / cycle
            worst_last = max(worst_last, after_last)
            worst_silence = max(worst_silence, after_silence)
            print(
                f"{name:13s} {e.intersection:7s} {last:10.0f} {e.fell_back_at_s:11.0f} "
                f"{e.fell_back_at_s - last:9.0f} s ({after_last:4.2f}) "
                f"{e.fell_back_at_s - args.stop:11.0f} s ({after_silence:4.2f})"
            )
        missing = sorted(set(world.heads) - {e.intersection for e in stats.fallback_episodes})
        if missing:
            print(f"{name:13s} never fell back: {', '.join(missing)}")
    print(
        json.dumps(
            {
                "worst_cycles_after_last_command": round(worst_last, 2),
                "worst_cycles_after_silence": round(worst_silence, 2),
                "target_cycles_after_last_command": 1.0,
            }
        )
    )


if __name__ == "__main__":
    main()
