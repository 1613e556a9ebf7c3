"""The movement fields of the scenario format: ``lanes = [indices]``, ``yield_to``,
``critical_gap_s``, ``follow_up_s``, ``on_red``, ``turn``; their defaults and refusals."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from trafficsim.sim import ScenarioError
from trafficsim.sim.config import OnRed, TurnKind
from trafficsim.sim.scenario_io import scenario_from_dict

L = 300.0


def _net(kind: str) -> dict[str, Any]:
    """A four-arm node C; every arm has an in and an out link of two lanes."""
    arms = {"N": (0.0, L), "S": (0.0, -L), "E": (L, 0.0), "W": (-L, 0.0)}
    d: dict[str, Any] = {
        "scenario": {"name": "fields", "duration_s": 600.0},
        "link_defaults": {"length_m": L, "lanes": 2, "speed_kmh": 50.0},
        "nodes": [{"id": "C", "kind": kind}]
        + [{"id": a, "kind": "boundary", "x_m": x, "y_m": y} for a, (x, y) in arms.items()],
        "links": [
            {"id": f"{a}_{w}", "from": a if w == "in" else "C", "to": "C" if w == "in" else a}
            for a in arms
            for w in ("in", "out")
        ],
        "demand": [{"link": f"{a}_in", "flow_veh_per_h": 100.0} for a in arms],
    }
    g = kind == "signal"
    moves = [
        ("N_in", "S_out", 1.0, "NS", [0, 1], {}),
        ("S_in", "N_out", 0.6, "NS", [0, 1], {}),
        ("S_in", "W_out", 0.2, "NS", [1], {"yield_to": [["N_in", "S_out"]]}),
        ("S_in", "E_out", 0.2, "NS", [0], {"on_red": "yield", "yield_to": [["W_in", "E_out"]]}),
        ("W_in", "E_out", 1.0, "EW", [0, 1], {}),
        ("E_in", "W_out", 1.0, "EW", [0, 1], {}),
    ]
    d["movements"] = []
    for a, b, share, group, lanes, extra in moves:
        m: dict[str, Any] = {"from": a, "to": b, "share": share, "lanes": lanes, **extra}
        if g:
            m["group"] = group
        elif "on_red" in m:
            del m["on_red"]
        d["movements"].append(m)
    if g:
        d["signals"] = [
            {
                "node": "C",
                "phases": [
                    {"groups": ["NS"], "green_s": 30.0},
                    {"groups": ["EW"], "green_s": 30.0},
                ],
            }
        ]
    return d


def _move(sc: Any, a: str, b: str) -> Any:
    return next(m for m in sc.movements if (m.from_link, m.to_link) == (a, b))


def test_defaults_by_turn_kind_at_a_signal() -> None:
    sc = scenario_from_dict(_net("signal"), "sig")
    left = _move(sc, "S_in", "W_out")
    assert left.turn is TurnKind.LEFT and left.lane_indices == (1,) and left.lanes == 1
    assert (left.critical_gap_s, left.follow_up_s) == (4.5, 2.5)  # HCM Ch. 31
    rtor = _move(sc, "S_in", "E_out")
    assert rtor.turn is TurnKind.RIGHT and rtor.on_red is OnRed.YIELD
    assert (rtor.critical_gap_s, rtor.follow_up_s) == (6.9, 3.3)  # minor right, 4-lane major
    through = _move(sc, "S_in", "N_out")
    assert through.turn is TurnKind.THROUGH and through.critical_gap_s is None


def test_defaults_by_turn_kind_at_a_priority_junction() -> None:
    d = _net("uncontrolled")
    d["movements"][2]["yield_to"] = [["N_in", "S_out"]]  # S left: from a major approach
    d["movements"][4]["yield_to"] = [["N_in", "S_out"], ["S_in", "N_out"]]  # W: minor street
    d["movements"][5]["yield_to"] = [["N_in", "S_out"], ["S_in", "N_out"]]
    sc = scenario_from_dict(d, "twsc")
    assert (_move(sc, "S_in", "W_out").critical_gap_s, _move(sc, "S_in", "W_out").follow_up_s) == (
        4.1,
        2.2,
    )
    w = _move(sc, "W_in", "E_out")
    assert (w.turn, w.critical_gap_s, w.follow_up_s) == (TurnKind.THROUGH, 6.5, 4.0)


def test_given_headways_win_over_defaults() -> None:
    d = _net("signal")
    d["movements"][2].update(critical_gap_s=5.0, follow_up_s=2.0)
    m = _move(scenario_from_dict(d, "sig"), "S_in", "W_out")
    assert (m.critical_gap_s, m.follow_up_s) == (5.0, 2.0)


def _set(path: list[Any], value: Any, kind: str = "signal") -> dict[str, Any]:
    d = copy.deepcopy(_net(kind))
    node: Any = d
    for key in path[:-1]:
        node = node[key]
    if value is ...:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return d


@pytest.mark.parametrize(
    ("data", "field", "hint"),
    [
        (_set(["movements", 2, "lanes"], [2]), "movements[2].lanes", "lane 2 does not exist"),
        (_set(["movements", 2, "lanes"], []), "movements[2].lanes", "lane indices"),
        (_set(["movements", 2, "lanes"], [1, 1]), "movements[2].lanes", "listed twice"),
        (_set(["movements", 2, "lanes"], ["a"]), "movements[2].lanes", "lane indices"),
        (_set(["movements", 2, "lanes"], 1), "movements[2].lanes", "name this one's too"),
        (
            _set(["movements", 2, "yield_to"], [["N_in", "W_out"]]),
            "movements[2].yield_to",
            "no movement from 'N_in' to 'W_out'",
        ),
        (
            _set(["movements", 2, "yield_to"], [["S_in", "N_out"]]),
            "movements[2].yield_to",
            "leaves the same link",
        ),
        (_set(["movements", 2, "yield_to"], "N_in"), "movements[2].yield_to", "pairs"),
        (_set(["movements", 3, "on_red"], "maybe"), "movements[3].on_red", '"yield" or "stop"'),
        (
            _set(["movements", 0, "critical_gap_s"], 4.0),
            "movements[0].critical_gap_s",
            "only a movement that gives way",
        ),
        (_set(["movements", 2, "follow_up_s"], -1.0), "movements[2].follow_up_s", "greater than 0"),
        (_set(["movements", 2, "turn"], "sideways"), "movements[2].turn", "expected one of"),
    ],
)
def test_refusals_name_the_field(data: dict[str, Any], field: str, hint: str) -> None:
    with pytest.raises(ScenarioError) as e:
        scenario_from_dict(data, "bad.toml")
    assert e.value.field == field, str(e.value)
    assert hint in str(e.value)


def test_on_red_only_at_signals() -> None:
    d = _net("uncontrolled")
    d["movements"][3]["on_red"] = "yield"
    with pytest.raises(ScenarioError, match="only movements at signal nodes see red"):
        scenario_from_dict(d, "bad.toml")


def test_yielding_in_a_circle_is_refused() -> None:
    d = _net("signal")
    d["movements"][0]["yield_to"] = [["S_in", "W_out"]]  # N through yields to S left ...
    with pytest.raises(ScenarioError, match="in a circle") as e:
        scenario_from_dict(d, "bad.toml")  # ... which yields to N through
    assert "N_in>S_out" in str(e.value) and "S_in>W_out" in str(e.value)


def test_a_movement_is_given_once() -> None:
    d = _net("signal")
    d["movements"].append(dict(d["movements"][0]))
    with pytest.raises(ScenarioError, match="already movements\\[0\\]"):
        scenario_from_dict(d, "bad.toml")


def test_without_positions_a_yielding_movement_needs_its_turn() -> None:
    d = _net("signal")
    for n in d["nodes"]:
        n.pop("x_m", None)
        n.pop("y_m", None)
    with pytest.raises(ScenarioError, match="needs its turn kind") as e:
        scenario_from_dict(d, "bad.toml")
    assert e.value.field == "movements[2].turn"
    d["movements"][2]["turn"] = "left"
    d["movements"][3]["turn"] = "right"
    sc = scenario_from_dict(d, "ok.toml")
    assert _move(sc, "S_in", "W_out").critical_gap_s == 4.5
