"""Device faults as a small state machine driven by the device's own generator.

Each reading period a device may go offline (for an exponentially distributed time), get
stuck (repeating its last values), lose the reading, or report with noise and bias.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np

from sensors.deployment import FaultSpec

FAULT_RATE_PERIOD_S = 60.0
"""The ``offline`` and ``stuck`` rates of a :class:`FaultSpec` are per this many seconds."""


class Outcome(enum.Enum):
    REPORT = "report"
    STUCK = "stuck"  # report the previous values again
    DROPPED = "dropped"  # reading made, then lost (a gap in seq)
    OFFLINE = "offline"  # no reading at all


@dataclass(slots=True)
class FaultState:
    spec: FaultSpec
    rng: np.random.Generator
    noise_rng: np.random.Generator
    offline_until_s: float = -1.0
    stuck_until_s: float = -1.0
    online: bool = True

    def step(self, t_s: float, period_s: float) -> tuple[Outcome, bool | None]:
        """The outcome of the reading due at ``t_s``, and a status change (True: back
        online, False: went offline) or None."""
        s = self.spec
        change: bool | None = None
        # Draw the same numbers every period from a stream of their own, so the fault
        # history of a device does not depend on its outcomes or on its noise draws.
        u_off, u_stuck, u_drop = self.rng.random(3)
        off_len = self.rng.exponential(s.offline_mean_s) if s.offline_mean_s > 0 else 0.0
        stuck_len = self.rng.exponential(s.stuck_mean_s) if s.stuck_mean_s > 0 else 0.0
        if not self.online and t_s >= self.offline_until_s:
            self.online = True
            change = True
        # Going offline and getting stuck are chances per minute of operation (the default
        # reading period), so a device that reports every 2 s does not fail 30 times as often.
        scale = period_s / FAULT_RATE_PERIOD_S
        p_off = 1.0 - (1.0 - s.offline) ** scale
        p_stuck = 1.0 - (1.0 - s.stuck) ** scale
        if self.online and u_off < p_off:
            self.online = False
            self.offline_until_s = t_s + max(period_s, off_len)
            return Outcome.OFFLINE, False
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
        """``value`` with the device's bias and relative Gaussian noise."""
        s = self.spec
        factor = 1.0 + s.bias + (self.noise_rng.normal(0.0, s.noise) if s.noise > 0 else 0.0)
        return max(0.0, value * factor)
