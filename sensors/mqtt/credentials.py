"""Per-client credentials for a secured broker: a Mosquitto password file and the secrets.

Every MQTT client (each device, each signal cabinet, the probe fleet, the simulator, and the
centre's services, listed in :mod:`trafficsim.sensors.mqtt.clients`) gets its own username
(= client id) and a random password. ``passwd`` holds Mosquitto's
hashes (format ``$7$``: PBKDF2-HMAC-SHA512, 101 iterations, 12-byte salt, as written by
``mosquitto_passwd`` 2.x); ``clients.toml`` holds the plain passwords for the publishers and
must be kept as secret as any key file. The runner reads it back
(:mod:`trafficsim.runner.credentials_file`).
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
from collections.abc import Iterable
from pathlib import Path

import tomli_w

from trafficsim.sensors.mqtt.clients import SERVICE_CLIENTS

PBKDF2_ITERATIONS = 101
SALT_BYTES = 12


def mosquitto_hash(
    password: str, salt: bytes | None = None, iterations: int = PBKDF2_ITERATIONS
) -> str:
    """A password hash as Mosquitto 2.x stores it (``$7$iterations$salt$hash``)."""
    salt = salt if salt is not None else os.urandom(SALT_BYTES)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode("utf-8"), salt, iterations)
    return f"$7${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def write_credentials(client_ids: Iterable[str], out: Path) -> tuple[Path, Path]:
    """Create ``out/passwd`` (hashes, mode 0644: the broker drops root privileges before it
    reads it) and ``out/clients.toml`` (passwords, mode 0600)."""
    out.mkdir(parents=True, exist_ok=True)
    ids = list(dict.fromkeys([*SERVICE_CLIENTS, *client_ids]))
    passwords = {cid: secrets.token_urlsafe(18) for cid in ids}
    passwd = out / "passwd"
    clients = out / "clients.toml"
    passwd.write_text(
        "".join(f"{cid}:{mosquitto_hash(pw)}\n" for cid, pw in passwords.items()), encoding="utf-8"
    )
    clients.write_text(tomli_w.dumps({"clients": passwords}), encoding="utf-8")
    passwd.chmod(0o644)
    clients.chmod(0o600)
    return passwd, clients
