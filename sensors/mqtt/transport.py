"""paho-mqtt 2.x clients: one per device identity, and a subscriber for tools and tests.

Every client uses the VERSION2 callback API, its own client id (and credentials when the
broker wants them), a retained last will ``offline`` on its status topic, reconnection with
exponential back-off (1 s to 30 s) and bounded in-flight and queued message counts. When a
queue is full, :meth:`ClientPool.publish` waits for the broker to acknowledge older
messages instead of dropping new ones, so a slow broker slows the simulation down rather
than losing data; it gives up with :class:`BrokerUnavailableError` after ``give_up_s``.
Callbacks only record state or hand messages to a queue.
"""

from __future__ import annotations

import queue
import select
import ssl
import threading
import time
from collections import deque
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode

from trafficsim.sensors.mqtt.payloads import OFFLINE, ONLINE

DEFAULT_PORT = {"mqtt": 1883, "mqtts": 8883}


class BrokerUnavailableError(RuntimeError):
    """The broker did not accept a connection or messages within the allowed time."""


@dataclass(frozen=True, slots=True)
class BrokerConfig:
    """Where the broker is and how to log in: parsed from ``mqtt[s]://[user[:pass]@]host[:port]``."""

    host: str = "127.0.0.1"
    port: int = 1883
    tls: bool = False
    username: str | None = None
    password: str | None = None
    ca_certs: str | None = None
    keepalive_s: int = 30

    @classmethod
    def from_url(cls, url: str, *, ca_certs: str | None = None) -> BrokerConfig:
        parts = urlsplit(url)
        if parts.scheme not in DEFAULT_PORT:
            raise ValueError(
                f"broker URL {url!r}: scheme must be mqtt:// or mqtts://, "
                "e.g. mqtt://127.0.0.1:1883"
            )
        if not parts.hostname:
            raise ValueError(f"broker URL {url!r} has no host, e.g. mqtt://127.0.0.1:1883")
        try:
            port = parts.port or DEFAULT_PORT[parts.scheme]
        except ValueError:
            raise ValueError(f"broker URL {url!r}: the port must be a number 1-65535") from None
        return cls(
            host=parts.hostname,
            port=port,
            tls=parts.scheme == "mqtts",
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            ca_certs=ca_certs,
        )

    @property
    def url(self) -> str:
        """The URL without the password, for messages."""
        user = f"{self.username}@" if self.username else ""
        return f"{'mqtts' if self.tls else 'mqtt'}://{user}{self.host}:{self.port}"

    def with_credentials(self, username: str | None, password: str | None) -> BrokerConfig:
        return BrokerConfig(
            self.host, self.port, self.tls, username, password, self.ca_certs, self.keepalive_s
        )


def _new_client(cfg: BrokerConfig, client_id: str) -> mqtt.Client:
    c = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv311, clean_session=True
    )
    if cfg.username is not None:
        c.username_pw_set(cfg.username, cfg.password)
    if cfg.tls:
        c.tls_set(ca_certs=cfg.ca_certs, cert_reqs=ssl.CERT_REQUIRED)
    c.reconnect_delay_set(min_delay=1, max_delay=30)
    return c


class DeviceClient:
    """The MQTT identity of one device (or service): its client, status topic and will.

    Device clients have no network thread of their own: a :class:`ClientPool` drives all of
    them from the publishing thread (paho's external-loop API), which keeps hundreds of
    devices cheap and free of lock contention.
    """

    def __init__(
        self,
        cfg: BrokerConfig,
        client_id: str,
        status_topic: str,
        *,
        max_inflight: int = 100,
        max_queued: int = 10_000,
    ) -> None:
        self.cfg = cfg
        self.client_id = client_id
        self.status_topic = status_topic
        self.max_queued = max_queued
        self.pending: deque[mqtt.MQTTMessageInfo] = deque()
        self.connected = False
        self.refused: str | None = None
        self.published = 0
        self.retry_at = 0.0
        self.reached = False
        """Its first connect got through to the broker: only then is there something to
        reconnect to (a pool closed after a failed start must not try)."""
        self.backoff_s = 1.0
        self.c = _new_client(cfg, client_id)
        self.c.max_inflight_messages_set(max_inflight)
        self.c.max_queued_messages_set(max_queued)
        self.c.will_set(status_topic, OFFLINE, qos=1, retain=True)
        self.c.on_connect = self._on_connect
        self.c.on_disconnect = self._on_disconnect

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
            return
        self.refused = None
        self.connected = True
        self.backoff_s = 1.0
        client.publish(self.status_topic, ONLINE, qos=1, retain=True)

    def _on_disconnect(
        self,
        client: mqtt.Client,
        userdata: object,
        flags: object,
        reason_code: ReasonCode,
        properties: object,
    ) -> None:
        self.connected = False
        self.retry_at = time.monotonic() + self.backoff_s
        self.backoff_s = min(30.0, self.backoff_s * 2)  # 1, 2, 4 ... 30 s

    def connect(self) -> None:
        try:
            self.c.connect(self.cfg.host, self.cfg.port, keepalive=self.cfg.keepalive_s)
        except (OSError, ssl.SSLError) as exc:
            raise BrokerUnavailableError(
                f"{self.client_id} cannot reach {self.cfg.url}: {exc}"
            ) from None
        self.reached = True

    def prune(self) -> None:
        pending = self.pending
        while pending and pending[0].is_published():
            pending.popleft()


class ClientPool:
    """Drives many :class:`DeviceClient` from one thread: one ``select`` over all sockets,
    reconnection with back-off, bounded queues with back-pressure."""

    def __init__(self, clients: list[DeviceClient], *, give_up_s: float = 60.0) -> None:
        self.clients = clients
        self.give_up_s = give_up_s
        self._misc_at = 0.0

    def connect_all(self, timeout_s: float) -> None:
        for c in self.clients:
            c.connect()
        deadline = time.monotonic() + timeout_s
        while not all(c.connected for c in self.clients):
            refused = [c for c in self.clients if c.refused]
            if refused:
                c = refused[0]
                raise BrokerUnavailableError(
                    f"{c.client_id} was refused by {c.cfg.url}: {c.refused}"
                )
            if time.monotonic() > deadline:
                missing = [c.client_id for c in self.clients if not c.connected]
                raise BrokerUnavailableError(
                    f"{len(missing)} clients did not connect to "
                    f"{self.clients[0].cfg.url} within {timeout_s:g} s "
                    f"(first: {missing[0]})"
                )
            self.pump(0.05)

    def pump(self, timeout_s: float = 0.0) -> None:
        """Move bytes in and out of every socket; wait at most ``timeout_s`` for any."""
        now = time.monotonic()
        for c in self.clients:
            if c.reached and not c.connected and c.c.socket() is None and now >= c.retry_at:
                try:
                    c.c.reconnect()
                except (OSError, ssl.SSLError):
                    c.retry_at = now + c.backoff_s
                    c.backoff_s = min(30.0, c.backoff_s * 2)
        socks = {}
        writers = []
        for c in self.clients:
            sock = c.c.socket()
            if sock is not None:
                socks[sock] = c
                if c.c.want_write():
                    writers.append(sock)
        if socks:
            try:
                readable, writable, _ = select.select(list(socks), writers, [], timeout_s)
            except (OSError, ValueError):
                readable, writable = [], []
            for sock in readable:
                socks[sock].c.loop_read()
            for sock in writable:
                socks[sock].c.loop_write()
        elif timeout_s > 0:
            time.sleep(timeout_s)
        if now >= self._misc_at:
            for c in self.clients:
                c.c.loop_misc()  # keepalive pings, timeouts
            self._misc_at = now + 1.0

    def publish(
        self, client: DeviceClient, topic: str, payload: bytes, qos: int = 1, retain: bool = False
    ) -> None:
        """Publish; when the client's queue is full, wait (pumping) for acknowledgements
        instead of dropping the message."""
        client.prune()
        deadline = time.monotonic() + self.give_up_s
        while True:
            if len(client.pending) < client.max_queued:
                info = client.c.publish(topic, payload, qos=qos, retain=retain)
                if info.rc != mqtt.MQTT_ERR_QUEUE_SIZE:
                    break
            if time.monotonic() > deadline:
                raise BrokerUnavailableError(
                    f"{client.client_id}: broker {client.cfg.url} took no "
                    f"message for {self.give_up_s:g} s"
                )
            self.pump(0.01)
            client.prune()
        client.published += 1
        if qos > 0:
            if info.rc == mqtt.MQTT_ERR_NO_CONN:
                # paho keeps a QoS > 0 message published while disconnected and sends it
                # on reconnection, but leaves this code on it, which would make
                # is_published() raise even after the broker acknowledged it.
                info.rc = mqtt.MQTT_ERR_SUCCESS
            client.pending.append(info)

    def flush(self, timeout_s: float) -> int:
        """Pump until every QoS > 0 message is acknowledged; return how many are not."""
        deadline = time.monotonic() + timeout_s
        while True:
            for c in self.clients:
                c.prune()
            left = sum(len(c.pending) for c in self.clients)
            if left == 0 or time.monotonic() > deadline:
                return left
            self.pump(0.01)

    def close(self, timeout_s: float = 10.0) -> int:
        """Say ``offline`` (retained) for every client, flush, disconnect."""
        for c in self.clients:
            if c.connected:
                self.publish(c, c.status_topic, OFFLINE, qos=1, retain=True)
        left = self.flush(timeout_s)
        for c in self.clients:
            c.c.disconnect()
        self.pump(0.0)
        for c in self.clients:
            sock = c.c.socket()
            if sock is not None:
                c.c.loop_write()
        return left


@dataclass(frozen=True, slots=True)
class Message:
    topic: str
    payload: bytes
    retain: bool
    received_s: float  # time.monotonic() at arrival


class Subscriber:
    """A client that subscribes and hands every message to a queue (for tools and tests)."""

    def __init__(
        self,
        cfg: BrokerConfig,
        client_id: str,
        topic_filter: str | tuple[str, ...],
        qos: int = 1,
        *,
        max_queue: int = 0,
    ) -> None:
        """One client, one or more filters: messages of one publisher arrive in its order
        whichever filter they match."""
        self.cfg = cfg
        self.topic_filter = topic_filter
        self.qos = qos
        self.messages: queue.Queue[Message] = queue.Queue(maxsize=max_queue)
        self._subscribed = threading.Event()
        self.refused: str | None = None
        self.c = _new_client(cfg, client_id)
        self.c.on_connect = self._on_connect
        self.c.on_connect_fail = self._on_connect_fail
        self.c.on_subscribe = self._on_subscribe
        self.c.on_message = self._on_message
        self._failed = threading.Event()

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
        self.messages.put(
            Message(msg.topic, bytes(msg.payload), bool(msg.retain), time.monotonic())
        )

    def start(self, timeout_s: float = 10.0) -> Subscriber:
        self.c.connect_async(self.cfg.host, self.cfg.port, keepalive=self.cfg.keepalive_s)
        self.c.loop_start()
        deadline = time.monotonic() + timeout_s
        while not self._subscribed.is_set() and not self._failed.is_set():
            if time.monotonic() > deadline:
                break
            self._subscribed.wait(0.05)
        if not self._subscribed.is_set():
            self.c.disconnect()
            self.c.loop_stop()
            why = f"refused: {self.refused}" if self.refused else "no answer"
            raise BrokerUnavailableError(
                f"could not subscribe at {self.cfg.url} within {timeout_s:g} s ({why})"
            )
        return self

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

    def stop(self) -> None:
        self.c.disconnect()
        self.c.loop_stop()
