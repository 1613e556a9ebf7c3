"""Device faults as a small state machine driven by the device's own generator.

Each reading period a device may go offline (for an exponentially distributed time), get
stuck (repeating its last values), lose the reading, or report with noise and bias.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

import numpy as np

from trafficsim.sensors.deployment import FaultSpec

FAULT_RATE_PERIOD_S = 60.0
"""The ``offline`` and ``stuck`` rates of a :class:`FaultSpec` are per this many seconds."""


class Outcome(enum.Enum):
    REPORT = "report"
    STUCK = "stuck"  # report the previous values again
    DROPPED = "dropped"  # reading made, then lost (a gap in seq)
    OFFLINE = "offline"  # no reading at all


_BLOCK = 256
"""Periods (and noise values) drawn at once: one generator call per draw cost a sixth of a
closed-loop run at 2 s periods. Blocks keep every device's streams its own."""


@dataclass(slots=True)
class FaultState:
    spec: FaultSpec
    rng: np.random.Generator
    noise_rng: np.random.Generator
    offline_until_s: float = -1.0
    stuck_until_s: float = -1.0
    online: bool = True
    _draws: list[tuple[float, float, float, float, float]] = field(default_factory=list)
    _noise: list[float] = field(default_factory=list)
    _p: tuple[float, float, float] = (-1.0, 0.0, 0.0)  # (period_s, p_off, p_stuck)

    def _draw(self) -> tuple[float, float, float, float, float]:
        """This period's numbers, the same every period whatever the outcome, so the fault
        history of a device does not depend on its outcomes or on its noise draws."""
        if not self._draws:
            s, n = self.spec, _BLOCK
            u = self.rng.random((n, 3))
            off = self.rng.exponential(s.offline_mean_s, n) if s.offline_mean_s > 0 else [0.0] * n
            stuck = self.rng.exponential(s.stuck_mean_s, n) if s.stuck_mean_s > 0 else [0.0] * n
            rows = zip(
                u[:, 0].tolist(), u[:, 1].tolist(), u[:, 2].tolist(), off, stuck, strict=True
            )
            self._draws = [(a, b, c, float(d), float(e)) for a, b, c, d, e in rows][::-1]
        return self._draws.pop()

    def step(self, t_s: float, period_s: float) -> tuple[Outcome, bool | None]:
        """The outcome of the reading due at ``t_s``, and a status change (True: back
        online, False: went offline) or None."""
        s = self.spec
        change: bool | None = None
        u_off, u_stuck, u_drop, off_len, stuck_len = self._draw()
        if not self.online and t_s >= self.offline_until_s:
            self.online = True
            change = True
        # Going offline and getting stuck are chances per minute of operation (the default
        # reading period), so a device that reports every 2 s does not fail 30 times as often.
        if self._p[0] != period_s:
            scale = period_s / FAULT_RATE_PERIOD_S
            self._p = (period_s, 1.0 - (1.0 - s.offline) ** scale, 1.0 - (1.0 - s.stuck) ** scale)
        _, p_off, p_stuck = self._p
        if self.online and u_off < p_off:
            self.online = False
            self.offline_until_s = t_s + max(period_s, off_len)
            # Back and down again in the same period: to a subscriber it never came back.
            return Outcome.OFFLINE, None if change else False
        if not self.online:
            return Outcome.OFFLINE, change
        if t_s >= self.stuck_until_s and u_stuck < p_stuck:
            self.stuck_until_s = t_s + max(period_s, stuck_len)
        if u_drop < s.drop:
            return Outcome.DROPPED, change
        if t_s < self.stuck_until_s:
            return Outcome.STUCK, change
        return Outcome.REPORT, change

    def noisy(self, value: float) -> float:
        """``value`` with the device's bias and relative Gaussian noise (the same numbers as
        one ``normal(0, noise)`` call per value, drawn in blocks)."""
        s = self.spec
        if s.noise > 0:
            if not self._noise:
                self._noise = self.noise_rng.standard_normal(_BLOCK).tolist()[::-1]
            factor = 1.0 + s.bias + s.noise * self._noise.pop()
        else:
            factor = 1.0 + s.bias
        return max(0.0, value * factor)
