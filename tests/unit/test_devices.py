"""Field devices: deployment from the scenario file, faults, determinism."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from trafficsim.sensors.deployment import FaultSpec
from trafficsim.sensors.devices.faults import FaultState, Outcome
from trafficsim.sensors.field import Field
from trafficsim.sensors.readings import DeviceKind, Reading, StatusChange
from trafficsim.sim import ScenarioError, World, load_scenario
from trafficsim.sim.catalog import scenario_data
from trafficsim.sim.scenario_io import scenario_from_dict


def _world(sensors: dict | None = None, duration_s: float = 1800.0) -> World:
    data, _ = scenario_data("isolated", {"duration_s": duration_s})
    if sensors is not None:
        data["sensors"] = sensors
    return World(scenario_from_dict(data, "test.toml"), 3)


def _collect(world: World, field: Field) -> list[Reading | StatusChange]:
    out: list[Reading | StatusChange] = []
    end = world.scenario.duration_s
    while field.next_due_s() <= end:
        t = field.next_due_s()
        world.step_to(t)
        out += field.poll(t)
    return out


def test_default_deployment_covers_every_approach() -> None:
    f = Field(_world())
    kinds = [d.spec.kind for d in f.devices.values()]
    assert kinds.count(DeviceKind.LOOP) == 4
    assert kinds.count(DeviceKind.CAMERA) == 4
    assert kinds.count(DeviceKind.PROBE) == 1
    assert f.info["loop-N_in-NS"].position_m == 30.0
    lon, lat = f.info["loop-N_in-NS"].lon, f.info["loop-N_in-NS"].lat
    assert lat > 10.7769 and lon == pytest.approx(106.7009)  # north arm, north of the centre


def test_scenario_table_changes_and_adds_devices() -> None:
    f = Field(
        _world(
            {
                "default_deployment": False,
                "probe_share": 0.0,
                "loops": [
                    {
                        "lane_group": "N_in:NS",
                        "position_m": 120.0,
                        "period_s": 15.0,
                        "faults": {"drop": 0.5},
                    },
                    {"id": "stopbar-N", "lane_group": "N_in:NS", "position_m": 0.0},
                ],
                "cameras": [{"lane_group": "E_in:EW"}],
            }
        )
    )
    assert sorted(f.devices) == ["cam-E_in-EW", "loop-N_in-NS", "stopbar-N"]
    spec = f.devices["loop-N_in-NS"].spec
    assert (spec.position_m, spec.period_s, spec.faults.drop) == (120.0, 15.0, 0.5)
    assert spec.faults.noise == FaultSpec().noise  # unspecified faults keep the defaults


@pytest.mark.parametrize(
    ("sensors", "field", "hint"),
    [
        ({"period_s": 0.5}, "sensors.period_s", "from 1 to 300"),
        ({"loops": [{"lane_group": "X:NS"}]}, "sensors.loops[0].lane_group", "unknown lane group"),
        (
            {"loops": [{"lane_group": "N_in:NS", "position_m": 900}]},
            "sensors.loops[0].position_m",
            "from 0 to 300",
        ),
        ({"faults": {"drop": 2}}, "sensors.faults.drop", "from 0 to 1"),
        ({"faults": {"dorp": 0.1}}, "sensors.faults.dorp", "unknown field"),
        (
            {"cameras": [{"lane_group": "N_in:NS", "id": "a/b"}]},
            "sensors.cameras[0].id",
            "used in MQTT topics",
        ),
        ({"lopps": []}, "sensors.lopps", "unknown field"),
    ],
)
def test_bad_sensor_tables_name_the_field(sensors: dict, field: str, hint: str) -> None:
    with pytest.raises(ScenarioError) as err:
        Field(_world(sensors))
    assert err.value.field == field and hint in str(err.value)
    assert "test.toml" in str(err.value)


def test_same_seed_same_readings() -> None:
    a = _collect(w := _world(), Field(w))
    b = _collect(w := _world(), Field(w))
    assert a == b and len(a) > 100


def test_perfect_devices_report_the_truth() -> None:
    none = {"noise": 0.0, "drop": 0.0, "stuck": 0.0, "offline": 0.0}
    w = _world({"faults": none, "probe_share": 0.0})
    events = _collect(w, Field(w))
    cams = [e for e in events if isinstance(e, Reading) and e.device_id == "cam-N_in-NS"]
    rec = w.records()
    lg = next(i.index for i in w.lane_group_info if i.id == "N_in:NS")
    dep = rec["t_dep_s"][rec["lane_group"] == lg]
    assert sum(c.count for c in cams) == int(np.sum(dep < 1800.0))
    assert [c.seq for c in cams] == list(range(1, 31))


def test_faults_drop_stick_and_go_offline() -> None:
    spec = FaultSpec(
        noise=0.0, drop=0.2, stuck=0.05, stuck_mean_s=300.0, offline=0.02, offline_mean_s=600.0
    )
    state = FaultState(spec, np.random.default_rng(1), np.random.default_rng(2))
    outcomes = []
    changes = []
    for k in range(1, 5001):
        o, ch = state.step(60.0 * k, 60.0)
        outcomes.append(o)
        if ch is not None:
            changes.append(ch)
    n = len(outcomes)
    online = [o for o in outcomes if o is not Outcome.OFFLINE]
    # ~20 % of the readings made are lost (binomial, 5 sd over ~4000 readings).
    assert abs(sum(o is Outcome.DROPPED for o in online) / len(online) - 0.2) < 5 * 0.0064
    assert 0 < sum(o is Outcome.STUCK for o in outcomes) < n / 2
    # Offline spells begin with False and end with True, alternately.
    assert changes[0] is False and all(a != b for a, b in itertools.pairwise(changes))
    assert sum(o is Outcome.OFFLINE for o in outcomes) > 500  # ~2 % x 10-period spells


def test_a_device_back_and_down_in_the_same_period_never_reports_coming_back() -> None:
    """Offline every period, each spell one period long: a subscriber sees it go offline
    once and never a (True) it was not told about, or a second False."""
    spec = FaultSpec(noise=0.0, drop=0.0, stuck=0.0, offline=1.0, offline_mean_s=1.0)
    state = FaultState(spec, np.random.default_rng(3), np.random.default_rng(4))
    steps = [state.step(60.0 * k, 60.0) for k in range(1, 50)]
    assert all(o is Outcome.OFFLINE for o, _ in steps)
    assert [ch for _, ch in steps if ch is not None] == [False]


def test_stuck_loop_repeats_its_last_values() -> None:
    stuck = {"noise": 0.05, "drop": 0.0, "stuck": 1.0, "stuck_mean_s": 1e9, "offline": 0.0}
    w = _world({"faults": stuck, "probe_share": 0.0})
    loops = [
        e for e in _collect(w, Field(w)) if isinstance(e, Reading) and e.device_id == "loop-N_in-NS"
    ]
    first = loops[0]
    for r in loops[1:]:
        assert (r.count, r.occupancy, r.speed_mps) == (
            first.count,
            first.occupancy,
            first.speed_mps,
        )
        assert r.seq == loops.index(r) + 1


def test_offline_device_reports_status_and_nothing_else() -> None:
    off = {"noise": 0.0, "drop": 0.0, "stuck": 0.0, "offline": 1.0, "offline_mean_s": 1e9}
    w = _world({"faults": off, "probe_share": 0.0}, duration_s=600.0)
    events = _collect(w, Field(w))
    assert not [e for e in events if isinstance(e, Reading)]
    went = [e for e in events if isinstance(e, StatusChange)]
    assert {e.device_id for e in went} == {
        "loop-N_in-NS",
        "loop-S_in-NS",
        "loop-E_in-EW",
        "loop-W_in-EW",
        "cam-N_in-NS",
        "cam-S_in-NS",
        "cam-E_in-EW",
        "cam-W_in-EW",
    }
    assert all(e.online is False for e in went)


def test_probe_share_and_travel_times() -> None:
    w = World(load_scenario("isolated", {"duration_s": 1800.0}), 5)
    f = Field(w)
    probes = [e for e in _collect(w, f) if isinstance(e, Reading) and e.kind is DeviceKind.PROBE]
    n_probe = sum(e.count for e in probes)
    traversals = sum(
        1
        for r in w.records()
        if w.lane_group_info[r["lane_group"]].kind != "entry" and r["t_dep_s"] <= 1800.0
    )
    # 5 % of vehicles are probes: binomial over ~7000 traversals, 5 sd.
    assert abs(n_probe / traversals - 0.05) < 5 * np.sqrt(0.05 * 0.95 / traversals) + 0.01
    free_tt = 300.0 / (50 / 3.6)
    assert all(e.travel_time_s is not None and e.travel_time_s > 0.8 * free_tt for e in probes)
