"""External traffic data sets, loaded as a speed panel (time x sensor) and an adjacency.

Los-loop: 207 Los Angeles loop detectors, 5-minute mean speeds (mph), 2,016 steps from
2012-03-01 00:00 (a Thursday), and a weighted road-distance adjacency; the data set of
T-GCN (Zhao et al., IEEE T-ITS 2019), derived from METR-LA (Li et al., ICLR 2018). The files
are not shipped: pass their directory (``--data``); the sha256 of each is checked so that
results are comparable with the published ones.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

LOS_LOOP_SHA256 = {
    "los_speed.csv": "7b732d86ae32b2930595becba28aff39dacbfb2197e250fc0332e1744ce2cbf4",
    "los_adj.csv": "7a6eb41e10677992b5af50f5ab187c6c05c5c3a92cb973950cfddbf857361e76",
}
DEFAULT_LOS_LOOP_DIR = Path("..") / "shared" / "data" / "los_loop"


class DatasetError(ValueError):
    """A data set that cannot be used, with the file and the fix."""


@dataclass(frozen=True, slots=True)
class Panel:
    """Speeds of ``n`` sensors over ``t`` regular steps, and who neighbours whom."""

    name: str
    values: np.ndarray  # (t, n)
    adjacency: np.ndarray  # (n, n), weights, diagonal ignored
    sensor_ids: tuple[str, ...]
    step_s: float
    start_weekday: int  # 0 = Monday, for row 0
    unit: str
    start_offset_steps: int = 0  # steps from midnight to row 0

    def subset(self, k: int) -> Panel:
        """The first ``k`` sensors (for fast checks)."""
        return Panel(
            self.name,
            self.values[:, :k],
            self.adjacency[:k, :k],
            self.sensor_ids[:k],
            self.step_s,
            self.start_weekday,
            self.unit,
            self.start_offset_steps,
        )


def load_los_loop(directory: str | Path = DEFAULT_LOS_LOOP_DIR, *, verify: bool = True) -> Panel:
    d = Path(directory)
    for name, digest in LOS_LOOP_SHA256.items():
        path = d / name
        if not path.is_file():
            raise DatasetError(
                f"{path}: not found; give the directory holding los_speed.csv and los_adj.csv "
                "with --data (the repository's ../shared/data/los_loop when it is there)"
            )
        if verify and hashlib.sha256(path.read_bytes()).hexdigest() != digest:
            raise DatasetError(
                f"{path}: not the published Los-loop file (sha256 differs); "
                "results would not be comparable with T-GCN's"
            )
    with (d / "los_speed.csv").open(encoding="utf-8") as f:
        header = f.readline().strip().split(",")
    values = np.loadtxt(d / "los_speed.csv", delimiter=",", skiprows=1)
    adjacency = np.loadtxt(d / "los_adj.csv", delimiter=",")
    if values.shape[1] != len(header) or adjacency.shape != (len(header), len(header)):
        raise DatasetError(
            f"{d}: speeds have {values.shape[1]} columns, the header "
            f"{len(header)}, the adjacency {adjacency.shape}"
        )
    return Panel("los-loop", values, adjacency, tuple(header), 300.0, 3, "mph")
