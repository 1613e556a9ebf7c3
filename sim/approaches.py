"""The lane groups of each approach, built from its movements, and the streams that
yielding movements watch.

Integer form (``lanes = 2`` or no ``lanes``): one lane group per (link, signal group), as
the engine always built them, so scenarios written that way give exactly the results they
gave before. Index form (``lanes = [0, 1]``): the link's lanes are grouped by the set of
movements that may use them; each distinct set is one lane group (its lanes pooled, since
they serve the same movements), shared by movements of different signal groups when the
set holds several, and a movement allowed on several sets lets its vehicles choose
(``sim.lanes``). A lane group needs the general :class:`~trafficsim.sim.lanes.MixedLaneGroup`
when it is shared by groups, holds a movement that gives way, or holds one that others
yield to (its departures are their conflicting passages); otherwise it stays the plain
:class:`~trafficsim.sim.queues.LaneGroup`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from trafficsim.sim.config import LinkSpec, MovementSpec, NodeKind, NodeSpec, OnRed
from trafficsim.sim.gaps import ConflictStream
from trafficsim.sim.lane_rules import MovementRule
from trafficsim.sim.lanes import MixedLaneGroup
from trafficsim.sim.queues import LaneGroup
from trafficsim.sim.storage import Storage

if TYPE_CHECKING:
    from trafficsim.sim.network import LinkState
    from trafficsim.sim.world import LaneGroupKind, World

Streams = dict[tuple[str, str], ConflictStream]


def conflict_streams(movements: tuple[MovementSpec, ...]) -> Streams:
    """One stream per movement that some movement yields to."""
    out: Streams = {}
    for m in movements:
        for key in m.yield_to:
            if key not in out:
                out[key] = ConflictStream(key)
    return out


def build_approach(
    world: World,
    state: LinkState,
    spec: LinkSpec,
    node: NodeSpec,
    moves: list[MovementSpec],
    streams: Streams,
    kind: LaneGroupKind,
) -> None:
    """Lane groups (of ``kind``) of link ``spec`` at its downstream ``node``, and its
    movement choices."""
    if any(m.lane_indices is not None for m in moves):
        _by_lanes(world, state, spec, node, moves, streams, kind)
    else:
        _by_group(world, state, spec, node, moves, streams, kind)
    if state.choices:
        last = state.choices[-1]
        state.choices[-1] = (2.0, last[1], last[2])  # guard against rounding


def _needs_rules(m: MovementSpec, streams: Streams) -> bool:
    return m.gives_way or m.key in streams


def _by_group(
    world: World,
    state: LinkState,
    spec: LinkSpec,
    node: NodeSpec,
    moves: list[MovementSpec],
    streams: Streams,
    kind: LaneGroupKind,
) -> None:
    signal = node.kind is NodeKind.SIGNAL
    special = {m.signal_group for m in moves if _needs_rules(m, streams)}
    groups: dict[str | None, LaneGroup] = {}
    cum = 0.0
    for m in moves:
        lg = groups.get(m.signal_group)
        lanes = m.lanes or spec.lanes
        if lg is None:
            mixed = m.signal_group in special
            lg = world._new_lane_group(
                state,
                spec.id,
                node.id,
                m.signal_group,
                kind,
                lanes,
                spec.sat_flow_pcu_per_h_per_lane,
                spec.length_m,
                always_green=not signal,
                cls=MixedLaneGroup if mixed else LaneGroup,
            )
            groups[m.signal_group] = lg
            if signal and m.signal_group is not None:
                _register(world, node.id, m.signal_group, lg)
        nxt = world.links[m.to_link]
        if isinstance(lg, MixedLaneGroup):
            lg.add_rule(nxt, _rule(lg, m, lanes, streams, signal))
        cum += m.share or 0.0  # None: only routed vehicles come here
        state.choices.append((cum, lg, nxt))
        state.movement_lgs[nxt] = (lg,)


def _by_lanes(
    world: World,
    state: LinkState,
    spec: LinkSpec,
    node: NodeSpec,
    moves: list[MovementSpec],
    streams: Streams,
    kind: LaneGroupKind,
) -> None:
    signal = node.kind is NodeKind.SIGNAL
    users: dict[int, list[int]] = {}
    for i, m in enumerate(moves):
        for lane in m.lane_indices or ():
            users.setdefault(lane, []).append(i)
    sets: dict[tuple[int, ...], list[int]] = {}
    for lane in sorted(users):
        sets.setdefault(tuple(users[lane]), []).append(lane)
    names = {key: _name(spec.id, [moves[i] for i in key], signal) for key in sets}
    taken = list(names.values())
    options: dict[int, list[LaneGroup]] = {i: [] for i in range(len(moves))}
    for key, lanes in sets.items():
        ms = [moves[i] for i in key]
        groups = tuple(dict.fromkeys(m.signal_group for m in ms if m.signal_group is not None))
        mixed = len(groups) > 1 or any(_needs_rules(m, streams) for m in ms)
        lg_id = names[key]
        if taken.count(lg_id) > 1:
            lg_id += ".l" + "-".join(str(x) for x in lanes)
        lg = world._new_lane_group(
            state,
            spec.id,
            node.id,
            _primary(ms),
            kind,
            len(lanes),
            spec.sat_flow_pcu_per_h_per_lane,
            spec.length_m,
            always_green=not signal,
            cls=MixedLaneGroup if mixed else LaneGroup,
            lg_id=lg_id,
            groups=groups,
            lane_indices=tuple(lanes),
            to_links=tuple(m.to_link for m in ms),
        )
        if signal:
            for g in groups:
                _register(world, node.id, g, lg)
        if len(sets) > 1 or len(users) < spec.lanes:
            # Each lane group's own lanes hold its queue (at least one vehicle of the
            # largest class, so that any vehicle can join it); lanes no movement leaves
            # from hold none.
            room = state.storage_pcu * len(lanes) / spec.lanes
            largest = max((c.pcu for c in world.scenario.classes), default=1.0)
            if state.lane_storage is None:
                state.lane_storage = {}
            state.lane_storage[lg] = Storage(max(room, largest))
        for i in key:
            options[i].append(lg)
            if isinstance(lg, MixedLaneGroup):
                nxt = world.links[moves[i].to_link]
                lg.add_rule(nxt, _rule(lg, moves[i], len(lanes), streams, signal))
    cum = 0.0
    for i, m in enumerate(moves):
        nxt = world.links[m.to_link]
        opts = tuple(options[i])
        cum += m.share or 0.0
        state.choices.append((cum, opts[0], nxt))
        state.movement_lgs[nxt] = opts
        if len(opts) > 1:
            state.lane_options[nxt] = opts


def _name(link: str, ms: list[MovementSpec], signal: bool) -> str:
    groups = list(dict.fromkeys(m.signal_group for m in ms if m.signal_group is not None))
    return f"{link}:{'+'.join(groups)}" if signal and groups else link


def _primary(ms: list[MovementSpec]) -> str | None:
    """The signal group with the largest share of a lane group's movements (the one its
    figures and its cabinet's metadata file it under)."""
    total: dict[str | None, float] = {}
    for m in ms:
        total[m.signal_group] = total.get(m.signal_group, 0.0) + (m.share or 0.0)
    best = max(total.values())
    return next(g for g, v in total.items() if v == best)


def _register(world: World, node: str, group: str, lg: LaneGroup) -> None:
    sink = lg.track(group) if isinstance(lg, MixedLaneGroup) else lg
    world._signal_lgs.setdefault(node, {}).setdefault(group, []).append(sink)


def _rule(
    lg: MixedLaneGroup, m: MovementSpec, lanes: int, streams: Streams, signal: bool
) -> MovementRule:
    track = lg.track(m.signal_group) if signal and m.signal_group is not None else None
    yields = tuple(streams[k] for k in m.yield_to)
    publish = streams.get(m.key)
    if publish is not None and lg not in publish.sources:
        publish.sources.append(lg)
    for s in yields:
        if lg not in s.listeners:
            s.listeners.append(lg)
    tf = m.follow_up_s or 0.0
    return MovementRule(
        track,
        yields,
        m.critical_gap_s or 0.0,
        tf / lanes,  # the lanes of a lane group each take a vehicle into a gap
        on_red=m.on_red is OnRed.YIELD,
        publish=publish,
    )


def wire_feeders(world: World, entry_link_of: dict[int, LinkState]) -> None:
    """Tell each link which lane groups send vehicles into it (stop lines upstream and
    network entries), so a yielding movement can bound when its conflicting streams'
    next vehicles can come."""
    for state in world.links.values():
        for nxt, lgs in state.movement_lgs.items():
            for lg in lgs:
                if lg not in nxt.feeders:
                    nxt.feeders.append(lg)
    lgs_all = world.lane_groups
    for index, link in entry_link_of.items():
        if lgs_all[index] not in link.feeders:
            link.feeders.append(lgs_all[index])
