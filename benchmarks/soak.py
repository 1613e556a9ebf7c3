"""Soak: the live feed through a real Mosquitto for a long time, with the centre subscribed
(``record``, ``serve predictor``, ``serve optimizer``), a broker restart and a service kill
in the middle. Prints what a traffic centre needs to know: readings lost, memory over time,
every service alive at the end.

Usage: python benchmarks/soak.py [--minutes 60] [--size 10] [--speed 1] [--down-s 3]
                                 [--model DIR] [--out DIR]

- Starts Mosquitto on a free loopback port with persistence (sessions and queued messages
  survive its restart), the recorder, the predictor (``--model``, or one trained first on a
  three simulated days of the same scenario) and the optimizer (max-pressure), each its own process.
- Runs ``trafficsim run --scenario grid --set size=N`` at ``--speed`` simulated seconds per
  wall second for ``--minutes`` of wall time.
- At a third of the time it kills the predictor (SIGKILL) and starts it again; at half of
  the time it stops the broker (SIGTERM), keeps it down ``--down-s`` seconds and starts it
  again on the same port with the same data.
- Samples every service's resident memory every 10 s.
- At the end: readings published (the run's feed.json) against readings the recorder kept,
  per device (lost = published - kept), memory of each service in the first and the last
  quarter of the run, each service's exit status on SIGTERM and how long it took.

One JSON object per line; the last line is the verdict (``lost``, ``memory_growth`` as the
ratio of last- to first-quarter median RSS, ``alive``). The city-scale feed of issue 16
(field gateways) is what makes ``--size 33`` (1,089 signals) possible; until then the
largest grid one client per device can take here is about 10 x 10 (801 devices).
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

MOSQUITTO_CONF = """\
listener {port} 127.0.0.1
allow_anonymous true
persistence true
persistence_location {data}/
autosave_interval 30
max_queued_messages 1000000
max_inflight_messages 100
log_dest file {data}/mosquitto.log
user {user}
"""
# ``user``: Mosquitto started as root drops to the user "mosquitto", which may not write the
# data directory; as anyone else it ignores the line.


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, up: bool, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if (s.connect_ex(("127.0.0.1", port)) == 0) == up:
                return
        time.sleep(0.05)
    raise SystemExit(f"port {port} not {'up' if up else 'down'} within {timeout_s:g} s")


def rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        return None
    return None


def ready(broker: Broker, recorder_stats: Path, timeout_s: float = 60.0) -> None:
    """Until the predictor and the optimizer say ``online`` (retained: each subscribes first)
    and the recorder wrote its first stats file (after subscribing)."""
    from trafficsim.sensors.mqtt.subscriber import Subscriber
    from trafficsim.sensors.mqtt.transport import BrokerConfig

    sub = Subscriber(BrokerConfig.from_url(broker.url), "soak-ready", "hcmc/status/#").start()
    online: set[str] = set()
    deadline = time.monotonic() + timeout_s
    try:
        while not ({"predictor", "optimizer"} <= online and recorder_stats.exists()):
            if time.monotonic() > deadline:
                raise SystemExit(f"services not ready within {timeout_s:g} s: {online}")
            for m in sub.drain(idle_s=0.2, max_s=1.0):
                if m.payload == b"online":
                    online.add(m.topic.rsplit("/", 1)[1])
    finally:
        sub.stop()


class Broker:
    def __init__(self, exe: str, data: Path) -> None:
        self.exe, self.data, self.port = exe, data, free_port()
        (data / "mosquitto.conf").write_text(
            MOSQUITTO_CONF.format(port=self.port, data=data, user=getpass.getuser()),
            encoding="utf-8",
        )
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen([self.exe, "-c", str(self.data / "mosquitto.conf")])
        wait_port(self.port, up=True)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=30)
            wait_port(self.port, up=False)

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=60.0)
    ap.add_argument("--size", type=int, default=10)
    ap.add_argument("--speed", type=float, default=1.0)
    ap.add_argument("--down-s", type=float, default=3.0)
    ap.add_argument("--model", type=Path)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    exe = str(Path(sys.executable).with_name("trafficsim"))
    mosquitto = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    out = args.out or Path(tempfile.mkdtemp(prefix="soak-"))
    out.mkdir(parents=True, exist_ok=True)
    grid = ["--scenario", "grid", "--set", f"size={args.size}"]
    wall_s = args.minutes * 60.0
    model = args.model
    if model is None:
        model = out / "model"
        subprocess.run(
            [exe, "train", *grid, "--days", "3", "--max-iter", "20", "--out", str(model)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    broker = Broker(mosquitto, out)
    broker.start()
    common = ["--broker", broker.url]

    def service(name: str) -> subprocess.Popen[bytes]:
        cmd = {
            "record": ["record", "--out", str(out / "feed"), "--roll", "5"],
            "predictor": ["serve", "predictor", "--model", str(model)],
            "optimizer": ["serve", "optimizer", "--controller", "max-pressure"],
        }[name]
        log = (out / f"{name}.log").open("ab")
        return subprocess.Popen([exe, *cmd, *common], stdout=log, stderr=log)

    services = {name: service(name) for name in ("record", "predictor", "optimizer")}
    ready(broker, out / "feed" / "record_stats.json")
    memory: dict[str, list[tuple[float, float]]] = {name: [] for name in services}
    t0 = time.monotonic()
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(10.0):
            for name, proc in services.items():
                mb = rss_mb(proc.pid)
                if mb is not None:
                    memory[name].append((time.monotonic() - t0, mb))

    threading.Thread(target=sample, daemon=True).start()
    run = subprocess.Popen(
        [exe, "run", *grid, *common, "--duration", f"{wall_s * args.speed:g}",
         "--speed", f"{args.speed:g}", "--out", str(out / "run"), "--quiet", "--no-plot"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    events: list[dict[str, Any]] = []
    time.sleep(wall_s / 3)
    services["predictor"].kill()
    services["predictor"].wait()
    services["predictor"] = service("predictor")
    ready(broker, out / "feed" / "record_stats.json")
    events.append({"event": "predictor killed and restarted", "at_s": time.monotonic() - t0})
    time.sleep(max(0.0, wall_s / 2 - (time.monotonic() - t0)))
    down = time.monotonic()
    broker.stop()
    time.sleep(args.down_s)
    broker.start()
    events.append(
        {"event": "broker restarted", "at_s": down - t0, "down_s": time.monotonic() - down}
    )
    _, run_err = run.communicate()
    events.append({"event": "run ended", "at_s": time.monotonic() - t0, "exit": run.returncode})
    for e in events:
        print(json.dumps(e))
    if run.returncode != 0:
        print(run_err.decode()[-2000:], file=sys.stderr)
    feed = json.loads((out / "run" / "feed.json").read_text()) if run.returncode == 0 else {}
    published: dict[str, int] = feed.get("readings_by_device", {})
    stats_file = out / "feed" / "record_stats.json"
    deadline = time.monotonic() + 120.0
    kept: dict[str, int] = {}
    while time.monotonic() < deadline:
        by_device = json.loads(stats_file.read_text()).get("by_device", {})
        kept = {d: by_device.get(d, {}).get("received", 0) for d in published}
        if kept == published:
            break
        time.sleep(1.0)
    stop.set()
    exits = {}
    for name, proc in services.items():
        alive = proc.poll() is None
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        try:
            code: int | None = proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            code = None
        exits[name] = {"alive": alive, "exit": code, "stop_s": round(time.monotonic() - started, 2)}
    broker.stop()

    def growth(samples: list[tuple[float, float]]) -> float | None:
        if len(samples) < 8:
            return None
        q = len(samples) // 4
        first = sorted(mb for _, mb in samples[:q])[q // 2]
        last = sorted(mb for _, mb in samples[-q:])[q // 2]
        return round(last / first, 3)

    lost = sum(published.values()) - sum(kept.values())
    for name in services:
        print(json.dumps({"service": name, **exits[name], "rss_mb": memory[name][-1:],
                          "memory_growth": growth(memory[name])}))  # fmt: skip
    print(
        json.dumps(
            {
                "minutes": args.minutes,
                "size": args.size,
                "devices": feed.get("devices"),
                "published": sum(published.values()),
                "recorded": sum(kept.values()),
                "lost": lost,
                "memory_growth": {n: growth(m) for n, m in memory.items()},
                "alive": all(e["alive"] and e["exit"] == 0 for e in exits.values()),
                "out": str(out),
            }
        )
    )
    os._exit(0 if lost == 0 else 1)


if __name__ == "__main__":
    main()
