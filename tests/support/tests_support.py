"""Helpers shared by test modules: free ports and the real Mosquitto binary."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port} after {timeout_s} s")


def start_mosquitto(conf_text: str, tmp: Path) -> tuple[subprocess.Popen[bytes], Path]:
    """Run the real Mosquitto with ``conf_text`` (its listener on a free loopback port)."""
    exe = shutil.which("mosquitto")
    if exe is None:
        pytest.skip(
            "the mosquitto binary is not installed (apt-get install mosquitto; .ci/run installs it)"
        )
    conf = tmp / "mosquitto.conf"
    conf.write_text(conf_text, encoding="utf-8")
    log = tmp / "mosquitto.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([exe, "-c", str(conf)], stdout=out, stderr=subprocess.STDOUT)
    return proc, log


def start_recorder(exe: str, url: str, out: Path) -> subprocess.Popen[str]:
    """``trafficsim record`` into ``out``, returned once it is subscribed (its first roll
    writes the stats file)."""
    proc = subprocess.Popen(
        [exe, "record", "--broker", url, "--out", str(out), "--roll", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 20
    while not (out / "record_stats.json").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    if not (out / "record_stats.json").exists():
        proc.kill()
        raise RuntimeError(f"the recorder did not start: {proc.communicate()[1]}")
    return proc


DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "mosquitto"


def deployment_conf(port: int, secrets: Path) -> str:
    """The repository's Mosquitto configuration, pointed at a loopback port and a secrets
    directory of this machine; ``user root`` (test only) lets the broker read pytest's
    private tmp directories."""
    conf = (DEPLOY / "mosquitto.conf").read_text(encoding="utf-8")
    conf = (
        conf.replace("listener 1883", f"listener {port} 127.0.0.1")
        .replace("/mosquitto/secrets/passwd", str(secrets / "passwd"))
        .replace("/mosquitto/config/acl", str(DEPLOY / "acl"))
        .replace("persistence true", "persistence false")
    )
    return conf + "\nuser root\n"
