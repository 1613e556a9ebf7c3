"""Places as people name them: a junction by the streets that meet there, a link by its
street, for reports and maps (a node id such as ``cluster_2364060006_4604903936`` says
nothing to a traffic engineer). Networks without street names keep their ids."""

from __future__ import annotations

from trafficsim.sim.config import Scenario


def node_name(sc: Scenario, node: str) -> str:
    """``Cách Mạng Tháng Tám x Điện Biên Phủ``: the two widest named streets at ``node``
    (lanes of their links there, summed), else the node's id."""
    lanes: dict[str, int] = {}
    for ln in sc.links:
        if ln.name and node in (ln.from_node, ln.to_node):
            lanes[ln.name] = lanes.get(ln.name, 0) + ln.lanes
    streets = sorted(lanes, key=lambda s: (-lanes[s], s))[:2]
    return " x ".join(sorted(streets)) if streets else node


def link_name(sc: Scenario, link: str) -> str:
    """``Điện Biên Phủ (link 327074920_1)``, or the id alone when the street has no name."""
    name = next((ln.name for ln in sc.links if ln.id == link), "")
    return f"{name} (link {link})" if name else link
