"""The ``[sensors]`` table parsed once into a DeploymentSpec, and the variants runs derive
from it: each gives the devices the runner used to get by rewriting the table by its keys."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from trafficsim.sensors.deployment import FaultSpec, build_deployment
from trafficsim.sensors.deployment_spec import DeploymentSpec, ExplicitDevice, FaultOverrides
from trafficsim.sensors.field import Field
from trafficsim.sim import Scenario, ScenarioError, World, load_scenario
from trafficsim.sim.catalog import scenario_data
from trafficsim.sim.scenario_io import scenario_from_dict

TABLE: dict[str, Any] = {
    "loop_position_m": 20.0,
    "faults": {"noise": 0.1, "drop": 0.02},
    "loops": [{"lane_group": "N_in:NS", "position_m": 120, "faults": {"stuck": 0.5}}],
    "cameras": [{"id": "cam-north", "lane_group": "N_in:NS", "period_s": 15}],
}


def _isolated(sensors: dict[str, Any] | None = None) -> Scenario:
    data, _ = scenario_data("isolated", {"duration_s": 600.0})
    if sensors is not None:
        data["sensors"] = sensors
    return scenario_from_dict(data, "test.toml")


def _devices(sc: Scenario, spec: DeploymentSpec) -> Any:
    return build_deployment(World(sc, 0), spec)


# What the runner did before there was a spec: the table rewritten by its keys.
def _control_table(table: dict[str, Any], step_s: float) -> dict[str, Any]:
    return {"period_s": step_s, "probe_period_s": 60.0, **table}


def _instrumented_table(sc: Scenario, table: dict[str, Any], share: float) -> dict[str, Any]:
    signals = sorted(s.node for s in sc.signals)
    k = max(1, round(share * len(signals)))
    keep = sorted({signals[int(i * len(signals) / k)] for i in range(k)})
    return {**table, "intersections": keep, "probe_share": 0.0}


def _more_faults_table(table: dict[str, Any], factor: float) -> dict[str, Any]:
    base = FaultSpec()
    faults = {k: min(1.0, getattr(base, k) * factor) for k in ("drop", "stuck", "offline")}
    return {**table, "faults": faults}


def test_the_table_is_parsed_into_typed_fields_and_unset_ones_stay_unset() -> None:
    spec = DeploymentSpec.from_table(TABLE, "test.toml")
    assert spec.source == "test.toml"
    assert (spec.period_s, spec.probe_share, spec.probe_period_s) == (None, None, None)
    assert spec.loop_position_m == 20.0 and spec.default_deployment
    assert spec.faults == FaultOverrides(noise=0.1, drop=0.02)
    assert spec.loops == (
        ExplicitDevice("N_in:NS", faults=FaultOverrides(stuck=0.5), position_m=120),
    )
    assert spec.cameras == (ExplicitDevice("N_in:NS", "cam-north", 15.0),)
    assert DeploymentSpec.from_table({}, "x.toml") == DeploymentSpec(source="x.toml")


def test_the_field_builds_from_the_spec_without_reading_the_table_again() -> None:
    spec = DeploymentSpec.from_table({"probe_share": 0.0}, "test.toml")
    world = World(_isolated({"lopps": []}), 0)  # the scenario's own table is not read
    assert "probe-fleet" not in Field(world, spec).devices
    with pytest.raises(ScenarioError, match=r"sensors\.lopps"):
        Field(world)


def test_the_spec_gives_the_devices_its_table_gave() -> None:
    sc = _isolated(TABLE)
    f = Field(World(sc, 0))
    assert f.deployment == _devices(sc, DeploymentSpec.of(sc))
    loop = f.devices["loop-N_in-NS"].spec
    assert (loop.position_m, loop.faults.noise, loop.faults.stuck) == (120.0, 0.1, 0.5)
    assert f.devices["loop-S_in-NS"].spec.position_m == 20.0
    assert f.devices["cam-north"].spec.period_s == 15.0
    assert f.devices["probe-fleet"].spec.period_s == 60.0  # the devices' period


@pytest.mark.parametrize(
    ("table", "field"),
    [
        ({"period_s": 0.5}, "sensors.period_s"),
        ({"faults": {"drop": 2}}, "sensors.faults.drop"),
        ({"cameras": [{"lane_group": "N_in:NS", "id": "a/b"}]}, "sensors.cameras[0].id"),
        ({"loops": {"lane_group": "N_in:NS"}}, "sensors.loops"),
        ({"loops": [{"lane_group": 5}]}, "sensors.loops[0].lane_group"),
        (
            {"loops": [{"lane_group": "N_in:NS", "position_m": "far"}]},
            "sensors.loops[0].position_m",
        ),
    ],
)
def test_what_needs_no_network_is_checked_when_parsed(table: dict[str, Any], field: str) -> None:
    with pytest.raises(ScenarioError) as err:
        DeploymentSpec.from_table(table, "test.toml")
    assert err.value.field == field


@pytest.mark.parametrize(
    ("table", "field"),
    [
        ({"loops": [{"lane_group": "X:NS"}]}, "sensors.loops[0].lane_group"),
        ({"cameras": [{}]}, "sensors.cameras[0].lane_group"),
        ({"loops": [{"lane_group": "N_in:NS", "position_m": 900}]}, "sensors.loops[0].position_m"),
    ],
)
def test_lane_groups_and_positions_are_checked_against_the_network(
    table: dict[str, Any], field: str
) -> None:
    spec = DeploymentSpec.from_table(table, "test.toml")
    with pytest.raises(ScenarioError) as err:
        _devices(_isolated(), spec)
    assert err.value.field == field and "test.toml" in str(err.value)


@pytest.mark.parametrize("table", [{}, TABLE, {"period_s": 30, "probe_period_s": 10}])
def test_control_periods_apply_unless_the_table_sets_its_own(table: dict[str, Any]) -> None:
    sc = _isolated(table)
    spec = DeploymentSpec.of(sc)
    control = spec.for_control(2.0)
    assert control.period_s == table.get("period_s", 2.0)
    assert control.probe_period_s == table.get("probe_period_s", 60.0)
    assert spec == DeploymentSpec.of(sc)  # the original is left as it was
    old = DeploymentSpec.from_table(_control_table(table, 2.0), sc.source)
    assert _devices(sc, control) == _devices(sc, old)


def test_a_control_step_no_device_can_report_at_names_the_period() -> None:
    with pytest.raises(ScenarioError) as err:
        DeploymentSpec(source="test.toml").for_control(0.5)
    assert err.value.field == "sensors.period_s" and "from 1 to 300" in str(err.value)


@pytest.mark.parametrize("share", [0.25, 0.5, 1.0])
def test_coverage_gives_the_devices_the_rewritten_table_gave(share: float) -> None:
    sc = load_scenario("hcmc-center", {"duration_s": 60.0})
    table = {"period_s": 30, "faults": {"drop": 0.2}}
    sc = dataclasses.replace(sc, sensors=table)
    spec = DeploymentSpec.of(sc)
    covered = spec.covering(share, sc)
    assert covered.intersections is not None and covered.probe_share == 0.0
    assert spec == DeploymentSpec.of(sc)
    old = DeploymentSpec.from_table(_instrumented_table(sc, table, share), sc.source)
    new_devices = _devices(sc, covered)
    assert new_devices == _devices(sc, old)
    assert all(d.period_s == 30.0 and d.faults.drop == 0.2 for d in new_devices.devices)


def test_coverage_refuses_a_share_outside_0_to_1() -> None:
    sc = _isolated()
    with pytest.raises(ValueError, match=r"share: expected a share in \(0, 1\]"):
        DeploymentSpec.of(sc).covering(0.0, sc)


@pytest.mark.parametrize("factor", [0.0, 2.0, 5000.0])
def test_fault_factors_give_the_devices_the_rewritten_table_gave(factor: float) -> None:
    sc = _isolated(TABLE)
    spec = DeploymentSpec.of(sc)
    more = spec.with_fault_factor(factor)
    base = FaultSpec()
    assert more.faults == FaultOverrides(
        drop=min(1.0, base.drop * factor),
        stuck=min(1.0, base.stuck * factor),
        offline=min(1.0, base.offline * factor),
    )
    assert spec == DeploymentSpec.of(sc) and spec.faults.noise == 0.1
    old = DeploymentSpec.from_table(_more_faults_table(TABLE, factor), sc.source)
    assert _devices(sc, more) == _devices(sc, old)


def test_a_negative_fault_factor_names_the_rate() -> None:
    with pytest.raises(ScenarioError) as err:
        DeploymentSpec(source="test.toml").with_fault_factor(-1.0)
    assert err.value.field == "sensors.faults.drop"


def test_variants_compose_as_the_runner_composes_them() -> None:
    """The report's cases run in the closed loop: coverage or faults, then control periods."""
    sc = load_scenario("hcmc-center", {"duration_s": 60.0})
    spec = DeploymentSpec.of(sc)
    for variant, table in (
        (spec.covering(0.5, sc), _instrumented_table(sc, {}, 0.5)),
        (spec.with_fault_factor(10.0), _more_faults_table({}, 10.0)),
    ):
        old = DeploymentSpec.from_table(_control_table(table, 2.0), sc.source)
        assert _devices(sc, variant.for_control(2.0)) == _devices(sc, old)
