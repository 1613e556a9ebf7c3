"""The live predictor over a real broker: forecasts a subscriber can see, and bad readings
counted, not fatal."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from tests_support import collect_until, grid2_scenario, run_together, wait_for_online

from trafficsim.sensors.mqtt.subscriber import Message, Subscriber
from trafficsim.sensors.mqtt.transport import BrokerConfig


def _last_marker_s(msgs: list[Message], topic: str) -> float | None:
    """The simulated time of the latest marker on ``topic`` (one publisher: in order)."""
    last = next((m for m in reversed(msgs) if m.topic == topic), None)
    return None if last is None else float(json.loads(last.payload)["simTimeSeconds"])


@pytest.fixture(scope="module")
def model(predictor_model: Path) -> Path:
    return predictor_model


def test_forecasts_reach_a_subscriber_and_bad_readings_are_counted(
    model, mosquitto_url, trafficsim_exe, feed_contract, tmp_path
) -> None:
    cfg = BrokerConfig.from_url(mosquitto_url)
    service = subprocess.Popen(
        [trafficsim_exe, "serve", "predictor", "--broker", mosquitto_url, "--model", str(model)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for_online(cfg, "predictor", proc=service)  # so it is subscribed
        done_topic = "hcmc/control/predictor/done"
        sub = Subscriber(cfg, "forecast-watcher", ("hcmc/forecast/#", done_topic)).start()
        bad = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="vandal")
        bad.connect(cfg.host, cfg.port)
        bad.loop_start()
        bad.publish("hcmc/sensors/r0c0/loop-nope", b"{not json", qos=1).wait_for_publish(5)
        bad.publish(
            "hcmc/sensors/r0c0/loop-nope",
            json.dumps(
                {"deviceId": "loop-nope", "deviceType": "inductiveLoop", "simTimeSeconds": 60}
            ),
            qos=1,
        ).wait_for_publish(5)
        bad.loop_stop()
        bad.disconnect()
        run = subprocess.run(
            [
                trafficsim_exe,
                "run",
                "--scenario",
                str(grid2_scenario(tmp_path, 0.5)),
                "--broker",
                mosquitto_url,
                "--speed",
                "300",
                "--out",
                str(tmp_path / "o"),
                "--quiet",
                "--no-plot",
            ],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert run.returncode == 0, run.stderr
        # The service answers every clock tick with a marker, after that tick's forecasts.
        got = collect_until(
            sub,
            lambda msgs: _last_marker_s(msgs, done_topic) == 1800.0,
            "the predictor's marker for the run's last clock tick (1,800 s)",
            proc=service,
        )
        sub.stop()
        service.send_signal(signal.SIGTERM)
        out, err = service.communicate(timeout=60)
    finally:
        if service.poll() is None:
            service.kill()
            service.wait()
    assert service.returncode == 0, err
    version = json.loads((model / "training.json").read_text())["model_version"]
    payloads = [feed_contract.check(m.topic, m.payload) for m in got if m.topic != done_topic]
    assert len(payloads) >= 16 * 25  # 16 loops, one round per minute of a 30-minute run
    assert {p["modelVersion"] for p in payloads} == {version}
    assert {f["horizonMinutes"] for p in payloads for f in p["forecasts"]} == {5, 15}
    assert "rejected 2" in " ".join(out.split())


def test_predictor_runs_inside_a_run(model, trafficsim_exe, tmp_path) -> None:
    # A model directory that is not there is refused at once, beside the run that has one.
    p, bad = run_together(
        [trafficsim_exe, "run", "--scenario", str(grid2_scenario(tmp_path, 0.5)),
         "--predictor", str(model), "--embedded-broker", "mosquitto", "--out",
         str(tmp_path / "o"), "--quiet", "--no-plot"],
        [trafficsim_exe, "run", "--scenario", "isolated", "--predictor", str(tmp_path / "nope"),
         "--out", str(tmp_path / "o2")],
    )  # fmt: skip
    assert p.returncode == 0, p.stderr
    pred = json.loads((tmp_path / "o" / "feed.json").read_text())["predictor"]
    assert pred["rounds"] >= 29 and pred["forecasts"] == 16 * pred["rounds"]
    assert pred["rejected"] == 0
    assert bad.returncode == 2 and "--predictor" in bad.stderr and "not found" in bad.stderr


def test_a_predictor_that_cannot_connect_is_a_broker_error_at_once(model, trafficsim_exe) -> None:
    """Nothing listens on the port: one line naming --broker, exit 2, no 30 s wait for a
    service whose thread has already ended."""
    from tests_support import free_port

    started = time.monotonic()
    p = subprocess.run(
        [trafficsim_exe, "run", "--scenario", "grid", "--set", "size=2", "--duration", "120",
         "--predictor", str(model), "--broker", f"mqtt://127.0.0.1:{free_port()}", "--quiet"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert p.returncode == 2, p.stderr
    assert "error: --broker:" in p.stderr and "Traceback" not in p.stderr
    assert time.monotonic() - started < 25.0  # the connect timeout is 30 s


def test_a_predictor_that_fails_every_round_leaves_the_run_and_its_feed_whole(
    model, mosquitto_url, monkeypatch
) -> None:
    """A service bug is neither the service's end nor the run's: the service counts it and
    goes on, the feed goes on, and the summary says how the predictor failed and that it
    missed the last round (fault injected into the real service)."""
    import trafficsim
    from trafficsim.models.service import Predictor

    def broken(self: Predictor, t_s: float) -> dict:
        raise RuntimeError("injected fault")

    monkeypatch.setattr(Predictor, "predict", broken)
    sc = trafficsim.load_scenario("grid", {"size": 2, "duration_s": 1200})
    started = time.monotonic()
    run = trafficsim.simulate(sc, seed=1, predictor=model, mqtt=trafficsim.Mqtt(url=mosquitto_url))
    assert time.monotonic() - started < 25.0  # no wait for a round that failed
    assert run.feed is not None and run.feed["readings_published"] > 0
    summary = run.feed["predictor"]
    assert "stopped" not in summary  # alive to the end
    assert set(summary["handler_errors"]) == {"RuntimeError"} and summary["rounds"] == 0
    assert summary["last_round_missed"] is True
    assert summary["forecasts"] == 0
