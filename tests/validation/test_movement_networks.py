"""Networks with every movement feature at once keep the engine's invariants.

A 3 x 3 grid with random node kinds (signals and priority junctions), lanes named by index
(shared by through and turning movements), permitted left turns, right turns on red, ranked
priority streams (major left turns yield to the opposing major stream, minor streams to the
major ones and minor left turns also to the opposing minor stream), U-turns, links from 25 m
to 300 m and demand up to oversaturation. Checked exactly: every vehicle is accounted for,
no link ever holds more than its storage, the same seed gives identical records, and every
run ends (the yielding rule never waits for ever). Gridlock of a ring of full links can
happen and is allowed, as in any spillback model.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from trafficsim.sim import World, compute
from trafficsim.sim.metrics import link_peak_occupancy_pcu
from trafficsim.sim.scenario_io import scenario_from_dict

STEP = {"N": (0, 1), "S": (0, -1), "E": (1, 0), "W": (-1, 0)}
OPPOSITE = {"N": "S", "S": "N", "E": "W", "W": "E"}
LEFT = {"N": "W", "W": "S", "S": "E", "E": "N"}  # heading after a left turn
RIGHT = {v: k for k, v in LEFT.items()}


class _Pick:
    """Choices from the run's kind of generator (numpy), as plain Python values."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)

    def choice(self, options: list[Any]) -> Any:
        return options[int(self.rng.integers(len(options)))]

    def random(self) -> float:
        return float(self.rng.random())


def _on(by_arm: dict[str, list[dict[str, Any]]], axis: str, turns: tuple[str, ...]) -> list[Any]:
    """Movements of the arms on ``axis`` that make one of ``turns``."""
    return [
        m
        for h, arm in by_arm.items()
        if (h in "NS") == (axis == "NS")
        for m in arm
        if m["_turn"] in turns
    ]


def _grid(seed: int, n: int = 3) -> dict[str, Any]:
    rnd = _Pick(seed)
    kind = {(i, j): rnd.choice(["signal", "uncontrolled"]) for i in range(n) for j in range(n)}
    edge = {(i, -1) for i in range(n)} | {(i, n) for i in range(n)}
    edge |= {(-1, j) for j in range(n)} | {(n, j) for j in range(n)}
    name = {p: f"n{p[0]}_{p[1]}" for p in kind} | {p: f"b{p[0]}_{p[1]}" for p in edge}
    nodes = [
        {"id": name[p], "kind": kind.get(p, "boundary"), "x_m": 300.0 * p[0], "y_m": 300.0 * p[1]}
        for p in name
    ]
    links: list[dict[str, Any]] = []
    heading: dict[str, str] = {}
    for p in name:
        for h, (dx, dy) in STEP.items():
            q = (p[0] + dx, p[1] + dy)
            if q in name and (p in kind or q in kind):
                lid = f"{name[p]}-{name[q]}"
                heading[lid] = h
                links.append(
                    {
                        "id": lid,
                        "from": name[p],
                        "to": name[q],
                        "length_m": rnd.choice([25.0, 40.0, 120.0, 300.0]),
                        "lanes": rnd.choice([1, 2, 2, 3]),
                    }
                )
    moves: list[dict[str, Any]] = []
    signals = []
    for p, k in kind.items():
        outs = {heading[ln["id"]]: ln["id"] for ln in links if ln["from"] == name[p]}
        major = rnd.choice(["NS", "EW"])
        by_arm: dict[str, list[dict[str, Any]]] = {}
        for ln in (x for x in links if x["to"] == name[p]):
            h, lanes = heading[ln["id"]], ln["lanes"]
            turns = [
                (t, outs.get(o))
                for t, o in (("through", h), ("left", LEFT[h]), ("right", RIGHT[h]))
            ]
            turns = [(t, o) for t, o in turns if o is not None] or [("uturn", outs[OPPOSITE[h]])]
            weights = [rnd.random() + 0.1 for _ in turns]
            arm = []
            for (t, o), wt in zip(turns, weights, strict=True):
                idx = {"right": [0], "left": [lanes - 1], "uturn": [lanes - 1]}.get(
                    t, list(range(lanes))
                )
                m = {
                    "from": ln["id"],
                    "to": o,
                    "share": wt / sum(weights),
                    "lanes": idx,
                    "_turn": t,
                    "_arm": h,
                }
                if k == "signal":
                    m["group"] = "NS" if h in "NS" else "EW"
                arm.append(m)
            arm[-1]["share"] = 1.0 - sum(m["share"] for m in arm[:-1])
            by_arm[h] = arm
        everything = [m for arm in by_arm.values() for m in arm]

        def pairs(ms: list[dict[str, Any]]) -> list[list[str]]:
            return [[m["from"], m["to"]] for m in ms]

        for m in everything:
            h, t = m["_arm"], m["_turn"]
            facing = [x for x in by_arm.get(OPPOSITE[h], []) if x["_turn"] in ("through", "right")]
            ys: list[list[str]] = []
            if k == "signal":
                if t == "left":
                    ys = pairs(facing)
                if t == "right" and rnd.random() < 0.5:
                    m["on_red"] = "yield"
                    ys = pairs(_on(by_arm, "EW" if h in "NS" else "NS", ("through",)))
            elif (h in "NS") == (major == "NS"):
                if t in ("left", "uturn"):
                    ys = pairs(facing)
            else:
                ys = pairs(_on(by_arm, major, ("through", "right", "left", "uturn")))
                if t in ("left", "uturn"):
                    ys += pairs(facing)
            if ys:
                m["yield_to"] = ys
        for m in everything:
            del m["_turn"], m["_arm"]
        moves += everything
        if k == "signal":
            signals.append(
                {
                    "node": name[p],
                    "offset_s": rnd.choice([0.0, 13.0]),
                    "phases": [
                        {"groups": ["NS"], "green_s": rnd.choice([15.0, 30.0])},
                        {"groups": ["EW"], "green_s": rnd.choice([15.0, 30.0]), "all_red_s": 1.0},
                    ],
                }
            )
    demand = [
        {
            "link": ln["id"],
            "flow_veh_per_h": rnd.choice([100.0, 400.0, 900.0]),
            "mix": rnd.choice(["hcmc", "cars"]),
        }
        for ln in links
        if ln["from"].startswith("b")
    ]
    return {
        "scenario": {"name": f"movements{seed}", "duration_s": 1200.0},
        "link_defaults": {"speed_kmh": 50.0},
        "nodes": nodes,
        "links": links,
        "movements": moves,
        "signals": signals,
        "demand": demand,
    }


@pytest.mark.parametrize("seed", [1, 9])
def test_invariants_hold_with_shared_lanes_and_yielding(seed: int) -> None:
    sc = scenario_from_dict(_grid(seed), f"movements{seed}")
    assert any(m.yield_to for m in sc.movements) and any(
        m.on_red.value == "yield" for m in sc.movements
    )
    world = World(sc, seed)
    world.run()
    s = compute(world).summary
    assert s["vehicles_generated"] == (
        s["vehicles_waiting_to_enter"] + s["vehicles_in_network"] + s["vehicles_completed"]
    )
    assert s["vehicles_completed"] > 0.3 * s["vehicles_generated"]
    for link, peak in link_peak_occupancy_pcu(world).items():
        assert peak <= world.links[link].storage_pcu + 1e-6, link
    again = World(sc, seed)
    again.run()
    assert np.array_equal(world.records(), again.records())
