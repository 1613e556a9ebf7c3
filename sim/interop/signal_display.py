"""What each signal group shows through one cycle of a stored plan, as SUMO phases need it.

A SUMO program is a sequence of intervals in which no display changes. A phase plan
(``[[signals.phases]]``) gives each phase's groups green, then yellow, then all-red; every
other group is red. The cycle is cut wherever a display changes, and consecutive intervals
that show the same are one.
"""

from __future__ import annotations

import enum
from typing import Any


class Display(enum.Enum):
    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"


Interval = tuple[float, dict[str, Display]]


def display_cycle(plan: Any) -> list[Interval]:
    """(duration_s, display of each group that is not red) for one cycle of ``plan``."""
    raw: list[Interval] = []
    stages = getattr(plan, "stages", None)
    if stages:
        for st in stages:
            show = dict.fromkeys(st.green, Display.GREEN)
            show.update(dict.fromkeys(st.yellow, Display.YELLOW))
            raw.append((float(st.duration_s), show))
    else:
        for ph in plan.phases:
            raw.append((ph.green_s, dict.fromkeys(ph.groups, Display.GREEN)))
            raw.append((ph.yellow_s, dict.fromkeys(ph.groups, Display.YELLOW)))
            raw.append((ph.all_red_s, {}))
    out: list[Interval] = []
    for duration, show in raw:
        if duration <= 0:
            continue
        if out and out[-1][1] == show:
            out[-1] = (out[-1][0] + duration, show)
        else:
            out.append((duration, show))
    return out
