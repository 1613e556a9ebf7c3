"""Imperfect driving: the speed drivers lose on a free road, and the time it costs.

A vehicle class may say that its drivers cruise, on average, ``dawdle_mps`` below the speed
they could drive (the link's free speed capped by the class's maximum). SUMO's drivers do:
its default car-following model (Krauss) slows each driver at random by up to ``sigma x
accel`` every step, and with SUMO's defaults (sigma 0.5, accel 2.6 m/s², 1 s steps) a car
on a free road averages about 0.6 m/s below its desired speed, at any speed (Krauss 1998;
SUMO documentation, "Car-Following-Models"). SUMO counts that as time loss, so an imported
SUMO network states it (measured by ``sim.interop.saturation``) and the engine counts it as
delay too: the time a link takes at the cruising speed minus the time at the speed it could
be driven. Every built-in class has 0 (no such loss), which leaves every result as it was.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from trafficsim.sim.world import World

MIN_SHARE = 0.5
"""The cruising speed never falls below this share of the speed that could be driven (a
slow link, a 5 km/h lane, is not driven at walking pace minus the dawdling)."""


def cruise_speed_mps(speed_mps: float, dawdle_mps: float) -> float:
    """The mean speed on a free road of a driver who could drive ``speed_mps``."""
    return max(speed_mps - max(dawdle_mps, 0.0), MIN_SHARE * speed_mps)


def lost_share(world: World) -> np.ndarray:
    """Per lane group and class: the share of its link's driving time that is lost to
    dawdling (0 everywhere when no class dawdles)."""
    sc = world.scenario
    specs = {ln.id: ln for ln in sc.links}
    out = np.zeros((len(world.lane_group_info), len(sc.classes)))
    if not any(c.dawdle_mps > 0.0 for c in sc.classes):
        return out
    for i, info in enumerate(world.lane_group_info):
        spec = specs.get(info.link)
        if spec is None:
            continue
        for k, c in enumerate(sc.classes):
            cap = min(spec.free_speed_mps, c.max_speed_mps)
            out[i, k] = 1.0 - cruise_speed_mps(cap, c.dawdle_mps) / cap
    return out


def drive_loss_s(world: World, rec: np.ndarray, on_link: np.ndarray, t_s: float) -> np.ndarray:
    """Per pass record (``World.records``): the time lost to dawdling while driving the
    link up to ``t_s`` (0 for records not on a link)."""
    if not len(rec):
        return np.zeros(0)
    share = lost_share(world)
    if not share.any():
        return np.zeros(len(rec))
    cls = world.veh_class_arr[rec["vid"]]
    driven = np.clip(np.minimum(rec["t_stop_s"], t_s) - rec["t_in_s"], 0.0, None)
    loss: np.ndarray = np.where(on_link, driven * share[rec["lane_group"], cls], 0.0)
    return loss
