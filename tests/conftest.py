"""Shared helpers: where the installed command line lives, and small scenario files."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def trafficsim_exe() -> str:
    """The ``trafficsim`` console script of the environment running the tests."""
    candidate = Path(sys.executable).with_name("trafficsim")
    if candidate.exists():
        return str(candidate)
    found = shutil.which("trafficsim")
    if found is None:
        pytest.fail("the trafficsim command is not installed: pip install '.[dev]' first")
    return found


CORRIDOR_TOML = """
[scenario]
name = "corridor"
duration_s = {duration_s}

[link_defaults]
speed_kmh = 50
sat_flow_pcu_per_h_per_lane = 1800

[[nodes]]
id = "A"
kind = "boundary"
[[nodes]]
id = "J1"
kind = "signal"
[[nodes]]
id = "J2"
kind = "signal"
[[nodes]]
id = "B"
kind = "boundary"

[[links]]
id = "A-J1"
from = "A"
to = "J1"
length_m = 300
lanes = 1
[[links]]
id = "J1-J2"
from = "J1"
to = "J2"
length_m = {middle_length_m}
lanes = 1
[[links]]
id = "J2-B"
from = "J2"
to = "B"
length_m = 300
lanes = 1

[[movements]]
from = "A-J1"
to = "J1-J2"
share = 1.0
group = "main"
[[movements]]
from = "J1-J2"
to = "J2-B"
share = 1.0
group = "main"

[[signals]]
node = "J1"
[[signals.phases]]
groups = ["main"]
green_s = 40
yellow_s = 3
all_red_s = 17

[[signals]]
node = "J2"
offset_s = 20
[[signals.phases]]
groups = ["main"]
green_s = {j2_green_s}
yellow_s = 3
all_red_s = {j2_red_s}

[[demand]]
link = "A-J1"
flow_veh_per_h = {flow}
mix = "cars"
"""


@pytest.fixture
def corridor() -> object:
    """Factory for the corridor scenario file (see :func:`corridor_file`)."""
    return corridor_file


def corridor_file(
    tmp: Path,
    *,
    middle_length_m: float = 60.0,
    j2_green_s: float = 10.0,
    flow: float = 900.0,
    duration_s: float = 3600.0,
) -> Path:
    """Two signals in a row on a one-lane road; J2's short green makes a bottleneck."""
    path = tmp / "corridor.toml"
    path.write_text(
        CORRIDOR_TOML.format(
            middle_length_m=middle_length_m,
            j2_green_s=j2_green_s,
            j2_red_s=60.0 - 3.0 - j2_green_s,
            flow=flow,
            duration_s=duration_s,
        ),
        encoding="utf-8",
    )
    return path
