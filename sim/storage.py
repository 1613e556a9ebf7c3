"""Room on a stretch of road: the PCU committed to enter it and to leave it.

Entries are committed when an upstream lane group schedules a departure, which can be a
little ahead of simulated time (a signal head schedules a whole green at once). To never
overfill the stretch, ``pcu`` may enter at ``t`` only if *all* committed entries, minus the
exits committed at or before ``t``, leave room for it. Exits not yet scheduled only add room
later, so the rule is safe. A link is one such stretch (``sim.network``); so are the lanes of
one lane group when the scenario names a link's lanes, since a queue on one lane cannot use
the others' room (``sim.network.LinkState.lane_storage``).
"""

from __future__ import annotations

from bisect import insort

EPS = 1e-9
"""Tolerance of the storage comparisons (PCU)."""


class Storage:
    """Committed entries and exits of one stretch, against its storage in PCU."""

    __slots__ = ("entered_pcu", "exited_base_pcu", "future_exits", "storage_pcu")

    def __init__(self, storage_pcu: float) -> None:
        self.storage_pcu = storage_pcu
        self.entered_pcu = 0.0
        self.exited_base_pcu = 0.0
        # (time_s, pcu) of exits committed for times after the last prune, sorted by time.
        self.future_exits: list[tuple[float, float]] = []

    def has_room(self, pcu: float) -> bool:
        """Cheap check: room even if no committed exit had happened yet."""
        return self.entered_pcu - self.exited_base_pcu + pcu <= self.storage_pcu + EPS

    def earliest_entry(self, t_s: float, pcu: float, now_s: float) -> float | None:
        """Earliest time >= ``t_s`` at which ``pcu`` more fits, or None if not yet known."""
        self._prune(now_s)
        occ = self.entered_pcu - self.exited_base_pcu + pcu
        if occ <= self.storage_pcu + EPS:
            return t_s
        for time_s, p in self.future_exits:
            occ -= p
            if occ <= self.storage_pcu + EPS:
                return time_s if time_s > t_s else t_s
        return None

    def add_exit(self, t_s: float, pcu: float, now_s: float) -> None:
        """``pcu`` leaves at ``t_s`` (now or committed ahead)."""
        if t_s <= now_s:
            self.exited_base_pcu += pcu
        else:
            fx = self.future_exits
            if not fx or t_s >= fx[-1][0]:
                fx.append((t_s, pcu))
            else:
                insort(fx, (t_s, pcu))
            if fx[0][0] <= now_s:
                self._prune(now_s)

    def _prune(self, now_s: float) -> None:
        fx = self.future_exits
        k = 0
        n = len(fx)
        base = self.exited_base_pcu
        while k < n and fx[k][0] <= now_s:
            base += fx[k][1]
            k += 1
        if k:
            self.exited_base_pcu = base
            del fx[:k]
