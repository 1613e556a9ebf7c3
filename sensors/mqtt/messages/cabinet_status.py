"""A cabinet's retained status (``{root}/signal/{intersection}/status``): who controls it.

NTCIP 1202 reports the same thing as ``unitControlStatus`` (system control by the centre,
or backup mode after the backup timer ran out); here it is a retained message, published
at the start and at every change of mode, so that whoever subscribes later (a restarted
optimizer, a dashboard) sees at once which cabinets are on fallback, since when, and when
they last heard the centre.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from trafficsim.sensors.mqtt.messages.control import CabinetMode
from trafficsim.sensors.mqtt.messages.fields import Fields


@dataclass(frozen=True, slots=True)
class CabinetStatus:
    intersection: str
    sim_time_s: float
    """When the cabinet began to run ``mode`` (for a switch, the end of the outgoing green)."""
    mode: CabinetMode
    last_command_s: float | None
    """When it last accepted a command (None: never)."""
    backup_s: float
    """Its backup time: no valid command for this long and it falls back."""

    @property
    def central(self) -> bool:
        return self.mode in (CabinetMode.CYCLE, CabinetMode.STAGE)

    @property
    def alarm(self) -> bool:
        """The centre went quiet and the cabinet fell back to its stored plan."""
        return self.mode is CabinetMode.FALLBACK

    @property
    def reason(self) -> str:
        if self.alarm:
            return (
                f"fallback: no valid command for {self.backup_s:g} s after "
                f"{self.last_command_s or 0.0:g} s; running the stored plan"
            )
        if self.central:
            return f"under central control ({self.mode.value})"
        return "running the stored plan; no command yet"

    def to_payload(self) -> dict[str, Any]:
        last = self.last_command_s
        return {
            "intersection": self.intersection,
            "simTimeSeconds": round(max(self.sim_time_s, 0.0), 3),
            "mode": self.mode.value,
            "central": self.central,
            "alarm": self.alarm,
            "reason": self.reason,
            "lastCommandSeconds": None if last is None else round(last, 3),
            "backupSeconds": round(self.backup_s, 3),
        }

    @classmethod
    def from_payload(cls, payload: object, topic: str = "") -> CabinetStatus:
        f = Fields(payload, topic)
        try:
            mode = CabinetMode(f.text("mode"))
        except ValueError as exc:
            raise f.fail("mode", str(exc)) from None
        return cls(
            f.text("intersection"),
            f.number("simTimeSeconds"),
            mode,
            f.opt_number("lastCommandSeconds"),
            f.number("backupSeconds"),
        )
