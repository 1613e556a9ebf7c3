"""The repository's Mosquitto configuration (deploy/mosquitto): passwords and ACL, real broker."""

from __future__ import annotations

import json
import subprocess
import tomllib
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from tests_support import collect_until

from trafficsim.sensors.mqtt.transport import (
    BrokerConfig,
    BrokerUnavailableError,
    Message,
    Subscriber,
)

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def secured(tmp_path, trafficsim_exe):
    """Mosquitto with deploy/mosquitto's config and ACL and freshly made credentials."""
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
    proc, log = start_mosquitto(deployment_conf(port, secrets), tmp_path)
    try:
        wait_for_port(port)
    except RuntimeError:
        proc.kill()
        pytest.fail(log.read_text())
    passwords = tomllib.loads((secrets / "clients.toml").read_text())["clients"]
    yield port, passwords, secrets
    proc.terminate()
    proc.wait(timeout=10)


def _device(port: int, name: str, password: str) -> mqtt.Client:
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=name)
    c.username_pw_set(name, password)
    c.connect("127.0.0.1", port)
    c.loop_start()
    return c


def test_devices_publish_only_under_their_own_topics(secured) -> None:
    port, pw, _ = secured
    cfg = BrokerConfig(port=port, username="recorder", password=pw["recorder"])
    sub = Subscriber(cfg, "recorder", "hcmc/#").start()
    dev = _device(port, "loop-N_in-NS", pw["loop-N_in-NS"])
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


def test_wrong_or_missing_password_is_refused(secured) -> None:
    port, _pw, _ = secured
    for user, password in (("loop-N_in-NS", "not-the-password"), (None, None)):
        cfg = BrokerConfig(port=port, username=user, password=password)
        with pytest.raises(BrokerUnavailableError, match="refused"):
            Subscriber(cfg, "intruder", "hcmc/#").start(timeout_s=3)


def test_run_with_credentials_publishes_through_the_acl(secured, trafficsim_exe, tmp_path) -> None:
    port, pw, secrets = secured
    sub = Subscriber(
        BrokerConfig(port=port, username="recorder", password=pw["recorder"]), "recorder", "hcmc/#"
    ).start()
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
                f"mqtt://127.0.0.1:{port}",
                "--credentials",
                str(secrets / "clients.toml"),
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


def test_run_without_credentials_is_refused_clearly(secured, trafficsim_exe, tmp_path) -> None:
    port, _, _ = secured
    p = subprocess.run(
        [
            trafficsim_exe,
            "run",
            "--scenario",
            "isolated",
            "--duration",
            "60",
            "--broker",
            f"mqtt://127.0.0.1:{port}",
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
    assert "refused" in p.stderr and "Traceback" not in p.stderr


def test_tls_broker_with_a_private_ca(tmp_path, trafficsim_exe) -> None:
    """mqtts:// with --ca-certs: the run verifies the broker's certificate and publishes."""
    import shutil

    from tests_support import free_port, start_mosquitto, wait_for_port

    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")

    def ssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=tmp_path, check=True, capture_output=True)

    ssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=test-ca",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
    )
    ssl(
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
    )
    (tmp_path / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    ssl(
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "san.ext",
        "-out",
        "server.pem",
    )
    port = free_port()
    proc, log = start_mosquitto(
        f"listener {port} 127.0.0.1\nallow_anonymous true\ncafile {tmp_path / 'ca.pem'}\n"
        f"certfile {tmp_path / 'server.pem'}\nkeyfile {tmp_path / 'server.key'}\nuser root\n",
        tmp_path,
    )
    try:
        try:
            wait_for_port(port)
        except RuntimeError:
            pytest.fail(log.read_text())
        url = f"mqtts://127.0.0.1:{port}"
        cfg = BrokerConfig.from_url(url, ca_certs=str(tmp_path / "ca.pem"))
        sub = Subscriber(cfg, "tls-sub", "hcmc/sensors/#").start()
        p = subprocess.run(
            [
                trafficsim_exe,
                "run",
                "--scenario",
                "isolated",
                "--duration",
                "300",
                "--broker",
                url,
                "--ca-certs",
                str(tmp_path / "ca.pem"),
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
        assert p.returncode == 0, p.stderr
        published = json.loads((tmp_path / "o" / "feed.json").read_text())
        loops_and_cameras = sum(
            n for kind, n in published["readings_by_kind"].items() if kind != "probe"
        )
        got = collect_until(
            sub, lambda got: len(got) >= loops_and_cameras, "the run's readings over TLS"
        )
        sub.stop()
        # Without the CA the certificate cannot be verified: a clear error, not a hang.
        bad = subprocess.run(
            [
                trafficsim_exe,
                "run",
                "--scenario",
                "isolated",
                "--duration",
                "60",
                "--broker",
                url,
                "--out",
                str(tmp_path / "o2"),
                "--quiet",
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert len(got) == loops_and_cameras > 20
    assert bad.returncode == 2 and "CERTIFICATE_VERIFY_FAILED" in bad.stderr


def _readings(msgs: list[Message]) -> list[Message]:
    return [m for m in msgs if m.topic.startswith(("hcmc/sensors/", "hcmc/probes/"))]
