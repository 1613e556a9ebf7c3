"""``--set KEY=VALUE`` changes a scenario, and a wrong key or value is a clear error."""

from __future__ import annotations

import pytest

from trafficsim.sim import ScenarioError, load_scenario, parse_overrides


def test_builtin_parameters_change_the_network() -> None:
    sc = load_scenario("grid", parse_overrides(["size=2", "cross_flow_ratio=0.5", "mix=cars"]))
    assert sum(n.kind.value == "signal" for n in sc.nodes) == 4
    flows = sorted({d.profile[0][1] for d in sc.demands})
    assert flows == [300.0, 600.0]
    assert {d.mix for d in sc.demands} == {"cars"}


@pytest.mark.parametrize(
    ("pair", "message"),
    [
        ("sise=3", "sise: unknown parameter; valid: "),
        ("size=2.5", "size: expected an integer"),
        ("size=0", "size: expected at least 1"),
        ("mix=bikes", "mix: expected one of ['hcmc', 'cars']"),
        ("entry_flow_veh_per_h=lots", "entry_flow_veh_per_h: expected a number"),
    ],
)
def test_bad_builtin_override(pair: str, message: str) -> None:
    with pytest.raises(ScenarioError) as err:
        load_scenario("grid", parse_overrides([pair]))
    assert message in str(err.value)
    assert "built-in scenario 'grid'" in str(err.value)


def test_pair_without_equals_sign() -> None:
    with pytest.raises(ScenarioError, match="expected KEY=VALUE"):
        parse_overrides(["size"])


def test_file_overrides_by_dotted_path(corridor, tmp_path) -> None:
    path = str(corridor(tmp_path))
    sc = load_scenario(
        path,
        parse_overrides(["links.J1-J2.lanes=2", "demand.0.flow_veh_per_h=450", "duration_s=600"]),
    )
    assert {ln.id: ln.lanes for ln in sc.links}["J1-J2"] == 2
    assert sc.demands[0].profile == ((0.0, 450.0),)
    assert sc.duration_s == 600.0


def test_file_override_errors(corridor, tmp_path) -> None:
    path = str(corridor(tmp_path))
    with pytest.raises(ScenarioError, match="no element with id 'J1-J3'"):
        load_scenario(path, parse_overrides(["links.J1-J3.lanes=2"]))
    with pytest.raises(ScenarioError, match=r"links\[1\]\.lanse: unknown field"):
        load_scenario(path, parse_overrides(["links.J1-J2.lanse=2"]))
    with pytest.raises(ScenarioError, match=r"links\[1\]\.lanes: expected a positive integer"):
        load_scenario(path, parse_overrides(["links.J1-J2.lanes=two"]))
