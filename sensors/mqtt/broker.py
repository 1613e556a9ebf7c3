"""The embedded broker: Mosquitto as a child process when installed, else amqtt in-process.

Either listens on 127.0.0.1 only (port 1883 when free, else any free port), allows
anonymous clients (it is reachable from this machine only) and is stopped by
:meth:`EmbeddedBroker.stop`. The Mosquitto configuration raises ``max_queued_messages``
from its default of 1000, which silently drops QoS 1 messages for a subscriber that falls
behind a fast simulation.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from enum import StrEnum
from pathlib import Path
from typing import Any

from trafficsim.sensors.mqtt.transport import BrokerConfig, BrokerUnavailableError


class BrokerKind(StrEnum):
    """Which embedded broker a run starts: Mosquitto when installed (``auto``), else amqtt."""

    AUTO = "auto"
    MOSQUITTO = "mosquitto"
    AMQTT = "amqtt"


EMBEDDED_MOSQUITTO_CONF = """\
# Written by trafficsim for an embedded, loopback-only broker.
listener {port} 127.0.0.1
allow_anonymous true
persistence false
max_queued_messages 1000000
max_inflight_messages 1000
log_dest stderr
log_type error
log_type warning
"""


MQTT_PORT = 1883
"""The standard MQTT port: the embedded broker takes it when it is free, so plain
``mosquitto_sub -t 'hcmc/#'`` finds the feed; otherwise any free port."""


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        # As servers bind: a port whose old connections linger in TIME_WAIT is free.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(host: str, port: int, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.2):
            return True
        time.sleep(0.05)
    return False


class EmbeddedBroker:
    """A broker for one run. Use as a context manager or call :meth:`start` / :meth:`stop`."""

    def __init__(self, kind: BrokerKind = BrokerKind.AUTO, port: int | None = None) -> None:
        kind = BrokerKind(kind)
        if kind is BrokerKind.AUTO:
            kind = BrokerKind.MOSQUITTO if shutil.which("mosquitto") else BrokerKind.AMQTT
        self.kind = kind
        if port is None:
            port = MQTT_PORT if port_is_free(MQTT_PORT) else free_port()
        self.port = port
        self._proc: subprocess.Popen[bytes] | None = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._broker: Any = None

    @property
    def config(self) -> BrokerConfig:
        return BrokerConfig(host="127.0.0.1", port=self.port)

    @property
    def url(self) -> str:
        return self.config.url

    def start(self, timeout_s: float = 10.0) -> EmbeddedBroker:
        if self.kind is BrokerKind.MOSQUITTO:
            self._start_mosquitto()
        else:
            self._start_amqtt(timeout_s)
        # amqtt is listening once its start() returned; probing it with a bare TCP connection
        # would only make it log a malformed-packet error.
        if self.kind is BrokerKind.MOSQUITTO and not wait_for_port(
            "127.0.0.1", self.port, timeout_s
        ):
            log = self.log()
            self.stop()
            raise BrokerUnavailableError(
                f"embedded {self.kind.value} broker did not listen on port "
                f"{self.port} within {timeout_s:g} s. {log}"
            )
        return self

    def _start_mosquitto(self) -> None:
        exe = shutil.which("mosquitto")
        if exe is None:
            raise BrokerUnavailableError(
                "mosquitto is not installed (apt-get install mosquitto), "
                "use the amqtt broker instead"
            )
        self._tmp = tempfile.TemporaryDirectory(prefix="trafficsim-mosquitto-")
        conf = Path(self._tmp.name) / "mosquitto.conf"
        conf.write_text(EMBEDDED_MOSQUITTO_CONF.format(port=self.port), encoding="utf-8")
        log = (Path(self._tmp.name) / "mosquitto.log").open("wb")
        self._proc = subprocess.Popen(  # noqa: S603 - the mosquitto on PATH, our own config
            [exe, "-c", str(conf)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()

    def _start_amqtt(self, timeout_s: float) -> None:
        from amqtt.broker import Broker

        config = {"listeners": {"default": {"type": "tcp", "bind": f"127.0.0.1:{self.port}"}}}
        loop = asyncio.new_event_loop()
        started = threading.Event()
        errors: list[BaseException] = []

        def run() -> None:
            asyncio.set_event_loop(loop)

            async def boot() -> None:
                self._broker = Broker(config, loop=loop)
                await self._broker.start()

            try:
                loop.run_until_complete(boot())
            except BaseException as exc:  # reported to the caller below
                errors.append(exc)
                started.set()
                return
            started.set()
            loop.run_forever()

        self._loop = loop
        self._thread = threading.Thread(target=run, name="amqtt-broker", daemon=True)
        self._thread.start()
        if not started.wait(timeout_s) or errors:
            raise BrokerUnavailableError(
                f"amqtt broker failed to start: {errors[0] if errors else 'timeout'}"
            )

    def log(self) -> str:
        if self._tmp is not None:
            p = Path(self._tmp.name) / "mosquitto.log"
            if p.exists():
                return p.read_text(encoding="utf-8", errors="replace")[-2000:]
        return ""

    def drain(self, timeout_s: float = 10.0) -> bool:
        """Wait until the broker has routed everything it accepted (amqtt queues messages
        internally after acknowledging them); True when nothing is left."""
        if self._broker is None:
            return True
        deadline = time.monotonic() + timeout_s
        q = getattr(self._broker, "_broadcast_queue", None)
        while q is not None and q.qsize() > 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        return q is None or q.qsize() == 0

    def stop(self) -> None:
        if self._proc is not None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            self._proc = None
        if self._loop is not None and self._broker is not None:
            fut = asyncio.run_coroutine_threadsafe(self._broker.shutdown(), self._loop)
            with contextlib.suppress(Exception):
                fut.result(timeout=5)
            self._loop.call_soon_threadsafe(self._loop.stop)
            if self._thread is not None:
                self._thread.join(timeout=5)
            self._loop = None
            self._broker = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> EmbeddedBroker:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
