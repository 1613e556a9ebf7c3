"""Shared helpers: where the installed command line lives, and small scenario files."""

from __future__ import annotations

import json
import re
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent / "support"))
from tests_support import RestartableMosquitto, free_port, start_mosquitto, wait_for_port

REPO = Path(__file__).resolve().parents[1]
TESTS = Path(__file__).resolve().parent

# The folder a test lives in is its kind: ``pytest -m "not integration and not validation"``
# is the fast loop (the markers are declared in pyproject.toml).
MARKED_FOLDERS = ("integration", "validation")


@pytest.hookimpl(tryfirst=True)  # before ``-m`` selects on the markers
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        for folder in MARKED_FOLDERS:
            if item.path.is_relative_to(TESTS / folder):
                item.add_marker(getattr(pytest.mark, folder))


@pytest.fixture(scope="session")
def trafficsim_exe() -> str:
    """The ``trafficsim`` console script of the environment running the tests."""
    candidate = Path(sys.executable).with_name("trafficsim")
    if candidate.exists():
        return str(candidate)
    found = shutil.which("trafficsim")
    if found is None:
        pytest.fail("the trafficsim command is not installed: pip install '.[dev]' first")
    return found


CORRIDOR_TOML = """
[scenario]
name = "corridor"
duration_s = {duration_s}

[link_defaults]
speed_kmh = 50
sat_flow_pcu_per_h_per_lane = 1800

[[nodes]]
id = "A"
kind = "boundary"
[[nodes]]
id = "J1"
kind = "signal"
[[nodes]]
id = "J2"
kind = "signal"
[[nodes]]
id = "B"
kind = "boundary"

[[links]]
id = "A-J1"
from = "A"
to = "J1"
length_m = 300
lanes = 1
[[links]]
id = "J1-J2"
from = "J1"
to = "J2"
length_m = {middle_length_m}
lanes = 1
[[links]]
id = "J2-B"
from = "J2"
to = "B"
length_m = 300
lanes = 1

[[movements]]
from = "A-J1"
to = "J1-J2"
share = 1.0
group = "main"
[[movements]]
from = "J1-J2"
to = "J2-B"
share = 1.0
group = "main"

[[signals]]
node = "J1"
[[signals.phases]]
groups = ["main"]
green_s = 40
yellow_s = 3
all_red_s = 17

[[signals]]
node = "J2"
offset_s = 20
[[signals.phases]]
groups = ["main"]
green_s = {j2_green_s}
yellow_s = 3
all_red_s = {j2_red_s}

[[demand]]
link = "A-J1"
flow_veh_per_h = {flow}
mix = "cars"
"""


@pytest.fixture
def corridor() -> object:
    """Factory for the corridor scenario file (see :func:`corridor_file`)."""
    return corridor_file


def corridor_file(
    tmp: Path,
    *,
    middle_length_m: float = 60.0,
    j2_green_s: float = 10.0,
    flow: float = 900.0,
    duration_s: float = 3600.0,
) -> Path:
    """Two signals in a row on a one-lane road; J2's short green makes a bottleneck."""
    path = tmp / "corridor.toml"
    path.write_text(
        CORRIDOR_TOML.format(
            middle_length_m=middle_length_m,
            j2_green_s=j2_green_s,
            j2_red_s=60.0 - 3.0 - j2_green_s,
            flow=flow,
            duration_s=duration_s,
        ),
        encoding="utf-8",
    )
    return path


# -- MQTT: real brokers and payload contracts ------------------------------------------------


@pytest.fixture(scope="session")
def mosquitto_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Mosquitto on a free loopback port, anonymous, with room for slow readers."""
    port = free_port()
    tmp = tmp_path_factory.mktemp("mosquitto")
    proc, log = start_mosquitto(
        f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
        "max_queued_messages 1000000\n",
        tmp,
    )
    try:
        wait_for_port(port)
    except RuntimeError:
        proc.kill()
        pytest.fail(f"mosquitto did not start: {log.read_text()}")
    yield f"mqtt://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture
def restartable_mosquitto(tmp_path: Path) -> Iterator[RestartableMosquitto]:
    """A real Mosquitto of this test alone that keeps sessions across its own restart
    (``.restart(down_s)``: SIGTERM, away for ``down_s``, started on the same port)."""
    data = tmp_path / "mosquitto-data"
    data.mkdir()
    broker = RestartableMosquitto(data).start()
    yield broker
    broker.stop()


@pytest.fixture(scope="session")
def amqtt_url() -> Iterator[str]:
    """The embedded pure-Python broker (amqtt), in this process."""
    from trafficsim.sensors.mqtt.broker import EmbeddedBroker

    broker = EmbeddedBroker("amqtt", port=free_port()).start()
    yield broker.url
    broker.stop()


@pytest.fixture(params=["mosquitto", "amqtt"])
def broker_url(request: pytest.FixtureRequest) -> str:
    return str(request.getfixturevalue(f"{request.param}_url"))


class FeedContract:
    """Validates real messages against docs/asyncapi.yaml and the FIWARE schema."""

    def __init__(self) -> None:
        import yaml
        from jsonschema import Draft7Validator, Draft202012Validator, FormatChecker
        from referencing import Registry, Resource

        self.doc = yaml.safe_load((REPO / "docs" / "asyncapi.yaml").read_text(encoding="utf-8"))
        fmt = FormatChecker()
        self.channels: list[tuple[re.Pattern[str], list[Any]]] = []
        for ch in self.doc["channels"].values():
            pattern = re.escape(ch["address"]).replace(r"\{root\}", "hcmc")
            pattern = re.sub(r"\\\{[a-z]+\\\}", "[^/]+", pattern)
            validators = []
            for msg in ch["messages"].values():
                ref = msg["$ref"].removeprefix("#/")
                node: Any = self.doc
                for part in ref.split("/"):
                    node = node[part]
                schema = {**node["payload"], "components": self.doc["components"]}
                validators.append(
                    (node.get("contentType"), Draft7Validator(schema, format_checker=fmt))
                )
            self.channels.append((re.compile(f"^{pattern}$"), validators))
        schemas = REPO / "sensors" / "mqtt" / "schemas"
        common = json.loads((schemas / "common-schema.json").read_text(encoding="utf-8"))
        fiware = json.loads(
            (schemas / "TrafficFlowObserved.schema.json").read_text(encoding="utf-8")
        )
        registry = Registry().with_resource(common["$id"], Resource.from_contents(common))
        self.fiware = Draft202012Validator(fiware, registry=registry, format_checker=fmt)

    def check(self, topic: str, payload: bytes) -> Any:
        """The decoded payload, or an AssertionError saying what is wrong."""
        matches = [v for pat, v in self.channels if pat.match(topic)]
        assert matches, f"{topic}: no channel of docs/asyncapi.yaml has this address"
        errors = []
        for content_type, validator in matches[0]:
            value: Any = (
                payload.decode("utf-8") if content_type == "text/plain" else json.loads(payload)
            )
            errs = list(validator.iter_errors(value))
            if not errs:
                if isinstance(value, dict) and value.get("type") == "TrafficFlowObserved":
                    fiware_errors = [e.message for e in self.fiware.iter_errors(value)]
                    assert not fiware_errors, f"{topic}: FIWARE schema: {fiware_errors}"
                return value
            errors.append([e.message for e in errs][:3])
        raise AssertionError(f"{topic}: payload matches no message of its channel: {errors}")


@pytest.fixture(scope="session")
def feed_contract() -> FeedContract:
    return FeedContract()


@pytest.fixture(scope="session")
def grid2_recording(
    mosquitto_url: str, trafficsim_exe: str, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """Three simulated hours of the 2 x 2 grid's feed, recorded (tests_support.record_grid2)
    once for every test that trains on it or reads it; none writes into it."""
    from tests_support import record_grid2

    return record_grid2(trafficsim_exe, mosquitto_url, tmp_path_factory.mktemp("grid2-rec"))


@pytest.fixture(scope="session")
def predictor_model(
    grid2_recording: Path, trafficsim_exe: str, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """A predictor model of the 2 x 2 grid trained on ``grid2_recording``
    (tests_support.train_predictor_model), once for every test that serves one or checks
    the training; none writes into it."""
    from tests_support import train_predictor_model

    out = tmp_path_factory.mktemp("model") / "model"
    return train_predictor_model(trafficsim_exe, grid2_recording, out)
