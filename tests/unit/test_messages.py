"""The typed messages: each survives its own payload, meets the published contract, and a
broken payload is one PayloadError naming the field; every topic parses back to its kind."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from trafficsim.sensors.field import Field
from trafficsim.sensors.meta import scenario_meta
from trafficsim.sensors.mqtt.messages import (
    Ack,
    CabinetMode,
    Clock,
    CycleCommand,
    DeviceMeta,
    Display,
    Forecast,
    HorizonForecast,
    PayloadError,
    PhaseTiming,
    RoundDone,
    ScenarioMeta,
    SignalMeta,
    SignalState,
    StageCommand,
    parse_command,
)
from trafficsim.sensors.mqtt.payloads import encode
from trafficsim.sensors.mqtt.topics import TopicKind, Topics
from trafficsim.sensors.signals.bridge import SignalBridge
from trafficsim.sim import World, load_scenario

START = datetime(2026, 3, 2, 7, 0, tzinfo=timezone(timedelta(hours=7)))
T = Topics()


def _wire(payload: dict) -> dict:
    """What a subscriber gets: the payload through JSON."""
    return json.loads(encode(payload))


@pytest.fixture(scope="module")
def world_messages() -> tuple[list[SignalMeta], list[DeviceMeta], ScenarioMeta]:
    world = World(load_scenario("grid", {"size": 2, "duration_s": 60.0}), 0, external_signals=True)
    bridge = SignalBridge(world)
    field = Field(world)
    signals = [bridge.signal_meta(n) for n in bridge.cabinets]
    devices = [DeviceMeta.of(info, "grid") for info in field.info.values()]
    return signals, devices, scenario_meta(world)


def test_metadata_survives_the_wire_and_meets_the_contract(world_messages, feed_contract) -> None:
    signals, devices, scenario = world_messages
    for m in signals:
        payload = m.to_payload()
        feed_contract.check(T.signal_meta(m.intersection), encode(payload))
        assert SignalMeta.from_payload(_wire(payload)) == m
    for d in devices:
        payload = d.to_payload()
        feed_contract.check(T.device_meta(d.device_id), encode(payload))
        back = DeviceMeta.from_payload(_wire(payload))
        assert back.device_id == d.device_id and back.lane_group == d.lane_group
        assert back.upstream == d.upstream and back.intersection == d.intersection
    payload = scenario.to_payload()
    feed_contract.check(T.scenario_meta(), encode(payload))
    back = ScenarioMeta.from_payload(_wire(payload))
    assert [n.id for n in back.nodes] == [n.id for n in scenario.nodes]
    assert back.links == scenario.links


def test_control_messages_survive_the_wire_and_meet_the_contract(feed_contract) -> None:
    phases = (PhaseTiming(("NS",), 27.0, 3.0, 2.0), PhaseTiming(("EW",), 20.5, 3.0, 2.0))
    cycle = CycleCommand("r0c0", "predictive-7", phases, 120.0)
    stage = StageCommand("r0c0", "max-pressure-3", 1, 122.0)
    for cmd in (cycle, stage):
        payload = cmd.to_payload()
        feed_contract.check(T.signal("r0c0", "plan"), encode(payload))
        assert parse_command(_wire(payload)) == cmd
    ack = Ack("r0c0", "predictive-7", False, "phases[0].greenSeconds: too short", 120.0)
    feed_contract.check(T.signal("r0c0", "ack"), encode(ack.to_payload()))
    assert Ack.from_payload(_wire(ack.to_payload())) == ack
    state = SignalState(
        "r0c0", 64.0, {"NS": Display.YELLOW, "EW": Display.RED}, None, CabinetMode.CYCLE, "p"
    )
    feed_contract.check(T.signal("r0c0", "state"), encode(state.to_payload()))
    assert SignalState.from_payload(_wire(state.to_payload())) == state
    clock = Clock.at(90.25, START)
    assert clock.date_observed == "2026-03-02T07:01:30.250+07:00"
    feed_contract.check(T.clock(), encode(clock.to_payload()))
    assert Clock.from_payload(_wire(clock.to_payload())) == clock
    for done in (RoundDone("optimizer", 90.0, 4), RoundDone("predictor", 90.0, 16)):
        feed_contract.check(T.control_done(done.service), encode(done.to_payload()))
        assert RoundDone.from_payload(_wire(done.to_payload())) == done


def test_forecasts_survive_the_wire_and_give_their_trend(feed_contract) -> None:
    items = (
        HorizonForecast(5, 31.2, False, 0.12, 1200.0),
        HorizonForecast(30, 8.0, True, 0.45, 1500.0),
    )
    fc = Forecast("loop-a", "r0c0", 600.0, "abc123abc123", items)
    payload = fc.to_payload()
    feed_contract.check(T.forecast("r0c0", "loop-a"), encode(payload))
    assert Forecast.from_payload(_wire(payload)) == fc
    assert fc.flow_trend() == pytest.approx(1.25)
    assert Forecast("loop-a", None, 0.0, "", items[:1]).flow_trend() is None


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ([1, 2], "plan: expected a JSON object"),
        ({"intersection": "C", "kind": "stage", "phase": 0}, "planId: expected a non-empty"),
        ({"intersection": "C", "planId": "p", "kind": "phase"}, "kind: expected 'cycle' or"),
        ({"intersection": "C", "planId": "p", "kind": "stage", "phase": True}, "phase: expected"),
        ({"intersection": "C", "planId": "p", "kind": "cycle", "phases": []}, "phases: expected"),
        (
            {"intersection": "C", "planId": "p", "kind": "cycle",
             "phases": [{"groups": ["NS"], "greenSeconds": "x", "yellowSeconds": 3}]},
            "phases[0].greenSeconds: expected a finite number, got 'x'",
        ),
        (
            {"intersection": "C", "planId": "p", "kind": "cycle",
             "phases": [{"groups": [], "greenSeconds": 9, "yellowSeconds": 3}]},
            "phases[0].groups: expected a non-empty list of group names",
        ),
        (
            {"intersection": "C", "planId": "p", "simTimeSeconds": None, "kind": "stage",
             "phase": 0, "extra": 1},
            None,  # an absent or null time is fine, unknown fields are ignored
        ),
        (
            {"intersection": "C", "planId": "p", "simTimeSeconds": "now", "kind": "stage",
             "phase": 0},
            "simTimeSeconds: expected a finite number",
        ),
    ],
)  # fmt: skip
def test_a_broken_command_is_one_payload_error_naming_the_field(
    payload: object, reason: str | None
) -> None:
    if reason is None:
        assert parse_command(payload).plan_id == "p"  # type: ignore[union-attr]
        return
    with pytest.raises(PayloadError) as info:
        parse_command(payload, "hcmc/signal/C/plan")
    assert info.value.reason.startswith(reason), info.value.reason
    assert str(info.value).startswith("hcmc/signal/C/plan: ")


@pytest.mark.parametrize(
    ("cls", "payload", "field"),
    [
        (Clock, {"simTimeSeconds": None}, "simTimeSeconds"),
        (Clock, {"simTimeSeconds": float("inf")}, "simTimeSeconds"),
        (RoundDone, {"simTimeSeconds": "t"}, "simTimeSeconds"),
        (Ack, {"intersection": "C", "accepted": "yes", "simTimeSeconds": 1}, "accepted"),
        (SignalState, {"intersection": "C", "simTimeSeconds": 1, "groups": {"NS": "blue"},
                       "mode": "fixed", "planId": "p"}, "groups"),
        (SignalState, {"intersection": "C", "simTimeSeconds": 1, "groups": {},
                       "phase": 1.5, "mode": "fixed", "planId": "p"}, "phase"),
        (Forecast, {"deviceId": "d", "simTimeSeconds": 1, "forecasts": [{"horizonMinutes": "5"}]},
         "forecasts[0].horizonMinutes"),
        (DeviceMeta, {"deviceType": "camera"}, "deviceId"),
        (SignalMeta, {"intersection": "C", "groups": []}, "groups"),
    ],
)  # fmt: skip
def test_a_broken_payload_names_its_field(cls: type, payload: object, field: str) -> None:
    with pytest.raises(PayloadError) as info:
        cls.from_payload(payload)  # type: ignore[attr-defined]
    assert info.value.reason.startswith(f"{field}: "), info.value.reason
    with pytest.raises(PayloadError, match="expected a JSON object"):
        cls.from_payload([payload])  # type: ignore[attr-defined]


def test_every_topic_parses_back_to_its_kind_and_names() -> None:
    t = Topics("city/hcmc")
    cases = [
        (t.reading("r0c0", "loop-a"), TopicKind.READING, "loop-a", "r0c0"),
        (t.forecast("r0c0", "loop-a"), TopicKind.FORECAST, "loop-a", "r0c0"),
        (t.probe("N_in"), TopicKind.PROBE, "N_in", ""),
        (t.status("optimizer"), TopicKind.STATUS, "optimizer", ""),
        (t.device_meta("cam-a"), TopicKind.DEVICE_META, "cam-a", ""),
        (t.scenario_meta(), TopicKind.SCENARIO_META, "", ""),
        (t.signal_meta("r1c1"), TopicKind.SIGNAL_META, "", "r1c1"),
        (t.clock(), TopicKind.CLOCK, "", ""),
        (t.signal("r1c1", "plan"), TopicKind.SIGNAL_PLAN, "", "r1c1"),
        (t.signal("r1c1", "state"), TopicKind.SIGNAL_STATE, "", "r1c1"),
        (t.signal("r1c1", "ack"), TopicKind.SIGNAL_ACK, "", "r1c1"),
        (t.signal("r1c1", "status"), TopicKind.SIGNAL_STATUS, "", "r1c1"),
        (t.control_done("predictor"), TopicKind.CONTROL_DONE, "predictor", ""),
    ]
    assert {kind for _, kind, _, _ in cases} == set(TopicKind)
    for topic, kind, name, place in cases:
        parsed = t.parse(topic)
        assert parsed is not None and (parsed.kind, parsed.name, parsed.place) == (
            kind,
            name,
            place,
        ), topic
    for outside in ("hcmc/clock", "city/hcmc/sensors/r0c0", "city/hcmc/signal/r0c0/go", "x"):
        assert t.parse(outside) is None
    assert t.signal_filter("plan") == "city/hcmc/signal/+/plan"
    with pytest.raises(ValueError, match="plan, state, ack or status"):
        t.signal_filter("stop")
