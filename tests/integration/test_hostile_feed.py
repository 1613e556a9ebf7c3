"""10,000 hostile messages against the real services, beside a real closed loop: every
service process (``serve optimizer``, ``serve predictor``, ``record``, ``watch``) is alive at
the end and stops cleanly, no handler failed on any message, every genuine reading was
recorded, the predictor used every genuine loop and camera reading, and the closed loop's
results are those of the same run in memory (the optimizer's decisions were not moved)."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import threading
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from hostile import flood
from paho.mqtt.enums import CallbackAPIVersion
from tests_support import (
    collect_until,
    grid2_scenario,
    record_stats,
    start_recorder,
    wait_for_online,
    wait_until,
)

from trafficsim.sensors.field import Field
from trafficsim.sensors.meta import scenario_meta
from trafficsim.sensors.mqtt.messages import (
    Clock,
    CycleCommand,
    DeviceMeta,
    Forecast,
    HorizonForecast,
    PhaseTiming,
    RoundDone,
)
from trafficsim.sensors.mqtt.payloads import reading_payload
from trafficsim.sensors.mqtt.subscriber import Subscriber
from trafficsim.sensors.mqtt.topics import Topics
from trafficsim.sensors.mqtt.transport import BrokerConfig
from trafficsim.sensors.readings import DeviceKind, Reading
from trafficsim.sensors.signals.bridge import SignalBridge
from trafficsim.sim import World, load_scenario

ROOT = "fz"
HOSTILE = 10_000
READING_FIELDS = ("deviceId", "deviceType", "seq", "simTimeSeconds", "periodSeconds", "intensity")


def _genuine_shapes(scenario: Path) -> list[tuple[str, dict[str, Any], tuple[str, ...]]]:
    """One genuine message of every kind the run sends, on its real topic, with the fields
    its consumers read: the templates the flood bends."""
    sc = load_scenario(str(scenario))
    world = World(sc, 0, external_signals=True)
    field = Field(world)
    topics = Topics(ROOT)
    out: list[tuple[str, dict[str, Any], tuple[str, ...]]] = []
    for did, info in field.info.items():
        kind = info.kind
        link = info.link or sc.links[0].id
        r = Reading(did, kind, 3, 120.0, 180.0, info.intersection, link, info.lane_group, 4)
        payload = reading_payload(r, scenario=sc.name, start=sc.start_time, period_s=60.0)
        if kind is DeviceKind.PROBE:
            out.append((topics.probe(link), payload, (*READING_FIELDS, "approach")))
        else:
            out.append((topics.reading(str(info.intersection), did), payload, READING_FIELDS))
        meta = DeviceMeta.of(info, sc.name).to_payload()
        out.append((topics.device_meta(did), meta, ("deviceId", "deviceType")))
    bridge = SignalBridge(world, topics=topics)
    for _, topic, payload in bridge.meta_messages():
        node = payload["intersection"]
        out.append((topic, payload, ("intersection", "groups", "phases", "storedPlan")))
        stored = bridge.signal_meta(node).stored_phases
        plan = CycleCommand(node, "p1", tuple(PhaseTiming.of(p.groups, 20, 3, 2) for p in stored))
        out.append((topics.signal(node, "plan"), plan.to_payload(), ("planId", "kind", "phases")))
    out.append((topics.clock(), Clock.at(60.0, sc.start_time).to_payload(), ("simTimeSeconds",)))
    for service in ("optimizer", "predictor"):
        done = RoundDone(service, 60.0).to_payload()
        out.append((topics.control_done(service), done, ("simTimeSeconds",)))
    fc = Forecast("loop-N0-r0c0-NS", "r0c0", 60.0, "abc", (HorizonForecast(5, 30.0, False),))
    out.append((topics.forecast("r0c0", fc.device_id), fc.to_payload(), ("simTimeSeconds",)))
    meta = scenario_meta(world).to_payload()
    out.append((topics.scenario_meta(), meta, ("scenario", "nodes", "links")))
    return out


def _vandal(cfg: BrokerConfig, messages: list[tuple[str, bytes]], done: threading.Event) -> None:
    """Publish ``messages`` at QoS 1 as fast as the broker takes them, as one client."""
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="vandal")
    c.max_inflight_messages_set(100)
    c.connect(cfg.host, cfg.port)
    c.loop_start()
    try:
        for topic, payload in messages:
            c.publish(topic, payload, qos=1).wait_for_publish(30)
    finally:
        c.loop_stop()
        c.disconnect()
        done.set()


def _start(exe: str, url: str, log: Path, *args: str) -> subprocess.Popen[str]:
    """A service of the centre against the test's broker, under the test's topic root; its
    log goes to a file (a pipe nobody reads would block a service that logs a lot)."""
    with log.open("w", encoding="utf-8") as err:
        return subprocess.Popen(
            [exe, *args, "--broker", url, "--topic-root", ROOT],
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
        )


def _stop(proc: subprocess.Popen[str], what: str, log: Path) -> str:
    assert proc.poll() is None, f"{what} died: {log.read_text(encoding='utf-8')[-2000:]}"
    proc.send_signal(signal.SIGINT if what == "watch" else signal.SIGTERM)
    out, _ = proc.communicate(timeout=60)
    err = log.read_text(encoding="utf-8")
    assert proc.returncode == 0, f"{what}: exit {proc.returncode}: {err[-2000:]}"
    assert "Traceback" not in err, err[-3000:]
    return " ".join(out.split())


def test_ten_thousand_hostile_messages_kill_no_service_and_lose_no_reading(
    predictor_model: Path, mosquitto_url: str, trafficsim_exe: str, tmp_path: Path
) -> None:
    cfg = BrokerConfig.from_url(mosquitto_url)
    scenario = grid2_scenario(tmp_path, 0.25)
    # The same run in memory, whose results the flooded run must reproduce: in its own
    # process from the start, while the services start and the flood goes on.
    mem = subprocess.Popen(
        [trafficsim_exe, "run", "--scenario", str(scenario), "--seed", "4",
         "--controller", "max-pressure", "--no-mqtt", "--out", str(tmp_path / "m"),
         "--quiet", "--no-plot"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    messages = flood(random.Random(13), _genuine_shapes(scenario), HOSTILE, ROOT)  # noqa: S311
    genuine = sorted(Field(World(load_scenario(str(scenario)), 0)).info)
    # One retained garbage device metadata message: watch used to exit on every start.
    garbage = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="garbage")
    garbage.connect(cfg.host, cfg.port)
    garbage.loop_start()
    garbage.publish(f"{ROOT}/meta/devices/zz", b"[" * 3000, qos=1, retain=True).wait_for_publish()
    garbage.loop_stop()
    garbage.disconnect()

    root = ["--broker", mosquitto_url, "--topic-root", ROOT]
    model = str(predictor_model)
    exe, url = trafficsim_exe, mosquitto_url
    logs = {name: tmp_path / f"{name}.log" for name in ("optimizer", "predictor", "watch")}
    optimizer = ("serve", "optimizer", "--controller", "max-pressure")
    procs = {
        "optimizer": _start(exe, url, logs["optimizer"], *optimizer),
        "predictor": _start(exe, url, logs["predictor"], "serve", "predictor", "--model", model),
        "watch": _start(exe, url, logs["watch"], "watch"),
    }
    rec_out = tmp_path / "rec"
    try:
        procs["record"] = start_recorder(trafficsim_exe, mosquitto_url, rec_out, root=ROOT)
        for service in ("optimizer", "predictor"):
            wait_for_online(cfg, service, root=ROOT, proc=procs[service])
        scenario_topic = Subscriber(cfg, "hostile-watcher", f"{ROOT}/meta/scenario").start()
        run = subprocess.Popen(
            [trafficsim_exe, "run", "--scenario", str(scenario), "--seed", "4",
             "--controller", "max-pressure", "--external-optimizer", "--external-predictor",
             *root, "--speed", "90", "--out", str(tmp_path / "o"), "--quiet", "--no-plot"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        # The run announces its scenario once its clients and its inbox are subscribed: the
        # flood then reaches the cabinets too.
        collect_until(scenario_topic, bool, "the run's scenario metadata", proc=run)
        scenario_topic.stop()
        done = threading.Event()
        vandal = threading.Thread(target=_vandal, args=(cfg, messages, done), daemon=True)
        vandal.start()
        _, run_err = run.communicate(timeout=600)
        assert run.returncode == 0, run_err
        wait_until(done.is_set, "the vandal's 10,000 messages", timeout_s=300)
        control = json.loads((tmp_path / "o" / "control.json").read_text())

        def recorded() -> dict[str, int]:
            by_device = record_stats(rec_out).get("by_device", {})
            return {d: by_device.get(d, {}).get("received", 0) for d in genuine}

        wait_until(
            lambda: sum(recorded().values()) >= control["readings"],
            "every genuine reading in the recording",
            proc=procs["record"],
            detail=lambda: f" ({sum(recorded().values())} of {control['readings']})",
        )
        rec = procs.pop("record")
        outputs = {name: _stop(p, name, logs[name]) for name, p in procs.items()}
        rec.send_signal(signal.SIGTERM)
        _, err = rec.communicate(timeout=60)
        assert rec.returncode == 0, err[-2000:]
        _, mem_err = mem.communicate(timeout=300)
    finally:
        for p in [*procs.values(), mem]:
            if p.poll() is None:
                p.kill()
                p.wait()
    # The vandal reached every service; none failed on a message.
    assert "handler errors 0 " in outputs["optimizer"] + " "
    assert "handler errors 0 " in outputs["predictor"] + " "
    assert "unreadable" in outputs["watch"]
    # Every genuine reading recorded once (the devices' own drops are the only gaps), and
    # half the flood or more refused with its reason.
    stats = record_stats(rec_out)
    kept = {d: stats["by_device"][d] for d in genuine}
    assert sum(d["received"] for d in kept.values()) == control["readings"]
    assert all(d["received"] + d["lost"] == d["last_seq"] for d in kept.values())
    assert stats["rejected"] >= HOSTILE * 0.5
    # The predictor used every genuine loop and camera reading.
    used = sum(d["received"] for name, d in kept.items() if name.startswith(("loop-", "cam-")))
    assert f"predictor: {used} readings" in outputs["predictor"]
    # The optimizer answered every round, and its decisions were those it takes without the
    # flood; the cabinets refused what the flood sent them.
    assert control["missed_deadlines"] == 0
    assert control["accepted"] > 0 and control["rejected"] > 0
    assert mem.returncode == 0, mem_err

    def summary(out: str) -> dict[str, Any]:
        s = json.loads((tmp_path / out / "summary.json").read_text())
        s.pop("wall_time_s")
        return dict(s)

    assert summary("o") == summary("m")
