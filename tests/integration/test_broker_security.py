"""The repository's Mosquitto configuration (deploy/mosquitto) with what ``trafficsim
credentials`` makes: TLS with the private CA, passwords, the ACL, client ids bound to
usernames; a real broker."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from tests_support import collect_until, secured_login, wait_until

from trafficsim.sensors.mqtt.subscriber import Message, Subscriber
from trafficsim.sensors.mqtt.transport import BrokerConfig, BrokerUnavailableError

REPO = Path(__file__).resolve().parents[2]
DEVICE = "loop-N_in-NS"
HIJACKS = (  # a device account with a valid password, and the service client id it asks for
    (DEVICE, "optimizer"),
    ("cam-N_in-NS", "optimizer-in"),
    ("loop-S_in-NS", "trafficsim-simulator-in"),
)


@pytest.fixture
def secured(tmp_path, trafficsim_exe):
    """Mosquitto with deploy/mosquitto's config and ACL and freshly made credentials; yields
    the port, the credentials folder and the broker's log."""
    from tests_support import deployment_conf, free_port, start_mosquitto, wait_for_port

    secrets = tmp_path / "secrets"
    p = subprocess.run(
        [trafficsim_exe, "credentials", "--scenario", "isolated", "--out", str(secrets)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert p.returncode == 0, p.stderr
    port = free_port()
    log = tmp_path / "broker.log"  # a log file is written line by line, stdout in blocks
    proc, out = start_mosquitto(deployment_conf(port, secrets) + f"log_dest file {log}\n", tmp_path)
    try:
        wait_for_port(port)
    except RuntimeError:
        proc.kill()
        pytest.fail(out.read_text())
    yield port, secrets, log
    proc.terminate()
    proc.wait(timeout=10)


def _device(cfg: BrokerConfig, client_id: str) -> mqtt.Client:
    """A paho client logged in with ``cfg``'s account, asking for ``client_id``."""
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id)
    c.tls_set(ca_certs=cfg.ca_certs)
    c.username_pw_set(cfg.username, cfg.password)
    c.connect(cfg.host, cfg.port)
    c.loop_start()
    wait_until(c.is_connected, f"{cfg.username} connected as {client_id!r}", timeout_s=10)
    return c


def _url(port: int) -> str:
    return f"mqtts://127.0.0.1:{port}"


def test_devices_publish_only_under_their_own_topics(secured) -> None:
    port, secrets, _ = secured
    sub = Subscriber(secured_login(port, secrets, "recorder"), "recorder", "hcmc/#").start()
    dev = _device(secured_login(port, secrets, DEVICE), DEVICE)
    try:
        for topic in (
            "hcmc/sensors/C/loop-N_in-NS",
            "hcmc/sensors/C/loop-S_in-NS",
            "hcmc/probes/N_in",
            "hcmc/signal/C/plan",
            "hcmc/status/loop-N_in-NS",
        ):
            dev.publish(topic, b"{}", qos=1).wait_for_publish(5)
        # The broker delivers one client's messages in order: once its last one (allowed)
        # is here, any earlier one the ACL had let through is here too.
        msgs = collect_until(
            sub,
            lambda got: any(
                m.topic == "hcmc/status/loop-N_in-NS" and m.payload == b"{}" for m in got
            ),
            "the device's last message",
        )
        got = {m.topic for m in msgs}
    finally:
        dev.loop_stop()
        dev.disconnect()
        sub.stop()
    assert got == {"hcmc/sensors/C/loop-N_in-NS", "hcmc/status/loop-N_in-NS"}


def test_wrong_or_missing_password_and_plain_mqtt_are_refused(secured) -> None:
    port, secrets, _ = secured
    good = secured_login(port, secrets, DEVICE)
    for cfg in (
        good.with_credentials(DEVICE, "not-the-password"),
        good.with_credentials(None, None),
    ):
        with pytest.raises(BrokerUnavailableError, match="refused"):
            Subscriber(cfg, "intruder", "hcmc/#").start(timeout_s=3)
    # Plain MQTT on the TLS port: the password is never sent in clear, and nothing connects.
    with pytest.raises(BrokerUnavailableError):
        Subscriber(BrokerConfig(port=port), "intruder", "hcmc/#").start(timeout_s=3)


def test_a_live_run_over_tls_with_its_own_secret(secured, trafficsim_exe, tmp_path) -> None:
    """The simulator's folder alone (its clients.toml and ca.crt) is all a run needs."""
    port, secrets, _ = secured
    sub = Subscriber(secured_login(port, secrets, "recorder"), "recorder", "hcmc/#").start()
    own = secrets / "simulator"
    try:
        p = subprocess.run(
            [
                trafficsim_exe,
                "run",
                "--scenario",
                "isolated",
                "--duration",
                "600",
                "--broker",
                _url(port),
                "--ca-certs",
                str(own / "ca.crt"),
                "--credentials",
                str(own / "clients.toml"),
                "--out",
                str(tmp_path / "o"),
                "--no-plot",
                "--quiet",
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert p.returncode == 0, p.stderr
        feed = json.loads((tmp_path / "o" / "feed.json").read_text())
        msgs = collect_until(
            sub,
            lambda got: len(_readings(got)) >= feed["readings_published"],
            f"the run's {feed['readings_published']} readings",
        )
    finally:
        sub.stop()
    assert len(_readings(msgs)) == feed["readings_published"] > 50


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ([], "refused"),  # no credentials
        (["--credentials", "CREDS"], "CERTIFICATE_VERIFY_FAILED"),  # no CA
    ],
)
def test_a_run_without_its_secret_is_refused_clearly(
    secured, trafficsim_exe, tmp_path, extra, expected
) -> None:
    port, secrets, _ = secured
    ca = [] if expected != "refused" else ["--ca-certs", str(secrets / "ca.crt")]
    extra = [str(secrets / "clients.toml") if a == "CREDS" else a for a in extra]
    p = subprocess.run(
        [
            trafficsim_exe,
            "run",
            "--scenario",
            "isolated",
            "--duration",
            "60",
            "--broker",
            _url(port),
            *ca,
            *extra,
            "--out",
            str(tmp_path / "o"),
            "--quiet",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert p.returncode == 2
    assert expected in p.stderr and "Traceback" not in p.stderr


def test_no_login_takes_over_a_service_and_the_loop_runs(secured, trafficsim_exe, tmp_path) -> None:
    """A device with a valid password asks for the client ids of the optimizer's two
    connections and of the simulator's inbox: the broker gives it its username as client id
    instead, the services' connections stay up (each connected once, the optimizer never
    offline), and the closed loop over TLS with per-service secrets misses no deadline."""
    from tests_support import wait_for_online

    port, secrets, log = secured
    status = Subscriber(
        secured_login(port, secrets, "dashboard"), "dashboard", "hcmc/status/optimizer"
    ).start()
    opt_dir = secrets / "optimizer"
    opt = subprocess.Popen(
        [
            trafficsim_exe,
            "serve",
            "optimizer",
            "--controller",
            "max-pressure",
            "--broker",
            _url(port),
            "--ca-certs",
            str(opt_dir / "ca.crt"),
            "--credentials",
            str(opt_dir / "clients.toml"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    hijackers: list[mqtt.Client] = []
    try:
        wait_for_online(secured_login(port, secrets, "recorder"), "optimizer", proc=opt)
        for dev, cid in HIJACKS:
            hijackers.append(_device(secured_login(port, secrets, dev), cid))
        assert all(h.is_connected() for h in hijackers)  # side by side: none pushed off
        for h in hijackers:  # the run's devices log in under these accounts
            h.loop_stop()
            h.disconnect()
        own = secrets / "simulator"
        r = subprocess.run(
            [
                trafficsim_exe,
                "run",
                "--scenario",
                "isolated",
                "--controller",
                "max-pressure",
                "--external-optimizer",
                "--duration",
                "300",
                "--broker",
                _url(port),
                "--ca-certs",
                str(own / "ca.crt"),
                "--credentials",
                str(own / "clients.toml"),
                "--out",
                str(tmp_path / "o"),
                "--quiet",
                "--no-plot",
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert r.returncode == 0, r.stderr
    finally:
        for h in hijackers:
            h.loop_stop()
            h.disconnect()
        opt.terminate()
        opt.communicate(timeout=30)
        seen = [m.payload for m in status.messages.queue]
        status.stop()
    control = json.loads((tmp_path / "o" / "control.json").read_text())
    assert control["missed_deadlines"] == 0 and control["commands"] > 0
    assert seen[:1] == [b"online"] and seen.count(b"online") == 1  # never kicked and back
    text = log.read_text()
    connected = re.findall(r"New client connected from \S+ as (\S+) \(.*u'([^']*)'", text)
    # Each hijacker connected under its own username; each service's id only ever under its
    # own login (a persistent subscriber connects once to work, once more to clear a session
    # an earlier process left, and once to clear it on the way out), and never pushed off by
    # a second client.
    assert all(dev in {cid for cid, _ in connected} for dev, _ in HIJACKS), connected
    for service in ("optimizer", "optimizer-in", "trafficsim-simulator-in"):
        assert {user for cid, user in connected if cid == service} == {service}, connected
        assert f"Client {service} already connected" not in text


def test_a_node_named_like_a_service_gets_no_login(trafficsim_exe, tmp_path) -> None:
    """A scenario whose intersection is called ``optimizer``: ``credentials`` refuses it in
    one line naming the file, the node and the fix, writes nothing; so does a secured run."""
    shown = subprocess.run(
        [trafficsim_exe, "scenarios", "--show", "isolated"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    scenario = tmp_path / "optimizer.toml"
    scenario.write_text(shown.replace('"C"', '"optimizer"'))
    out = tmp_path / "secrets"
    p = subprocess.run(
        [trafficsim_exe, "credentials", "--scenario", str(scenario), "--out", str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert p.returncode == 2 and not out.exists()
    line = p.stderr.strip()
    assert "\n" not in line and str(scenario) in line and "nodes.optimizer" in line
    assert "service account 'optimizer'" in line and "rename the node" in line
    creds = tmp_path / "clients.toml"
    creds.write_text('[clients]\noptimizer = "x"\n')
    r = subprocess.run(
        [
            trafficsim_exe,
            "run",
            "--scenario",
            str(scenario),
            "--controller",
            "max-pressure",
            "--broker",
            "mqtts://127.0.0.1:1",
            "--credentials",
            str(creds),
            "--out",
            str(tmp_path / "o"),
            "--quiet",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert r.returncode == 2 and "nodes.optimizer" in r.stderr and not (tmp_path / "o").exists()


def _readings(msgs: list[Message]) -> list[Message]:
    return [m for m in msgs if m.topic.startswith(("hcmc/sensors/", "hcmc/probes/"))]
