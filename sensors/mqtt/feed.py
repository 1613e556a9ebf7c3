"""The live feed: every device publishes under its own MQTT identity.

Each device gets its own client (client id = device id, credentials from ``credentials``
when the broker requires them), announces itself with retained metadata and a retained
``online`` status (last will ``offline``), then publishes its readings. A simulator client
publishes the scenario metadata and the clock.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from trafficsim.sensors.mqtt.clients import SIMULATOR
from trafficsim.sensors.mqtt.messages import Clock, DeviceMeta, ScenarioMeta
from trafficsim.sensors.mqtt.payloads import OFFLINE, ONLINE, PayloadBuilder, encode
from trafficsim.sensors.mqtt.topics import Topics
from trafficsim.sensors.mqtt.transport import BrokerConfig, ClientPool, DeviceClient
from trafficsim.sensors.readings import DeviceInfo, DeviceKind, Reading, StatusChange

Credentials = Callable[[str], tuple[str | None, str | None]]


@dataclass
class FeedStats:
    readings: Counter[str] = field(default_factory=Counter)  # by device id
    status_changes: int = 0
    clock_ticks: int = 0
    unacknowledged: int = 0

    @property
    def total(self) -> int:
        return sum(self.readings.values())


def reading_topic(topics: Topics, r: Reading) -> str:
    """Where a reading is published: probes per link, loops and cameras per intersection."""
    if r.kind is DeviceKind.PROBE and r.link is not None:
        return topics.probe(r.link)
    if r.intersection is None:
        raise ValueError(f"reading of {r.device_id!r} names no intersection")
    return topics.reading(r.intersection, r.device_id)


class FeedPublisher:
    def __init__(
        self,
        cfg: BrokerConfig,
        devices: Iterable[DeviceInfo],
        *,
        scenario: str,
        start: datetime,
        scenario_meta: ScenarioMeta | None = None,
        topics: Topics | None = None,
        qos: int = 1,
        credentials: Credentials | None = None,
        connect_timeout_s: float = 30.0,
    ) -> None:
        if qos not in (0, 1, 2):
            raise ValueError(f"qos must be 0, 1 or 2, got {qos}")
        self.cfg = cfg
        self.topics = topics or Topics()
        self.qos = qos
        self.scenario = scenario
        self.start_time = start
        self.scenario_meta: dict[str, Any] = (
            scenario_meta.to_payload() if scenario_meta else {"scenario": scenario}
        )
        self.devices = {d.device_id: d for d in devices}
        self.connect_timeout_s = connect_timeout_s
        self.stats = FeedStats()
        self.builder = PayloadBuilder(scenario, start)
        creds = credentials or (lambda _cid: (cfg.username, cfg.password))
        self._clients: dict[str, DeviceClient] = {}
        for cid in [SIMULATOR, *self.devices]:
            user, password = creds(cid)
            self._clients[cid] = DeviceClient(
                cfg.with_credentials(user, password), cid, self.topics.status(cid)
            )
        self.pool = ClientPool(list(self._clients.values()))

    def start(self) -> None:
        """Connect every client, then publish retained metadata."""
        self.pool.connect_all(self.connect_timeout_s)
        pub = self.pool.publish
        pub(
            self._clients[SIMULATOR],
            self.topics.scenario_meta(),
            encode(self.scenario_meta),
            qos=1,
            retain=True,
        )
        for did, info in self.devices.items():
            pub(
                self._clients[did],
                self.topics.device_meta(did),
                encode(DeviceMeta.of(info, self.scenario).to_payload()),
                qos=1,
                retain=True,
            )
        self.pool.pump(0.0)

    def topic_for(self, r: Reading) -> str:
        return reading_topic(self.topics, r)

    def publish(self, events: Iterable[Reading | StatusChange]) -> None:
        pub = self.pool.publish
        build = self.builder.reading
        for ev in events:
            client = self._clients[ev.device_id]
            if isinstance(ev, StatusChange):
                pub(
                    client,
                    client.status_topic,
                    ONLINE if ev.online else OFFLINE,
                    qos=1,
                    retain=True,
                )
                self.stats.status_changes += 1
                continue
            payload = build(ev, self.devices[ev.device_id].period_s)
            pub(client, self.topic_for(ev), encode(payload), qos=self.qos)
            self.stats.readings[ev.device_id] += 1
        self.pool.pump(0.0)

    def clock(self, t_s: float, *, qos: int = 0) -> None:
        """A clock tick; QoS 0 as a rule (the next one follows), 1 where one must arrive."""
        self.pool.publish(
            self._clients[SIMULATOR],
            self.topics.clock(),
            encode(Clock.at(t_s, self.start_time).to_payload()),
            qos=qos,
        )
        self.stats.clock_ticks += 1

    def idle(self, seconds: float) -> None:
        """Keep the connections alive (and acknowledgements flowing) while waiting."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            self.pool.pump(min(left, 0.5))

    def close(self, timeout_s: float = 30.0, *, reconnect: bool = True) -> FeedStats:
        """Flush every client, say ``offline`` and disconnect; ``unacknowledged`` counts
        the readings the broker never acknowledged (lost). ``reconnect``: wait up to
        ``timeout_s`` for a broker that is away to come back (the end of a run), or not (a
        run stopped by a signal)."""
        self.stats.unacknowledged = self.pool.close(timeout_s, reconnect=reconnect)
        return self.stats
