"""docker-compose.yml is consistent with the repository and the CLI, and what it starts runs
without Docker: its commands are run here against a real Mosquitto with the same config."""

from __future__ import annotations

import argparse
import json
import re
import signal
import subprocess
from pathlib import Path

import pytest
import yaml

from trafficsim.runner.cli import build_parser
from trafficsim.sensors.mqtt.subscriber import Message, Subscriber
from trafficsim.sensors.mqtt.transport import BrokerConfig

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))


def _parse(command: list[str]) -> argparse.Namespace:
    assert command[0] == "trafficsim"
    return build_parser().parse_args(command[1:])


def _mounts(service: dict) -> dict[str, str]:
    """Container path -> source (named volume, ``volume/subpath``, or repository path)."""
    out = {}
    for v in service.get("volumes", []):
        if isinstance(v, dict):  # the long syntax: a folder of a named volume
            sub = v.get("volume", {}).get("subpath")
            out[v["target"]] = f"{v['source']}/{sub}" if sub else v["source"]
        else:
            source, target = v.split(":")[:2]
            out[target] = source
    return out


SECRET_FOLDERS = {
    "mosquitto": "mosquitto",
    "predictor": "predictor",
    "optimizer": "optimizer",
    "simulator": "simulator",
}
"""Service -> its own folder of the secrets volume (``trafficsim credentials`` writes them)."""


def test_services_images_and_build(compose) -> None:
    s = compose["services"]
    assert set(s) == {"credentials", "trainer", "mosquitto", "predictor", "optimizer", "simulator"}
    assert s["mosquitto"]["image"].startswith("eclipse-mosquitto:2")
    assert s["credentials"]["build"] == "."
    for name in ("trainer", "predictor", "optimizer", "simulator"):
        assert s[name]["image"] == s["credentials"]["image"], name
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
                assert source.split("/")[0] in declared, source


def _conf() -> tuple[str, dict[str, str]]:
    conf = (REPO / "deploy/mosquitto/mosquitto.conf").read_text(encoding="utf-8")
    return conf, dict(re.findall(r"^(\w+) (.+)$", conf, flags=re.M))


def test_mosquitto_serves_tls_only_with_ids_bound_to_usernames(compose) -> None:
    m = compose["services"]["mosquitto"]
    mounts = _mounts(m)
    conf, settings = _conf()
    assert (REPO / mounts["/mosquitto/config/mosquitto.conf"]).read_text() == conf
    assert mounts[settings["acl_file"]] == "./deploy/mosquitto/acl"
    # One listener, with TLS: no plain MQTT anywhere, and only its port on the host.
    assert re.findall(r"^listener (.+)$", conf, flags=re.M) == ["8883"]
    assert m["ports"] == ["8883:8883"]
    for key in ("password_file", "certfile", "keyfile"):
        assert mounts[str(Path(settings[key]).parent)] == "secrets/mosquitto", key
    assert settings["allow_anonymous"] == "false"
    assert settings["use_username_as_clientid"] == "true"
    assert int(settings["max_queued_messages"]) > 1000


def test_each_service_mounts_only_its_own_secret(compose) -> None:
    """No container but the one-shot credentials service sees another's password."""
    for name, svc in compose["services"].items():
        secret = {t: src for t, src in _mounts(svc).items() if src.split("/")[0] == "secrets"}
        if name == "credentials":
            assert list(secret.values()) == ["secrets"]
        elif name in SECRET_FOLDERS:
            assert list(secret.values()) == [f"secrets/{SECRET_FOLDERS[name]}"], name
            (volume,) = (v for v in svc["volumes"] if isinstance(v, dict))
            assert volume["read_only"] is True, name
        else:
            assert not secret, name


def test_commands_parse_and_agree(compose) -> None:
    s = compose["services"]
    cred = _parse(s["credentials"]["command"])
    train = _parse(s["trainer"]["command"])
    pred = _parse(s["predictor"]["command"])
    opt = _parse(s["optimizer"]["command"])
    sim = _parse(s["simulator"]["command"])
    assert (cred.command, train.command, sim.command) == ("credentials", "train", "run")
    assert (pred.command, pred.service, opt.command, opt.service) == (
        "serve",
        "predictor",
        "serve",
        "optimizer",
    )
    # The same devices get passwords, train the model and run.
    assert cred.scenario == train.scenario == sim.scenario
    # The simulator runs the loop with the optimizer and predictor of their own containers.
    assert sim.controller == opt.controller
    assert sim.external_optimizer and sim.external_predictor
    conf, _ = _conf()
    assert _mounts(s["credentials"])[Path(cred.out).as_posix()] == "secrets"
    assert cred.broker_owner == "1883:1883"  # the eclipse-mosquitto image's mosquitto user
    for name, args in (("predictor", pred), ("optimizer", opt), ("simulator", sim)):
        broker = BrokerConfig.from_url(args.broker, ca_certs=args.ca_certs)
        assert (broker.host, broker.tls) == ("mosquitto", True), name
        assert re.search(rf"^listener {broker.port}$", conf, flags=re.M)
        # Each reads its own folder of what the credentials service wrote: its passwords
        # and the CA that verifies the broker.
        mounts = _mounts(s[name])
        own = f"secrets/{SECRET_FOLDERS[name]}"
        assert mounts[args.credentials.parent.as_posix()] == own, name
        assert mounts[Path(args.ca_certs).parent.as_posix()] == own, name
        assert (args.credentials.name, Path(args.ca_certs).name) == ("clients.toml", "ca.crt")
    # The predictor serves the model the trainer wrote, from the same volume.
    assert pred.model == Path(train.out)
    train_vol = _mounts(s["trainer"])[Path(train.out).parent.as_posix()]
    assert _mounts(s["predictor"])[pred.model.parent.as_posix()] == train_vol


@pytest.mark.integration
def test_the_compose_commands_run_without_docker(compose, trafficsim_exe, tmp_path) -> None:
    """Run the services' own commands, with paths and host mapped to this machine, and a
    one-intersection grid (every command gets ``--set size=1``) so that simulating the
    trainer's three days and training take seconds; what is checked is how the commands work
    together, not the size of the network."""
    from tests_support import (
        collect_until,
        deployment_conf,
        free_port,
        run_together,
        secured_login,
        start_mosquitto,
        wait_for_online,
        wait_for_port,
    )

    s = compose["services"]
    secrets = tmp_path / "secrets"
    port = free_port()
    mapping = {
        "mqtts://mosquitto:8883": f"mqtts://127.0.0.1:{port}",
        "/runs/grid": str(tmp_path / "runs" / "grid"),
        "/models/grid": str(tmp_path / "models" / "grid"),
        "--realtime": "--speed=1000",  # an hour of real time is too long for a test
    }
    small = {"credentials": ["--set", "size=1"], "trainer": ["--set", "size=1", "--days", "3"]}

    def command(name: str) -> list[str]:
        """The service's command, its secrets mount (and only that) mapped to its folder."""
        local = dict(mapping)
        for target, source in _mounts(s[name]).items():
            if source.split("/")[0] == "secrets":
                folder = secrets.joinpath(*source.split("/")[1:])
                local[target] = str(folder)
                local |= {f"{target}/{f}": str(folder / f) for f in ("clients.toml", "ca.crt")}
        cmd = [local.get(a, a) for a in s[name]["command"] if a not in ("--broker-owner",)]
        if name == "credentials":
            cmd.remove("1883:1883")  # a chown needs root; the test's broker runs as root
        return [trafficsim_exe, *cmd[1:], *small.get(name, [])]

    # Neither reads what the other writes: the passwords are made while the model trains.
    for p in run_together(command("credentials"), command("trainer"), timeout_s=600):
        assert p.returncode == 0, p.stderr
    proc, log = start_mosquitto(deployment_conf(port, secrets), tmp_path)
    services: list[subprocess.Popen[str]] = []
    try:
        try:
            wait_for_port(port)
        except RuntimeError:
            pytest.fail(log.read_text())
        sub = Subscriber(
            secured_login(port, secrets, "dashboard"),
            "dashboard",
            ("hcmc/sensors/#", "hcmc/forecast/#", "hcmc/signal/#"),
        ).start()
        for name in ("predictor", "optimizer"):
            services.append(
                subprocess.Popen(
                    command(name), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
                )
            )
        watcher = secured_login(port, secrets, "recorder")
        for name, svc in zip(("predictor", "optimizer"), services, strict=True):
            wait_for_online(watcher, name, proc=svc)  # subscribed, then online
        r = subprocess.run(
            [*command("simulator"), "--set", "size=1", "--duration", "600", "--quiet"],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert r.returncode == 0, r.stderr
        control = json.loads((tmp_path / "runs" / "grid" / "control.json").read_text())

        def complete(got: list[Message]) -> bool:
            plans = sum(m.topic.endswith("/plan") for m in got)
            kinds = {m.topic.split("/")[1] for m in got}
            return plans >= control["commands"] and kinds == {"sensors", "forecast", "signal"}

        got = collect_until(sub, complete, "every command of the run and a forecast")
        sub.stop()
        outputs = []
        for svc in services:
            svc.send_signal(signal.SIGTERM)
            outputs.append(svc.communicate(timeout=30))
            assert svc.returncode == 0, outputs[-1][1]
    finally:
        for svc in services:
            if svc.poll() is None:
                svc.kill()
        proc.terminate()
        proc.wait(timeout=10)
    assert control["missed_deadlines"] == 0
    assert control["commands"] > 0 and control["rejected"] == 0 and control["fallbacks"] == 0
    topics = {m.topic.split("/")[1] for m in got}
    assert topics == {"sensors", "forecast", "signal"}
    plans = [m for m in got if m.topic.endswith("/plan")]
    assert len(plans) == control["commands"]
    assert "rounds" in " ".join(outputs[0][0].split())  # the predictor's closing figures
