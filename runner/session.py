"""One run's MQTT session, shared by the live feed and the closed loop: the broker (an
embedded one, or the URL given), every client's login, the centre's services in threads of
this process, and pacing against the wall clock.

Services are waited for, never slept for: a service counts as started once its subscriber
is subscribed and its publishing client connected (``serve_handler``'s ready callback), and a
run's last tick counts as handled once the service answered it with its ``done`` marker.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from trafficsim.sensors.mqtt.broker import BrokerKind, EmbeddedBroker
from trafficsim.sensors.mqtt.bus import Handler, HandlerStats, Outgoing, serve_handler
from trafficsim.sensors.mqtt.clients import inbox
from trafficsim.sensors.mqtt.feed import Credentials
from trafficsim.sensors.mqtt.topics import DEFAULT_ROOT, Topics
from trafficsim.sensors.mqtt.transport import BrokerConfig, BrokerUnavailableError

log = logging.getLogger(__name__)

SERVICE_START_TIMEOUT_S = 30.0
"""Wall time a service may take to subscribe and connect before the run gives up."""


@dataclass(frozen=True, slots=True)
class BrokerSettings:
    url: str | None = None
    """``mqtt[s]://host:port`` of a running broker; None starts an embedded one."""
    kind: BrokerKind = BrokerKind.AUTO
    """Which embedded broker (when ``url`` is None)."""
    ca_certs: str | None = None
    topic_root: str = DEFAULT_ROOT
    passwords: Mapping[str, str] | None = None
    """Client id -> password: every client logs in as itself (username = client id), a
    service's subscriber as ``<service>-in``."""


class _Answers:
    """Wraps a service's handler to remember the last clock tick it answered, or failed on
    (a handler bug on a tick is counted by ``serve_handler`` and the service goes on; the run
    need not wait out its deadline for an answer that will not come)."""

    def __init__(self, inner: Handler, done_topic: str, clock_topic: str) -> None:
        self.inner = inner
        self.done_topic = done_topic
        self.clock_topic = clock_topic
        self.last_t_s = -float("inf")
        self.failed_t_s = -float("inf")
        self._cond = threading.Condition()

    @property
    def filters(self) -> tuple[str, ...]:
        return self.inner.filters

    def on_message(self, topic: str, payload: dict[str, Any]) -> Outgoing:
        try:
            out = self.inner.on_message(topic, payload)
        except Exception:
            t_s = payload.get("simTimeSeconds")
            if topic == self.clock_topic and isinstance(t_s, int | float):
                with self._cond:
                    self.failed_t_s = max(self.failed_t_s, float(t_s))
                    self._cond.notify_all()
            raise
        for t, p in out:
            if t == self.done_topic:
                with self._cond:
                    self.last_t_s = float(p["simTimeSeconds"])
                    self._cond.notify_all()
        return out

    def wait(self, t_s: float, timeout_s: float) -> bool:
        """True once the tick at ``t_s`` is answered; False after ``timeout_s`` or as soon
        as the handler failed on it."""
        with self._cond:
            self._cond.wait_for(
                lambda: max(self.last_t_s, self.failed_t_s) >= t_s - 1e-6, timeout_s
            )
            return self.last_t_s >= t_s - 1e-6


class Session:
    """Use as a context manager: everything started inside is stopped on the way out, also
    when the set-up fails half-way."""

    def __init__(
        self,
        settings: BrokerSettings,
        *,
        on_broker: Callable[[str, str], None] = lambda url, kind: None,
    ) -> None:
        self.settings = settings
        self.topics = Topics(settings.topic_root)
        self.on_broker = on_broker
        self.broker: EmbeddedBroker | None = None
        self.cfg = BrokerConfig()
        self.stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._answers: dict[str, _Answers] = {}
        self._service_threads: dict[str, threading.Thread] = {}
        self.service_stats: dict[str, HandlerStats] = {}
        """Each service's figures, once its thread ended."""
        self.failures: dict[str, Exception] = {}
        """Why a service's thread ended early, if it did."""

    def __enter__(self) -> Session:
        s = self.settings
        try:
            if s.url is None:
                self.broker = EmbeddedBroker(s.kind).start()
                self.cfg = self.broker.config
            else:
                self.cfg = BrokerConfig.from_url(s.url, ca_certs=s.ca_certs)
            self.on_broker(self.cfg.url, self.broker_label)
        except BaseException:
            self.__exit__()  # a broker already started is stopped
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop_services()
        if self.broker is not None:
            if not exc or exc[0] is None:  # a stopped run has nothing left to deliver
                self.broker.drain()
            self.broker.stop()

    @property
    def broker_label(self) -> str:
        return f"embedded {self.broker.kind}" if self.broker is not None else "external"

    def login(self, client_id: str) -> BrokerConfig:
        """The configuration ``client_id`` connects with."""
        pw = self.settings.passwords
        return self.cfg.with_credentials(client_id, pw.get(client_id)) if pw else self.cfg

    def credentials(self) -> Credentials | None:
        """Each client's (username, password), when the broker wants them."""
        if self.settings.passwords is None:
            return None
        return lambda cid: (self.login(cid).username, self.login(cid).password)

    def serve(self, name: str, handler: Handler) -> None:
        """Run ``handler`` as the MQTT client ``name`` in a thread; return once it is
        subscribed and connected. A service that cannot connect (refused, or no broker)
        raises its :class:`BrokerUnavailableError` here, as soon as its thread ends."""
        answers = _Answers(handler, self.topics.control_done(name), self.topics.clock())
        self._answers[name] = answers
        ready = threading.Event()

        def run() -> None:
            try:
                self.service_stats[name] = serve_handler(
                    self.login(name),
                    answers,
                    name,
                    topics=self.topics,
                    stop=self.stop,
                    on_ready=ready.set,
                    inbox_cfg=self.login(inbox(name)),
                )
            except Exception as exc:  # kept for the run to report, see failures
                self.failures[name] = exc
                log.error("the %s service stopped: %s", name, exc)

        th = threading.Thread(target=run, name=name, daemon=True)
        th.start()
        self._threads.append(th)
        self._service_threads[name] = th
        deadline = time.monotonic() + SERVICE_START_TIMEOUT_S
        while not ready.wait(0.05):
            if not th.is_alive():
                failure = self.failures.get(name)
                if failure is None or isinstance(failure, BrokerUnavailableError):
                    raise failure or BrokerUnavailableError(f"the {name} service stopped")
                raise failure
            if time.monotonic() > deadline:
                raise BrokerUnavailableError(
                    f"the {name} service did not connect to {self.cfg.url} within "
                    f"{SERVICE_START_TIMEOUT_S:g} s"
                )

    def wait_answered(self, name: str, t_s: float, timeout_s: float) -> bool:
        """Wait until service ``name`` answered the clock tick at ``t_s``; False after
        ``timeout_s``, or as soon as the service failed on that tick or stopped."""
        answers, th = self._answers[name], self._service_threads[name]
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if answers.wait(t_s, min(0.1, max(0.0, deadline - time.monotonic()))):
                return True
            if answers.failed_t_s >= t_s - 1e-6:
                return False
            if not th.is_alive():
                return answers.wait(t_s, 0.0)
        return False

    def stop_services(self) -> None:
        """Stop the services and wait for their threads (their stats are then final)."""
        self.stop.set()
        for th in self._threads:
            th.join(timeout=30)


class Pacer:
    """Holds a run to ``speed`` simulated seconds per wall second (None: as fast as it can)."""

    def __init__(self, speed: float | None) -> None:
        self.speed = speed
        self.wall0 = time.monotonic()

    def wait(self, t_s: float, idle: Callable[[float], None] = time.sleep) -> None:
        """Before going on past simulated time ``t_s``; ``idle(seconds)`` is how to wait
        (a publisher keeps its connections alive meanwhile)."""
        if not self.speed:
            return
        lag = self.wall0 + t_s / self.speed - time.monotonic()
        if lag > 0:
            idle(lag)
