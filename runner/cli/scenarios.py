"""``trafficsim scenarios`` and ``credentials``: what a scenario holds, as tables or as an
editable TOML file, and the broker passwords of its devices with the broker's TLS
certificate."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from trafficsim.runner.cli.common import (
    Subparsers,
    UsageError,
    add_overrides,
    add_scenario,
    output_dir,
)
from trafficsim.sim import load_scenario, parse_overrides


def register(sub: Subparsers) -> None:
    """Add ``credentials`` and ``scenarios``."""
    cr = sub.add_parser(
        "credentials",
        help="create per-client broker passwords, a private CA and the broker's certificate",
        description=(
            "Create, for every device and signal cabinet of a scenario and for the centre's "
            "services, a password each, and a private CA with the broker's TLS certificate, "
            "for a broker configured like deploy/mosquitto/mosquitto.conf: DIR/mosquitto/ "
            "(passwd, server.crt, server.key: the broker's), DIR/SERVICE/clients.toml and "
            "DIR/SERVICE/ca.crt for SERVICE simulator, predictor, optimizer, recorder and "
            "dashboard (each service's own), DIR/clients.toml (every password) and "
            "DIR/ca.crt. An existing CA in DIR is kept."
        ),
    )
    add_scenario(cr)
    add_overrides(cr)
    cr.add_argument("--out", required=True, metavar="DIR")
    cr.add_argument(
        "--hostname",
        action="append",
        default=[],
        metavar="NAME|IP",
        help="another name or address clients reach the broker by, for its certificate "
        "(repeatable; always: mosquitto, localhost, 127.0.0.1, ::1)",
    )
    cr.add_argument(
        "--broker-owner",
        metavar="UID:GID",
        help="give DIR/mosquitto to this user, which Mosquitto started as root drops to "
        "before it reads its key (1883:1883 in the eclipse-mosquitto image)",
    )
    cr.set_defaults(handler=_credentials)

    sc = sub.add_parser(
        "scenarios",
        help="list built-in scenarios and their parameters",
        description="List the built-in scenarios, or print one as an editable TOML file.",
    )
    sc.add_argument(
        "--show", metavar="NAME|PATH", help="print this scenario as TOML (with any --set applied)"
    )
    add_overrides(sc, "override a parameter of the shown scenario (repeatable)")
    sc.add_argument(
        "--design-flows",
        action="store_true",
        help="with --show: print instead the design flows counted from the scenario's demand "
        "in its busiest hour (PCU per signal group), a file for 'run --controller fixed "
        "--design-flows': today's plans retimed to perfect counts",
    )
    sc.set_defaults(handler=_scenarios)


def _credentials(args: argparse.Namespace) -> int:
    from trafficsim.runner.logins import field_logins
    from trafficsim.sensors.mqtt.certificates import DEFAULT_HOSTNAMES, check_hostname
    from trafficsim.sensors.mqtt.credentials import write_credentials

    args.out = output_dir(args.out)
    hostnames = [*DEFAULT_HOSTNAMES]
    for name in args.hostname:
        try:
            hostnames.append(check_hostname(name))
        except ValueError as exc:
            raise UsageError("--hostname", str(exc)) from None
    owner = _owner(args.broker_owner)
    scenario = load_scenario(args.scenario, parse_overrides(args.overrides))
    devices, cabinets = field_logins(scenario, cabinets=True)  # cabinets: their node id
    files = write_credentials(
        [*devices, *cabinets], args.out, hostnames=hostnames, broker_owner=owner
    )
    ca = "kept the CA" if files.kept_ca else "made a new CA"
    Console().print(
        escape(
            f"wrote {args.out} for {len(devices)} devices, {len(cabinets)} signal cabinets "
            f"and the services ({ca}; broker certificate for {', '.join(hostnames)}): mount "
            f"{args.out}/mosquitto for the broker and {args.out}/SERVICE for each service; "
            "keep every clients.toml secret"
        ),
        highlight=False,
    )
    return 0


def _owner(text: str | None) -> tuple[int, int] | None:
    if text is None:
        return None
    uid, sep, gid = text.partition(":")
    if not (uid.isdigit() and (not sep or gid.isdigit())):
        raise UsageError("--broker-owner", f"expected UID:GID such as 1883:1883, got {text!r}")
    return int(uid), int(gid or uid)


def _scenarios(args: argparse.Namespace) -> int:
    if args.design_flows and not args.show:
        raise UsageError("--design-flows", "name the scenario with --show NAME|PATH")
    if args.show and args.design_flows:
        _print_design_flows(args.show, parse_overrides(args.overrides))
    elif args.show:
        _print_scenario(args.show, parse_overrides(args.overrides))
    else:
        _print_builtins(Console())
    return 0


def _print_design_flows(name: str, overrides: dict[str, Any]) -> None:
    import tomli_w

    from trafficsim.runner.design_flows import counted_design_flows

    scenario = load_scenario(name, overrides)
    params = counted_design_flows(scenario)
    sys.stdout.write(
        f"# design flows of {scenario.name}: its demand in the busiest hour, "
        + (
            "counted at the stop lines in a run of its own plans (seed 0)"
            if scenario.trips or scenario.ods
            else "propagated through the turning shares"
        )
        + ";\n# per signal group, in PCU/h (the group's saturation flow times its most "
        "loaded lane group's flow ratio)\n"
    )
    sys.stdout.write(
        tomli_w.dumps({"pcu_per_veh": params["pcu_per_veh"], "flows": params["design_flows"]})
    )


def _print_scenario(name: str, overrides: dict[str, Any]) -> None:
    from trafficsim.sim.catalog import scenario_data
    from trafficsim.sim.interop.osm import ATTRIBUTION, LICENCE
    from trafficsim.sim.interop.toml_text import dumps

    data, source = scenario_data(name, overrides)
    load_scenario(name, overrides)  # check it before printing
    sys.stdout.write(f"# {source}\n")
    if ATTRIBUTION in str(data.get("scenario", {}).get("description", "")):
        sys.stdout.write(f"# {LICENCE}\n")
    sys.stdout.write(dumps(data))


def _print_builtins(console: Console) -> None:
    from trafficsim.sim.builtin import BUILTINS

    for b in BUILTINS.values():
        t = Table(title=f"[bold]{b.name}[/]: {b.summary}", title_justify="left")
        t.add_column("parameter (--set KEY=VALUE)")
        t.add_column("default", justify="right")
        t.add_column("meaning")
        for p in b.params:
            default = p.default if not p.choices else f"{p.default} ({'|'.join(p.choices)})"
            t.add_row(p.name, str(default), p.help)
        console.print(t)
