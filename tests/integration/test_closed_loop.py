"""The closed loop over a real broker: same results as in memory, fallback when the
optimizer dies, and the optimizer as its own process."""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from rich.console import Console
from tests_support import collect_until, wait_for_online

from trafficsim.runner.cli.run_summary import print_control
from trafficsim.runner.closed_loop import LoopOptions, run_closed_loop
from trafficsim.runner.session import BrokerSettings
from trafficsim.sensors.mqtt.bus import MemoryBus
from trafficsim.sensors.mqtt.payloads import decode, encode
from trafficsim.sensors.mqtt.subscriber import Subscriber
from trafficsim.sensors.mqtt.transport import BrokerConfig, ClientPool, DeviceClient
from trafficsim.sim import compute, load_scenario


def _grid(duration_s: float = 600.0) -> object:
    return load_scenario(
        "grid",
        {
            "size": 2,
            "duration_s": duration_s,
            "entry_flow_veh_per_h": 2400.0,
            "cross_flow_ratio": 0.5,
        },
    )


def _summary(world: object) -> str:
    s = compute(world).summary  # type: ignore[arg-type]
    s.pop("wall_time_s")
    return json.dumps(s, sort_keys=True)


@pytest.mark.parametrize("controller", ["actuated", "predictive"])
def test_same_seed_same_results_over_mosquitto_and_in_memory(
    mosquitto_url: str, controller: str
) -> None:
    sc = _grid()
    mem, mem_stats = run_closed_loop(sc, 5, LoopOptions(controller=controller))
    mq, mq_stats = run_closed_loop(
        sc,
        5,
        LoopOptions(controller=controller, transport="mqtt", broker=BrokerSettings(mosquitto_url)),
    )
    assert mq_stats.missed_deadlines == 0
    assert mq_stats.commands == mem_stats.commands > 0
    assert mq_stats.readings == mem_stats.readings > 0
    assert _summary(mq) == _summary(mem)


def test_every_payload_on_the_memory_bus_survives_json_and_meets_the_contract(
    monkeypatch: pytest.MonkeyPatch, feed_contract: Any
) -> None:
    """The memory bus hands payload objects over without a JSON round trip, so whatever the
    simulator, the cabinets and the optimizer publish must already be what a broker would
    deliver: unchanged by encoding and decoding, and valid on its AsyncAPI channel."""
    seen: list[tuple[str, dict[str, Any]]] = []

    class Tap:
        filters = ("#",)

        def on_message(self, topic: str, payload: dict[str, Any]) -> list[Any]:
            seen.append((topic, payload))
            return []

    real_init = MemoryBus.__init__

    def tapped(self: MemoryBus, handlers: list[Any], inbox_filters: tuple[str, ...] = ()) -> None:
        real_init(self, [Tap(), *handlers], inbox_filters)

    monkeypatch.setattr(MemoryBus, "__init__", tapped)
    run_closed_loop(_grid(240.0), 3, LoopOptions(controller="predictive"))
    topics = {t.split("/")[1] for t, _ in seen}
    assert {"sensors", "signal", "clock", "control", "meta"} <= topics
    assert any(t.endswith("/plan") for t, _ in seen)
    for topic, payload in seen:
        data = encode(payload)
        assert decode(topic, data) == payload, topic
        feed_contract.check(topic, data)


def test_same_results_over_the_embedded_amqtt_broker(amqtt_url: str) -> None:
    sc = _grid(300.0)
    mem, _ = run_closed_loop(sc, 2, LoopOptions(controller="max-pressure"))
    mq, stats = run_closed_loop(
        sc,
        2,
        LoopOptions(controller="max-pressure", transport="mqtt", broker=BrokerSettings(amqtt_url)),
    )
    assert stats.missed_deadlines == 0
    assert _summary(mq) == _summary(mem)


def _completed_after(world: object, t_s: float) -> int:
    rec = world.records()  # type: ignore[attr-defined]
    exits = [i.index for i in world.lane_group_info if i.kind == "exit"]  # type: ignore[attr-defined]
    sel = np.isin(rec["lane_group"], exits) & (rec["t_in_s"] > t_s)
    return int(sel.sum())


@pytest.mark.parametrize("controller", ["fixed", "max-pressure", "predictive"])
def test_silenced_optimizer_every_cabinet_falls_back_within_one_cycle(controller: str) -> None:
    world, stats = run_closed_loop(
        _grid(900.0), 1, LoopOptions(controller=controller), stop_optimizer_at_s=300.0
    )
    assert stats.fallbacks == 4
    # Silent from 300 s: every cabinet back on its stored plan within one stored cycle
    # (60 s) of the last command it accepted, and the alarm says which, when, and that
    # none came back.
    cycle = {n: sum(p.duration_s for p in h.plan.phases) for n, h in world.heads.items()}
    assert sorted(stats.fallback_at_s) == sorted(world.heads)
    control = json.loads(json.dumps(stats.as_dict()))  # what control.json holds
    assert control["alarm"] is True
    assert sorted(control["on_fallback_at_end"]) == sorted(world.heads)
    episodes = control["fallback_episodes"]
    assert sorted(e["intersection"] for e in episodes) == sorted(world.heads)
    for e in episodes:
        last, fell = e["last_command_s"], e["fell_back_at_s"]
        assert last <= 300.0 < fell <= last + cycle[e["intersection"]], e
        assert e["restored_at_s"] is None
    assert _completed_after(world, 600.0) > 100
    # trafficsim run says so beside its one-line summary of control.json.
    console = Console(record=True, width=200)
    print_control(console, {"controller": controller, **control})
    said = console.export_text()
    assert "ALARM: 4 cabinets fell back" in said and "4 still on fallback at the end" in said


def test_an_optimizer_that_keeps_answering_raises_no_alarm() -> None:
    _world, stats = run_closed_loop(_grid(600.0), 1, LoopOptions(controller="predictive"))
    control = stats.as_dict()
    assert control["rejected"] == 0 and control["fallbacks"] == 0
    assert (control["alarm"], control["fallback_episodes"], control["on_fallback_at_end"]) == (
        False,
        [],
        [],
    )


def test_optimizer_process_killed_mid_run(mosquitto_url: str, trafficsim_exe: str) -> None:
    proc = subprocess.Popen(
        [
            trafficsim_exe,
            "serve",
            "optimizer",
            "--broker",
            mosquitto_url,
            "--controller",
            "max-pressure",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        # Subscribed and connected once its status says online.
        wait_for_online(BrokerConfig.from_url(mosquitto_url), "optimizer", proc=proc)
        killed_at: list[float] = []

        def kill(t: float) -> None:
            if t >= 300.0 and not killed_at:
                proc.send_signal(signal.SIGKILL)
                proc.wait(10)
                killed_at.append(t)

        world, stats = run_closed_loop(
            _grid(900.0),
            3,
            LoopOptions(
                controller="max-pressure",
                transport="mqtt",
                broker=BrokerSettings(mosquitto_url),
                external_optimizer=True,
                deadline_s=1.0,  # each of the 3 rounds missed before giving up waits this long
            ),
            on_progress=kill,
        )
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    assert killed_at
    assert stats.commands > 20  # the optimizer was in the loop before it died
    assert stats.missed_deadlines >= 3
    assert stats.fallbacks == 4  # every cabinet went back to its stored plan
    for e in stats.fallback_episodes:  # within one stored cycle (60 s) of its last command
        assert e.last_command_s is not None
        assert e.fell_back_at_s <= e.last_command_s + 60.0, e
    assert _completed_after(world, 600.0) > 100  # and traffic kept flowing
    # A client that connects afterwards (a restarted optimizer, a dashboard) is told at once,
    # by the cabinets' retained status, that all four are on fallback and since when.
    cfg = BrokerConfig.from_url(mosquitto_url)
    sub = Subscriber(cfg, "status-reader", "hcmc/signal/+/status").start()
    msgs = collect_until(sub, lambda got: len(got) >= 4, "the cabinets' retained status")
    sub.stop()
    statuses = {decode(m.topic, m.payload)["intersection"]: m for m in msgs}
    assert sorted(statuses) == sorted(world.heads)
    for node, m in statuses.items():
        status = decode(m.topic, m.payload)
        assert m.retain
        assert (status["mode"], status["alarm"], status["central"]) == ("fallback", True, False)
        assert status["simTimeSeconds"] == stats.fallback_at_s[node]
        assert status["simTimeSeconds"] <= status["lastCommandSeconds"] + 60.0


@pytest.mark.parametrize(
    ("phases", "reason"),
    [
        (
            [{"groups": ["NS", "EW"], "greenSeconds": 30, "yellowSeconds": 3}],
            "'EW' and 'NS' conflict",
        ),
        (
            [
                {"groups": ["NS"], "greenSeconds": 27, "yellowSeconds": 60},
                {"groups": ["EW"], "greenSeconds": 27, "yellowSeconds": 3},
            ],
            "60 s is above the maximum yellow 6 s",
        ),
    ],
)
def test_a_rogue_unsafe_plan_is_rejected_with_a_reason_on_the_ack_topic(
    mosquitto_url: str, phases: list[dict[str, Any]], reason: str
) -> None:
    cfg = BrokerConfig.from_url(mosquitto_url)
    sub = Subscriber(cfg, "ack-reader", "rogue/signal/+/ack").start()
    rogue = DeviceClient(cfg, "rogue", "rogue/status/rogue")
    pool = ClientPool([rogue])
    pool.connect_all(10.0)
    bad = {"intersection": "r0c0", "planId": "evil-1", "kind": "cycle", "phases": phases}

    def inject(t: float) -> None:
        if 100.0 <= t < 102.0:
            pool.publish(rogue, "rogue/signal/r0c0/plan", encode(bad), qos=1)
            pool.flush(5.0)

    world, stats = run_closed_loop(
        _grid(200.0),
        1,
        LoopOptions(
            controller="fixed",
            transport="mqtt",
            broker=BrokerSettings(mosquitto_url, topic_root="rogue"),
        ),
        on_progress=inject,
    )
    pool.close(5.0)
    # The rogue's command was the cabinet's only rejection: wait for its answer.
    msgs = collect_until(
        sub,
        lambda got: any(decode(m.topic, m.payload)["planId"] == "evil-1" for m in got),
        "the cabinet's answer to the rogue plan",
    )
    sub.stop()
    acks = [decode(m.topic, m.payload) for m in msgs]
    rejected = [a for a in acks if not a["accepted"]]
    assert [a["planId"] for a in rejected] == ["evil-1"]
    assert reason in rejected[0]["reason"]
    assert stats.rejected == 1
    # The display never showed both groups: the head's log alternates cleanly.
    head = world.heads["r0c0"]
    state = {"NS": "red", "EW": "red"}
    for c in head.changes:  # type: ignore[union-attr]
        state[c.group] = c.state
        assert not (state["NS"] != "red" and state["EW"] != "red")


def test_compare_cli_writes_the_table(trafficsim_exe: str, tmp_path: Path) -> None:
    out = tmp_path / "cmp"
    r = subprocess.run(
        [trafficsim_exe, "compare", "--scenario", "grid", "--set", "size=2", "--duration", "300",
         "--controllers", "max-pressure", "--seeds", "2", "--workers", "2", "--out", str(out)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    cmp = json.loads((out / "comparison.json").read_text())
    assert cmp["scenario"] == "grid" and cmp["seeds"] == [0, 1]
    assert set(cmp["controllers"]) == {"fixed", "max-pressure"}
    for metric in ("mean_delay_s", "mean_travel_time_s", "mean_stops", "co2_kg", "nox_g", "pm_g",
                   "mean_queue_veh", "throughput_veh_per_h"):  # fmt: skip
        v = cmp["controllers"]["fixed"][metric]
        assert v["ci95"][0] <= v["mean"] <= v["ci95"][1]
        assert set(cmp["reduction_vs_fixed"]["max-pressure"][metric]) == {"pct", "ci95_pct"}
    assert (out / "comparison.png").stat().st_size > 10_000
    md = (out / "comparison.md").read_text()
    assert "| mean delay (s/veh) |" in md and "max-pressure" in md


def test_compare_sends_runs_to_a_dask_scheduler(trafficsim_exe: str, tmp_path: Path) -> None:
    """A real dask.distributed scheduler and worker, as separate processes (a one-machine
    cluster): compare --scheduler sends its runs there."""
    import shutil
    import sys

    from tests_support import free_port, wait_for_port

    dask_exe = shutil.which("dask", path=str(Path(sys.executable).parent))
    assert dask_exe, "the dask command comes with dask[distributed]"
    port = free_port()
    sched = subprocess.Popen(
        [dask_exe, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    worker = None
    try:
        wait_for_port(port, timeout_s=60)
        worker = subprocess.Popen(
            [dask_exe, "worker", f"tcp://127.0.0.1:{port}", "--nthreads", "1",
             "--nworkers", "1", "--no-dashboard", "--name", "test-worker"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        out = tmp_path / "cmp"
        r = subprocess.run(
            [trafficsim_exe, "compare", "--scenario", "isolated", "--duration", "300",
             "--controllers", "actuated", "--seeds", "2", "--scheduler",
             f"tcp://127.0.0.1:{port}", "--out", str(out), "--quiet"],
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert r.returncode == 0, r.stderr
    finally:
        for p in (worker, sched):
            if p is not None:
                p.terminate()
                p.wait(timeout=30)
    cmp = json.loads((out / "comparison.json").read_text())
    assert set(cmp["controllers"]) == {"fixed", "actuated"}
    assert len(cmp["runs"]) == 4
