"""A message never kills a consumer: every consumer of the feed (the predictor, each
controller, the recorder, the watch table) takes the messages that killed them before, and
hostile messages generated from the AsyncAPI schemas, and goes on. What cannot be used is
refused at the edge as a PayloadError with a reason; the catch-all that keeps a service
alive (``handle_safely``) must never be what saved it: its error count stays 0."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest
from hostile import KILLERS, OTHER_MESSAGES, READING_MESSAGES, hostile_payloads
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trafficsim.models.datasets import Panel
from trafficsim.models.optimizer import ControlService, make_controller
from trafficsim.models.persistence import ModelBundle
from trafficsim.models.service import PredictorService
from trafficsim.models.training import train_panels
from trafficsim.runner.record import Recorder
from trafficsim.runner.watch import FeedView
from trafficsim.sensors.deployment_spec import DeploymentSpec
from trafficsim.sensors.field import Field
from trafficsim.sensors.mqtt.bus import HandlerStats, handle_safely, topic_matches
from trafficsim.sensors.mqtt.messages import Clock, DeviceMeta, Observation, PayloadError
from trafficsim.sensors.mqtt.payloads import MAX_NESTING, decode, encode, reading_payload
from trafficsim.sensors.mqtt.topics import Topics
from trafficsim.sensors.readings import DeviceKind, Reading
from trafficsim.sensors.signals.bridge import SignalBridge
from trafficsim.sim import World, load_scenario

CONTROLLERS = ("fixed", "actuated", "max-pressure", "predictive")


def _metadata() -> list[tuple[str, bytes]]:
    """The retained metadata of the isolated intersection, as the wire carries it."""
    world = World(load_scenario("isolated", {"duration_s": 60.0}), 0, external_signals=True)
    field = Field(world, DeploymentSpec())
    msgs = [(t, encode(p)) for _, t, p in SignalBridge(world).meta_messages()]
    msgs += [
        (f"hcmc/meta/devices/{d}", encode(DeviceMeta.of(info, "isolated").to_payload()))
        for d, info in field.info.items()
    ]
    return msgs


METADATA = _metadata()
DEVICES = sorted(t.rsplit("/", 1)[1] for t, _ in METADATA if "/meta/devices/" in t)
LOOPS = [d for d in DEVICES if d.startswith("loop-")]


START = datetime(2026, 3, 2, 7, tzinfo=timezone(timedelta(hours=7)))


def _genuine(device: str, seq: int) -> tuple[str, bytes]:
    """A genuine loop reading of the isolated intersection, period ``seq``."""
    r = Reading(
        device, DeviceKind.LOOP, seq, 60.0 * (seq - 1), 60.0 * seq, "C", None, None, 9,
        occupancy=0.1 + 0.01 * seq, speed_mps=8.0,
    )  # fmt: skip
    p = reading_payload(r, scenario="isolated", start=START, period_s=60.0)
    return f"hcmc/sensors/C/{device}", encode(p)


def _tick(t_s: float) -> bytes:
    return encode(Clock.at(t_s, START).to_payload())


@pytest.fixture(scope="module")
def bundle() -> ModelBundle:
    rng = np.random.default_rng(5)
    t = np.arange(300)[:, None]
    n = len(LOOPS)

    def panel(scale: float) -> Panel:
        values = scale * (1 + 0.2 * np.sin(2 * np.pi * t / 60)) + rng.normal(0, 0.02, (300, n))
        return Panel("p", values, np.ones((n, n)), tuple(LOOPS), 60.0, 0, "-", 1)

    trained = train_panels(
        {"speed": panel(40.0), "occupancy": panel(0.2)}, horizons_min=(5,), max_iter=10
    )
    return ModelBundle(trained.estimators, trained.metadata, trained.extras())


class Centre:
    """Every consumer, fed the same messages the way its process feeds them."""

    def __init__(self, bundle: ModelBundle, tmp: Path) -> None:
        self.services = [PredictorService(bundle)] + [
            ControlService(make_controller(name)) for name in CONTROLLERS
        ]
        self.stats = [HandlerStats() for _ in self.services]
        self.recorder = Recorder(tmp / "rec", roll_s=1e9)
        self.view = FeedView()
        self.topics = Topics()

    def send(self, topic: str, data: bytes) -> None:
        for svc, stats in zip(self.services, self.stats, strict=True):
            if any(topic_matches(f, topic) for f in svc.filters):
                handle_safely(svc, topic, data, stats)
        self.recorder.add(topic, data, 1_790_000_000.0)
        self.view.update(topic, data)

    def assert_no_handler_failed(self) -> None:
        for svc, stats in zip(self.services, self.stats, strict=True):
            assert not stats.errors, f"{type(svc).__name__}: {dict(stats.errors)}"
        self.view.table()  # renders whatever it kept
        self.recorder.flush()


def _start(bundle: ModelBundle, tmp: Path) -> Centre:
    centre = Centre(bundle, tmp)
    for topic, data in METADATA:
        centre.send(topic, data)
    return centre


def test_the_messages_that_killed_services_are_refused_and_the_centre_goes_on(
    bundle: ModelBundle, tmp_path: Path
) -> None:
    centre = _start(bundle, tmp_path)
    loop = LOOPS[0]
    cams = [d for d in DEVICES if d.startswith("cam-")]
    names = {"loop-N0-r0c0-NS": loop, "loop-W0-r0c0-EW": LOOPS[1], "cam-N0-r0c0-NS": cams[0]}
    for topic, data in KILLERS:
        centre.send(topic, data)  # as written: devices and places this centre does not know
        for theirs, ours in [*names.items(), ("r0c0", "C")]:  # on this centre's devices
            topic, data = topic.replace(theirs, ours), data.replace(theirs.encode(), ours.encode())
        centre.send(topic, data)
    centre.assert_no_handler_failed()
    # Genuine readings after the flood are used by all: the predictor counts them, the
    # controllers' view has them, the recorder keeps every one with its own seq.
    for seq in (1, 2, 3):
        for device in LOOPS:
            centre.send(*_genuine(device, seq))
        centre.send("hcmc/clock", _tick(60.0 * seq))
    centre.assert_no_handler_failed()
    predictor = centre.services[0]
    assert isinstance(predictor, PredictorService)
    assert predictor.stats.readings == 3 * len(LOOPS)
    assert predictor.stats.rounds >= 1
    for svc in centre.services[1:]:
        assert isinstance(svc, ControlService)
        assert svc.controller.view.devices[loop].last_t_s == 180.0
    stats = centre.recorder.stats
    assert {d: stats.received[d] for d in LOOPS} == dict.fromkeys(LOOPS, 3)
    assert sum(stats.gaps[d] for d in LOOPS) == 0 and sum(stats.duplicates.values()) == 0
    rejected = (tmp_path / "rec" / "rejected.jsonl").read_text(encoding="utf-8").splitlines()
    reasons = " | ".join(json.loads(line)["reason"] for line in rejected)
    for expected in (
        "nested deeper",
        "digits",
        "is not this topic's device",
        "simTimeSeconds: 1000000000000 is out of range",
        "ahead of the clock",
        "jumps beyond",
        "intensity: expected an integer",
    ):
        assert expected in reasons
    assert centre.view.unreadable > 0 and centre.view.latest["C"][loop].seq == 3


def test_a_reading_is_named_by_its_topic() -> None:
    topic, data = _genuine(LOOPS[0], 1)
    parsed = Topics().parse(topic)
    assert parsed is not None
    obs = Observation.on_topic(parsed, decode(topic, data), topic)
    assert obs.device_id == LOOPS[0] and obs.intersection == "C"
    other = Topics().parse(f"hcmc/sensors/C/{LOOPS[1]}")
    assert other is not None
    with pytest.raises(PayloadError, match="is not this topic's device"):
        Observation.on_topic(other, decode(topic, data), topic)
    elsewhere = Topics().parse(f"hcmc/sensors/D/{LOOPS[0]}")
    assert elsewhere is not None
    with pytest.raises(PayloadError, match="intersection: 'C' is not this topic's 'D'"):
        Observation.on_topic(elsewhere, decode(topic, data), topic)


def test_payloads_are_bounded_before_they_are_parsed() -> None:
    ok = b"[" * MAX_NESTING + b"]" * MAX_NESTING
    with pytest.raises(PayloadError, match="JSON list, expected an object"):
        decode("t", ok)  # as deep as allowed: parsed, then refused for what it is
    with pytest.raises(PayloadError, match="nested deeper than 16"):
        decode("t", b'{"a":' + ok[:-MAX_NESTING] + b"[" + b"]" * (MAX_NESTING + 1) + b"}")
    assert decode("t", b'{"s": "' + b"[" * 5000 + b'"}')["s"] == "[" * 5000  # in a string
    with pytest.raises(PayloadError, match="bytes"):
        decode("t", b" " * 300_000)
    for constant in (b"NaN", b"Infinity", b"-Infinity", b"1e400", b"9" * 20):
        with pytest.raises(PayloadError):
            decode("t", b'{"a": ' + constant + b"}")


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_hostile_messages_from_the_schemas_never_reach_a_handler_failure(
    bundle: ModelBundle, tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    centre = _start(bundle, tmp_path_factory.mktemp("fuzz"))
    topics = {
        "LoopReading": [f"hcmc/sensors/C/{d}" for d in LOOPS] + ["hcmc/sensors/Z/loop-x"],
        "CameraReading": [f"hcmc/sensors/C/{d}" for d in DEVICES if d.startswith("cam-")],
        "ProbeReading": ["hcmc/probes/N_in", "hcmc/probes/nowhere"],
        "Forecast": [f"hcmc/forecast/C/{LOOPS[0]}"],
        "DeviceMeta": [f"hcmc/meta/devices/{LOOPS[0]}", "hcmc/meta/devices/new"],
        "ScenarioMeta": ["hcmc/meta/scenario"],
        "CyclePlan": ["hcmc/signal/C/plan"],
        "StageCommand": ["hcmc/signal/C/plan"],
        "SignalState": ["hcmc/signal/C/state"],
        "SignalAck": ["hcmc/signal/C/ack"],
        "SignalMeta": ["hcmc/meta/signals/C", "hcmc/meta/signals/Q"],
        "ControlDone": ["hcmc/control/optimizer/done"],
        "Clock": ["hcmc/clock"],
    }
    names = st.sampled_from([*READING_MESSAGES, *OTHER_MESSAGES])
    for _ in range(data.draw(st.integers(1, 8))):
        name = data.draw(names)
        topic = data.draw(st.sampled_from(topics[name]))
        centre.send(topic, data.draw(hostile_payloads(name)))
    centre.send("hcmc/clock", _tick(60.0))
    centre.assert_no_handler_failed()
