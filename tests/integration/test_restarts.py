"""Restarts lose nothing: a broker restart in the middle of a live feed, an optimizer killed
and started again in the middle of a closed loop, and every service stopped by SIGTERM."""

from __future__ import annotations

import contextlib
import json
import queue
import re
import signal
import subprocess
import threading
import time
from pathlib import Path

import pyarrow.parquet as pq
import tomli_w
from tests_support import (
    RestartableMosquitto,
    collect_until,
    record_stats,
    start_recorder,
    wait_for_online,
    wait_for_recorded,
)

from trafficsim.runner.closed_loop import LoopOptions, run_closed_loop
from trafficsim.runner.session import BrokerSettings
from trafficsim.sensors.mqtt.clients import OPTIMIZER
from trafficsim.sensors.mqtt.subscriber import Subscriber
from trafficsim.sensors.mqtt.transport import BrokerConfig
from trafficsim.sensors.signals import CabinetLimits
from trafficsim.sim import World, load_scenario
from trafficsim.sim.catalog import scenario_data

STOP_S = 2.0
"""What ``docker compose stop`` gives a container between SIGTERM and SIGKILL (its
default ``--timeout`` is 10 s; issue 13 asks for 2 s)."""


def _terminate(proc: subprocess.Popen[str]) -> tuple[str, float]:
    """SIGTERM; the process's output and how long it took to exit (at most STOP_S)."""
    t0 = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    try:
        out, err = proc.communicate(timeout=STOP_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise AssertionError(f"still running {STOP_S:g} s after SIGTERM") from None
    took = time.monotonic() - t0
    assert proc.returncode == 0, (proc.returncode, err)
    return out, took


BROKER_DOWN_S = 3.0
"""The outage of the broker restart test (issue 13 measured 16.7 % lost for 3 s);
benchmarks/broker_restart.py measures 20 s too."""


def _feed_scenario(tmp: Path, duration_s: float) -> Path:
    """A 2 x 2 grid whose devices drop nothing: every gap in ``seq`` is a reading lost."""
    data, _ = scenario_data("grid", {"size": 2, "duration_s": duration_s})
    data["sensors"] = {"period_s": 5.0, "faults": {"drop": 0.0, "stuck": 0.0, "offline": 0.0}}
    path = tmp / "grid2-lossless.toml"
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    return path


def test_a_broker_restart_loses_no_reading_at_the_recorder(
    restartable_mosquitto: RestartableMosquitto, trafficsim_exe: str, tmp_path: Path
) -> None:
    broker = restartable_mosquitto
    out = tmp_path / "rec"
    rec = start_recorder(trafficsim_exe, broker.url, out)
    run = subprocess.Popen(
        [
            trafficsim_exe,
            "run",
            "--scenario",
            str(_feed_scenario(tmp_path, 600.0)),
            "--broker",
            broker.url,
            "--speed",
            "100",
            "--out",
            str(tmp_path / "o"),
            "--no-plot",
            "--quiet",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # In the middle of the feed: the recorder has readings, the run goes on.
        wait_for_recorded(out, 100, rec)
        assert run.poll() is None, "the run ended before the broker restart"
        # The recorder comes back after the devices (as it does whenever its reconnection
        # back-off is the longer one): held until the devices publish again.
        rec.send_signal(signal.SIGSTOP)
        try:
            down_s = broker.restart(BROKER_DOWN_S)
            watcher = Subscriber(BrokerConfig.from_url(broker.url), "watcher", "hcmc/sensors/#")
            collect_until(watcher.start(), bool, "a reading after the restart", proc=run)
            watcher.stop()
        finally:
            rec.send_signal(signal.SIGCONT)
        assert down_s >= BROKER_DOWN_S
        _, err = run.communicate(timeout=120)
        assert run.returncode == 0, err
        feed = json.loads((tmp_path / "o" / "feed.json").read_text())
        wait_for_recorded(out, feed["readings_published"], rec, timeout_s=60)
        _terminate(rec)  # within 2 s, exit status 0
    finally:
        for p in (run, rec):
            if p.poll() is None:
                p.kill()
                p.wait()
    stats = record_stats(out)
    assert stats["lost_by_seq"] == 0, stats
    assert feed["unacknowledged"] == 0
    table = pq.read_table(sorted(out.glob("readings-*.parquet")))
    seqs: dict[str, set[int]] = {}
    for device, seq in zip(
        table.column("device_id").to_pylist(), table.column("seq").to_pylist(), strict=True
    ):
        seqs.setdefault(device, set()).add(seq)
    # Every seq of every device, 1..n (a reading sent again after the restart may come
    # twice: counted as a duplicate, kept once by seq).
    assert {d: len(s) for d, s in seqs.items()} == feed["readings_by_device"]
    for device, s in seqs.items():
        assert s == set(range(1, len(s) + 1)), device


def _serve_optimizer(exe: str, url: str) -> subprocess.Popen[str]:
    """``trafficsim serve optimizer`` (max-pressure), returned once it is online (then it
    is subscribed: it subscribes before it announces itself)."""
    proc = subprocess.Popen(
        [exe, "serve", "optimizer", "--broker", url, "--controller", "max-pressure"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for_online(BrokerConfig.from_url(url), OPTIMIZER, proc=proc)
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    return proc


def test_a_restarted_optimizer_takes_control_back_within_two_cycles(
    mosquitto_url: str, trafficsim_exe: str
) -> None:
    """Killed mid-run, its cabinets back on their stored plans, started again: from the
    retained cabinet and device metadata it knows the network at once, and its commands are
    accepted again within two cycles (issue 13: 0 commands after a restart)."""
    cfg = BrokerConfig.from_url(mosquitto_url)
    scenario = load_scenario("grid", {"size": 2, "duration_s": 1200.0})
    cycle_s = max(h.plan.cycle_s for h in World(scenario, 0).heads.values())
    watch = Subscriber(cfg, "restart-watch", ("hcmc/signal/+/ack", "hcmc/signal/+/state"))
    watch.start()
    procs = [_serve_optimizer(trafficsim_exe, mosquitto_url)]
    fallen_back: set[str] = set()
    restarted_at: list[float] = []

    def on_progress(t: float) -> None:
        """Kill at 120 s; once every cabinet shows its fallback, start a new optimizer
        (the simulation waits meanwhile, as if the restart were instant)."""
        if t >= 120.0 and len(procs) == 1 and procs[0].poll() is None:
            procs[0].send_signal(signal.SIGKILL)
            procs[0].wait(10)
        if procs[0].poll() is None or restarted_at:
            return
        with contextlib.suppress(queue.Empty):
            while True:
                m = watch.messages.get_nowait()
                state = json.loads(m.payload)
                if m.topic.endswith("/state") and state["mode"] == "fallback":
                    fallen_back.add(state["intersection"])
        if len(fallen_back) == len(scenario.signals):
            procs.append(_serve_optimizer(trafficsim_exe, mosquitto_url))
            restarted_at.append(t)

    try:
        run_closed_loop(
            scenario,
            0,
            LoopOptions(
                controller="max-pressure",
                transport="mqtt",
                broker=BrokerSettings(mosquitto_url),
                external_optimizer=True,
                deadline_s=1.0,
                limits=CabinetLimits(fallback_s=60.0),
            ),
            on_progress=on_progress,
        )
        assert restarted_at, f"the cabinets did not all fall back ({sorted(fallen_back)})"
        acks = [json.loads(m.payload) for m in watch.drain(idle_s=0.5) if "/ack" in m.topic]
        stop = _terminate(procs[-1])
    finally:
        watch.stop()
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    t0 = restarted_at[0]
    back = {}
    for a in acks:
        if a["accepted"] and a["simTimeSeconds"] >= t0:
            back.setdefault(a["intersection"], a["simTimeSeconds"])
    assert sorted(back) == sorted(fallen_back)
    regained_s = max(back.values()) - t0
    assert regained_s <= 2 * cycle_s, (t0, back)
    out, _ = stop
    commands = int(re.search(r"(\d+) commands", out).group(1))  # type: ignore[union-attr]
    assert commands > 0, out


def test_a_persistent_subscriber_discards_what_a_crashed_process_left(broker_url) -> None:
    """A service that died without ending its session left the broker queueing for it: the
    next process of the same client id receives none of that backlog, then everything new.
    (The session is cleared only when the broker says one is present, so a fresh start
    makes one connection, not a clean one just ahead of it.)"""
    from trafficsim.sensors.mqtt.transport import new_client

    cfg = BrokerConfig.from_url(broker_url)
    crashed = new_client(cfg, "crashed-service", clean_session=False)
    subscribed = threading.Event()
    crashed.on_subscribe = lambda *_: subscribed.set()
    crashed.connect(cfg.host, cfg.port)
    crashed.loop_start()
    crashed.subscribe("t/backlog/#", qos=1)
    assert subscribed.wait(10), "the first process's subscription was not acknowledged"
    crashed.loop_stop()
    crashed.socket().close()  # gone without a DISCONNECT: the broker keeps its session

    pub = new_client(cfg, "backlog-publisher")
    pub.connect(cfg.host, cfg.port)
    pub.loop_start()
    try:
        pub.publish("t/backlog/x", b"stale", qos=1).wait_for_publish(10)
        sub = Subscriber(cfg, "crashed-service", "t/backlog/#", persistent=True).start()
        try:
            pub.publish("t/backlog/x", b"fresh", qos=1).wait_for_publish(10)
            got = collect_until(
                sub, lambda m: any(x.payload == b"fresh" for x in m), "the fresh message"
            )
        finally:
            sub.stop()
    finally:
        pub.loop_stop()
        pub.disconnect()
    assert [m.payload for m in got] == [b"fresh"]
    assert sub.connects == 1
