"""Per-client credentials and TLS material for a secured broker, each service's share in a
folder of its own.

Every MQTT client (each device, each signal cabinet, the probe fleet, the simulator, and the
centre's services with their ``-in`` subscribers, listed in
:mod:`trafficsim.sensors.mqtt.clients`) gets its own username (= client id) and a random
password. ``trafficsim credentials --out DIR`` writes (see :func:`write_credentials`):

- ``DIR/mosquitto/``: the broker's secrets: ``passwd`` (Mosquitto's hashes, format ``$7$``:
  PBKDF2-HMAC-SHA512, 101 iterations, 12-byte salt, as written by ``mosquitto_passwd`` 2.x),
  ``server.crt`` and ``server.key`` (its TLS certificate, signed by the private CA);
- ``DIR/<service>/clients.toml`` and ``DIR/<service>/ca.crt`` for each of ``simulator`` (the
  field: devices, cabinets, probe fleet and the simulator's two accounts), ``predictor``,
  ``optimizer``, ``recorder`` and ``dashboard``: the passwords that service logs in with,
  and the CA to verify the broker;
- ``DIR/clients.toml`` (every password, for one machine that runs everything) and
  ``DIR/ca.crt``; ``DIR/ca/ca.key``, the CA's key, which no service needs (it is kept so
  that the next run signs with the same CA and clients keep trusting the broker).

A ``clients.toml`` must be kept as secret as any key file. The runner reads it back
(:mod:`trafficsim.runner.credentials_file`).
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import tomli_w

from trafficsim.sensors.mqtt.certificates import (
    DEFAULT_HOSTNAMES,
    load_or_make_ca,
    pem_cert,
    pem_key,
    server_certificate,
)
from trafficsim.sensors.mqtt.clients import (
    DASHBOARD,
    OPTIMIZER,
    PREDICTOR,
    PROBE_FLEET,
    RECORDER,
    SERVICE_CLIENTS,
    SIMULATOR,
    SIMULATOR_INBOX,
    inbox,
    reserved,
)

PBKDF2_ITERATIONS = 101
SALT_BYTES = 12

BROKER_DIR = "mosquitto"
SERVICE_ACCOUNTS = {
    "predictor": (PREDICTOR, inbox(PREDICTOR)),
    "optimizer": (OPTIMIZER, inbox(OPTIMIZER)),
    "recorder": (RECORDER,),
    "dashboard": (DASHBOARD,),
}
"""Folder -> the accounts of a service of the centre; the field's folder is ``simulator``."""
FIELD_DIR = "simulator"
FIELD_SERVICES = (SIMULATOR, SIMULATOR_INBOX, PROBE_FLEET)


def mosquitto_hash(
    password: str, salt: bytes | None = None, iterations: int = PBKDF2_ITERATIONS
) -> str:
    """A password hash as Mosquitto 2.x stores it (``$7$iterations$salt$hash``)."""
    salt = salt if salt is not None else os.urandom(SALT_BYTES)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode("utf-8"), salt, iterations)
    return f"$7${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


@dataclass(frozen=True, slots=True)
class CredentialFiles:
    out: Path
    passwd: Path
    clients: Path
    ca_cert: Path
    kept_ca: bool
    """The CA of an earlier run was kept (clients that trust it still do)."""
    services: tuple[str, ...]
    """The per-service folders written."""


def _write(path: Path, data: bytes | str, mode: int) -> None:
    """Write ``path`` readable by ``mode`` only, from its creation on (a secret is never
    world-readable, not even for a moment)."""
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data.encode("utf-8") if isinstance(data, str) else data)
    path.chmod(mode)  # os.open's mode is filtered by the umask


def _folder(path: Path, mode: int) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(mode)
    return path


def write_credentials(
    client_ids: Iterable[str],
    out: Path,
    *,
    hostnames: Sequence[str] = DEFAULT_HOSTNAMES,
    broker_owner: tuple[int, int] | None = None,
) -> CredentialFiles:
    """Passwords for the field's ``client_ids`` and every service, the broker's certificate
    for ``hostnames``, and each service's folder (see the module docstring).
    ``broker_owner`` (uid, gid): give the broker's folder to the user Mosquitto drops its
    privileges to, since it reads its key after that (in the eclipse-mosquitto image
    1883:1883); the key is readable by its owner only.
    A ValueError for a field client named like a service account."""
    field = list(dict.fromkeys(client_ids))
    clash = reserved(field, field_devices=True)
    if clash:
        raise ValueError(f"{clash[0]} is a service account and cannot name a device or cabinet")
    ids = list(dict.fromkeys([*SERVICE_CLIENTS, *field]))
    passwords = {cid: secrets.token_urlsafe(18) for cid in ids}
    _folder(out, 0o755)
    ca, kept = load_or_make_ca(out / "ca" / "ca.key", out / "ca.crt")
    key, cert = server_certificate(ca, hostnames)
    _write(_folder(out / "ca", 0o700) / "ca.key", pem_key(ca.key), 0o600)
    ca_pem = pem_cert(ca.cert)
    _write(out / "ca.crt", ca_pem, 0o644)
    _write(out / "clients.toml", tomli_w.dumps({"clients": passwords}), 0o600)

    broker = _folder(out / BROKER_DIR, 0o755)
    _write(
        broker / "passwd",
        "".join(f"{cid}:{mosquitto_hash(pw)}\n" for cid, pw in passwords.items()),
        0o644,  # hashes only; readable after the broker dropped root
    )
    _write(broker / "server.crt", pem_cert(cert), 0o644)
    _write(broker / "server.key", pem_key(key), 0o600)
    if broker_owner is not None:
        for p in (broker, *broker.iterdir()):
            os.chown(p, *broker_owner)

    shares = {FIELD_DIR: (*FIELD_SERVICES, *field), **SERVICE_ACCOUNTS}
    for folder, accounts in shares.items():
        d = _folder(out / folder, 0o700)
        mine = {a: passwords[a] for a in accounts}
        _write(d / "clients.toml", tomli_w.dumps({"clients": mine}), 0o600)
        _write(d / "ca.crt", ca_pem, 0o644)
    return CredentialFiles(
        out, broker / "passwd", out / "clients.toml", out / "ca.crt", kept, tuple(shares)
    )
