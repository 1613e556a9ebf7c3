"""The logins a secured run of a scenario uses, refused when one would take a service
account's name.

Field devices log in under their device id and signal cabinets under their intersection
id; a node named ``optimizer`` would give its cabinet the optimizer's username, hence its
right to publish signal plans everywhere (and, with client ids bound to usernames, the
power to push the real optimizer off the broker). ``trafficsim credentials`` and every
secured run check the names here first.
"""

from __future__ import annotations

from collections import Counter

from trafficsim.sensors.mqtt.clients import SERVICE_CLIENTS, reserved
from trafficsim.sim import Scenario, ScenarioError, World


def field_logins(scenario: Scenario, *, cabinets: bool) -> tuple[list[str], list[str]]:
    """(device ids, cabinet ids) of ``scenario``'s field, checked by :func:`check_logins`."""
    from trafficsim.sensors.field import Field

    world = World(scenario, 0)
    devices = list(Field(world).devices)
    heads = sorted(world.heads) if cabinets else []
    check_logins(scenario, devices, heads)
    return devices, heads


def check_logins(scenario: Scenario, devices: list[str], cabinets: list[str]) -> None:
    """A :class:`ScenarioError` naming the scenario file, the node or device and the fix when
    a login is a service account or two field clients share one."""
    names = ", ".join(SERVICE_CLIENTS)
    for cab in reserved(cabinets)[:1]:
        raise ScenarioError(
            scenario.source,
            f"nodes.{cab}",
            f"the signal cabinet of node {cab!r} would log in as the service account "
            f"{cab!r}; rename the node (reserved: {names})",
        )
    for dev in reserved(devices, field_devices=True)[:1]:
        raise ScenarioError(
            scenario.source,
            "sensors",
            f"device {dev!r} would log in as the service account {dev!r}; rename it "
            f"(reserved: {names})",
        )
    shared = [n for n, k in Counter([*devices, *cabinets]).items() if k > 1]
    if shared:
        raise ScenarioError(
            scenario.source,
            f"nodes.{shared[0]}",
            f"node {shared[0]!r} and a device share the login {shared[0]!r}; rename one",
        )
