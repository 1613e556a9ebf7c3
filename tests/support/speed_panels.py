"""Small speed panels in the Los-loop layout, written as real CSV files for the loader and
for ``trafficsim evaluate --dataset csv``."""

from __future__ import annotations

from pathlib import Path

import numpy as np

STEPS_PER_DAY = 288  # 5-minute steps


def panel_values(rows: int, sensors: int, seed: int = 0) -> np.ndarray:
    """Speeds (mph) with a morning and an evening dip and some noise, seeded."""
    rng = np.random.default_rng(seed)
    t = np.arange(rows)[:, None] % STEPS_PER_DAY / STEPS_PER_DAY
    dips = np.exp(-(((t - 0.33) / 0.04) ** 2)) + np.exp(-(((t - 0.75) / 0.05) ** 2))
    free = rng.uniform(55.0, 65.0, sensors)
    return free * (1.0 - 0.4 * dips) + rng.normal(0.0, 1.5, (rows, sensors))


def ring_adjacency(sensors: int) -> np.ndarray:
    """Each sensor neighbours the next and the one before, weight 0.5; diagonal 1."""
    a = np.eye(sensors)
    for i in range(sensors):
        a[i, (i + 1) % sensors] = a[(i + 1) % sensors, i] = 0.5 if sensors > 1 else 1.0
    return a


def write_panel(
    directory: Path,
    rows: int = 2 * STEPS_PER_DAY,
    sensors: int = 4,
    *,
    names: tuple[str, str] = ("speeds.csv", "adjacency.csv"),
    seed: int = 0,
) -> Path:
    """Write a speeds file (header of sensor ids, one row per step) and its adjacency."""
    directory.mkdir(parents=True, exist_ok=True)
    values = panel_values(rows, sensors, seed)
    header = ",".join(str(700000 + i) for i in range(sensors))
    body = "\n".join(",".join(f"{v:.4f}" for v in row) for row in values)
    (directory / names[0]).write_text(f"{header}\n{body}\n", encoding="utf-8")
    adjacency = "\n".join(",".join(f"{w:g}" for w in row) for row in ring_adjacency(sensors))
    (directory / names[1]).write_text(adjacency + "\n", encoding="utf-8")
    return directory
