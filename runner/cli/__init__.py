"""``trafficsim``: the command line.

Each command group is a module with one ``register`` function that adds its subcommands and
their handler (``set_defaults(handler=...)``); :func:`build_parser` calls them in the order
the help lists the commands, and :func:`main` runs the chosen handler.

Bad input (an unknown scenario, a malformed file, a wrong ``--set``) ends with one line that
names the field and the fix, and exit status 2; never a traceback. :func:`main` is the one
place that turns an :class:`~trafficsim.sim.InputError` into that line.
"""

from __future__ import annotations

import argparse
import gc
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from rich.console import Console
from rich.markup import escape

from trafficsim.runner.cli import (
    emissions,
    feed,
    interop,
    predictor,
    run,
    scenarios,
    serve,
    sweeps,
)
from trafficsim.runner.cli.common import Handler, Subparsers, UsageError
from trafficsim.sim import InputError

__all__ = ["EXIT_USAGE", "UsageError", "build_parser", "main"]

EXIT_USAGE = 2

GROUPS: tuple[Callable[[Subparsers], None], ...] = (
    run.register,  # run
    feed.register,  # watch, record
    emissions.register,  # emissions
    serve.register,  # serve
    sweeps.register,  # compare, report
    predictor.register,  # train, evaluate
    scenarios.register,  # credentials, scenarios
    interop.register,  # import, export
)
"""The command groups, in the order of ``trafficsim --help``."""


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("trafficsim")
    except PackageNotFoundError:
        return "unknown"


class _VersionAction(argparse.Action):
    """``--version``, looked up only when asked: importlib.metadata costs every command
    ~15 ms at start."""

    def __init__(self, option_strings: list[str], dest: str, **kwargs: Any) -> None:
        kwargs.setdefault("help", "show the version and exit")
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: object,
        option_string: str | None = None,
    ) -> None:
        sys.stdout.write(f"trafficsim {_version()}\n")  # stdout, as argparse's own action
        parser.exit()


class OneLineParser(argparse.ArgumentParser):
    """argparse, with its refusals on one line like every other bad input (argparse prints
    the whole usage first): the flag, the problem, and where the help is. Subcommands'
    parsers are of this class too (``add_subparsers`` makes its parsers of its own class)."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}; see '{self.prog} --help'\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="trafficsim",
        description=(
            "Smart-traffic twin of Ho Chi Minh City: simulate signalized road networks with "
            "HCMC's motorcycle-dominated traffic and measure delay, queues and stops."
        ),
        epilog="Run 'trafficsim COMMAND --help' for a command's options.",
    )
    parser.add_argument("--version", action=_VersionAction)
    sub: Subparsers = parser.add_subparsers(
        dest="command", metavar="COMMAND", parser_class=OneLineParser
    )
    for register in GROUPS:
        register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    handler: Handler = args.handler
    try:
        return handler(args)
    except InputError as exc:
        # The message quotes user input and hints such as "[[demand]]": never markup.
        Console(stderr=True).print(
            f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True
        )
        return EXIT_USAGE
    finally:
        # The process ends next: spare the interpreter's last garbage collection its walk
        # over every imported module's objects (about 1 s with scikit-learn loaded, half
        # of what a service stopped by SIGTERM may take). Files are closed by then.
        gc.freeze()
