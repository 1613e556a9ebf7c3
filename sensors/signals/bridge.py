"""The cabinets of a run, between the message bus and the simulated signal heads.

The bridge is field equipment: it reads commands off ``{root}/signal/{node}/plan``, answers
each on ``.../ack`` (accepted, or rejected with the reason), drives the world's signal heads
with what its cabinets decide, and reports every display change on ``.../state``. Its
retained ``{root}/meta/signals/{node}`` tells a controller what it may ask for: groups with
their approaches and exits, the phase table, the stored plan (in phases or in stages), the
intergreens and the limits. A node whose plan is in stages gets a
:class:`~trafficsim.sensors.signals.group_cabinet.GroupCabinet`, the others a phase
:class:`~trafficsim.sensors.signals.cabinet.Cabinet`. Its retained
``.../status`` says who controls the cabinet: the centre, or its stored plan after the
centre went quiet (the fallback alarm).
"""

from __future__ import annotations

from typing import Any

from trafficsim.sensors.mqtt.messages import (
    Ack,
    CabinetStatus,
    Display,
    GroupMeta,
    PhaseTiming,
    SignalMeta,
    SignalState,
    StageTiming,
)
from trafficsim.sensors.mqtt.topics import Topics
from trafficsim.sensors.signals.cabinet import Cabinet, DisplayChange
from trafficsim.sensors.signals.config import CabinetLimits, IntersectionConfig
from trafficsim.sensors.signals.group_cabinet import GroupCabinet
from trafficsim.sim import LaneGroupKind, SignalChange, SignalDisplay, World

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
        self.cabinets: dict[str, Cabinet | GroupCabinet] = {}
        conflicts = {s.node: s.conflicts for s in world.scenario.signals}
        for node, head in sorted(world.heads.items()):
            plan, stated = head.plan, conflicts.get(node)
            if plan.stages:
                stages = tuple(StageTiming.of(s.duration_s, s.green, s.yellow) for s in plan.stages)
                cfg = IntersectionConfig.from_stored_stages(
                    node, stages, plan.offset_s, limits, stated
                )
                self.cabinets[node] = GroupCabinet(cfg)
                continue
            phases = tuple(
                PhaseTiming.of(p.groups, p.green_s, p.yellow_s, p.all_red_s) for p in plan.phases
            )
            cfg = IntersectionConfig.from_stored(node, phases, plan.offset_s, limits, stated)
            self.cabinets[node] = Cabinet(cfg)
        self._plan_topic = {self.topics.signal(n, "plan"): n for n in self.cabinets}
        self.commands_seen = 0
        self._display: dict[str, dict[str, Display]] = {}
        self._reported: dict[str, int] = dict.fromkeys(self.cabinets, 0)

    def meta_messages(self) -> Outbox:
        """Description of every cabinet: publish it retained, before the first step, so
        that a controller that (re)starts at any time finds it on the broker."""
        return [
            (
                bridge_client(node),
                self.topics.signal_meta(node),
                self.signal_meta(node).to_payload(),
            )
            for node in self.cabinets
        ]

    def signal_meta(self, node: str) -> SignalMeta:
        """What the cabinet at ``node`` accepts: its groups, phase table and limits."""
        w = self.world
        sc = w.scenario
        cfg = self.cabinets[node].cfg
        lane_groups = [
            info
            for info in w.lane_group_info
            if info.node == node and info.kind is LaneGroupKind.APPROACH and info.group is not None
        ]
        groups: dict[str, GroupMeta] = {}
        for name in dict.fromkeys(str(info.group) for info in lane_groups):
            own = [info for info in lane_groups if info.group == name]
            approaches = tuple(info.link for info in own)
            exits = tuple(
                dict.fromkeys(
                    m.to_link
                    for m in sc.movements
                    if m.signal_group == name and m.from_link in approaches
                )
            )
            sat = 0.0
            for info in own:
                sat += info.sat_flow_pcu_per_h
            groups[name] = GroupMeta(approaches, tuple(info.id for info in own), exits, sat)
        lim = cfg.limits
        return SignalMeta(
            intersection=node,
            scenario=sc.name,
            groups=groups,
            phases=tuple(tuple(sorted(p)) for p in cfg.phase_table),
            stored_offset_s=cfg.stored_offset_s,
            stored_phases=cfg.stored,
            min_green_s=lim.min_green_s,
            max_green_s=lim.max_green_s,
            max_cycle_s=lim.max_cycle_s,
            min_yellow_s=cfg.min_yellow_s,
            min_all_red_s=cfg.min_all_red_s,
            fallback_s=cfg.backup_s,
            startup_lost_s=sc.timing.startup_lost_s,
            yellow_end_use_s=sc.timing.yellow_end_use_s,
            pcu={c.name: c.pcu for c in sc.classes},
            max_yellow_s=cfg.max_yellow_s,
            max_all_red_s=cfg.max_all_red_s,
            max_red_s=cfg.max_red_s,
            stored_stages=cfg.stored_stages,
        )

    def status_messages(self) -> Outbox:
        """The cabinets' changes of mode not yet reported, for their retained ``status``
        topics (the first call also gives every cabinet's initial status)."""
        out: Outbox = []
        for node, cab in self.cabinets.items():
            done = self._reported[node]
            for change in cab.history[done:]:
                status = CabinetStatus(
                    node, change.t_s, change.mode, change.last_command_s, cab.backup_s
                )
                out.append(
                    (bridge_client(node), self.topics.signal(node, "status"), status.to_payload())
                )
            self._reported[node] = len(cab.history)
        return out

    def handle(self, topic: str, payload: object, now_s: float) -> Outbox:
        """One command from the bus; returns the acknowledgement to publish."""
        node = self._plan_topic.get(topic)
        if node is None:
            return []
        self.commands_seen += 1
        ok, reason = self.cabinets[node].receive(payload, now_s)
        plan_id = payload.get("planId") if isinstance(payload, dict) else None
        ack = Ack(node, plan_id if isinstance(plan_id, str) else None, ok, reason, now_s)
        return [(bridge_client(node), self.topics.signal(node, "ack"), ack.to_payload())]

    def step(self, t0: float, t1: float) -> Outbox:
        """Run every cabinet over ``[t0, t1)``, show the result in the world, and return the
        state messages of the display changes in the step."""
        out: Outbox = []
        for node, cab in self.cabinets.items():
            changes = cab.advance(t0, t1)
            self.world.drive_signal(
                node,
                [SignalChange(c.t_s, c.group, SignalDisplay(c.state.value)) for c in changes],
                t1,
            )
            out.extend(self._states(node, cab, changes))
        return out

    def _states(
        self, node: str, cab: Cabinet | GroupCabinet, changes: list[DisplayChange]
    ) -> Outbox:
        """One state message per instant at which the display changed."""
        display = self._display.setdefault(node, dict.fromkeys(cab.cfg.groups, Display.RED))
        topic = self.topics.signal(node, "state")
        out: Outbox = []
        for i, c in enumerate(changes):
            display[c.group] = c.state
            if i + 1 < len(changes) and changes[i + 1].t_s == c.t_s:
                continue
            green = frozenset(g for g, s in display.items() if s is Display.GREEN)
            state = SignalState(
                node,
                c.t_s,
                dict(display),
                cab.cfg.table_index(green) if green else None,
                cab.mode,
                cab.plan_id,
            )
            out.append((bridge_client(node), topic, state.to_payload()))
        return out
