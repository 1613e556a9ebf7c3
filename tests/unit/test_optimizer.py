"""Controllers on hand-made message streams: Webster's numbers, the centre's view of the
detectors, and each controller's decision rule."""

from __future__ import annotations

import math

import pytest

from trafficsim.models.optimizer import ControlService, make_controller
from trafficsim.models.optimizer.webster import (
    PhaseDemand,
    hcm_delay_s,
    split_greens,
    webster_cycle_s,
)
from trafficsim.sensors.deployment_spec import DeploymentSpec
from trafficsim.sensors.field import Field
from trafficsim.sensors.mqtt.messages import DeviceMeta
from trafficsim.sensors.signals.bridge import SignalBridge
from trafficsim.sim import World, load_scenario


def test_webster_cycle_and_equal_saturation_splits() -> None:
    # Two phases, 5 s intergreen each, no extra lost time: L = 10 s, Y = 0.55.
    phases = [PhaseDemand(0.30, 5.0), PhaseDemand(0.25, 5.0)]
    c = webster_cycle_s(phases, 0.0, 180.0)
    assert c == pytest.approx((1.5 * 10 + 5) / (1 - 0.55))
    g = split_greens(phases, c, 0.0, 5.0)
    assert g == [round((c - 10) * 0.30 / 0.55, 1), round((c - 10) * 0.25 / 0.55, 1)]
    # Near saturation Webster's cycle is capped; minimum greens hold.
    assert webster_cycle_s([PhaseDemand(0.6, 4.0), PhaseDemand(0.38, 4.0)], 0.0, 150.0) == 150.0
    assert (
        min(split_greens([PhaseDemand(0.6, 4.0), PhaseDemand(0.001, 4.0)], 60.0, 0.0, 7.0)) == 7.0
    )
    # Four phases in a 30 s cycle (15 s of intergreens) cannot all have 5 s of green: each
    # keeps its minimum and the cycle grows (the cabinet refuses a green below it).
    four = [PhaseDemand(y, 5.0 if k < 3 else 0.0) for k, y in enumerate((0.3, 0.2, 0.1, 0.05))]
    g = split_greens(four, 30.0, 0.0, 5.0)
    assert min(g) >= 5.0 and sum(g) + 15.0 > 30.0


def test_hcm_delay_matches_the_formula_and_stays_finite_when_oversaturated() -> None:
    cap = 1800 * 50 / 100
    x = 700 / cap
    d1 = 0.5 * 100 * (1 - 0.5) ** 2 / (1 - x * 0.5)
    d2 = 900 * 0.25 * ((x - 1) + math.sqrt((x - 1) ** 2 + 4 * x / (cap * 0.25)))
    assert hcm_delay_s(700, 1800, 50, 100) == pytest.approx(d1 + d2)
    assert math.isfinite(hcm_delay_s(1200, 1800, 50, 100))
    assert hcm_delay_s(1200, 1800, 50, 100) > hcm_delay_s(900, 1800, 50, 100)


@pytest.fixture
def isolated_messages() -> tuple[list[tuple[str, dict]], dict[str, str]]:
    """Real retained metadata of the isolated intersection, as the wire carries it."""
    world = World(load_scenario("isolated", {"duration_s": 60.0}), 0, external_signals=True)
    field = Field(world)
    bridge = SignalBridge(world)
    msgs = [(t, p) for _, t, p in bridge.meta_messages()]
    msgs += [
        (f"hcmc/meta/devices/{d}", DeviceMeta.of(info, "isolated").to_payload())
        for d, info in field.info.items()
    ]
    names = {info.lane_group: d for d, info in field.info.items() if d.startswith("loop-")}
    return msgs, names


def _reading(device: str, t: float, count: int, *, queue: int | None = None, occ: float = 0.0):
    p = {
        "deviceId": device,
        "deviceType": "camera" if queue is not None else "inductiveLoop",
        "simTimeSeconds": t,
        "periodSeconds": 2.0,
        "seq": round(t / 2.0),
        "intensity": count,
        # Honest readings differ from one period to the next; an empty loop reads 0.
        "occupancy": occ + 0.05 + 0.001 * t if count else 0.0,
    }
    if queue is not None:
        p["queueLengthVehicles"] = queue
        p["intensityByClass"] = {"motorcycle": count}
    return p


def _feed(svc: ControlService, msgs) -> None:
    for topic, payload in msgs:
        svc.on_message(topic, payload)


def test_flow_estimate_is_unbiased_from_the_first_readings(isolated_messages) -> None:
    msgs, names = isolated_messages
    ctl = make_controller("predictive")
    svc = ControlService(ctl)
    _feed(svc, msgs)
    loop = names["N_in:NS"]
    for k in range(1, 4):
        svc.on_message(f"hcmc/sensors/C/{loop}", _reading(loop, 2.0 * k, 2))
    assert ctl.view.devices[loop].flow_veh_per_h == pytest.approx(3600.0)


def test_a_stuck_detector_is_ignored_until_it_changes(isolated_messages) -> None:
    msgs, names = isolated_messages
    ctl = make_controller("actuated")
    svc = ControlService(ctl)
    _feed(svc, msgs)
    loop = names["N_in:NS"]
    stuck = {"deviceId": loop, "deviceType": "inductiveLoop", "periodSeconds": 2.0,
             "intensity": 9, "occupancy": 0.4}  # fmt: skip
    for k in range(1, 11):
        svc.on_message(f"hcmc/sensors/C/{loop}", {**stuck, "simTimeSeconds": 2.0 * k, "seq": k})
    assert ctl.view.stuck_readings == 7  # the 4th to the 10th repeat
    assert ctl.view.devices[loop].last_t_s == 6.0


def _state(node: str, t: float, phase: int, groups: dict[str, str]) -> tuple[str, dict]:
    return (
        f"hcmc/signal/{node}/state",
        {"intersection": node, "simTimeSeconds": t, "groups": groups, "phase": phase,
         "mode": "stage", "planId": "x"},
    )  # fmt: skip


def test_max_pressure_serves_the_phase_with_the_longer_queue(isolated_messages) -> None:
    msgs, names = isolated_messages
    svc = ControlService(make_controller("max-pressure"))
    _feed(svc, msgs)
    svc.on_message(*_state("C", 0.0, 0, {"NS": "green", "EW": "red"}))
    # EW has 30 vehicles waiting on each approach, NS 2: after min green, switch to EW.
    for lg, q in (("N_in:NS", 2), ("S_in:NS", 2), ("E_in:EW", 30), ("W_in:EW", 30)):
        cam = names[lg].replace("loop-", "cam-")
        svc.on_message(f"hcmc/sensors/C/{cam}", _reading(cam, 20.0, 1, queue=q))
    out = svc.on_message("hcmc/clock", {"simTimeSeconds": 20.0})
    plans = [p for t, p in out if t.endswith("/plan")]
    assert [(p["kind"], p["phase"]) for p in plans] == [("stage", 1)]
    assert out[-1][0] == "hcmc/control/optimizer/done"
    # Before the minimum green nothing changes hands.
    svc2 = ControlService(make_controller("max-pressure"))
    _feed(svc2, msgs)
    svc2.on_message(*_state("C", 15.0, 0, {"NS": "green", "EW": "red"}))
    out2 = svc2.on_message("hcmc/clock", {"simTimeSeconds": 20.0})
    assert [p["phase"] for t, p in out2 if t.endswith("/plan")] == [0]


def test_actuated_extends_while_vehicles_come_and_gaps_out_after(isolated_messages) -> None:
    msgs, names = isolated_messages
    svc = ControlService(make_controller("actuated"))
    _feed(svc, msgs)
    svc.on_message(*_state("C", 0.0, 0, {"NS": "green", "EW": "red"}))
    ew_loop = names["E_in:EW"]
    svc.on_message(f"hcmc/sensors/C/{ew_loop}", _reading(ew_loop, 10.0, 1))  # a call on EW
    ns_loop = names["N_in:NS"]
    svc.on_message(f"hcmc/sensors/C/{ns_loop}", _reading(ns_loop, 10.0, 2))
    out = svc.on_message("hcmc/clock", {"simTimeSeconds": 10.0})
    assert [p["phase"] for t, p in out if t.endswith("/plan")] == [0]  # vehicles keep coming
    svc.on_message(f"hcmc/sensors/C/{ns_loop}", _reading(ns_loop, 12.0, 0))
    svc.on_message(f"hcmc/sensors/C/{ew_loop}", _reading(ew_loop, 12.0, 1))
    svc.on_message(f"hcmc/sensors/C/{ns_loop}", _reading(ns_loop, 14.0, 0))
    out = svc.on_message("hcmc/clock", {"simTimeSeconds": 14.0})
    assert [p["phase"] for t, p in out if t.endswith("/plan")] == [1]  # gapped out


def test_predictive_gives_the_busier_phase_more_green(isolated_messages) -> None:
    msgs, names = isolated_messages
    ctl = make_controller("predictive")
    svc = ControlService(ctl)
    _feed(svc, msgs)
    for k in range(1, 31):
        for lg, n in (("N_in:NS", 2), ("S_in:NS", 2), ("E_in:EW", 1), ("W_in:EW", 0)):
            loop = names[lg]
            svc.on_message(f"hcmc/sensors/C/{loop}", _reading(loop, 2.0 * k, n + k % 2))
    out = svc.on_message("hcmc/clock", {"simTimeSeconds": 60.0})
    (plan,) = [p for t, p in out if t.endswith("/plan")]
    green = {ph["groups"][0]: ph["greenSeconds"] for ph in plan["phases"]}
    assert plan["kind"] == "cycle" and green["NS"] > green["EW"] >= 5.0
    assert sum(ph["greenSeconds"] + ph["yellowSeconds"] for ph in plan["phases"]) <= 150.0


def test_fixed_times_plans_by_webster_on_design_flows(isolated_messages, tmp_path) -> None:
    from trafficsim.runner.design_flows import load_design_flows

    msgs, _ = isolated_messages
    f = tmp_path / "flows.toml"
    f.write_text('pcu_per_veh = 0.5\n[flows."*"]\nNS = 2400\nEW = 1200\n', encoding="utf-8")
    params = load_design_flows(f)
    svc = ControlService(make_controller("fixed", **params))
    _feed(svc, msgs)
    (plan,) = [p for t, p in svc.on_message("hcmc/clock", {"simTimeSeconds": 2.0}) if "plan" in t]
    green = {ph["groups"][0]: ph["greenSeconds"] for ph in plan["phases"]}
    # A group's saturation flow is both approaches', 7200 PCU/h: y = 0.5 x 2400 / 7200 = 1/6
    # and 1/12, Webster C0 = (1.5 x 6 + 5) / 0.75 = 18.7 s, raised to the 30 s minimum;
    # effective greens 30 - 6 = 24 s, split 2:1.
    assert green == {"NS": 16.0, "EW": 8.0}
    # Without design flows the stored plan is kept.
    svc = ControlService(make_controller("fixed"))
    _feed(svc, msgs)
    (plan,) = [p for t, p in svc.on_message("hcmc/clock", {"simTimeSeconds": 2.0}) if "plan" in t]
    assert [ph["greenSeconds"] for ph in plan["phases"]] == [27.0, 27.0]


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("[flows.C]\nNS = -1\n", "flows.C.NS"),
        ("pcu_per_veh = 0\n[flows.C]\nNS = 1\n", "pcu_per_veh"),
        ("flow = 3\n", "flow"),
        ("pcu_per_veh = 1\n", "flows"),
    ],
)
def test_bad_design_flow_files_name_the_field(tmp_path, text: str, field: str) -> None:
    from trafficsim.runner.design_flows import load_design_flows
    from trafficsim.sim import ScenarioError

    f = tmp_path / "flows.toml"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError, match=field.replace(".", r"\.")):
        load_design_flows(f)


def test_controllers_leave_intersections_without_detectors_alone() -> None:
    sc = load_scenario("hcmc-center", {"duration_s": 60.0})
    world = World(sc, 0, external_signals=True)
    field = Field(world, DeploymentSpec.of(sc).covering(0.25, sc))
    bridge = SignalBridge(world)
    watched = {info.intersection for info in field.info.values() if info.intersection}
    assert len(watched) == round(0.25 * len(world.heads))
    msgs = [(t, p) for _, t, p in bridge.meta_messages()]
    msgs += [
        (f"hcmc/meta/devices/{d}", DeviceMeta.of(info, sc.name).to_payload())
        for d, info in field.info.items()
    ]
    for name in ("actuated", "max-pressure", "predictive"):
        svc = ControlService(make_controller(name))
        _feed(svc, msgs)
        for node in world.heads:
            svc.on_message(*_state(node, 0.0, 0, {"A": "green", "S": "red"}))
        out = svc.on_message("hcmc/clock", {"simTimeSeconds": 30.0})
        commanded = {p["intersection"] for t, p in out if t.endswith("/plan")}
        assert commanded == watched, name


def test_plans_are_cut_to_the_cabinets_maximum_red() -> None:
    """Webster on a group with no demand gives the other 120 s and it 5 s: the 120/5 plan
    the cabinet refuses (NS red 123 s). The controller cuts the long green so that no group
    is red longer than the cabinet's published maximum, and the cabinet accepts the plan."""
    from trafficsim.models.optimizer.controllers import within_max_red
    from trafficsim.sensors.mqtt.messages import PhaseTiming
    from trafficsim.sensors.mqtt.messages.timing import longest_reds_s
    from trafficsim.sensors.signals import Cabinet, IntersectionConfig

    starving = [PhaseTiming.of({"NS"}, 5.0, 3.0), PhaseTiming.of({"EW"}, 120.0, 3.0)]
    assert longest_reds_s(starving)["NS"] == 123.0
    fair = within_max_red(starving, 120.0, 5.0)
    assert [p.green_s for p in fair] == [5.0, 117.0]
    assert max(longest_reds_s(fair).values()) <= 120.0
    assert within_max_red(fair, 120.0, 5.0) == fair  # nothing to cut
    cfg = IntersectionConfig.from_stored(
        "X", (PhaseTiming.of({"NS"}, 27.0, 3.0), PhaseTiming.of({"EW"}, 27.0, 3.0))
    )
    payload = {
        "intersection": "X",
        "planId": "p",
        "kind": "cycle",
        "phases": [p.to_payload() for p in fair],
    }
    assert Cabinet(cfg).receive(payload, 0.0)[0]
