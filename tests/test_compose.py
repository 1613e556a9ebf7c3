"""docker-compose.yml is consistent with the repository and the CLI, and what it starts runs
without Docker: its commands are run here against a real Mosquitto with the same config."""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml

from runner.cli import build_parser
from sensors.mqtt.transport import BrokerConfig, Subscriber

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))


def _parse(command: list[str]) -> argparse.Namespace:
    assert command[0] == "trafficsim"
    return build_parser().parse_args(command[1:])


def _mounts(service: dict) -> dict[str, str]:
    """Container path -> source (named volume or repository path)."""
    out = {}
    for v in service.get("volumes", []):
        source, target = v.split(":")[:2]
        out[target] = source
    return out


def test_services_images_and_build(compose) -> None:
    s = compose["services"]
    assert set(s) == {"credentials", "mosquitto", "simulator"}
    assert s["mosquitto"]["image"].startswith("eclipse-mosquitto:2")
    assert s["credentials"]["build"] == "."
    assert s["simulator"]["image"] == s["credentials"]["image"]
    dockerfile = (REPO / "Dockerfile").read_text(encoding="utf-8")
    for copied in re.findall(r"^COPY (\S+)", dockerfile, flags=re.M):
        assert (REPO / copied).exists(), copied
    assert "pip install" in dockerfile
    declared = set(compose["volumes"])
    for svc in s.values():
        for target, source in _mounts(svc).items():
            if source.startswith("./"):
                assert (REPO / source).exists(), f"{source} mounted at {target} is missing"
            else:
                assert source in declared, source


def test_mosquitto_config_matches_mounts_and_ports(compose) -> None:
    m = compose["services"]["mosquitto"]
    mounts = _mounts(m)
    conf = (REPO / mounts["/mosquitto/config/mosquitto.conf"]).read_text(encoding="utf-8")
    settings = dict(re.findall(r"^(\w+) (.+)$", conf, flags=re.M))
    assert mounts[settings["acl_file"]] == "./deploy/mosquitto/acl"
    pw_dir = str(Path(settings["password_file"]).parent)
    assert mounts[pw_dir] == "secrets"
    assert settings["allow_anonymous"] == "false"
    port = settings["listener"].split()[0]
    assert f"{port}:{port}" in m["ports"]
    assert int(settings["max_queued_messages"]) > 1000


def test_commands_parse_and_agree(compose) -> None:
    s = compose["services"]
    cred = _parse(s["credentials"]["command"])
    sim = _parse(s["simulator"]["command"])
    assert cred.command == "credentials" and sim.command == "run"
    assert cred.scenario == sim.scenario  # the same devices get passwords
    broker = BrokerConfig.from_url(sim.broker)
    assert broker.host == "mosquitto"
    conf = (REPO / "deploy/mosquitto/mosquitto.conf").read_text(encoding="utf-8")
    assert re.search(rf"^listener {broker.port}$", conf, flags=re.M)
    # The simulator reads the passwords the credentials service wrote, from the same volume.
    cred_mounts, sim_mounts = _mounts(s["credentials"]), _mounts(s["simulator"])
    assert sim.credentials.parent.as_posix() in sim_mounts
    assert sim_mounts[sim.credentials.parent.as_posix()] == cred_mounts[cred.out.as_posix()]
    assert sim.credentials.name == "clients.toml"


@pytest.mark.integration
def test_the_compose_commands_run_without_docker(compose, trafficsim_exe, tmp_path) -> None:
    """Run the services' own commands, with paths and host mapped to this machine."""
    from tests_support import deployment_conf, free_port, start_mosquitto, wait_for_port

    s = compose["services"]
    secrets = tmp_path / "secrets"
    cred_cmd = [secrets.as_posix() if a == "/secrets" else a for a in s["credentials"]["command"]]
    p = subprocess.run([trafficsim_exe, *cred_cmd[1:]], capture_output=True, text=True, check=False)
    assert p.returncode == 0, p.stderr
    port = free_port()
    proc, log = start_mosquitto(deployment_conf(port, secrets), tmp_path)
    try:
        try:
            wait_for_port(port)
        except RuntimeError:
            pytest.fail(log.read_text())
        pw = tomllib.loads((secrets / "clients.toml").read_text())["clients"]
        sub = Subscriber(
            BrokerConfig(port=port, username="dashboard", password=pw["dashboard"]),
            "dashboard",
            "hcmc/sensors/#",
        ).start()
        mapping = {
            "mqtt://mosquitto:1883": f"mqtt://127.0.0.1:{port}",
            "/secrets/clients.toml": str(secrets / "clients.toml"),
            "/runs/grid": str(tmp_path / "runs" / "grid"),
            "--realtime": "--speed=1000",
        }  # an hour of real time is too long for a test
        cmd = [mapping.get(a, a) for a in s["simulator"]["command"]]
        r = subprocess.run(
            [trafficsim_exe, *cmd[1:], "--duration", "300", "--quiet"],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert r.returncode == 0, r.stderr
        got = sub.drain(idle_s=1.5, max_s=60)
        sub.stop()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    feed = json.loads((tmp_path / "runs" / "grid" / "feed.json").read_text())
    loops_and_cams = feed["readings_by_kind"]["loop"] + feed["readings_by_kind"]["camera"]
    assert len(got) == loops_and_cams > 100
