"""The MQTT identities that are not field devices (username = client id on a secured broker,
which binds one to the other with ``use_username_as_clientid``; their rights are in
deploy/mosquitto/acl).

A service that both subscribes and publishes (the simulator in a closed loop, the predictor,
the optimizer) holds two connections, and with client ids bound to usernames two
connections need two accounts: the publisher logs in as the service, its subscriber as
``<service>-in`` (:func:`inbox`), each with its own password and ACL lines. Device and
cabinet names may not take any of these names (:func:`reserved`).
"""

from __future__ import annotations

from collections.abc import Iterable

INBOX_SUFFIX = "-in"

SIMULATOR = "trafficsim-simulator"
"""Publishes the scenario metadata and the clock."""
SIMULATOR_INBOX = SIMULATOR + INBOX_SUFFIX
"""The simulator's subscribing client in a closed loop: commands and lock-step markers."""
PROBE_FLEET = "probe-fleet"
OPTIMIZER = "optimizer"
OPTIMIZER_INBOX = OPTIMIZER + INBOX_SUFFIX
"""The optimizer's subscriber: the feed, signal states and forecasts."""
PREDICTOR = "predictor"
PREDICTOR_INBOX = PREDICTOR + INBOX_SUFFIX
"""The predictor's subscriber: the loops' readings and the clock."""
RECORDER = "recorder"
DASHBOARD = "dashboard"

SERVICE_CLIENTS = (
    SIMULATOR,
    SIMULATOR_INBOX,
    PROBE_FLEET,
    OPTIMIZER,
    OPTIMIZER_INBOX,
    PREDICTOR,
    PREDICTOR_INBOX,
    RECORDER,
    DASHBOARD,
)


def inbox(client_id: str) -> str:
    """The account of ``client_id``'s subscribing connection."""
    return client_id + INBOX_SUFFIX


def reserved(names: Iterable[str], *, field_devices: bool = False) -> list[str]:
    """Those of ``names`` that are service accounts: a device or cabinet under one of them
    would log in with that service's rights (and, with client ids bound to usernames, push
    the service off the broker). With ``field_devices`` the probe fleet, itself a field
    device, passes."""
    services = set(SERVICE_CLIENTS) - ({PROBE_FLEET} if field_devices else set())
    return [n for n in names if n in services]
