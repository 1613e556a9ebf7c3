"""What a cycle plan shows each signal group, worked out from its phases alone: the centre
needs it to make plans a cabinet accepts, the cabinet to check them."""

from __future__ import annotations

from collections.abc import Sequence

from trafficsim.sensors.mqtt.messages.control import PhaseTiming


def longest_reds_s(phases: Sequence[PhaseTiming]) -> dict[str, float]:
    """Each group's longest red in a cycle of ``phases`` run as the cabinet runs them: a
    group leaving green shows the outgoing phase's yellow, then red until the next phase
    that shows it turns green (after that phase's predecessor's yellow and all-red); a
    group green in consecutive phases stays green across the change. Groups never red
    (green in every phase) are 0."""
    n = len(phases)
    starts = []  # green start of each phase's entering groups, from 0
    t = 0.0
    for p in phases:
        starts.append(t)
        t += p.duration_s
    cycle = t
    longest: dict[str, float] = {}
    for k, p in enumerate(phases):
        nxt = phases[(k + 1) % n]
        for g in p.groups:
            longest.setdefault(g, 0.0)
            if n == 1 or g in nxt.group_set:
                continue
            red_from = starts[k] + p.green_s + p.yellow_s
            j = (k + 1) % n
            while g not in phases[j].group_set:
                j = (j + 1) % n
            green_at = starts[j] + (cycle if j <= k else 0.0)
            longest[g] = max(longest[g], green_at - red_from)
    return longest
