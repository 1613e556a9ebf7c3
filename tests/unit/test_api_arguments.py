"""The Python API refuses what it cannot use before anything starts, with the argument's
name: nothing escapes as a bare TypeError or ValueError from deep inside a run."""

from __future__ import annotations

import pytest

import trafficsim

SC = trafficsim.load_scenario("isolated", {"duration_s": 60})


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"seed": -1}, "seed"),
        ({"seed": True}, "seed"),
        ({"duration_s": 0}, "duration_s"),
        ({"duration_s": "long"}, "duration_s"),
        ({"controller": "magic"}, "controller"),
        ({"controller": "fixed", "step_s": "x"}, "step_s"),
        ({"controller": "fixed", "step_s": 0.0}, "step_s"),
        ({"speed": 0}, "speed"),
        ({"fleet": "eu"}, "fleet"),
        ({"design_flows": "flows.toml"}, "design_flows"),  # flows time the fixed controller
        ({"predictor": "no-model/"}, "predictor"),
        ({"mqtt": trafficsim.Mqtt(qos=5)}, "mqtt.qos"),
        ({"mqtt": trafficsim.Mqtt(embedded="xyz")}, "mqtt.embedded"),  # type: ignore[arg-type]
        ({"mqtt": trafficsim.Mqtt(deadline_s=-1)}, "mqtt.deadline_s"),
        ({"mqtt": trafficsim.Mqtt(topic_root="a/#")}, "mqtt.topic_root"),
        ({"mqtt": trafficsim.Mqtt(url="http://x")}, "mqtt.url"),
        ({"mqtt": trafficsim.Mqtt(external_optimizer=True)}, "mqtt"),
    ],
)
def test_a_bad_argument_is_refused_by_name(kwargs: dict, argument: str) -> None:
    with pytest.raises(trafficsim.ArgumentError) as info:
        trafficsim.simulate(SC, **kwargs)
    assert info.value.source == argument, info.value


def test_compare_refuses_too_few_seeds_and_workers() -> None:
    with pytest.raises(trafficsim.ArgumentError, match="at least 2 seeds"):
        trafficsim.compare(SC, seeds=1)
    with pytest.raises(trafficsim.ArgumentError, match="worker"):
        trafficsim.compare(SC, seeds=2, workers=0)


def test_a_share_outside_0_1_is_an_input_error() -> None:
    spec = trafficsim.DeploymentSpec.of(SC)
    with pytest.raises(trafficsim.InputError, match=r"share: expected a share in \(0, 1\]"):
        spec.covering(2.0, SC)
