"""The random streams of a run, named in one place.

A run has one seed. Every consumer draws from its own child of ``SeedSequence(seed)``,
identified by a spawn key listed here, so that adding draws to one consumer never shifts
another's: the sensors' noise and faults do not change the traffic, and fixed-time traffic
is the same whatever the detectors do (the report relies on it). scikit-learn estimators
take the seed itself as ``random_state`` (they accept no ``Generator``).
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np


class Stream(IntEnum):
    """Spawn keys under the run's seed; never renumber one (results would change)."""

    DEMAND = 0
    """Arrivals and vehicle classes at every entry (one child per demand)."""
    TURNS = 1
    """Turning choices at the nodes."""
    SENSORS = 2
    """Field devices: one child per device, split into faults, noise and its own draws."""
    TRAINING_DAYS = 3
    """The daily variation (surges, incidents) of simulated training days."""
    OD = 4
    """OD flows between zones: one child per ``[[od]]``, drawing its departure times, then
    classes, then start links, then end links (in that order, so a new draw goes last)."""


def seed_sequence(seed: int, stream: Stream) -> np.random.SeedSequence:
    """The seed sequence of ``stream`` in the run with ``seed``."""
    return np.random.SeedSequence(seed, spawn_key=(int(stream),))


def generator(seed: int, stream: Stream) -> np.random.Generator:
    return np.random.default_rng(seed_sequence(seed, stream))
