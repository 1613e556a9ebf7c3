"""The checks of the Python API's arguments, each error naming the argument.

Kept apart from :mod:`trafficsim.runner.api` so that what a run does and what it accepts
each have a room of their own.
"""

from __future__ import annotations

import math

from trafficsim.models.optimizer import ControllerName
from trafficsim.sim import InputError

MAX_SEEDS = 1000
"""Most seeds of one comparison: confidence intervals are narrow long before (a seed is a
run per controller), and a count such as 10^11 exhausted memory listing them."""

MIN_SPEED = 0.01
"""Slowest pace of a run, in simulated seconds per wall second: at 1/100 of real time one
simulated minute already takes 1 h 40 min; a slower pace is a typo, and 1e-300 would never end."""


class ArgumentError(InputError):
    """An argument of the API that cannot be used; ``source`` is the argument's name."""

    def __init__(self, argument: str, problem: str) -> None:
        super().__init__(argument, "", problem)


def check_seed(seed: int) -> None:
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ArgumentError("seed", f"expected a non-negative integer, got {seed}")


def finite(x: object) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def shown(x: object) -> str:
    """A number as the command line shows it (``0``, ``-1.5``), anything else as Python."""
    return f"{x:g}" if isinstance(x, int | float) and not isinstance(x, bool) else repr(x)


def check_step(step_s: float) -> None:
    if not (finite(step_s) and step_s > 0):
        raise ArgumentError("step_s", "expected a positive number of seconds")


def controller_name(name: ControllerName | str) -> ControllerName:
    try:
        return ControllerName(name)
    except ValueError:
        known = ", ".join(c.value for c in ControllerName)
        raise ArgumentError(
            "controller", f"unknown controller {name!r}; choose from {known}"
        ) from None


def check_speed(speed: float | None) -> None:
    """A pace the run can keep (None: as fast as it can)."""
    if speed is not None and not (finite(speed) and speed >= MIN_SPEED):
        raise ArgumentError(
            "speed",
            f"expected at least {MIN_SPEED:g} simulated seconds per wall second, "
            f"got {shown(speed)}",
        )
