"""The live feed against real brokers (Mosquitto and amqtt), seen by a real subscriber."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections import defaultdict
from pathlib import Path

import tomli_w
from tests_support import collect_until

from trafficsim.sensors.mqtt.subscriber import Message, Subscriber
from trafficsim.sensors.mqtt.transport import BrokerConfig
from trafficsim.sim.catalog import scenario_data

SIMULATOR = "trafficsim-simulator"  # the run's own client: scenario metadata and the clock
NO_FAULTS = {"noise": 0.0, "drop": 0.0, "stuck": 0.0, "offline": 0.0}


def _scenario(tmp_path: Path, *, faults: dict[str, float] | None = None, **params: object) -> Path:
    data, _ = scenario_data("grid", {"size": 2, "duration_s": 900.0, **params})
    data["sensors"] = {"period_s": 30.0, "faults": faults if faults is not None else NO_FAULTS}
    path = tmp_path / "grid2.toml"
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    return path


def _said_goodbye(msgs: list[Message], clients: set[str]) -> bool:
    """Every client of ``clients`` said ``offline`` live: a client's goodbye comes after
    everything else it published, so all of that has arrived."""
    gone = {
        m.topic.rsplit("/", 1)[1]
        for m in msgs
        if "/status/" in m.topic and not m.retain and m.payload == b"offline"
    }
    return clients <= gone


def _run(exe: str, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [exe, "run", *args], capture_output=True, text=True, timeout=timeout, check=False
    )


def test_every_reading_arrives_valid_and_in_order(
    broker_url, trafficsim_exe, feed_contract, tmp_path
) -> None:
    cfg = BrokerConfig.from_url(broker_url)
    sub = Subscriber(cfg, "test-subscriber", "hcmc/#").start()
    try:
        p = _run(
            trafficsim_exe,
            "--scenario",
            str(_scenario(tmp_path)),
            "--broker",
            broker_url,
            "--out",
            str(tmp_path / "out"),
            "--no-plot",
            "--quiet",
        )
        assert p.returncode == 0, p.stderr
        feed = json.loads((tmp_path / "out" / "feed.json").read_text(encoding="utf-8"))
        clients = {*feed["readings_by_device"], SIMULATOR}
        msgs = collect_until(
            sub, lambda got: _said_goodbye(got, clients), "every client's live 'offline'"
        )
    finally:
        sub.stop()
    seqs: dict[str, list[int]] = defaultdict(list)
    status: dict[str, list[str]] = defaultdict(list)
    clock = []
    for m in msgs:
        value = feed_contract.check(m.topic, m.payload)
        if "/sensors/" in m.topic or "/probes/" in m.topic:
            seqs[value["deviceId"]].append(value["seq"])
            if "/sensors/" in m.topic:
                assert m.topic.endswith("/" + value["deviceId"])
        elif "/status/" in m.topic and not m.retain:  # not what earlier runs left behind
            status[m.topic.rsplit("/", 1)[1]].append(value)
        elif m.topic == "hcmc/clock":
            clock.append(value["simTimeSeconds"])
    published = feed["readings_by_device"]
    assert sum(published.values()) == feed["readings_published"] > 300
    # Zero loss at QoS 1: every device's readings arrived, each once, in order.
    assert {d: len(s) for d, s in seqs.items()} == published
    for device, s in seqs.items():
        assert s == list(range(1, len(s) + 1)), device
    for device in published:
        assert status[device][0] == "online" and status[device][-1] == "offline", device
    assert clock == sorted(clock) and clock[-1] == 900.0


def test_retained_metadata_and_status_after_the_run(
    broker_url, trafficsim_exe, feed_contract, tmp_path
) -> None:
    p = _run(
        trafficsim_exe,
        "--scenario",
        str(_scenario(tmp_path)),
        "--broker",
        broker_url,
        "--topic-root",
        "hcmc",
        "--out",
        str(tmp_path / "o"),
        "--no-plot",
        "--quiet",
    )
    assert p.returncode == 0, p.stderr
    devices = json.loads((tmp_path / "o" / "feed.json").read_text())["readings_by_device"]
    expected = {
        "hcmc/meta/scenario",
        *(f"hcmc/status/{d}" for d in devices),
        *(f"hcmc/meta/devices/{d}" for d in devices),
    }
    sub = Subscriber(BrokerConfig.from_url(broker_url), "late-subscriber", "hcmc/+/#").start()
    try:
        msgs = collect_until(
            sub,
            lambda got: expected <= {m.topic for m in got if m.retain},
            "the retained status and metadata of every device",
        )
    finally:
        sub.stop()
    retained = {m.topic: feed_contract.check(m.topic, m.payload) for m in msgs if m.retain}
    for device in devices:
        assert retained[f"hcmc/status/{device}"] == "offline"
        meta = retained[f"hcmc/meta/devices/{device}"]
        assert meta["deviceId"] == device
    assert retained["hcmc/meta/scenario"]["scenario"] == "grid"
    loops = {d for d in devices if d.startswith("loop-")}
    # In a 2 x 2 grid every loop on an inner link has a loop upstream of it.
    inner = [d for d in loops if retained[f"hcmc/meta/devices/{d}"]["upstreamDevices"]]
    assert len(inner) == 8


def test_killed_publisher_leaves_its_last_will(broker_url, trafficsim_exe, tmp_path) -> None:
    cfg = BrokerConfig.from_url(broker_url)
    sub = Subscriber(cfg, "will-watcher", ("hcmc/status/#", "hcmc/clock")).start()
    proc = subprocess.Popen(
        [
            trafficsim_exe,
            "run",
            "--scenario",
            str(_scenario(tmp_path)),
            "--broker",
            broker_url,
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
        # The run ticks its clock once every client is connected (and said "online").
        msgs = collect_until(
            sub,
            lambda got: (
                any(m.topic == "hcmc/clock" for m in got)
                and len({m.topic for m in got if m.payload == b"online"}) >= 20
            ),
            "the run's clients online and its first clock tick",
            proc=proc,
        )
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        online = {m.topic for m in msgs if m.payload == b"online"}
        wills = collect_until(
            sub,
            lambda got: online <= {m.topic for m in got if m.payload == b"offline"},
            "a last will for every client that was online",
        )
        offline = {m.topic for m in wills if m.payload == b"offline"}
        assert online <= offline, f"no last will for {sorted(online - offline)[:5]}"
    finally:
        if proc.poll() is None:
            proc.kill()
        sub.stop()


def test_run_survives_a_broker_restart(trafficsim_exe, tmp_path) -> None:
    """Kill the broker mid-run and start it again on the same port: the devices reconnect
    (with back-off), publishing resumes and every reading is acknowledged in the end."""
    from tests_support import free_port, hang_up_on_a_client, start_mosquitto, wait_for_port

    port = free_port()
    conf = f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
    broker, _ = start_mosquitto(conf, tmp_path)
    wait_for_port(port)
    url = f"mqtt://127.0.0.1:{port}"
    before = Subscriber(BrokerConfig.from_url(url), "before-restart", "hcmc/sensors/#").start()
    run = subprocess.Popen(
        [
            trafficsim_exe,
            "run",
            "--scenario",
            str(_scenario(tmp_path)),
            "--broker",
            url,
            "--speed",
            "60",
            "--out",
            str(tmp_path / "o"),
            "--no-plot",
            "--quiet",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        collect_until(before, bool, "the run's first readings", proc=run)
        before.stop()  # so that only the run's clients knock while the broker is away
        broker.kill()
        broker.wait(timeout=10)
        hang_up_on_a_client(port)  # the run noticed and tried to come back: refused
        (tmp_path / "again").mkdir()
        broker, _ = start_mosquitto(conf, tmp_path / "again")
        wait_for_port(port)
        sub = Subscriber(BrokerConfig.from_url(url), "after-restart", "hcmc/sensors/#").start()
        msgs = collect_until(
            sub,
            lambda got: any(json.loads(m.payload)["simTimeSeconds"] == 900.0 for m in got),
            "readings up to the end of the run (900 s) after the restart",
            proc=run,
        )
        _, stderr = run.communicate(timeout=120)
        sub.stop()
    finally:
        before.stop()
        if run.poll() is None:
            run.kill()
        broker.terminate()
        broker.wait(timeout=10)
    assert run.returncode == 0, stderr
    feed = json.loads((tmp_path / "o" / "feed.json").read_text())
    assert feed["unacknowledged"] == 0
    times = [json.loads(m.payload)["simTimeSeconds"] for m in msgs]
    assert times and max(times) == 900.0  # the feed went on to the end after the restart
