"""What several commands share: their common options, the checks of those options, and
the one progress bar.

Every check raises :class:`UsageError` naming the flag, so that ``main`` prints one line and
exits 2. Heavy modules are imported inside the helpers: ``trafficsim --help`` stays fast.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, TypeAlias

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from trafficsim.models.optimizer import ControllerName
from trafficsim.sensors.mqtt.topics import Topics
from trafficsim.sim import InputError, Scenario, load_scenario, parse_overrides

if TYPE_CHECKING:
    from trafficsim.sensors.mqtt.transport import BrokerConfig

Handler = Callable[[argparse.Namespace], int]
"""What a command runs: the parsed options in, the exit status out."""

BrokerHook = Callable[[str, str], None]
"""Told the broker's URL and what it is, once a run has one."""

Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
"""What ``ArgumentParser.add_subparsers`` returns, where each group adds its commands."""

CONTROLLER_NAMES = tuple(c.value for c in ControllerName)
"""The signal controllers a command line can name, in the order the help lists them."""

SIMULATED = "{task.completed:>7.0f} / {task.total:.0f} s simulated"
"""Progress counter of one simulation."""

RUNS = "{task.completed}/{task.total} runs"
"""Progress counter of a sweep."""


class UsageError(InputError):
    """A command-line option that cannot be used: the flag is the source, no field.

    Its own type, not the world's ``ScenarioError``: the flag is wrong, not a scenario.
    """

    def __init__(self, flag: str, problem: str) -> None:
        super().__init__(flag, "", problem)


def add_broker_args(p: argparse.ArgumentParser) -> None:
    """Where a client of a running broker connects: ``--broker``, ``--ca-certs``, the root."""
    p.add_argument(
        "--broker",
        default="mqtt://127.0.0.1:1883",
        metavar="URL",
        help="mqtt://[user:pass@]host:port or mqtts://... (default mqtt://127.0.0.1:1883)",
    )
    p.add_argument("--ca-certs", metavar="FILE", help="CA bundle for mqtts:// brokers")
    add_topic_root(p)


def add_topic_root(p: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    p.add_argument(
        "--topic-root", default="hcmc", metavar="ROOT", help="root of the topic tree (default hcmc)"
    )


def add_dask_args(p: argparse.ArgumentParser) -> None:
    """Where a sweep runs: local worker processes or a dask.distributed scheduler."""
    where = p.add_mutually_exclusive_group()
    where.add_argument(
        "--workers", type=int, default=2, metavar="K", help="local worker processes (default 2)"
    )
    where.add_argument(
        "--scheduler", metavar="tcp://HOST:PORT", help="a dask.distributed scheduler to use"
    )


def add_overrides(p: argparse.ArgumentParser, help_text: str | None = None) -> None:
    """``--set KEY=VALUE``, repeatable, collected into ``args.overrides``."""
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help=help_text,
    )


def add_scenario(p: argparse.ArgumentParser, help_text: str | None = None) -> None:
    """A required ``--scenario NAME|PATH``."""
    p.add_argument("--scenario", required=True, metavar="NAME|PATH", help=help_text)


def add_stop_after(p: argparse.ArgumentParser) -> None:
    """``--duration S`` of a command that runs until stopped."""
    p.add_argument("--duration", type=float, metavar="S", help="stop after S seconds")


def scenario_from_args(args: argparse.Namespace) -> Scenario:
    """The scenario of ``--scenario`` with ``--set`` and ``--duration`` applied."""
    overrides = parse_overrides(args.overrides)
    if args.duration is not None:
        if not args.duration > 0:
            raise UsageError(
                "--duration", f"expected a positive number of seconds, got {args.duration:g}"
            )
        overrides["duration_s"] = args.duration
    return load_scenario(args.scenario, overrides)


def output_dir(text: str, flag: str = "--out") -> Path:
    """The directory of ``--out``, checked before any work so that a run never ends in a
    traceback at its end, having written nothing or half its files.

    Refused: an empty name (it used to write into the current directory), an existing file,
    and a place where no directory can be made (``/proc/x``, a read-only disk): the check
    makes and removes a temporary directory where the output will go, so it tests the
    real permissions, not a guess at them. Nothing is left behind.
    """
    if not text.strip():
        raise UsageError(flag, "empty; name the directory for the output, e.g. --out out")
    path = Path(text)
    if path.exists() and not path.is_dir():
        raise UsageError(flag, f"{path} exists and is not a directory; name a directory")
    parent = path
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise UsageError(flag, f"{parent} is not a directory, so {path} cannot be made in it")
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".trafficsim-check-", dir=parent))
    except OSError as exc:
        raise UsageError(flag, f"cannot create {path}: {exc.strerror}") from None
    return path


def check_ca_certs(path: str | None) -> None:
    """Refuse a ``--ca-certs`` that is not a readable file (``None``: not given, fine)."""
    if path is None:
        return
    p = Path(path)
    if not p.is_file():
        what = "a directory" if p.is_dir() else "not found"
        raise UsageError("--ca-certs", f"{p}: {what}; give the CA certificate file (PEM)")
    if not os.access(p, os.R_OK):
        raise UsageError("--ca-certs", f"{p}: cannot be read; check its permissions")


def require_finite(flag: str, value: float, *, minimum: float, what: str) -> None:
    """Refuse NaN, infinity and numbers at or below ``minimum``."""
    if not (math.isfinite(value) and value > minimum):
        raise UsageError(flag, f"expected {what} greater than {minimum:g}, got {value:g}")


def require_seed(flag: str, value: int) -> None:
    """Refuse a seed numpy cannot take (negative, or beyond 2^32 - 1 for scikit-learn)."""
    if not 0 <= value < 2**32:
        raise UsageError(flag, f"expected an integer from 0 to 4294967295, got {value}")


def require_positive_seconds(flag: str, value: float | None) -> None:
    """Refuse a zero, negative or NaN number of seconds (``None``: not given, fine)."""
    if value is not None and not value > 0:
        raise UsageError(flag, "expected a positive number of seconds")


def sweep_seeds(args: argparse.Namespace) -> list[int]:
    """Seeds 0..N-1 of a comparison, and its worker count checked."""
    from trafficsim.runner.api import max_workers
    from trafficsim.runner.api_arguments import MAX_SEEDS

    if args.seeds < 2:
        raise UsageError("--seeds", "a confidence interval needs at least 2 seeds")
    if args.seeds > MAX_SEEDS:
        raise UsageError("--seeds", f"expected at most {MAX_SEEDS:,} seeds, got {args.seeds:,}")
    if args.workers < 1:
        raise UsageError("--workers", "expected at least 1 worker process")
    if args.workers > max_workers():
        raise UsageError(
            "--workers", f"expected at most {max_workers()} (four per core), got {args.workers}"
        )
    return list(range(args.seeds))


def check_model(path: Path, flag: str = "--predictor") -> None:
    """Refuse an unusable predictor model before anything starts."""
    from trafficsim.models.persistence import ModelError, load_models

    try:
        load_models(path)
    except ModelError as exc:
        raise UsageError(flag, str(exc)) from None


def controller_params(controller: str, design_flows: Path | None) -> dict[str, Any]:
    """Controller parameters from ``--design-flows`` (which only time ``fixed``)."""
    if design_flows is None:
        return {}
    if controller != "fixed":
        raise UsageError("--design-flows", "design flows time the fixed controller")
    from trafficsim.runner.design_flows import load_design_flows

    return load_design_flows(design_flows)


def client_passwords(path: Path, clients: list[str]) -> dict[str, str]:
    """The passwords of ``clients`` from a clients.toml; names the first one missing."""
    from trafficsim.runner.credentials_file import load_credentials

    try:
        table = load_credentials(path)
    except ValueError as exc:
        raise UsageError("--credentials", str(exc)) from None
    missing = [c for c in clients if c not in table]
    if missing:
        more = f" and {len(missing) - 1} more clients" if len(missing) > 1 else ""
        raise UsageError(
            "--credentials",
            f"{path} has no password for {missing[0]}{more}; "
            "create it for this scenario with 'trafficsim credentials'",
        )
    return table


def topics_from_args(args: argparse.Namespace) -> Topics:
    """The topic tree under ``--topic-root``, the root checked."""
    try:
        return Topics(args.topic_root)
    except ValueError as exc:
        raise UsageError("--topic-root", str(exc)) from None


def broker_config(args: argparse.Namespace) -> BrokerConfig:
    """The broker of ``--broker`` and ``--ca-certs``, its URL checked."""
    from trafficsim.sensors.mqtt.transport import BrokerConfig

    check_ca_certs(args.ca_certs)
    try:
        return BrokerConfig.from_url(args.broker, ca_certs=args.ca_certs)
    except ValueError as exc:
        raise UsageError("--broker", str(exc)) from None


API_FLAGS = MappingProxyType(
    {
        "seed": "--seed",
        "seeds": "--seeds",
        "duration_s": "--duration",
        "controller": "--controller",
        "step_s": "--control-step",
        "predictor": "--predictor",
        "design_flows": "--design-flows",
        "fleet": "--fleet",
        "workers": "--workers",
        "mqtt.url": "--broker",
        "speed": "--speed",
        "mqtt.qos": "--qos",
        "mqtt.embedded": "--embedded-broker",
        "mqtt.deadline_s": "--deadline",
        "mqtt.topic_root": "--topic-root",
        "mqtt.ca_certs": "--ca-certs",
        "mqtt": "--external-optimizer",
    }
)
"""The flag of each argument of the Python API (its errors name the argument)."""


@contextmanager
def api_errors() -> Iterator[None]:
    """The Python API's errors as the flags' errors: the command line is a layer over it."""
    from trafficsim.runner.api_arguments import ArgumentError
    from trafficsim.sensors.mqtt.transport import BrokerUnavailableError

    try:
        yield
    except ArgumentError as exc:
        raise UsageError(API_FLAGS.get(exc.source, exc.source), exc.problem) from None
    except BrokerUnavailableError as exc:
        raise UsageError("--broker", f"{exc}. Is the broker running and the URL right?") from None
    except ValueError as exc:
        if not _is_model_error(exc):
            raise
        raise UsageError("--predictor", str(exc)) from None


def _is_model_error(exc: ValueError) -> bool:
    """Whether ``exc`` is a predictor model's :class:`~trafficsim.models.persistence.ModelError`.
    Only a run that loaded a model raises one, and loading imported that module; importing it
    here (scikit-learn and skops) cost every ``trafficsim run`` about a second at start."""
    persistence = sys.modules.get("trafficsim.models.persistence")
    return persistence is not None and isinstance(exc, persistence.ModelError)


@contextmanager
def broker_reachable() -> Iterator[None]:
    """Turn a broker that does not answer into a ``--broker`` error."""
    from trafficsim.sensors.mqtt.transport import BrokerUnavailableError

    try:
        yield
    except BrokerUnavailableError as exc:
        raise UsageError("--broker", f"{exc}. Is the broker running?") from None


def progress_bar(console: Console, counter: str | None = None) -> Progress:
    """The one progress bar of every long command: description, bar, counter, elapsed.

    Off when the console is not a terminal: there it would draw nothing but still end with
    a blank line, which lands in front of a refusal or in a user's piped output."""
    columns = [TextColumn("[bold]{task.description}"), BarColumn()]
    if counter is not None:
        columns.append(TextColumn(counter))
    return Progress(
        *columns,
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    )
