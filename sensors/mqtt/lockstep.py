"""The closed loop's two transports: the in-memory bus, and real MQTT clients in lock-step.

Each control step the simulator publishes readings, signal states and acknowledgements, then
calls :meth:`round` with the step's clock tick: the transport delivers everything, waits
(bounded wall time) for every service in the loop to answer the tick with its
``{root}/control/{service}/done`` marker, and returns the commands that arrived. Over MQTT,
with services that keep up, that is the same sequence of messages as over the memory bus,
so the same seed gives the same results on both.
"""

from __future__ import annotations

import queue
import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from trafficsim.sensors.mqtt.bus import Handler, MemoryBus
from trafficsim.sensors.mqtt.clients import SIMULATOR, SIMULATOR_INBOX
from trafficsim.sensors.mqtt.messages import Clock, PayloadError, RoundDone
from trafficsim.sensors.mqtt.payloads import OFFLINE, ONLINE, decode, encode
from trafficsim.sensors.mqtt.subscriber import Subscriber
from trafficsim.sensors.mqtt.topics import TopicKind, Topics
from trafficsim.sensors.mqtt.transport import BrokerConfig, ClientPool, DeviceClient

Received = list[tuple[str, dict[str, Any]]]

LATE_ROUNDS_BEFORE_GIVING_UP = 3
"""After this many missed rounds in a row a service is no longer waited for (it crashed or
cannot keep up); its answers are still taken when they come, and its next marker makes it
waited for again."""


class LockstepTransport(Protocol):
    missed: int
    """Rounds in which a service did not answer within the deadline."""

    def publish(
        self, client: str, topic: str, payload: dict[str, Any], *, retain: bool = False
    ) -> None: ...
    def status(self, client: str, online: bool) -> None: ...
    def round(self, t_s: float, clock: Clock) -> Received: ...
    def close(self, timeout_s: float = 10.0, *, reconnect: bool = True) -> None: ...


class MemoryLockstep:
    """The services as handlers in this process: every round is answered at once."""

    def __init__(self, handlers: Sequence[Handler], topics: Topics) -> None:
        self.bus = MemoryBus(list(handlers), inbox_filters=(topics.signal_filter("plan"),))
        self.topics = topics
        self.missed = 0

    def publish(
        self, client: str, topic: str, payload: dict[str, Any], *, retain: bool = False
    ) -> None:
        self.bus.publish(topic, payload)  # the memory bus keeps nothing: retain is moot

    def status(self, client: str, online: bool) -> None:
        pass  # plain-text status is for people and dashboards; no handler reads it

    def round(self, t_s: float, clock: Clock) -> Received:
        self.bus.publish(self.topics.clock(), clock.to_payload())
        return self.bus.take()

    def close(self, timeout_s: float = 10.0, *, reconnect: bool = True) -> None:
        pass


class MqttLockstep:
    """Every field client (devices, cabinets, the simulator) its own MQTT identity; one
    subscribing client takes the commands and the services' markers.

    ``login`` gives the broker configuration a client logs in with (its own credentials on a
    secured broker); ``services`` are the clients whose ``done`` each round waits for."""

    def __init__(
        self,
        login: Callable[[str], BrokerConfig],
        client_ids: Sequence[str],
        topics: Topics,
        services: Sequence[str],
        deadline_s: float,
        *,
        connect_timeout_s: float = 30.0,
    ) -> None:
        self.topics = topics
        self.services = list(services)
        self.deadline_s = deadline_s
        self.missed = 0
        self._late: dict[str, int] = dict.fromkeys(self.services, 0)
        self.clients = {
            cid: DeviceClient(login(cid), cid, topics.status(cid)) for cid in client_ids
        }
        self.pool = ClientPool(list(self.clients.values()))
        try:
            self.pool.connect_all(connect_timeout_s)
            for c in self.clients.values():
                self.pool.publish(c, c.status_topic, ONLINE, qos=1, retain=True)
            self.sub = Subscriber(
                login(SIMULATOR_INBOX),
                SIMULATOR_INBOX,
                (topics.signal_filter("plan"), topics.done_filter()),
                max_queue=1_000_000,
                persistent=True,  # commands and markers survive a broker restart
            ).start()
        except BaseException:
            self.pool.close(5.0)  # the clients that did connect say offline and go
            raise

    def publish(
        self, client: str, topic: str, payload: dict[str, Any], *, retain: bool = False
    ) -> None:
        """``retain``: metadata, which a service that (re)starts mid-run must find."""
        self.pool.publish(self.clients[client], topic, encode(payload), qos=1, retain=retain)

    def status(self, client: str, online: bool) -> None:
        c = self.clients[client]
        self.pool.publish(c, c.status_topic, ONLINE if online else OFFLINE, qos=1, retain=True)

    def round(self, t_s: float, clock: Clock) -> Received:
        # Every reading and state acknowledged by the broker before the tick leaves: one
        # broker then delivers them to the services before the tick.
        self.pool.flush(self.deadline_s)
        self.pool.publish(
            self.clients[SIMULATOR], self.topics.clock(), encode(clock.to_payload()), qos=1
        )
        self.pool.flush(self.deadline_s)
        waiting = {s for s in self.services if self._late[s] < LATE_ROUNDS_BEFORE_GIVING_UP}
        got: Received = []
        deadline = time.monotonic() + self.deadline_s
        while True:
            self.pool.pump(0.0)
            timeout = deadline - time.monotonic() if waiting else 0.0
            try:
                m = self.sub.messages.get(timeout=max(0.0, min(timeout, 0.05)))
            except queue.Empty:
                if not waiting or time.monotonic() >= deadline:
                    break
                continue
            parsed = self.topics.parse(m.topic)
            try:
                payload = decode(m.topic, m.payload)
                if parsed is not None and parsed.kind is TopicKind.CONTROL_DONE:
                    done = RoundDone.from_payload(payload, m.topic)
                    if parsed.name in self._late:
                        # Any marker says the service is back (a restarted one answers
                        # from its first tick on): it is waited for again from the next
                        # round.
                        self._late[parsed.name] = 0
                        if abs(done.sim_time_s - t_s) < 1e-6:
                            waiting.discard(parsed.name)
                    continue
            except PayloadError:
                continue  # not JSON, or a marker that says nothing usable
            got.append((m.topic, payload))
        for s in waiting:
            self.missed += 1
            self._late[s] += 1
        return got

    def close(self, timeout_s: float = 10.0, *, reconnect: bool = True) -> None:
        """Every client says ``offline`` and goes; ``reconnect=False`` (a stop): without
        waiting for a broker that is away."""
        self.pool.close(timeout_s, reconnect=reconnect)
        self.sub.stop()
