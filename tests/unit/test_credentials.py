"""What ``write_credentials`` leaves in its folder: each service's share and nothing more,
the broker's certificate for its host names, signed by a CA that is kept across runs."""

from __future__ import annotations

import ipaddress
import stat
import tomllib
from pathlib import Path

import pytest
from cryptography import x509

from trafficsim.sensors.mqtt.credentials import write_credentials

FIELD = ["loop-N_in-NS", "cam-N_in-NS", "probe-fleet", "C"]


def _accounts(path: Path) -> set[str]:
    return set(tomllib.loads(path.read_text())["clients"])


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_each_service_gets_its_own_accounts_only(tmp_path: Path) -> None:
    out = tmp_path / "s"
    write_credentials(FIELD, out)
    assert _accounts(out / "optimizer" / "clients.toml") == {"optimizer", "optimizer-in"}
    assert _accounts(out / "predictor" / "clients.toml") == {"predictor", "predictor-in"}
    assert _accounts(out / "recorder" / "clients.toml") == {"recorder"}
    assert _accounts(out / "simulator" / "clients.toml") == {
        "trafficsim-simulator",
        "trafficsim-simulator-in",
        *FIELD,
    }
    every = tomllib.loads((out / "clients.toml").read_text())["clients"]
    users = [line.split(":")[0] for line in (out / "mosquitto" / "passwd").read_text().split()]
    assert sorted(users) == sorted(every)
    for secret in (
        out / "clients.toml",
        out / "optimizer" / "clients.toml",
        out / "mosquitto" / "server.key",
        out / "ca" / "ca.key",
    ):
        assert _mode(secret) == 0o600, secret
    assert _mode(out / "optimizer") == 0o700
    assert sorted(p.name for p in (out / "mosquitto").iterdir()) == [
        "passwd",
        "server.crt",
        "server.key",
    ]


def test_the_broker_certificate_names_its_hosts_and_the_ca_is_kept(tmp_path: Path) -> None:
    out = tmp_path / "s"
    first = write_credentials(FIELD, out, hostnames=["mosquitto", "10.0.0.7", "Broker.Example"])
    ca_pem = (out / "ca.crt").read_bytes()
    ca = x509.load_pem_x509_certificate(ca_pem)
    server = x509.load_pem_x509_certificate((out / "mosquitto" / "server.crt").read_bytes())
    server.verify_directly_issued_by(ca)
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    san = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["mosquitto", "broker.example"]
    assert san.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("10.0.0.7")]
    # A second run keeps the CA (a client that trusts it still does) and signs anew.
    again = write_credentials(FIELD, out)
    assert (first.kept_ca, again.kept_ca) == (False, True)
    assert (out / "ca.crt").read_bytes() == ca_pem
    renewed = x509.load_pem_x509_certificate((out / "mosquitto" / "server.crt").read_bytes())
    renewed.verify_directly_issued_by(ca)
    assert renewed.serial_number != server.serial_number


def test_a_field_client_named_like_a_service_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="optimizer-in is a service account"):
        write_credentials([*FIELD, "optimizer-in"], tmp_path / "s")
    assert not (tmp_path / "s").exists()
