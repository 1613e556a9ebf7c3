"""What the simulator announces about the world it runs: the retained scenario metadata.

A subscriber draws the network from it (node positions in WGS84, links with lengths and
lanes) without knowing the scenario file."""

from __future__ import annotations

from trafficsim.sensors.mqtt.messages import LinkMeta, NodeMeta, ScenarioMeta
from trafficsim.sim import World, lon_lat


def scenario_meta(world: World) -> ScenarioMeta:
    sc = world.scenario
    return ScenarioMeta(
        scenario=sc.name,
        seed=world.seed,
        start_time=sc.start_time.isoformat(),
        duration_s=sc.duration_s,
        nodes=tuple(
            NodeMeta(n.id, n.kind.value, lon_lat(sc.origin_lat, sc.origin_lon, n.x_m, n.y_m))
            for n in sc.nodes
        ),
        links=tuple(
            LinkMeta(ln.id, ln.from_node, ln.to_node, ln.length_m, ln.lanes) for ln in sc.links
        ),
    )
