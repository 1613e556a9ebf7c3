"""Helpers shared by test modules: free ports, the real Mosquitto binary, and waits.

A test that starts a process or a run waits for evidence, never for a fixed time: a
service's retained ``online`` status, a subscription acknowledgement, a file a process
writes, a count reached or a marker message. Every wait polls a condition with a generous
timeout and fails saying what it waited for, so a slow machine makes a test slower, not
flaky. Nothing outside this folder sleeps (tests/test_repository.py checks it).
"""

from __future__ import annotations

import contextlib
import getpass
import json
import queue
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from trafficsim.sensors.mqtt.subscriber import Message, Subscriber
from trafficsim.sensors.mqtt.transport import BrokerConfig

POLL_S = 0.05  # how often a wait looks again; nothing depends on it but the latency


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run_together(
    *commands: list[str], timeout_s: float = 300.0, **popen: Any
) -> list[subprocess.CompletedProcess[str]]:
    """Independent ``commands`` started at once and each waited for: what
    ``subprocess.run(command, capture_output=True, text=True)`` returns for each, in order.
    The suite runs one test at a time, so a command run beside another uses the core that
    would have stood idle."""
    procs = [
        subprocess.Popen(c, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen)
        for c in commands
    ]
    done: list[subprocess.CompletedProcess[str]] = []
    try:
        for command, proc in zip(commands, procs, strict=True):
            out, err = proc.communicate(timeout=timeout_s)
            done.append(subprocess.CompletedProcess(command, proc.returncode, out, err))
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    return done


def wait_for_port(port: int, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(POLL_S)
    raise RuntimeError(f"nothing listens on port {port} after {timeout_s} s")


def wait_until(
    condition: Callable[[], bool],
    what: str,
    *,
    timeout_s: float = 120.0,
    proc: subprocess.Popen[Any] | None = None,
    detail: Callable[[], str] = lambda: "",
) -> None:
    """Poll ``condition`` until it holds; fail naming ``what`` after ``timeout_s``, or as
    soon as ``proc`` (the process that should bring it about) has failed. A process that
    ended well may have left messages on their way, so the wait goes on."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if proc is not None and proc.poll() not in (None, 0):
            _, err = proc.communicate()
            said = err.decode("utf-8", "replace") if isinstance(err, bytes) else err or ""
            raise AssertionError(
                f"waiting for {what}: the process failed with {proc.returncode}{detail()}\n{said}"
            )
        if time.monotonic() > deadline:
            ended = "" if proc is None or proc.poll() is None else ", the process had ended"
            raise AssertionError(f"{what} did not happen within {timeout_s:g} s{ended}{detail()}")
        time.sleep(POLL_S)


def collect_until(
    sub: Subscriber,
    done: Callable[[list[Message]], bool],
    what: str,
    *,
    timeout_s: float = 120.0,
    proc: subprocess.Popen[Any] | None = None,
) -> list[Message]:
    """Every message ``sub`` received until ``done(messages so far)`` holds."""
    got: list[Message] = []

    def arrived() -> bool:
        before = len(got)
        with contextlib.suppress(queue.Empty):
            while True:
                got.append(sub.messages.get_nowait())
        return len(got) > before and done(got)

    wait_until(
        arrived, what, timeout_s=timeout_s, proc=proc, detail=lambda: f" ({len(got)} messages)"
    )
    return got


def wait_for_online(
    cfg: BrokerConfig,
    client_id: str,
    *,
    root: str = "hcmc",
    proc: subprocess.Popen[Any] | None = None,
    timeout_s: float = 120.0,
) -> None:
    """Return once ``{root}/status/{client_id}`` says ``online`` (the retained status, or
    the live one when it comes later). A retained ``online`` belongs to a live client: every
    client leaves a retained ``offline`` (its last will, or its goodbye). For a service run
    by ``serve_handler`` it also proves the service is subscribed: it subscribes first and
    only then connects the client that announces ``online``."""
    topic = f"{root}/status/{client_id}"
    sub = Subscriber(cfg, f"wait-online-{time.monotonic_ns()}", topic).start(timeout_s)
    try:
        collect_until(
            sub,
            lambda msgs: any(m.payload == b"online" for m in msgs),
            f"{client_id} online on {topic}",
            timeout_s=timeout_s,
            proc=proc,
        )
    finally:
        sub.stop()


def record_stats(out: Path) -> dict[str, Any]:
    """What the recorder into ``out`` last wrote in record_stats.json (empty before its
    first roll). It rewrites the file (atomically) at the end of every roll, after that
    roll's readings file."""
    try:
        return dict(json.loads((out / "record_stats.json").read_text()))
    except FileNotFoundError:
        return {}


def wait_for_recorded(
    out: Path, readings: int, rec: subprocess.Popen[str], timeout_s: float = 120.0
) -> None:
    """Return once the recorder into ``out`` has ``readings`` readings in its files."""
    wait_until(
        lambda: record_stats(out).get("readings", 0) >= readings,
        f"the recorder's {readings} readings",
        timeout_s=timeout_s,
        proc=rec,
        detail=lambda: f" ({record_stats(out).get('readings', 0)} recorded)",
    )


def hang_up_on_a_client(port: int, timeout_s: float = 60.0) -> None:
    """Listen on ``port`` until a client tries to connect, and hang up on it: where a broker
    was, this proves its clients noticed it is gone and tried to come back."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
        s.listen()
        s.settimeout(timeout_s)
        try:
            conn, _ = s.accept()
        except TimeoutError:
            raise AssertionError(f"no client tried port {port} within {timeout_s:g} s") from None
        conn.close()


def start_mosquitto(conf_text: str, tmp: Path) -> tuple[subprocess.Popen[bytes], Path]:
    """Run the real Mosquitto with ``conf_text`` (its listener on a free loopback port)."""
    exe = shutil.which("mosquitto")
    if exe is None:
        pytest.skip(
            "the mosquitto binary is not installed (apt-get install mosquitto; .ci/run installs it)"
        )
    conf = tmp / "mosquitto.conf"
    conf.write_text(conf_text, encoding="utf-8")
    log = tmp / "mosquitto.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([exe, "-c", str(conf)], stdout=out, stderr=subprocess.STDOUT)
    return proc, log


class RestartableMosquitto:
    """A real Mosquitto that keeps sessions and queued messages on disk (``persistence
    true``), so that it can be stopped with SIGTERM (it saves its database on the way out)
    and started again on the same port with the same data directory, as a deployment's
    broker restarts."""

    def __init__(self, tmp: Path) -> None:
        self.port = free_port()
        self.tmp = tmp
        self.conf = (
            f"listener {self.port} 127.0.0.1\nallow_anonymous true\n"
            f"persistence true\npersistence_location {tmp}/\nautosave_interval 3600\n"
            "max_queued_messages 1000000\n"
            # Mosquitto started as root drops to the user "mosquitto", which cannot write
            # pytest's private directories; as anyone else it ignores this line.
            f"user {getpass.getuser()}\n"
        )
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> RestartableMosquitto:
        self.starts += 1
        run = self.tmp / f"run-{self.starts}"
        run.mkdir()
        self.proc, log = start_mosquitto(self.conf, run)
        try:
            wait_for_port(self.port)
        except RuntimeError:
            self.proc.kill()
            pytest.fail(f"mosquitto did not start: {log.read_text()}")
        return self

    def stop(self) -> None:
        """SIGTERM, as ``docker compose stop`` or a service manager sends it."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)
        self.proc = None

    def restart(self, down_s: float) -> float:
        """Stop, stay away for ``down_s`` (the outage is what the test is about, not a
        wait for something), start again; returns how long clients had no broker."""
        t0 = time.monotonic()
        self.stop()
        time.sleep(max(0.0, t0 + down_s - time.monotonic()))
        self.start()
        return time.monotonic() - t0


def start_recorder(
    exe: str, url: str, out: Path, *, client_id: str | None = None, root: str = "hcmc"
) -> subprocess.Popen[str]:
    """``trafficsim record`` into ``out``, returned once it is subscribed (it subscribes
    before its first roll, which writes the stats file). Each gets its own client id (its
    persistent session) unless ``client_id`` says otherwise."""
    cid = client_id or f"recorder-{out.parent.name}-{out.name}"[-64:]
    proc = subprocess.Popen(
        [
            exe,
            "record",
            "--broker",
            url,
            "--out",
            str(out),
            "--roll",
            "1",
            "--client-id",
            cid,
            "--topic-root",
            root,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until((out / "record_stats.json").exists, "the recorder's first roll", proc=proc)
    except AssertionError:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        raise
    return proc


DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "mosquitto"


def deployment_conf(port: int, secrets: Path) -> str:
    """The repository's Mosquitto configuration (its TLS listener), pointed at a loopback
    port and the broker's folder of a ``trafficsim credentials`` output on this machine;
    ``user root`` (test only) lets the broker read pytest's private tmp directories."""
    conf = (DEPLOY / "mosquitto.conf").read_text(encoding="utf-8")
    assert "listener 8883\n" in conf and "/mosquitto/secrets/" in conf
    conf = (
        conf.replace("listener 8883", f"listener {port} 127.0.0.1")
        .replace("/mosquitto/secrets/", f"{secrets / 'mosquitto'}/")
        .replace("/mosquitto/config/acl", str(DEPLOY / "acl"))
        .replace("persistence true", "persistence false")
    )
    return conf + "\nuser root\n"


def grid2_scenario(tmp: Path, hours: float) -> Path:
    """The 2 x 2 grid for ``hours``, with 2 % of readings dropped (gaps in ``seq``)."""
    import tomli_w

    from trafficsim.sim.catalog import scenario_data

    data, _ = scenario_data("grid", {"size": 2, "duration_s": hours * 3600.0})
    data["sensors"] = {"faults": {"drop": 0.02, "stuck": 0.0, "offline": 0.0}}
    path = tmp / f"grid2-{hours:g}h.toml"
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    return path


def record_grid2(exe: str, url: str, tmp: Path) -> Path:
    """Three simulated hours of the 2 x 2 grid's feed (:func:`grid2_scenario`) as
    ``trafficsim record`` keeps them, in ``tmp/rec``: what a user trains a predictor on."""
    import signal

    rec = start_recorder(exe, url, tmp / "rec")
    run = subprocess.run(
        [
            exe,
            "run",
            "--scenario",
            str(grid2_scenario(tmp, 3)),
            "--broker",
            url,
            "--out",
            str(tmp / "o"),
            "--quiet",
            "--no-plot",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    published = json.loads((tmp / "o" / "feed.json").read_text())["readings_published"]
    wait_for_recorded(tmp / "rec", published, rec)
    rec.send_signal(signal.SIGTERM)
    _, err = rec.communicate(timeout=60)
    assert rec.returncode == 0, err
    return tmp / "rec"


PREDICTOR_TRAINING = ("--horizons", "5,15", "--max-iter", "60")
"""How :func:`train_predictor_model` trains (test_watch_record.py checks what it gives)."""


def train_predictor_model(exe: str, recording: Path, out: Path) -> Path:
    """A predictor model trained as a user would: ``trafficsim train --from-recording``
    (:data:`PREDICTOR_TRAINING`) on a recording of :func:`record_grid2`, into ``out``."""
    p = subprocess.run(
        [exe, "train", "--from-recording", str(recording), "--out", str(out), *PREDICTOR_TRAINING],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert p.returncode == 0, p.stderr
    return out


def secured_login(port: int, secrets: Path, username: str | None) -> BrokerConfig:
    """How a test client reaches a broker of :func:`deployment_conf`: TLS verified with the
    private CA, as ``username`` with its password from ``secrets/clients.toml``."""
    import tomllib

    pw = tomllib.loads((secrets / "clients.toml").read_text(encoding="utf-8"))["clients"]
    return BrokerConfig(
        port=port,
        tls=True,
        ca_certs=str(secrets / "ca.crt"),
        username=username,
        password=pw.get(username) if username else None,
    )


class Lines:
    """What a process prints on stdout, read line by line in a thread (so a test can wait
    for a line without blocking on the pipe)."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.proc = proc
        self.lines: list[str] = []
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)

    def wait_for(self, text: str, timeout_s: float = 60.0) -> None:
        wait_until(
            lambda: any(text in line for line in self.lines),
            f"a line with {text!r}",
            timeout_s=timeout_s,
            proc=self.proc,
            detail=lambda: f" (printed: {''.join(self.lines)[-500:]!r})",
        )

    def text(self) -> str:
        """Everything printed (call once the process has ended)."""
        self._thread.join(timeout=5)
        return "".join(self.lines)


def terminate_all(procs: dict[str, subprocess.Popen[str]], timeout_s: float) -> dict[str, float]:
    """SIGTERM to every process at once; wall seconds each took to exit (measured by
    polling, so at most a poll late), or a failure naming those still running after
    ``timeout_s`` (they are killed)."""
    t0 = time.monotonic()
    for p in procs.values():
        p.send_signal(signal.SIGTERM)
    took: dict[str, float] = {}
    while len(took) < len(procs) and time.monotonic() - t0 < timeout_s:
        for name, p in procs.items():
            if name not in took and p.poll() is not None:
                took[name] = time.monotonic() - t0
        time.sleep(0.01)
    alive = [n for n in procs if n not in took]
    for n in alive:
        procs[n].kill()
        procs[n].wait()
    assert not alive, f"still running {timeout_s:g} s after SIGTERM: {alive}"
    return took


def syn_sent_to(port: int) -> int:
    """Connection attempts to ``port`` on this machine still waiting for an answer (TCP
    SYN_SENT, from /proc/net/tcp): clients stuck connecting to a broker that is gone."""
    n = 0
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[3] == "02" and int(fields[2].split(":")[1], 16) == port:
            n += 1
    return n


@contextlib.contextmanager
def unanswered_port(port: int) -> Iterator[None]:
    """Where a broker was, a listener whose backlog is full: new connections to ``port``
    get no answer (their SYNs are dropped), as for a broker host that is down or cut off,
    so clients hang in connect() instead of being refused at once."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
        s.listen(0)
        fillers = []
        try:
            for _ in range(4):  # fill the accept queue (never accepted)
                f = socket.socket()
                f.setblocking(False)
                with contextlib.suppress(BlockingIOError):
                    f.connect(("127.0.0.1", port))
                fillers.append(f)
            yield
        finally:
            for f in fillers:
                f.close()
