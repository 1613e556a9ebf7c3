"""Small routed networks for the demand tests, written as scenario files.

``two_paths``: from the entry O_A, a direct road A_B and a detour A_M + M_B both lead to B
and on to the exit B_D; no node is signalized unless asked, and no movement has a share
(only routed vehicles drive here).
"""

from __future__ import annotations

from pathlib import Path

TWO_PATHS = """
[scenario]
name = "two-paths"
duration_s = {duration_s}
{head}

[link_defaults]
lanes = 1
speed_kmh = 36
sat_flow_pcu_per_h_per_lane = 1800

[[nodes]]
id = "O"
kind = "boundary"
[[nodes]]
id = "A"
kind = "uncontrolled"
[[nodes]]
id = "M"
kind = "uncontrolled"
[[nodes]]
id = "B"
kind = "{b_kind}"
[[nodes]]
id = "D"
kind = "boundary"

[[links]]
id = "O_A"
from = "O"
to = "A"
length_m = 200
[[links]]
id = "A_B"
from = "A"
to = "B"
length_m = {direct_m}
[[links]]
id = "A_M"
from = "A"
to = "M"
length_m = 200
[[links]]
id = "M_B"
from = "M"
to = "B"
length_m = 200
[[links]]
id = "B_D"
from = "B"
to = "D"
length_m = 200

[[movements]]
from = "O_A"
to = "A_B"
[[movements]]
from = "O_A"
to = "A_M"
[[movements]]
from = "A_M"
to = "M_B"
[[movements]]
from = "A_B"
to = "B_D"
{group_direct}
[[movements]]
from = "M_B"
to = "B_D"
{group_detour}
{signals}
{demand}
"""

B_SIGNAL = """
[[signals]]
node = "B"
offset_s = {offset_s}
[[signals.phases]]
groups = ["direct"]
green_s = {green_s}
yellow_s = 3
all_red_s = {red_s}
[[signals.phases]]
groups = ["detour"]
green_s = 30
yellow_s = 3
all_red_s = 0
"""


def two_paths(
    tmp: Path,
    demand: str,
    *,
    direct_m: float = 500.0,
    duration_s: float = 600.0,
    head: str = "",
    signal: bool = False,
    offset_s: float = 0.0,
    green_s: float = 30.0,
    red_s: float = 0.0,
    name: str = "two_paths.toml",
) -> Path:
    """The two-path scenario with ``demand`` (TOML tables) appended; with ``signal``, B is
    a two-phase signal (the direct road's group first, then the detour's)."""
    path = tmp / name
    path.write_text(
        TWO_PATHS.format(
            duration_s=duration_s,
            head=head,
            direct_m=direct_m,
            b_kind="signal" if signal else "uncontrolled",
            group_direct='group = "direct"' if signal else "",
            group_detour='group = "detour"' if signal else "",
            signals=B_SIGNAL.format(offset_s=offset_s, green_s=green_s, red_s=red_s)
            if signal
            else "",
            demand=demand,
        ),
        encoding="utf-8",
    )
    return path


def trip(depart_s: float, cls: str = "car", **fields: object) -> str:
    """One ``[[trips]]`` table."""
    lines = ["[[trips]]", f"depart_s = {depart_s}", f'class = "{cls}"']
    for key, value in fields.items():
        if isinstance(value, list):
            items = ", ".join(f'"{x}"' for x in value)
            lines.append(f"{key.rstrip('_')} = [{items}]")
        else:
            lines.append(f'{key.rstrip("_")} = "{value}"')
    return "\n".join(lines) + "\n"
