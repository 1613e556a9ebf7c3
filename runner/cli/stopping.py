"""SIGTERM for commands that run to an end (``run``): stop as for Ctrl-C, within 2 s.

``docker compose stop`` sends SIGTERM and kills 10 s later; a service manager does the
same. Python's default for SIGTERM ends the process at once, with no ``offline`` from its
clients and no word on the terminal; here it raises :class:`Stopped` (a
:class:`KeyboardInterrupt`) in the main thread instead, so the command unwinds as it does for
Ctrl-C: every client says ``offline`` and leaves without waiting for a broker that is gone,
the services it started stop, and it ends with one line and its exit status.
"""

from __future__ import annotations

import argparse
import functools
import signal

from rich.console import Console

from trafficsim.runner.cli.common import Handler

EXIT_STOPPED = 128 + 15
"""Exit status after SIGTERM (the shells' convention for a process ended by a signal)."""
EXIT_INTERRUPTED = 128 + 2
"""Exit status after Ctrl-C (SIGINT)."""


class Stopped(KeyboardInterrupt):
    """SIGTERM arrived."""


def _raise_stopped(signum: int, frame: object) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second one while unwinding: ignored
    raise Stopped


def stops_cleanly(handler: Handler) -> Handler:
    """``handler`` with SIGTERM and Ctrl-C turned into one line and exit status 143 or 130
    (nothing is written: a run cut short has no results)."""

    @functools.wraps(handler)
    def run(args: argparse.Namespace) -> int:
        old = signal.signal(signal.SIGTERM, _raise_stopped)
        try:
            return handler(args)
        except KeyboardInterrupt as exc:
            name = "SIGTERM" if isinstance(exc, Stopped) else "Ctrl-C"
            Console(stderr=True).print(
                f"stopped by {name}: its clients said offline and left; no results written",
                highlight=False,
            )
            return EXIT_STOPPED if isinstance(exc, Stopped) else EXIT_INTERRUPTED
        finally:
            signal.signal(signal.SIGTERM, old)

    return run
