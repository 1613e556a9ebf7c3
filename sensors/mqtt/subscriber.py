"""The subscribing client for the centre's services, tools and tests: one paho client with
its own network thread, handing every message to a bounded queue; optionally with a
persistent session, so that a broker restart loses none of its messages (see
:mod:`.transport` for how publishers keep theirs).
"""

from __future__ import annotations

import queue
import ssl
import threading
import time
from dataclasses import dataclass

import paho.mqtt.client as mqtt
from paho.mqtt.client import ConnectFlags
from paho.mqtt.reasoncodes import ReasonCode

from trafficsim.sensors.mqtt.transport import (
    STOP_TIMEOUT_S,
    BrokerConfig,
    BrokerUnavailableError,
    new_client,
)

STALE_RETRY_S = 0.2
"""Pause before connecting again when the broker still holds a session just cleared
(amqtt drops cleared sessions in a sweep once a second)."""
STALE_GIVE_UP_S = 1.0
"""With this little of ``start``'s time left, take the session the broker gives."""


@dataclass(frozen=True, slots=True)
class Message:
    topic: str
    payload: bytes
    retain: bool
    received_s: float  # time.monotonic() at arrival


class Subscriber:
    """A client that subscribes and hands every message to a queue.

    ``persistent``: the session lasts as long as this object, not as long as one connection.
    The client starts with a clean session (whatever a previous process of the same client id
    left is discarded: a restarted service builds its picture from the retained metadata, not
    from a backlog of stale clock ticks): it connects with ``clean_session=False`` and, only
    when the broker says a session was present, leaves, clears it and connects again. When the
    broker goes away, it keeps the subscriptions and queues the QoS 1 messages meant for this
    client until it is back, and a broker with persistence keeps them across its own restart.
    MQTT 3.1.1 rather than MQTT 5 session expiry, because the embedded amqtt broker speaks
    3.1.1 only and a service must work against either broker the same way; the shipped
    Mosquitto bounds an abandoned session with ``persistent_client_expiration``."""

    def __init__(
        self,
        cfg: BrokerConfig,
        client_id: str,
        topic_filter: str | tuple[str, ...],
        qos: int = 1,
        *,
        max_queue: int = 0,
        persistent: bool = False,
    ) -> None:
        """One client, one or more filters: messages of one publisher arrive in its order
        whichever filter they match."""
        self.cfg = cfg
        self.client_id = client_id
        self.topic_filter = topic_filter
        self.qos = qos
        self.persistent = persistent
        self.messages: queue.Queue[Message] = queue.Queue(maxsize=max_queue)
        self._subscribed = threading.Event()
        self.refused: str | None = None
        self.connects = 0
        """Successful connections (the first one and every reconnection)."""
        self.c = new_client(cfg, client_id, clean_session=not persistent)
        self.c.on_connect = self._on_connect
        self.c.on_connect_fail = self._on_connect_fail
        self.c.on_subscribe = self._on_subscribe
        self.c.on_message = self._on_message
        self._failed = threading.Event()
        self._stale = threading.Event()
        """Set when the first connection found a session an earlier process left."""
        self._accept_present = False
        self._live = False
        """Whether messages are this object's (not a stale session's backlog)."""

    def _on_connect_fail(self, client: mqtt.Client, userdata: object) -> None:
        self.refused = "connection failed (is anything listening there?)"
        self._failed.set()

    def _on_connect(
        self,
        client: mqtt.Client,
        userdata: object,
        flags: object,
        reason_code: ReasonCode,
        properties: object,
    ) -> None:
        if reason_code.is_failure:
            self.refused = str(reason_code)
            self._failed.set()
            return
        present = isinstance(flags, ConnectFlags) and flags.session_present
        if self.persistent and present and self.connects == 0 and not self._accept_present:
            # An earlier process's session (or, after clearing it, one the broker has not
            # let go of yet): leave, and ``start`` clears it or waits. Clearing only then,
            # not before every start, spares the broker a clean connection of the same id
            # just ahead of the real one: amqtt, when it has not yet handled the first
            # one's DISCONNECT, takes that session over and later drops its subscriptions;
            # and it keeps a cleared session (marked clean) until its once-a-second sweep,
            # so a real connection that finds it there would run on a session it deletes
            # at the next disconnect.
            client.disconnect()
            self._stale.set()
            return
        self.connects += 1
        self._live = True
        if self.persistent and present and self.connects > 1:
            # A reconnection: the broker kept the subscriptions (and queued what came
            # meanwhile); subscribing again would only make it send every retained message
            # again. (The first connection subscribes whatever the flag says: a broker may
            # call the session just cleared present.)
            self._subscribed.set()
            return
        filters = (
            [self.topic_filter] if isinstance(self.topic_filter, str) else list(self.topic_filter)
        )
        client.subscribe([(f, self.qos) for f in filters])

    def _on_subscribe(
        self,
        client: mqtt.Client,
        userdata: object,
        mid: int,
        reason_codes: list[ReasonCode],
        properties: object,
    ) -> None:
        self._subscribed.set()

    def _on_message(self, client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        if not self._live:
            return  # the backlog of a stale session, about to be cleared
        self.messages.put(
            Message(msg.topic, bytes(msg.payload), bool(msg.retain), time.monotonic())
        )

    def start(self, timeout_s: float = 10.0) -> Subscriber:
        deadline = time.monotonic() + timeout_s
        self._connect_and_wait(deadline)
        cleared = False
        while self._stale.is_set() and not self._subscribed.is_set():
            self.c.loop_stop()
            if not cleared:
                cleared = True
                self._clear_session(max(0.1, deadline - time.monotonic()))
            else:
                time.sleep(STALE_RETRY_S)  # the broker still holds the cleared session
            if time.monotonic() > deadline - STALE_GIVE_UP_S:
                # Time is short: work on whatever session the broker gives (as a broker
                # that calls a just-cleared session present would have us do anyway).
                self._accept_present = True
            self._connect_and_wait(max(deadline, time.monotonic() + STALE_GIVE_UP_S))
        if not self._subscribed.is_set():
            self.stop()
            why = f"refused: {self.refused}" if self.refused else "no answer"
            raise BrokerUnavailableError(
                f"could not subscribe at {self.cfg.url} within {timeout_s:g} s ({why})"
            )
        return self

    def _connect_and_wait(self, deadline: float) -> None:
        """Connect (in paho's thread) and wait until subscribed, refused, found stale or
        ``deadline`` passed."""
        self._stale.clear()
        self.c.connect_async(self.cfg.host, self.cfg.port, keepalive=self.cfg.keepalive_s)
        self.c.loop_start()
        while not (self._subscribed.is_set() or self._failed.is_set() or self._stale.is_set()):
            if time.monotonic() > deadline:
                break
            self._subscribed.wait(0.05)

    def drain(self, idle_s: float = 0.5, max_s: float = 30.0) -> list[Message]:
        """Collect messages until none arrived for ``idle_s`` (or ``max_s`` passed)."""
        out: list[Message] = []
        deadline = time.monotonic() + max_s
        while time.monotonic() < deadline:
            try:
                out.append(self.messages.get(timeout=idle_s))
            except queue.Empty:
                break
        return out

    def _clear_session(self, timeout_s: float) -> None:
        """Connect once with a clean session under this client id and leave: the broker
        drops what an earlier process of the same id left (its subscriptions and queue).
        Best effort: a broker that cannot be reached or refuses is reported by the real
        connection that follows."""
        c = new_client(self.cfg, self.client_id, clean_session=True)
        c.connect_timeout = timeout_s
        answered = threading.Event()
        c.on_connect = lambda *_: answered.set()
        try:
            c.connect(self.cfg.host, self.cfg.port, keepalive=self.cfg.keepalive_s)
        except (OSError, ssl.SSLError):
            return
        deadline = time.monotonic() + timeout_s
        while not answered.is_set() and time.monotonic() < deadline:
            if c.loop(min(0.05, timeout_s)) != mqtt.MQTT_ERR_SUCCESS:
                break
        c.disconnect()
        # Send the DISCONNECT and close the socket before the real connection comes: a broker
        # that still sees this one would take its session over (amqtt does, and the new
        # connection then misses messages).
        while c.socket() is not None and time.monotonic() < deadline:
            if c.loop(0.05) != mqtt.MQTT_ERR_SUCCESS:
                break

    def stop(self, timeout_s: float = STOP_TIMEOUT_S) -> None:
        """Disconnect and end the network thread, waiting at most ``timeout_s`` for it: a
        thread in the middle of a connection attempt to a broker that is gone is left to
        end on its own (it is a daemon thread and stops trying once disconnected). A
        persistent session is ended too (when the broker is there), so that the broker
        stops queueing for a client that left on purpose."""
        connected = self.c.is_connected()
        self.c.disconnect()
        stopper = threading.Thread(target=self.c.loop_stop, daemon=True)
        stopper.start()
        stopper.join(timeout_s / 4)  # ms when the broker is there; no use waiting if not
        if self.persistent and connected:
            self._clear_session(timeout_s / 2)
