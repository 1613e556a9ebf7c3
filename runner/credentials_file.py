"""Reading a ``clients.toml`` (client id = password), the secrets a secured run logs in with.

The files are written by :func:`trafficsim.sensors.mqtt.credentials.write_credentials`
(``trafficsim credentials``): one per service (``DIR/optimizer/clients.toml`` holds the
optimizer's two accounts and nothing else) and ``DIR/clients.toml`` with every password;
each is read the same way. It is read here, in the runner, because the MQTT wire imports
nothing of the simulation, and the one TOML reader with its error contract lives there.
Error messages never show a password, only where it is and what it should be.
"""

from __future__ import annotations

from pathlib import Path

from trafficsim.sim import InputError, read_toml_file


def load_credentials(path: Path) -> dict[str, str]:
    """Client id -> password from a ``clients.toml``; an :class:`InputError` naming the file
    and the field when it is unusable."""
    source = str(path)
    data = read_toml_file(path, not_found="create it with 'trafficsim credentials'")
    table = data.get("clients")
    if not isinstance(table, dict):
        raise InputError(source, "clients", 'expected a [clients] table of client id = "password"')
    for client, password in table.items():
        if not isinstance(password, str):
            raise InputError(
                source,
                f"clients.{client}",
                'expected a password in quotes (client id = "password"), '
                f"got a value of type {type(password).__name__}",
            )
    return dict(table)
