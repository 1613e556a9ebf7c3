"""Every long-running command ends cleanly within 2 s of SIGTERM (what ``docker compose
stop`` sends), also while its broker is gone, and keeps what it held."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
import tomli_w
from tests_support import (
    Lines,
    RestartableMosquitto,
    record_stats,
    syn_sent_to,
    terminate_all,
    unanswered_port,
    wait_for_online,
    wait_for_recorded,
    wait_until,
)

from trafficsim.sensors.mqtt.clients import OPTIMIZER, PREDICTOR, SIMULATOR
from trafficsim.sensors.mqtt.transport import BrokerConfig
from trafficsim.sim.catalog import scenario_data

STOP_S = 2.0
"""The bound of issue 13 (``docker compose stop`` itself waits 10 s before it kills)."""

EXIT_STATUS = {"optimizer": 0, "predictor": 0, "record": 0, "watch": 0, "run": 143}
"""``run`` stopped before its end writes no results and says so: 128 + SIGTERM, as a shell
reports a command a signal ended (docs/deployment.md)."""


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A predictor model directory in a second (two synthetic loops, one horizon): enough
    for ``serve predictor`` to start; what it forecasts does not matter here."""
    from trafficsim.models.datasets import Panel
    from trafficsim.models.persistence import save_models
    from trafficsim.models.training import train_panels

    values = 40.0 + np.random.default_rng(0).normal(0.0, 2.0, size=(300, 2))
    panel = Panel("speed", values, np.ones((2, 2)), ("loop-a", "loop-b"), 300.0, 0, "km/h")
    trained = train_panels({"speed": panel}, horizons_min=(5,), max_iter=5)
    out = tmp_path_factory.mktemp("model") / "model"
    save_models(out, trained.estimators, trained.metadata, trained.extras())
    return out


def _start_all(
    exe: str, url: str, model: Path, tmp: Path, names: tuple[str, ...]
) -> tuple[dict[str, subprocess.Popen[str]], dict[str, Lines]]:
    """The commands ``names`` against one broker, each returned once it is ready."""
    data, _ = scenario_data("grid", {"size": 2, "duration_s": 3600.0})
    scenario = tmp / "grid2.toml"
    scenario.write_text(tomli_w.dumps(data), encoding="utf-8")
    broker = ["--broker", url]
    commands = {
        "optimizer": ["serve", "optimizer", *broker],
        "predictor": ["serve", "predictor", *broker, "--model", str(model)],
        "record": ["record", *broker, "--out", str(tmp / "rec"), "--roll", "1"],
        "watch": ["watch", *broker],
        "run": ["run", "--scenario", str(scenario), *broker, "--speed", "20"],
    }
    procs: dict[str, subprocess.Popen[str]] = {}
    lines: dict[str, Lines] = {}
    for name in names:
        args = commands[name]
        procs[name] = subprocess.Popen(
            [exe, *args, *(["--out", str(tmp / "o"), "--quiet"] if name == "run" else [])],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        lines[name] = Lines(procs[name])
    cfg = BrokerConfig.from_url(url)
    try:
        for name, client in (
            ("optimizer", OPTIMIZER),
            ("predictor", PREDICTOR),
            ("run", SIMULATOR),
        ):
            if name in procs:
                wait_for_online(cfg, client, proc=procs[name])
        if "watch" in procs:
            lines["watch"].wait_for("watching")
        if "record" in procs:
            wait_for_recorded(tmp / "rec", 1, procs["record"])  # it records the run's readings
    except BaseException:
        for p in procs.values():
            if p.poll() is None:
                p.kill()
                p.wait()
        raise
    return procs, lines


ALL = ("optimizer", "predictor", "record", "watch", "run")


@pytest.mark.parametrize(
    ("broker_gone", "names"),
    # With the broker there, the optimizer and the recorder are stopped in test_restarts.py.
    [(False, ("predictor", "watch", "run")), (True, ALL)],
    ids=["broker-up", "broker-gone"],
)
def test_every_service_exits_within_2_s_of_sigterm(
    broker_gone: bool,
    names: tuple[str, ...],
    restartable_mosquitto: RestartableMosquitto,
    tiny_model: Path,
    trafficsim_exe: str,
    tmp_path: Path,
) -> None:
    broker = restartable_mosquitto
    procs, lines = _start_all(trafficsim_exe, broker.url, tiny_model, tmp_path, names)
    try:
        if broker_gone:
            # The broker's host stops answering: reconnection attempts hang in connect().
            broker.stop()
            with unanswered_port(broker.port):
                own = syn_sent_to(broker.port)  # the port's own fillers
                wait_until(
                    lambda: syn_sent_to(broker.port) >= own + 3, "clients trying to reconnect"
                )
                took = terminate_all(procs, STOP_S)
        else:
            took = terminate_all(procs, STOP_S)
    finally:
        for p in procs.values():
            if p.poll() is None:
                p.kill()
                p.wait()
    status = {name: p.returncode for name, p in procs.items()}
    expected = {name: EXIT_STATUS[name] for name in names}
    assert status == expected, {n: p.stderr.read()[-1500:] for n, p in procs.items() if p.stderr}
    assert max(took.values()) <= STOP_S
    # What each held is out: the recorder's rows in files, the services' last words said.
    last_words = {
        "record": "recorded",
        "optimizer": "commands",
        "predictor": "forecasts",
        "watch": "feed",  # its table, printed on the way out
    }
    for name in names:
        if name in last_words:
            assert last_words[name] in lines[name].text(), name
    if "record" in names:
        out = tmp_path / "rec"
        assert not list(out.glob("*.tmp"))
        rows = pq.read_table(sorted(out.glob("readings-*.parquet"))).num_rows
        assert rows == record_stats(out)["readings"] > 0
