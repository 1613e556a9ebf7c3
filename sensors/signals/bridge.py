"""The cabinets of a run, between the message bus and the simulated signal heads.

The bridge is field equipment: it reads commands off ``{root}/signal/{node}/plan``, answers
each on ``.../ack`` (accepted, or rejected with the reason), drives the world's signal heads
with what its cabinets decide, and reports every display change on ``.../state``. Its
retained ``{root}/meta/signals/{node}`` tells a controller what it may ask for: groups with
their approaches and exits, the phase table, the intergreens and the limits.
"""

from __future__ import annotations

from typing import Any

from trafficsim.sensors.mqtt.topics import Topics
from trafficsim.sensors.signals.cabinet import Cabinet, DisplayChange
from trafficsim.sensors.signals.config import CabinetLimits, IntersectionConfig, PhaseSpec
from trafficsim.sim import SignalChange, World

Outbox = list[tuple[str, str, dict[str, Any]]]
"""Messages to publish: (client id, topic, payload)."""


def bridge_client(node: str) -> str:
    """Each cabinet talks to the broker as itself, under its intersection id, so that the
    broker's ACL can hold it to its own topics (``pattern write hcmc/signal/%u/state``)."""
    return node


class SignalBridge:
    def __init__(
        self, world: World, *, limits: CabinetLimits | None = None, topics: Topics | None = None
    ) -> None:
        if not world.external_signals:
            raise ValueError("the bridge drives signals: build the world with external_signals")
        self.world = world
        self.topics = topics or Topics()
        self.cabinets: dict[str, Cabinet] = {}
        for node, head in sorted(world.heads.items()):
            phases = tuple(
                PhaseSpec(frozenset(p.groups), p.green_s, p.yellow_s, p.all_red_s)
                for p in head.plan.phases
            )
            cfg = IntersectionConfig.from_stored(node, phases, head.plan.offset_s, limits)
            self.cabinets[node] = Cabinet(cfg)
        self._plan_topic = {self.topics.signal(n, "plan"): n for n in self.cabinets}
        self.commands_seen = 0
        self._display: dict[str, dict[str, str]] = {}

    @property
    def plan_filter(self) -> str:
        return f"{self.topics.root}/signal/+/plan"

    def meta_messages(self) -> Outbox:
        """Retained description of every cabinet (publish once, before the first step)."""
        w = self.world
        sc = w.scenario
        pcu = {c.name: c.pcu for c in sc.classes}
        out: Outbox = []
        for node, cab in self.cabinets.items():
            cfg = cab.cfg
            groups: dict[str, dict[str, Any]] = {}
            for info in w.lane_group_info:
                if info.node != node or info.kind != "approach" or info.group is None:
                    continue
                g = groups.setdefault(
                    info.group,
                    {"approaches": [], "laneGroups": [], "exits": [], "satFlowPcuPerHour": 0.0},
                )
                g["approaches"].append(info.link)
                g["laneGroups"].append(info.id)
                g["satFlowPcuPerHour"] += info.sat_flow_pcu_per_h
            for m in sc.movements:
                if m.signal_group in groups and m.from_link in groups[m.signal_group]["approaches"]:
                    exits = groups[m.signal_group]["exits"]
                    if m.to_link not in exits:
                        exits.append(m.to_link)
            lim = cfg.limits
            payload = {
                "intersection": node,
                "scenario": sc.name,
                "groups": groups,
                "phases": [sorted(p.groups) for p in cfg.stored],
                "storedPlan": {
                    "offsetSeconds": cfg.stored_offset_s,
                    "phases": [_phase_json(p) for p in cfg.stored],
                },
                "minGreenSeconds": lim.min_green_s,
                "maxGreenSeconds": lim.max_green_s,
                "maxCycleSeconds": lim.max_cycle_s,
                "minYellowSeconds": cfg.min_yellow_s,
                "minAllRedSeconds": cfg.min_all_red_s,
                "fallbackSeconds": lim.fallback_s,
                "startupLostSeconds": sc.timing.startup_lost_s,
                "yellowEndUseSeconds": sc.timing.yellow_end_use_s,
                "pcuEquivalents": pcu,
            }
            out.append((bridge_client(node), self.topics.signal_meta(node), payload))
        return out

    def handle(self, topic: str, payload: object, now_s: float) -> Outbox:
        """One command from the bus; returns the acknowledgement to publish."""
        node = self._plan_topic.get(topic)
        if node is None:
            return []
        self.commands_seen += 1
        ok, reason = self.cabinets[node].receive(payload, now_s)
        plan_id = payload.get("planId") if isinstance(payload, dict) else None
        ack = {
            "intersection": node,
            "planId": plan_id if isinstance(plan_id, str) else None,
            "accepted": ok,
            "reason": reason,
            "simTimeSeconds": round(now_s, 3),
        }
        return [(bridge_client(node), self.topics.signal(node, "ack"), ack)]

    def step(self, t0: float, t1: float) -> Outbox:
        """Run every cabinet over ``[t0, t1)``, show the result in the world, and return the
        state messages of the display changes in the step."""
        out: Outbox = []
        for node, cab in self.cabinets.items():
            changes = cab.advance(t0, t1)
            self.world.drive_signal(
                node, [SignalChange(c.t_s, c.group, c.state) for c in changes], t1
            )
            out.extend(self._states(node, cab, changes))
        return out

    def _states(self, node: str, cab: Cabinet, changes: list[DisplayChange]) -> Outbox:
        """One state message per instant at which the display changed."""
        display = self._display.setdefault(node, dict.fromkeys(cab.cfg.groups, "red"))
        out: Outbox = []
        for i, c in enumerate(changes):
            display[c.group] = c.state
            if i + 1 < len(changes) and changes[i + 1].t_s == c.t_s:
                continue
            green = frozenset(g for g, s in display.items() if s == "green")
            out.append(
                (
                    bridge_client(node),
                    self.topics.signal(node, "state"),
                    {
                        "intersection": node,
                        "simTimeSeconds": round(max(c.t_s, 0.0), 3),
                        "groups": dict(sorted(display.items())),
                        "phase": cab.cfg.table_index(green) if green else None,
                        "mode": cab.mode,
                        "planId": cab.plan_id,
                    },
                )
            )
        return out


def _phase_json(p: PhaseSpec) -> dict[str, Any]:
    return {
        "groups": sorted(p.groups),
        "greenSeconds": p.green_s,
        "yellowSeconds": p.yellow_s,
        "allRedSeconds": p.all_red_s,
    }
