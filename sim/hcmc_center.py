"""The built-in ``hcmc-center``: the middle of ``hcmc-d1d3``, the 23 signalized junctions
between Cách Mạng Tháng Tám and Đinh Tiên Hoàng, Lý Tự Trọng and Võ Thị Sáu, cut from the
OpenStreetMap core (© OpenStreetMap contributors, ODbL) by :func:`~trafficsim.sim.subarea.cut`.

It is the quick one: a tenth of the core's links, for a first run, the tests and the
closed loop's demonstrations. Everything but the network's extent is ``hcmc-d1d3``'s: the
same parameters, signal plans and demand model, its zones at the sub-area's cordon (the
streets crossing the box's edge) and in 2 x 2 interior cells. Its demand is not calibrated
on its own: the level per entry lane is the core's (docs/hcmc-d1d3.md says how far its
speeds lie from the observed ones).
"""

from __future__ import annotations

from typing import Any

from trafficsim.sim.core_speed import Box
from trafficsim.sim.hcmc_d1d3 import network, with_demand
from trafficsim.sim.subarea import cut

CENTER_BOX = Box(south=10.776, west=106.685, north=10.792, east=106.700)
"""The sub-area: from Cách Mạng Tháng Tám (west) to Đinh Tiên Hoàng (east), from Lý Tự
Trọng (south) to beyond Võ Thị Sáu (north); 23 of the core's 89 signals."""
INTERIOR_CELLS = 2


def build_hcmc_center(p: dict[str, Any]) -> dict[str, Any]:
    d = network(p, "hcmc-center", "The centre of Districts 1 and 3 of HCMC from OpenStreetMap")
    return with_demand(cut(d, CENTER_BOX, INTERIOR_CELLS), p)
