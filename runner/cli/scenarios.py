"""``trafficsim scenarios`` and ``credentials``: what a scenario holds, as tables or as an
editable TOML file, and the broker passwords of its devices."""

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
from trafficsim.sim import World, load_scenario, parse_overrides


def register(sub: Subparsers) -> None:
    """Add ``credentials`` and ``scenarios``."""
    cr = sub.add_parser(
        "credentials",
        help="create per-device broker passwords and a Mosquitto password file",
        description=(
            "Create DIR/passwd (Mosquitto password hashes) and DIR/clients.toml (the "
            "passwords) for every device of a scenario and for the centre's services, for a "
            "broker configured like deploy/mosquitto/mosquitto.conf."
        ),
    )
    add_scenario(cr)
    add_overrides(cr)
    cr.add_argument("--out", required=True, metavar="DIR")
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
    from trafficsim.sensors.field import Field
    from trafficsim.sensors.mqtt.credentials import write_credentials

    args.out = output_dir(args.out)
    world = World(load_scenario(args.scenario, parse_overrides(args.overrides)), 0)
    ids = list(Field(world).devices)
    cabinets = sorted(world.heads)  # signal cabinets log in under their intersection id
    passwd, clients = write_credentials([*ids, *cabinets], args.out)
    Console().print(
        escape(
            f"wrote {passwd} and {clients} for {len(ids)} devices, {len(cabinets)} signal "
            "cabinets and the services; "
            "keep clients.toml secret"
        ),
        highlight=False,
    )
    return 0


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
        f"# design flows of {scenario.name}: its demand in the busiest hour, propagated "
        "through the turning shares;\n# per signal group, in PCU/h (the group's saturation "
        "flow times its most loaded lane group's flow ratio)\n"
    )
    sys.stdout.write(
        tomli_w.dumps({"pcu_per_veh": params["pcu_per_veh"], "flows": params["design_flows"]})
    )


def _print_scenario(name: str, overrides: dict[str, Any]) -> None:
    import tomli_w

    from trafficsim.sim.catalog import scenario_data

    data, source = scenario_data(name, overrides)
    load_scenario(name, overrides)  # check it before printing
    sys.stdout.write(f"# {source}\n")
    sys.stdout.write(tomli_w.dumps(data))


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
