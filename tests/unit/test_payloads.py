"""Payloads match the published contract (docs/asyncapi.yaml + FIWARE), and the contract
check is real: broken payloads fail it."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from trafficsim.sensors.mqtt.payloads import PayloadError, decode, encode, iso_time, reading_payload
from trafficsim.sensors.mqtt.topics import Topics
from trafficsim.sensors.readings import DeviceKind, Reading

HCMC = timezone(timedelta(hours=7))
START = datetime(2026, 3, 2, 7, 0, tzinfo=HCMC)


def _loop(**kw: object) -> Reading:
    base = {
        "device_id": "loop-N_in-NS",
        "kind": DeviceKind.LOOP,
        "seq": 3,
        "t0_s": 60.0,
        "t1_s": 120.0,
        "intersection": "C",
        "link": "N_in",
        "lane_group": "N_in:NS",
        "count": 30,
        "lon": 106.7,
        "lat": 10.77,
        "position_m": 30.0,
        "occupancy": 0.25,
        "speed_mps": 10.0,
        "mean_length_m": 2.6,
    }
    base.update(kw)
    return Reading(**base)  # type: ignore[arg-type]


def test_loop_payload_fields_and_units(feed_contract) -> None:
    p = reading_payload(_loop(), scenario="grid", start=START, period_s=60.0)
    assert p["averageVehicleSpeed"] == 36.0  # km/h on the wire
    assert p["dateObserved"] == "2026-03-02T07:01:00+07:00/2026-03-02T07:02:00+07:00"
    assert p["averageHeadwayTime"] == 2.0
    assert p["congested"] is False
    feed_contract.check("hcmc/sensors/C/loop-N_in-NS", encode(p))


def test_camera_and_probe_payloads(feed_contract) -> None:
    cam = _loop(
        device_id="cam-N_in-NS",
        kind=DeviceKind.CAMERA,
        occupancy=None,
        speed_mps=None,
        count_by_class={"motorcycle": 25, "car": 5},
        queue_veh=12,
        queue_length_m=210.0,
    )
    p = reading_payload(cam, scenario="grid", start=START, period_s=60.0)
    assert p["congested"] is True and p["intensityByClass"]["car"] == 5
    feed_contract.check("hcmc/sensors/C/cam-N_in-NS", encode(p))
    probe = _loop(
        device_id="probe-fleet",
        kind=DeviceKind.PROBE,
        lane_group=None,
        occupancy=None,
        speed_mps=2.0,
        travel_time_s=150.0,
        count=2,
    )
    p = reading_payload(probe, scenario="grid", start=START, period_s=60.0)
    assert p["congested"] is True  # 7.2 km/h
    feed_contract.check("hcmc/probes/N_in", encode(p))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("occupancy", 1.5),
        ("intensity", -1),
        ("seq", 0),
        ("dateObservedFrom", "yesterday"),
        ("type", "Traffic"),
        ("location", {"type": "Point", "coordinates": ["x", 1]}),
    ],
)
def test_contract_rejects_broken_payloads(feed_contract, field: str, value: object) -> None:
    p = reading_payload(_loop(), scenario="grid", start=START, period_s=60.0)
    p[field] = value
    with pytest.raises(AssertionError):
        feed_contract.check("hcmc/sensors/C/loop-N_in-NS", json.dumps(p).encode())


def test_contract_rejects_unknown_topics_and_bad_status(feed_contract) -> None:
    with pytest.raises(AssertionError, match="no channel"):
        feed_contract.check("hcmc/weather/C", b"{}")
    with pytest.raises(AssertionError):
        feed_contract.check("hcmc/status/loop-x", b"maybe")
    assert feed_contract.check("hcmc/status/loop-x", b"offline") == "offline"


def test_decode_names_the_topic_and_the_problem() -> None:
    with pytest.raises(PayloadError, match=r"hcmc/sensors/C/x: payload is not JSON"):
        decode("hcmc/sensors/C/x", b"{oops")
    with pytest.raises(PayloadError, match="payload is not UTF-8"):
        decode("t", b"\xff\xfe")
    with pytest.raises(PayloadError, match="expected an object"):
        decode("t", b"[1, 2]")


def test_topics_refuse_wildcards_and_slashes() -> None:
    t = Topics("city/hcmc")
    assert t.reading("C", "loop-1") == "city/hcmc/sensors/C/loop-1"
    with pytest.raises(ValueError, match="cannot be a topic level"):
        t.reading("C/1", "loop-1")
    with pytest.raises(ValueError, match="cannot be a topic level"):
        Topics("hcmc/#")


def test_iso_time_keeps_the_offset() -> None:
    assert iso_time(START, 90.5) == "2026-03-02T07:01:30.500+07:00"
