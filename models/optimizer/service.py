"""A controller as a message processor: the same object serves the in-memory bus and MQTT."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from trafficsim.models.optimizer.controllers import Controller

Outgoing = list[tuple[str, dict[str, Any]]]


@dataclass
class ControlStats:
    messages: int = 0
    rounds: int = 0
    commands: int = 0
    rejected_acks: int = 0


class ControlService:
    """Feeds every message to the controller; on a clock tick, returns its commands followed
    by ``{root}/control/{name}/done`` (lock-step: the simulator waits for that marker)."""

    def __init__(self, controller: Controller, name: str = "optimizer") -> None:
        self.controller = controller
        self.name = name
        self.root = controller.root
        self.stats = ControlStats()
        self.rejections: list[dict[str, Any]] = []

    @property
    def filters(self) -> tuple[str, ...]:
        r = self.root
        return (
            f"{r}/clock",
            f"{r}/meta/#",
            f"{r}/sensors/#",
            f"{r}/signal/+/state",
            f"{r}/signal/+/ack",
            f"{r}/forecast/#",
        )

    def on_message(self, topic: str, payload: dict[str, Any]) -> Outgoing:
        self.stats.messages += 1
        if topic == f"{self.root}/clock":
            t = float(payload["simTimeSeconds"])
            out = self.controller.decide(t)
            self.stats.rounds += 1
            self.stats.commands += len(out)
            done = {"simTimeSeconds": t, "commands": len(out), "service": self.name}
            return [*out, (f"{self.root}/control/{self.name}/done", done)]
        if topic.endswith("/ack"):
            if payload.get("accepted") is False:
                self.stats.rejected_acks += 1
                self.rejections.append(payload)
            return []
        self.controller.observe(topic, payload)
        return []
