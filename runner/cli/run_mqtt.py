"""The ``run`` command's MQTT side: the broker options and passwords from the flags, and
how the run announces its broker."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from rich.console import Console

from trafficsim.runner.cli.common import BrokerHook, UsageError, client_passwords
from trafficsim.sensors.mqtt.clients import (
    OPTIMIZER,
    PREDICTOR,
    SIMULATOR,
    SIMULATOR_INBOX,
    inbox,
)
from trafficsim.sensors.mqtt.topics import Topics
from trafficsim.sim import Scenario

if TYPE_CHECKING:
    from trafficsim.runner.api import Mqtt


def mqtt_options(args: argparse.Namespace, scenario: Scenario) -> Mqtt:
    """``--broker``, ``--embedded-broker``, ``--credentials`` and the rest as the API's
    :class:`~trafficsim.runner.api.Mqtt`; a credentials file must hold a password for every
    client the run connects."""
    from trafficsim.runner.api import Mqtt, clients
    from trafficsim.sensors.mqtt.broker import BrokerKind

    closed = args.controller is not None
    passwords = None
    if args.credentials is not None:
        # Every client the run connects: the field's, the simulator's, and the services
        # it starts itself.
        need = clients(scenario, closed_loop=closed)
        if closed:
            need = [SIMULATOR_INBOX, *sorted(need)]
            if not args.external_optimizer:
                need += [OPTIMIZER, inbox(OPTIMIZER)]
        need.append(SIMULATOR)
        if args.predictor is not None:
            need += [PREDICTOR, inbox(PREDICTOR)]
        passwords = client_passwords(args.credentials, need)
    return Mqtt(
        url=args.broker,
        embedded=BrokerKind(args.embedded_broker),
        topic_root=args.topic_root,
        qos=args.qos,
        ca_certs=args.ca_certs,
        passwords=passwords,
        deadline_s=args.deadline,
        external_optimizer=args.external_optimizer,
        external_predictor=args.external_predictor,
    )


def check_closed_loop_flags(args: argparse.Namespace) -> None:
    """The closed loop's flags that the API cannot see: external services without MQTT."""
    if args.no_mqtt and (args.external_optimizer or args.external_predictor):
        flag = "--external-optimizer" if args.external_optimizer else "--external-predictor"
        raise UsageError(flag, "services running elsewhere talk over MQTT: drop --no-mqtt")


def announcer(args: argparse.Namespace, console: Console) -> BrokerHook:
    """How the run says where its broker is: a live feed always prints how to subscribe
    (without it nobody can find an embedded broker), a closed loop one line."""
    if args.controller is not None:
        return lambda url, kind: console.print(f"MQTT broker: {url} ({kind})", highlight=False)

    def announce(url: str, kind: str) -> None:
        host_port = url.split("://", 1)[1].split("@")[-1]
        host, _, port = host_port.rpartition(":")
        Console().print(
            f"MQTT: {kind} broker at [bold]{url}[/]; watch the feed with\n"
            f"  mosquitto_sub -h {host} -p {port} -t '{Topics(args.topic_root).all()}' -v\n"
            f"  trafficsim watch --broker {url}",
            highlight=False,
        )

    return announce
