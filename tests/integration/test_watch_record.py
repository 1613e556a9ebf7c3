"""``trafficsim watch`` and ``trafficsim record`` against a real broker and a real run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
import tomli_w
from tests_support import (
    PREDICTOR_TRAINING,
    collect_until,
    record_stats,
    start_recorder,
    wait_for_recorded,
    wait_until,
)

from trafficsim.sensors.mqtt.subscriber import Subscriber
from trafficsim.sensors.mqtt.transport import BrokerConfig
from trafficsim.sim.catalog import scenario_data

LOSSY = {"noise": 0.05, "drop": 0.1, "stuck": 0.0, "offline": 0.0}


def _scenario(tmp_path: Path, faults: dict[str, float]) -> Path:
    data, _ = scenario_data("grid", {"size": 2, "duration_s": 1200.0})
    data["sensors"] = {"period_s": 30.0, "faults": faults}
    path = tmp_path / "grid2.toml"
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    return path


def _stop_when_all_recorded(rec: subprocess.Popen[str], out: Path, run_out: Path) -> str:
    """Stop the recorder once it has every reading the finished run published; its output."""
    published = json.loads((run_out / "feed.json").read_text())["readings_published"]
    wait_for_recorded(out, published, rec)
    rec.send_signal(signal.SIGTERM)
    stdout, stderr = rec.communicate(timeout=60)
    assert rec.returncode == 0, stderr
    return stdout


@dataclass(frozen=True)
class Recorded:
    out: Path
    """The recorder's folder."""
    run_out: Path
    """The run's output folder (its feed.json)."""
    said: str
    """What the recorder printed when it stopped."""


@pytest.fixture(scope="module")
def lossy_recording(
    mosquitto_url: str, trafficsim_exe: str, tmp_path_factory: pytest.TempPathFactory
) -> Recorded:
    """20 simulated minutes of the 2 x 2 grid whose devices drop 10 % of their readings,
    recorded to the last reading; the tests below only read it."""
    tmp_path = tmp_path_factory.mktemp("lossy")
    out = tmp_path / "rec"
    rec = start_recorder(trafficsim_exe, mosquitto_url, out)
    run = subprocess.run(
        [
            trafficsim_exe,
            "run",
            "--scenario",
            str(_scenario(tmp_path, LOSSY)),
            "--broker",
            mosquitto_url,
            "--out",
            str(tmp_path / "o"),
            "--no-plot",
            "--quiet",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    said = _stop_when_all_recorded(rec, out, tmp_path / "o")
    return Recorded(out, tmp_path / "o", said)


def test_record_keeps_every_reading_and_counts_the_lost(lossy_recording: Recorded) -> None:
    out, stdout = lossy_recording.out, lossy_recording.said
    feed = json.loads((lossy_recording.run_out / "feed.json").read_text())
    table = pq.read_table(sorted(out.glob("readings-*.parquet")))
    assert table.num_rows == feed["readings_published"]
    counts = table.group_by("device_id").aggregate([("seq", "count"), ("seq", "max")])
    rows = {r["device_id"]: r for r in counts.to_pylist()}
    stats = json.loads((out / "record_stats.json").read_text())
    for device, n in feed["readings_by_device"].items():
        assert rows[device]["seq_count"] == n
        # What the devices dropped (10 % by configuration) shows up as sequence gaps.
        if device != "probe-fleet":
            assert stats["by_device"][device]["lost"] == rows[device]["seq_max"] - n
    assert stats["lost_by_seq"] > 0.05 * stats["readings"]
    assert "recorded" in stdout


def test_killed_recorder_leaves_only_whole_files(mosquitto_url, trafficsim_exe, tmp_path) -> None:
    out = tmp_path / "rec"
    rec = start_recorder(trafficsim_exe, mosquitto_url, out)
    run = subprocess.Popen(
        [
            trafficsim_exe,
            "run",
            "--scenario",
            str(_scenario(tmp_path, {"drop": 0.0})),
            "--broker",
            mosquitto_url,
            "--speed",
            "200",
            "--out",
            str(tmp_path / "o"),
            "--no-plot",
            "--quiet",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    # Killed just after a roll (its stats say a file is written), the recorder is between
    # writes: a kill during one would leave the temporary file it was writing.
    wait_until(
        lambda: record_stats(out).get("files", 0) >= 1, "a first roll with readings", proc=rec
    )
    os.kill(rec.pid, signal.SIGKILL)
    rec.wait(timeout=10)
    run.kill()  # what it publishes from now on reaches no recorder
    run.wait(timeout=30)
    files = sorted(out.glob("readings-*.parquet"))
    assert files and not list(out.glob("*.tmp"))
    rows = sum(pq.read_table(f).num_rows for f in files)  # every file is complete
    assert rows > 0


def test_watch_shows_every_intersection(mosquitto_url, trafficsim_exe, tmp_path) -> None:
    # The watch starts once the run is publishing (its first clock tick) and ends long
    # before the run would (a minute of paced simulation), so every device is online.
    clock = Subscriber(BrokerConfig.from_url(mosquitto_url), "clock-watcher", "hcmc/clock").start()
    run = subprocess.Popen(
        [
            trafficsim_exe,
            "run",
            "--scenario",
            str(_scenario(tmp_path, {"drop": 0.0})),
            "--broker",
            mosquitto_url,
            "--speed",
            "20",
            "--out",
            str(tmp_path / "o"),
            "--no-plot",
            "--quiet",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        collect_until(clock, bool, "the run's first clock tick", proc=run)
        w = subprocess.run(
            [trafficsim_exe, "watch", "--broker", mosquitto_url, "--duration", "4"],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert run.poll() is None, "the run ended before the watch did"
    finally:
        clock.stop()
        run.kill()
        run.wait(timeout=30)
    assert w.returncode == 0, w.stderr
    for inter in ("r0c0", "r0c1", "r1c0", "r1c1"):
        assert inter in w.stdout
    assert "8/8" in w.stdout  # 4 loops + 4 cameras per intersection, all online


def test_watch_and_record_say_when_the_broker_is_missing(trafficsim_exe, tmp_path) -> None:
    from tests_support import free_port

    url = f"mqtt://127.0.0.1:{free_port()}"
    for cmd in (
        ["watch", "--duration", "1"],
        ["record", "--out", str(tmp_path), "--duration", "1"],
    ):
        p = subprocess.run(
            [trafficsim_exe, *cmd, "--broker", url],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert p.returncode == 2
        assert "Is the broker running?" in p.stderr and "Traceback" not in p.stderr


def test_a_recording_becomes_a_forecasting_panel(lossy_recording: Recorded) -> None:
    """Record a real run, then read it back as the predictor's training panel: lost readings
    stay missing (NaN, never zero), neighbours come from the recorded device metadata."""

    from trafficsim.models.features import Calendar, PanelFeatures, typical_profile
    from trafficsim.models.feed_panel import panel_from_recording

    out = lossy_recording.out
    panel = panel_from_recording(out, "speed")
    assert panel.values.shape == (40, 16)  # 1,200 s / 30 s periods, 16 approach loops of 2 x 2
    assert panel.step_s == 30.0 and panel.unit == "km/h"
    assert panel.start_offset_steps == 7 * 120 + 1  # 07:00, first period ends at 07:00:30
    occupancy = panel_from_recording(out, "occupancy")
    missing = np.isnan(occupancy.values).mean()
    assert 0.05 < missing < 0.2  # 10 % of readings lost by configuration (binomial, 640)
    # A speed is missing also when no vehicle crossed (half the 30 s periods are red).
    assert np.isnan(panel.values).mean() > missing
    assert not np.any(panel.values == 0.0)
    assert (panel.adjacency.sum(axis=1) > 1).sum() >= 8  # inner loops have neighbours
    cal = Calendar(2880, panel.start_weekday, panel.start_offset_steps)
    prof = typical_profile(panel.values, 30, cal)
    x = PanelFeatures(panel.adjacency, cal).build(panel.values, prof, np.arange(12, 30), 1)
    assert np.all(np.isfinite(x))


def test_train_from_a_recording(
    grid2_recording: Path, predictor_model: Path, trafficsim_exe: str, tmp_path: Path
) -> None:
    """Record three simulated hours, train, and get a saved model that beats persistence on
    the part of the recording it did not see; too short a recording is a clear error. The
    recording and the model are the session's (tests_support.record_grid2 and
    train_predictor_model: ``train --from-recording --horizons 5,15 --max-iter 60``), which
    the predictor's services serve elsewhere."""
    from trafficsim.models.features import feature_names
    from trafficsim.models.persistence import load_models

    out, model = grid2_recording, predictor_model
    assert PREDICTOR_TRAINING == ("--horizons", "5,15", "--max-iter", "60")
    report = json.loads((model / "training.json").read_text())
    for target in ("speed", "occupancy", "flow"):
        assert report["holdout"][target]["15"]["improvement"] > 0.05, target
    series = ("flow", "occupancy", "queue", "speed")  # every series is a feature of every model
    bundle = load_models(model, feature_names=feature_names(series))
    assert bundle.extras["series"] == series
    assert set(bundle.models) == {(t, h) for t in ("speed", "occupancy", "flow") for h in (5, 15)}
    assert (
        len(bundle.extras["devices"]) == 16 and bundle.metadata.version == report["model_version"]
    )
    short = subprocess.run(
        [
            trafficsim_exe,
            "train",
            "--from-recording",
            str(out),
            "--out",
            str(tmp_path / "m2"),
            "--horizons",
            "60",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert short.returncode == 2 and "too few for a 60-min horizon" in short.stderr
