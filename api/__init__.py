"""trafficsim: a smart-traffic twin of Ho Chi Minh City.

One import package with four layers, each in a folder of its own in the repository:
``trafficsim.sim`` (the world), ``trafficsim.sensors`` (field devices, signal cabinets and
the MQTT wire), ``trafficsim.models`` (the centre: predictor and signal controllers) and
``trafficsim.runner`` (the composition root: command line, closed loop, sweeps, report).

Importing ``trafficsim`` loads none of them; ``python -m trafficsim`` is the command line.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("trafficsim")
except PackageNotFoundError:  # imported from a source tree that was never installed
    __version__ = "unknown"
