"""Message handlers and the two ways to connect them: in memory, or over a real broker.

A handler is any object with ``filters`` (MQTT topic filters) and
``on_message(topic, payload) -> [(topic, payload), ...]`` (what it publishes in answer). The
optimizer and the predictor are handlers; :class:`MemoryBus` runs them in-process for
sweeps, :func:`serve_handler` runs one against a broker as its own MQTT client. Both
deliver the same payloads in the order one broker delivers one client's messages.

The memory bus hands each payload object over as it is, without a JSON round trip (which
cost a sixth of a closed-loop run): payloads must therefore be JSON-native already (dicts
with string keys, lists, str, int, float, bool, None), which every payload builder of the
project makes, and handlers must not change what they receive. The tests hold the memory
bus to the same results as a real broker and check every payload a run publishes is
unchanged by a JSON round trip.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from trafficsim.sensors.mqtt.clients import inbox
from trafficsim.sensors.mqtt.payloads import PayloadError, decode, encode
from trafficsim.sensors.mqtt.subscriber import Subscriber
from trafficsim.sensors.mqtt.topics import Topics
from trafficsim.sensors.mqtt.transport import STOP_TIMEOUT_S, BrokerConfig, ClientPool, DeviceClient

log = logging.getLogger(__name__)

Outgoing = list[tuple[str, dict[str, Any]]]


class Handler(Protocol):
    @property
    def filters(self) -> tuple[str, ...]: ...

    def on_message(self, topic: str, payload: dict[str, Any]) -> Outgoing: ...


def topic_matches(topic_filter: str, topic: str) -> bool:
    """MQTT 3.1.1 filter matching (``+`` one level, ``#`` the rest)."""
    fp, tp = topic_filter.split("/"), topic.split("/")
    for i, f in enumerate(fp):
        if f == "#":
            return True
        if i >= len(tp) or (f != "+" and f != tp[i]):
            return False
    return len(fp) == len(tp)


class MemoryBus:
    """Handlers in this process; ``inbox_filters`` collect what the caller wants back."""

    def __init__(self, handlers: list[Handler], inbox_filters: tuple[str, ...] = ()) -> None:
        self.handlers = handlers
        self.inbox_filters = inbox_filters
        self.inbox: list[tuple[str, dict[str, Any]]] = []
        self._queue: deque[tuple[str, dict[str, Any]]] = deque()
        self._routes: dict[str, tuple[bool, list[Handler]]] = {}
        self.delivered = 0

    def publish(self, topic: str, payload: dict[str, Any]) -> None:
        self._queue.append((topic, payload))
        self._pump()

    def _pump(self) -> None:
        q = self._queue
        while q:
            topic, payload = q.popleft()
            inbox, handlers = self._route(topic)
            if inbox:
                self.inbox.append((topic, payload))
            for h in handlers:
                self.delivered += 1
                q.extend(h.on_message(topic, payload))

    def _route(self, topic: str) -> tuple[bool, list[Handler]]:
        """Who gets ``topic``: matched once per topic (a run repeats the same topics)."""
        route = self._routes.get(topic)
        if route is None:
            inbox = any(topic_matches(f, topic) for f in self.inbox_filters)
            handlers = [h for h in self.handlers if any(topic_matches(f, topic) for f in h.filters)]
            route = self._routes[topic] = (inbox, handlers)
        return route

    def take(self) -> list[tuple[str, dict[str, Any]]]:
        out, self.inbox = self.inbox, []
        return out


@dataclass
class HandlerStats:
    received: int = 0
    published: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    """Unusable messages by reason (what was wrong with the message)."""
    errors: Counter[str] = field(default_factory=Counter)
    """Messages the handler failed on by exception type: a bug of ours, logged with its
    traceback once per type, never fatal."""


LOGGED_REASONS = 20
"""Distinct rejection reasons logged at warning level; the rest at debug level."""

MAX_REASONS = 1_000
"""Distinct rejection reasons counted one by one; past that they are counted together, so a
stream of different bad messages cannot grow the counter."""


def handle_safely(handler: Handler, topic: str, data: bytes, stats: HandlerStats) -> Outgoing:
    """One received message through ``handler``: parsed at the edge, and whatever goes wrong
    (an unusable message, or a bug in the handler on this one message) is counted and
    logged, never fatal: one broken or hostile device must not stop the centre."""
    try:
        return handler.on_message(topic, decode(topic, data))
    except PayloadError as exc:
        reason = exc.reason[:80]
        key = reason if len(stats.rejected) < MAX_REASONS or reason in stats.rejected else "other"
        stats.rejected[key] += 1
        # Each reason once at warning level, and only the first few reasons: a flood of bad
        # messages must not flood the log (the counts keep the rest).
        first = stats.rejected[key] == 1 and len(stats.rejected) <= LOGGED_REASONS
        level = logging.WARNING if first else logging.DEBUG
        log.log(level, "ignored message on %s: %s", topic[:200], reason)
    except Exception as exc:  # any failure is the loss of this one message
        name = type(exc).__name__
        stats.errors[name] += 1
        if stats.errors[name] == 1:
            log.exception("handler failed on a message on %s (%s); going on", topic[:200], name)
        else:
            log.warning("handler failed on a message on %s: %s", topic[:200], name)
    return []


def serve_handler(
    cfg: BrokerConfig,
    handler: Handler,
    client_id: str,
    *,
    topics: Topics | None = None,
    stop: threading.Event | None = None,
    duration_s: float | None = None,
    on_ready: Callable[[], None] = lambda: None,
    inbox_cfg: BrokerConfig | None = None,
) -> HandlerStats:
    """Run ``handler`` as an MQTT client until ``stop`` is set or ``duration_s`` passes.

    Each message goes through :func:`handle_safely`: what cannot be used, and what the
    handler fails on, is counted in the returned stats and logged, never fatal.

    The subscriber connects as ``inbox(client_id)``, with ``inbox_cfg`` (that account's own
    login on a secured broker, where client ids are bound to usernames); ``cfg`` is the
    publisher's."""
    topics = topics or Topics()
    stats = HandlerStats()
    sub_cfg = inbox_cfg if inbox_cfg is not None else cfg
    # A persistent session: a broker restart loses none of the service's messages.
    sub = Subscriber(
        sub_cfg, inbox(client_id), topics.all(), max_queue=1_000_000, persistent=True
    ).start()
    out = DeviceClient(cfg, client_id, topics.status(client_id))
    pool = ClientPool([out])
    try:
        pool.connect_all(30.0)
    except BaseException:
        sub.stop()
        raise
    on_ready()
    stop = stop or threading.Event()
    deadline = None if duration_s is None else time.monotonic() + duration_s
    try:
        while not stop.is_set() and (deadline is None or time.monotonic() < deadline):
            pool.pump(0.0)
            try:
                m = sub.messages.get(timeout=0.05)
            except queue.Empty:
                continue
            if not any(topic_matches(f, m.topic) for f in handler.filters):
                continue
            stats.received += 1
            answers = handle_safely(handler, m.topic, m.payload, stats)
            for topic, payload in answers:
                pool.publish(out, topic, encode(payload), qos=1)
                stats.published += 1
            pool.pump(0.0)
    finally:
        # Bounded, so that a stop (SIGTERM) ends the service within 2 s also while the
        # broker is gone; what the broker did not acknowledge by then is said, not hidden.
        sub.stop()
        left = pool.close(STOP_TIMEOUT_S, reconnect=False)
        if left:
            log.warning("%s: %d messages not acknowledged by the broker at stop", client_id, left)
    return stats
