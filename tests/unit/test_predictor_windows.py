"""The live predictor's windows: readings by period, cameras mapped to their loops, missing
periods left missing, bad readings refused."""

from __future__ import annotations

import numpy as np
import pytest

from trafficsim.models.datasets import Panel
from trafficsim.models.persistence import ModelBundle
from trafficsim.models.service import Predictor, forecasts
from trafficsim.models.training import train_panels
from trafficsim.sensors.mqtt.messages import Forecast, Observation, PayloadError


def _panel(name: str, scale: float, rng: np.random.Generator) -> Panel:
    t = np.arange(300)[:, None]
    values = scale * (1 + 0.2 * np.sin(2 * np.pi * t / 60)) + rng.normal(0, 0.02 * scale, (300, 3))
    return Panel(name, values, np.ones((3, 3)), ("loop-a", "loop-b", "loop-c"), 60.0, 0, "-", 1)


@pytest.fixture(scope="module")
def predictor() -> Predictor:
    rng = np.random.default_rng(3)
    panels = {"speed": _panel("s", 40.0, rng), "occupancy": _panel("o", 0.2, rng)}
    queue = _panel("q", 5.0, rng)
    trained = train_panels(panels, horizons_min=(5,), max_iter=20, extra_panels={"queue": queue})
    return Predictor(ModelBundle(trained.estimators, trained.metadata, trained.extras()))


def _reading(device: str, t: float, kind: str = "inductiveLoop", **values: float) -> Observation:
    payload = {
        "deviceId": device,
        "deviceType": kind,
        "simTimeSeconds": t,
        "periodSeconds": 60.0,
        "intersection": "C",
        "seq": round(t / 60.0),
        "intensity": 3,
        **values,
    }
    return Observation.from_payload(payload)


def test_windows_cameras_and_missing_periods(predictor: Predictor) -> None:
    for row in range(20):
        t = (row + 1) * 60.0
        for dev in ("loop-a", "loop-b"):  # loop-c never reports: its window stays missing
            predictor.add(_reading(dev, t, averageVehicleSpeed=40.0, occupancy=0.2))
        predictor.add(_reading("cam-a", t, "camera", queueLengthVehicles=7))
    assert predictor.rows[19]["queue"][0] == 7.0  # cam-a is loop-a's lane group
    assert np.isnan(predictor.rows[19]["speed"][2])
    out = predictor.predict(20 * 60.0)
    assert set(out) == {"speed", "occupancy"} and out["speed"][5].shape == (3,)
    assert np.all(np.isfinite(out["speed"][5]))
    assert out["speed"][5][0] == pytest.approx(40.0, abs=8.0)
    msgs = forecasts(predictor, 1200.0, out, "abc123abc123")
    assert [m.device_id for m in msgs] == ["loop-a", "loop-b", "loop-c"]
    payload = msgs[0].to_payload()
    assert payload["forecasts"][0]["horizonMinutes"] == 5
    assert payload["modelVersion"] == "abc123abc123"
    assert Forecast.from_payload(payload) == msgs[0]  # what the optimizer reads back


def test_unusable_readings_are_refused(predictor: Predictor) -> None:
    with pytest.raises(ValueError, match="unknown device 'loop-z'"):
        predictor.add(_reading("loop-z", 60.0, averageVehicleSpeed=30.0))
    with pytest.raises(PayloadError, match="seq: expected an integer"):
        Observation.from_payload({"deviceId": "loop-a", "deviceType": "inductiveLoop"})
