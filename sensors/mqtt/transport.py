"""paho-mqtt 2.x publishing clients, one per device identity, and the broker configuration
they share (the subscriber is in :mod:`.subscriber`).

Every client uses the VERSION2 callback API, its own client id (and credentials when the
broker wants them), a retained last will ``offline`` on its status topic, reconnection with
exponential back-off (1 s to 30 s) and bounded in-flight and queued message counts. When a
queue is full, :meth:`ClientPool.publish` waits for the broker to acknowledge older
messages instead of dropping new ones, so a slow broker slows the simulation down rather
than losing data; it gives up with :class:`BrokerUnavailableError` after ``give_up_s``.
Callbacks only record state or hand messages to a queue.

Across a broker restart: a publisher keeps every QoS 1 message the broker has not
acknowledged and sends it again once reconnected (paho 2.x does so whatever the clean-session
flag: ``Client._messages_reconnect_reset_out`` puts them back to "publish" and
``_handle_connack`` sends them), so the publishing side keeps its clean session. A
subscriber of the centre asks for a persistent session (MQTT 3.1.1 ``clean_session=False``
under a stable client id, see :mod:`.subscriber`), so that the broker keeps its
subscriptions and queues its messages while the subscriber cannot be reached, also across a
restart of a broker that persists sessions (Mosquitto with ``persistence true``).
"""

from __future__ import annotations

import select
import ssl
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


STOP_TIMEOUT_S = 1.0
"""How long a stopping client waits for its network thread, and a stopping pool for the
broker's acknowledgements, so that a service stopped by SIGTERM is gone within 2 s also when
its broker is unreachable (what ``docker compose stop`` allows before it kills)."""


CONNECT_TIMEOUT_S = 0.5
"""TCP connect timeout of one connection attempt of a publisher (paho's default is 5 s, and
paho allows no change once a client has connected): its reconnections run in the publishing
thread, which must stay able to notice a stop while the broker's host does not answer. A
lost SYN costs one attempt; the back-off tries again."""
FIRST_CONNECT_S = 5.0
"""How long a publisher's first connection keeps trying a host that does not answer."""


def new_client(cfg: BrokerConfig, client_id: str, *, clean_session: bool = True) -> mqtt.Client:
    """A paho client of this project's kind: VERSION2 callbacks, MQTT 3.1.1, the login and
    TLS of ``cfg``, reconnection back-off from 1 s to 30 s."""
    c = mqtt.Client(
        CallbackAPIVersion.VERSION2,
        client_id=client_id,
        protocol=mqtt.MQTTv311,
        clean_session=clean_session,
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
        self.held: deque[tuple[str, bytes, int, bool]] = deque()
        """QoS > 0 messages published while the client had no connection: handed to paho
        once it is connected again and has sent again what it had in flight, so that every
        topic keeps its order (paho would send a new message right after CONNECT, before
        the older ones it sends again on CONNACK)."""
        self.connected = False
        self.refused: str | None = None
        self.published = 0
        self.retry_at = 0.0
        self.reached = False
        """Its first connect got through to the broker: only then is there something to
        reconnect to (a pool closed after a failed start must not try)."""
        self.backoff_s = 1.0
        self.c = new_client(cfg, client_id)
        self.c.connect_timeout = CONNECT_TIMEOUT_S
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

    def connect(self, timeout_s: float = FIRST_CONNECT_S) -> None:
        """The first connection: attempts of :data:`CONNECT_TIMEOUT_S` each until
        ``timeout_s``; a broker that refuses, or a name that does not resolve, fails at once."""
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                self.c.connect(self.cfg.host, self.cfg.port, keepalive=self.cfg.keepalive_s)
                break
            except TimeoutError as exc:
                if time.monotonic() < deadline:
                    continue
                why: Exception = exc
            except (OSError, ssl.SSLError) as exc:
                why = exc
            raise BrokerUnavailableError(
                f"{self.client_id} cannot reach {self.cfg.url}: {why}"
            ) from None
        self.reached = True

    def prune(self) -> None:
        pending = self.pending
        while pending and pending[0].is_published():
            pending.popleft()

    @property
    def queued(self) -> int:
        """QoS > 0 messages not yet acknowledged by the broker (in paho or held)."""
        return len(self.pending) + len(self.held)

    def release(self) -> None:
        """Hand the held messages to paho, in order, while it takes them."""
        while self.held and self.connected:
            topic, payload, qos, retain = self.held[0]
            info = self.c.publish(topic, payload, qos=qos, retain=retain)
            if info.rc == mqtt.MQTT_ERR_QUEUE_SIZE:
                return
            self.held.popleft()
            self.track(info)

    def track(self, info: mqtt.MQTTMessageInfo) -> None:
        if info.rc == mqtt.MQTT_ERR_NO_CONN:
            # paho keeps a QoS > 0 message published while disconnected and sends it on
            # reconnection, but leaves this code on it, which would make is_published()
            # raise even after the broker acknowledged it.
            info.rc = mqtt.MQTT_ERR_SUCCESS
        self.pending.append(info)


class ClientPool:
    """Drives many :class:`DeviceClient` from one thread: one ``select`` over all sockets,
    reconnection with back-off, bounded queues with back-pressure."""

    def __init__(self, clients: list[DeviceClient], *, give_up_s: float = 60.0) -> None:
        self.clients = clients
        self.give_up_s = give_up_s
        self._misc_at = 0.0
        self.reconnect = True
        """Whether :meth:`pump` brings back clients that lost their connection."""

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
        for c in self.clients if self.reconnect else ():
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
            for c in socks.values():
                if c.held and c.connected:
                    c.release()
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
            if client.queued < client.max_queued:
                if qos > 0 and client.reached and (client.held or not client.connected):
                    client.held.append((topic, payload, qos, retain))
                    client.published += 1
                    return
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
            client.track(info)

    def flush(self, timeout_s: float) -> int:
        """Pump until every QoS > 0 message is acknowledged; return how many are not. Without
        reconnection, it stops as soon as no client with messages left is connected."""
        deadline = time.monotonic() + timeout_s
        while True:
            for c in self.clients:
                c.prune()
            left = sum(c.queued for c in self.clients)
            if left == 0 or time.monotonic() > deadline:
                return left
            if not self.reconnect and not any(c.connected for c in self.clients if c.queued):
                return left
            self.pump(0.01)

    def close(self, timeout_s: float = 10.0, *, reconnect: bool = True) -> int:
        """Say ``offline`` (retained) for every client, flush, disconnect; return how many
        QoS > 0 messages the broker never acknowledged (lost with this process: paho keeps
        them in memory only). ``reconnect``: wait (up to ``timeout_s``) for clients whose
        broker is away to come back and deliver; a stop does not."""
        self.reconnect = reconnect
        for c in self.clients:
            if c.connected and c.queued < c.max_queued:
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
