"""How the comparison's and the report's numbers read in text: one place for "n/a", the
digits shown and the "value [low, high]" of a confidence interval, so every table and
sentence that quotes a figure spells it the same way."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

Format = Callable[[float | None], str]


def decimals(x: float | None, nd: int = 1) -> str:
    """``nd`` decimals with thousands separated; "n/a" where there is no number."""
    return "n/a" if x is None or not math.isfinite(x) else f"{x:,.{nd}f}"


def significant(x: float | None) -> str:
    """Four significant digits, whole numbers with thousands separated from 1,000 on (the
    comparison table holds delays in seconds and emissions in grams side by side)."""
    if x is None or not math.isfinite(x):
        return "n/a"
    return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.4g}"


def interval(
    value: float | None, ci: Sequence[float | None], fmt: Format = decimals, unit: str = ""
) -> str:
    """``value [low, high]``, e.g. a mean and its 95 % confidence interval."""
    return f"{fmt(value)}{unit} [{fmt(ci[0])}, {fmt(ci[1])}]"


def reduction(red: dict[str, Any], fmt: Format = decimals) -> str:
    """A paired reduction (``pct``, ``ci95_pct``) as ``pct % [low, high]``."""
    return interval(red["pct"], red["ci95_pct"], fmt, " %")
