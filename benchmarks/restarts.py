"""Readings lost across a broker restart, and how fast the services stop on SIGTERM.

Usage: python benchmarks/restarts.py [--outages 3,20] [--speed 20] [--duration 900]
       [--out bench-restarts]

For each outage: a real Mosquitto with persistence (on a free loopback port, its data in
--out), ``trafficsim record`` subscribed, a live feed (``trafficsim run --scenario grid --set
size=2``, devices that drop nothing, paced at --speed), and in the middle of it the broker
stopped with SIGTERM and started again on the same port after the outage. The recorder is
held (SIGSTOP) until the devices publish again, so that it is the last to come back: the
order in which a clean session loses readings. Prints one JSON line per outage: readings
published, recorded (unique by device and seq), lost by seq, duplicates and what the run
reported unacknowledged; then one line with the seconds ``serve optimizer`` and ``record``
took to exit after SIGTERM, 2 s after their broker went away.
"""

from __future__ import annotations

import argparse
import getpass
import json
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import tomli_w

from trafficsim.sim.catalog import scenario_data

EXE = str(Path(sys.executable).with_name("trafficsim"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(condition: object, what: str, timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise SystemExit(f"{what} did not happen within {timeout_s:g} s")
        time.sleep(0.05)


class Broker:
    def __init__(self, data: Path) -> None:
        self.port = _free_port()
        self.data = data
        data.mkdir(parents=True, exist_ok=True)
        self.conf = data / "mosquitto.conf"
        self.conf.write_text(
            f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence true\n"
            f"persistence_location {data}/\nmax_queued_messages 1000000\n"
            f"user {getpass.getuser()}\n",
            encoding="utf-8",
        )
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> None:
        with (self.data / "mosquitto.log").open("ab") as log:
            self.proc = subprocess.Popen(
                ["mosquitto", "-c", str(self.conf)], stdout=log, stderr=subprocess.STDOUT
            )

        def listening() -> bool:
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return True
            except OSError:
                return False

        _wait(listening, "mosquitto listening")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(30)
            self.proc = None


def _stats(out: Path) -> dict[str, int]:
    try:
        return dict(json.loads((out / "record_stats.json").read_text()))
    except FileNotFoundError:
        return {}


def outage(down_s: float, speed: float, duration_s: float, work: Path) -> dict[str, object]:
    broker = Broker(work / "mosquitto")
    broker.start()
    data, _ = scenario_data("grid", {"size": 2, "duration_s": duration_s})
    data["sensors"] = {"period_s": 5.0, "faults": {"drop": 0.0, "stuck": 0.0, "offline": 0.0}}
    scenario = work / "grid2.toml"
    scenario.write_text(tomli_w.dumps(data), encoding="utf-8")
    rec_out = work / "rec"
    rec = subprocess.Popen(
        [EXE, "record", "--broker", broker.url, "--out", str(rec_out), "--roll", "1"],
        stdout=subprocess.DEVNULL,
    )
    _wait((rec_out / "record_stats.json").exists, "the recorder's first roll")
    pace = ["--speed", str(speed), "--out", str(work / "o"), "--quiet", "--no-plot"]
    run = subprocess.Popen([EXE, "run", "--scenario", str(scenario), "--broker", broker.url, *pace])
    try:
        _wait(lambda: _stats(rec_out).get("readings", 0) >= 100, "100 readings recorded")
        rec.send_signal(signal.SIGSTOP)
        t0 = time.monotonic()
        broker.stop()
        time.sleep(max(0.0, t0 + down_s - time.monotonic()))
        broker.start()
        away_s = time.monotonic() - t0
        # The devices publish again before the recorder is let go.
        sub = subprocess.Popen(
            ["mosquitto_sub", "-p", str(broker.port), "-t", "hcmc/sensors/#", "-C", "1"],
            stdout=subprocess.DEVNULL,
        )
        sub.wait(120)
        rec.send_signal(signal.SIGCONT)
        run.wait(600)
        feed = json.loads((work / "o" / "feed.json").read_text())
        published = feed["readings_published"]
        _wait(lambda: _stats(rec_out).get("readings", 0) >= published, "every reading", 120)
    except SystemExit:
        rec.send_signal(signal.SIGCONT)
        feed = json.loads((work / "o" / "feed.json").read_text()) if run.poll() == 0 else {}
        published = feed.get("readings_published", -1)
    finally:
        rec.send_signal(signal.SIGTERM)
        rec.wait(30)
        if run.poll() is None:
            run.kill()
        broker.stop()
    table = pq.read_table(sorted(rec_out.glob("readings-*.parquet")))
    ids, seqs = table.column("device_id").to_pylist(), table.column("seq").to_pylist()
    unique = len(set(zip(ids, seqs, strict=True)))
    stats = _stats(rec_out)
    return {
        "broker_down_s": round(away_s, 2),
        "readings_published": published,
        "recorded_unique": unique,
        "lost_by_seq": stats.get("lost_by_seq"),
        "duplicates": stats.get("duplicates"),
        "run_unacknowledged": feed.get("unacknowledged"),
    }


def sigterm_while_broker_gone(work: Path) -> dict[str, float]:
    broker = Broker(work / "mosquitto")
    broker.start()
    procs = {
        "serve optimizer": subprocess.Popen([EXE, "serve", "optimizer", "--broker", broker.url]),
        "record": subprocess.Popen(
            [EXE, "record", "--broker", broker.url, "--out", str(work / "rec"), "--roll", "1"],
            stdout=subprocess.DEVNULL,
        ),
    }
    _wait((work / "rec" / "record_stats.json").exists, "the recorder's first roll")
    online = ["mosquitto_sub", "-p", str(broker.port), "-t", "hcmc/status/optimizer", "-C", "1"]
    subprocess.run(online, stdout=subprocess.DEVNULL, timeout=120, check=True)
    broker.stop()
    time.sleep(2.0)  # both noticed and retry
    took = {}
    for name, p in procs.items():
        t0 = time.monotonic()
        p.send_signal(signal.SIGTERM)
        p.wait(30)
        took[name] = round(time.monotonic() - t0, 2)
    return took


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--outages", default="3,20", help="broker outages in seconds")
    ap.add_argument("--speed", type=float, default=20.0)
    ap.add_argument("--duration", type=float, default=900.0)
    ap.add_argument("--out", type=Path, default=Path("bench-restarts"))
    args = ap.parse_args()
    if shutil.which("mosquitto") is None:
        raise SystemExit("mosquitto is not installed (apt-get install mosquitto)")
    shutil.rmtree(args.out, ignore_errors=True)
    for down in (float(x) for x in args.outages.split(",")):
        work = args.out / f"outage-{down:g}s"
        print(json.dumps(outage(down, args.speed, args.duration, work)), flush=True)
    print(json.dumps({"sigterm_exit_s_broker_gone": sigterm_while_broker_gone(args.out / "t")}))


if __name__ == "__main__":
    main()
