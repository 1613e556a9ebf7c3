"""Design flows for fixed-time plans: the traffic counts an engineer times today's plans with.

A TOML file (see docs/controllers.md)::

    pcu_per_veh = 0.41          # optional; PCU per vehicle of the counted traffic
    [flows."*"]                 # every intersection without a table of its own
    NS = 3700                   # veh/h per signal group
    EW = 1850
    [flows.r0c0]
    NS = 3000
    EW = 2000
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from trafficsim.sim import Scenario, ScenarioError, World, read_toml_file


def load_design_flows(path: Path) -> dict[str, Any]:
    """Controller parameters for ``fixed`` from a design-flow file; errors name the field."""
    src = str(path)
    data = read_toml_file(
        path,
        error=ScenarioError,
        not_found="print one for a scenario with 'trafficsim scenarios --show NAME --design-flows'",
    )
    unknown = sorted(set(data) - {"pcu_per_veh", "flows"})
    if unknown:
        raise ScenarioError(src, unknown[0], "unknown field; expected pcu_per_veh and [flows]")
    pcu = data.get("pcu_per_veh", 1.0)
    if isinstance(pcu, bool) or not isinstance(pcu, int | float) or not 0 < pcu <= 5:
        raise ScenarioError(src, "pcu_per_veh", f"expected a number in (0, 5], got {pcu!r}")
    flows = data.get("flows")
    if not isinstance(flows, dict) or not flows:
        raise ScenarioError(src, "flows", 'expected tables such as [flows."*"] NS = 1200')
    out: dict[str, dict[str, float]] = {}
    for node, table in flows.items():
        if not isinstance(table, dict) or not table:
            raise ScenarioError(src, f"flows.{node}", "expected a table of group = veh/h")
        out[node] = {}
        for group, q in table.items():
            ok = isinstance(q, int | float) and not isinstance(q, bool) and math.isfinite(q)
            if not ok or q < 0:
                raise ScenarioError(
                    src, f"flows.{node}.{group}", f"expected flow >= 0 veh/h, got {q!r}"
                )
            out[node][group] = float(q)
    return {"design_flows": out, "pcu_per_veh": float(pcu)}


def counted_design_flows(sc: Scenario, window_s: float = 3600.0) -> dict[str, Any]:
    """Controller parameters for ``fixed``: Webster plans timed on the scenario's own demand in
    its busiest hour, as a traffic count at every approach would give an engineer retiming
    today's plans (a textbook retiming with perfect counts and one plan for the peak).

    Flows propagate from the entries through the turning shares (a linear system: a link
    carries its entry demand plus its share of every link feeding it). A group's design flow
    is its saturation flow times the highest flow ratio of its lane groups, in PCU, so that
    the fixed controller's ratio (group flow / group saturation flow) is Webster's critical
    ratio of the group.

    Routed demand (trips and OD flows) has no turning shares to propagate: where a scenario
    has some, the counts are taken as an engineer takes them, from the traffic itself: one
    run of today's plans (seed 0), the vehicles reaching each stop line in the busiest hour
    (:func:`_counted_in_a_run`)."""
    if sc.trips or sc.ods:
        return _ratios(_counted_in_a_run(sc, window_s))
    links = [ln.id for ln in sc.links]
    index = {lid: i for i, lid in enumerate(links)}
    pcu_of = {c.name: c.pcu for c in sc.classes}
    mix_pcu = {m.name: sum(share * pcu_of[c] for c, share in m.shares) for m in sc.mixes}
    # The network's busiest hour (all entries together), sampled each minute.
    t = np.arange(0.0, sc.duration_s, 60.0)
    entry = np.zeros((len(sc.demands), len(t)))
    for k, d in enumerate(sc.demands):
        starts = np.array([s for s, _ in d.profile])
        flows = np.array([q for _, q in d.profile])
        entry[k] = flows[np.searchsorted(starts, t, side="right") - 1]
    w = max(1, min(len(t), round(window_s / 60.0)))
    totals = np.convolve(entry.sum(axis=0), np.ones(w), mode="valid")
    start = int(np.argmax(totals))
    peak = entry[:, start : start + w].mean(axis=1)
    demand_pcu = np.zeros(len(links))
    for k, d in enumerate(sc.demands):
        demand_pcu[index[d.entry_link]] += peak[k] * mix_pcu[d.mix]
    turn = np.zeros((len(links), len(links)))
    for m in sc.movements:
        turn[index[m.to_link], index[m.from_link]] += m.share or 0.0  # None: routed only
    link_pcu = np.linalg.solve(np.eye(len(links)) - turn, demand_pcu)
    # Lane groups at signals: flow ratio of each.
    specs = {ln.id: ln for ln in sc.links}
    signals = {s.node for s in sc.signals}
    lanes_of: dict[tuple[str, str], int] = {}
    q: dict[tuple[str, str], float] = {}
    for m in sc.movements:
        node = specs[m.from_link].to_node
        if node not in signals or m.signal_group is None:
            continue
        key = (m.from_link, m.signal_group)
        lanes_of.setdefault(key, m.lanes or specs[m.from_link].lanes)
        q[key] = q.get(key, 0.0) + (m.share or 0.0) * float(link_pcu[index[m.from_link]])
    groups: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for (link, group), flow in q.items():
        sat = lanes_of[link, group] * specs[link].sat_flow_pcu_per_h_per_lane
        groups.setdefault((specs[link].to_node, group), []).append((flow, sat))
    return _ratios(groups)


def _ratios(groups: dict[tuple[str, str], list[tuple[float, float]]]) -> dict[str, Any]:
    """Design flows from each signal group's (flow, saturation flow) per lane group."""
    out: dict[str, dict[str, float]] = {}
    for (node, group), rows in sorted(groups.items()):
        ratio = max(f / s for f, s in rows)
        out.setdefault(node, {})[group] = round(ratio * sum(s for _, s in rows), 1)
    return {"design_flows": out, "pcu_per_veh": 1.0}


def _counted_in_a_run(
    sc: Scenario, window_s: float
) -> dict[tuple[str, str], list[tuple[float, float]]]:
    """(flow, saturation flow) in PCU/h of each lane group at a signal, by (node, group):
    the vehicles that reached its stop line in the run's busiest ``window_s`` (counted at
    every signalized stop line together, in minutes), under the scenario's own plans."""
    world = World(sc, 0)
    world.run()
    rec = world.records()
    info = world.lane_group_info
    signals = {s.node for s in sc.signals}
    at_signal = np.array([i.node in signals and i.group is not None for i in info], dtype=bool)
    t = rec["t_stop_s"]
    sel = at_signal[rec["lane_group"]] & np.isfinite(t) if len(rec) else np.zeros(0, dtype=bool)
    pcu = np.asarray(world.veh_pcu)[rec["vid"][sel]] if sel.any() else np.zeros(0)
    lg, t = rec["lane_group"][sel], t[sel]
    minutes = max(1, math.ceil(sc.duration_s / 60.0))
    per_min = np.bincount(np.minimum((t // 60.0).astype(np.int64), minutes - 1),
                          weights=pcu, minlength=minutes)  # fmt: skip
    w = max(1, min(minutes, round(window_s / 60.0)))
    start = int(np.argmax(np.convolve(per_min, np.ones(w), mode="valid")))
    inside = (t >= start * 60.0) & (t < (start + w) * 60.0)
    flow = np.bincount(lg[inside], weights=pcu[inside], minlength=len(info)) * 3600.0 / (w * 60.0)
    groups: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for i in info:
        if at_signal[i.index] and i.group is not None:
            groups.setdefault((i.node, i.group), []).append(
                (float(flow[i.index]), i.sat_flow_pcu_per_h)
            )
    return groups
