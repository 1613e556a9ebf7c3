"""A small scenario for plans written in stages (tests of the engine and of the cabinets)."""

from __future__ import annotations

from typing import Any

# A left turn (S_in, group "lt") keeps its green through the yellow of the through movement
# (N_in, "th"), as in the Cologne programs, then the cross street (E_in, "ew") runs.
# Stages: 20 s th + lt green; 3 s th yellow, lt green; 7 s lt green; 3 s lt yellow;
# 20 s ew green; 3 s ew yellow: a 56 s cycle.
COLOGNE_LIKE = [
    {"duration_s": 20, "green": ["th", "lt"]},
    {"duration_s": 3, "green": ["lt"], "yellow": ["th"]},
    {"duration_s": 7, "green": ["lt"]},
    {"duration_s": 3, "yellow": ["lt"]},
    {"duration_s": 20, "green": ["ew"]},
    {"duration_s": 3, "yellow": ["ew"]},
]


def stage_scenario(signal: dict[str, Any], duration_s: float = 560.0) -> dict[str, Any]:
    """Three approaches, one group each, 290 m at 36 km/h (29 s, a whole number of 2 s
    headways), each fed 1,800 cars/h evenly: far more than a group's capacity, so every
    green after the first starts with a standing queue."""
    arms = ["N", "S", "E", "W"]
    movements = [("N_in", "S_out", "th"), ("S_in", "W_out", "lt"), ("E_in", "W_out", "ew")]
    return {
        "scenario": {"name": "stages", "duration_s": duration_s},
        "link_defaults": {"length_m": 290.0, "lanes": 1, "speed_kmh": 36.0},
        "nodes": [{"id": "C", "kind": "signal"}] + [{"id": a, "kind": "boundary"} for a in arms],
        "links": [
            {"id": "N_in", "from": "N", "to": "C"},
            {"id": "S_in", "from": "S", "to": "C"},
            {"id": "E_in", "from": "E", "to": "C"},
            {"id": "S_out", "from": "C", "to": "S"},
            {"id": "W_out", "from": "C", "to": "W"},
        ],
        "movements": [{"from": a, "to": b, "share": 1.0, "group": g} for a, b, g in movements],
        "signals": [{"node": "C", **signal}],
        "demand": [
            {"link": a, "flow_veh_per_h": 1800.0, "mix": "cars", "arrivals": "uniform"}
            for a, _, _ in movements
        ],
    }
