"""A controller as a message processor: the same object serves the in-memory bus and MQTT."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

from trafficsim.models.optimizer.controllers import Controller
from trafficsim.sensors.mqtt.messages import Ack, Clock, RoundDone
from trafficsim.sensors.mqtt.messages.reading import named_by_topic
from trafficsim.sensors.mqtt.topics import TopicKind, Topics

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
        self.topics: Topics = controller.topics
        self.stats = ControlStats()
        self.rejections: deque[Ack] = deque(maxlen=1_000)
        """The latest rejections (bounded: a flood of acknowledgements cannot grow it)."""

    @property
    def filters(self) -> tuple[str, ...]:
        t = self.topics
        return (
            t.clock(),
            t.meta_filter(),
            t.readings_filter(),
            t.signal_filter("state"),
            t.signal_filter("ack"),
            t.forecasts_filter(),
        )

    def on_message(self, topic: str, payload: dict[str, Any]) -> Outgoing:
        self.stats.messages += 1
        parsed = self.topics.parse(topic)
        kind = parsed.kind if parsed else None
        if kind is TopicKind.CLOCK:
            t = Clock.from_payload(payload, topic).sim_time_s
            self.controller.view.link()
            out = self.controller.decide(t)
            self.stats.rounds += 1
            self.stats.commands += len(out)
            done = RoundDone(self.name, t, len(out))
            return [*out, (self.topics.control_done(self.name), done.to_payload())]
        if kind is TopicKind.SIGNAL_ACK and parsed:
            ack = Ack.from_payload(payload, topic)
            named_by_topic(ack.intersection, parsed.place, "intersection", topic)
            if not ack.accepted:
                self.stats.rejected_acks += 1
                self.rejections.append(ack)
            return []
        self.controller.observe(topic, payload)
        return []
