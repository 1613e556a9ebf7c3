"""What the Python API returns: one run, or a comparison of controllers over seeds.

Tables are Apache Arrow tables (``pyarrow.Table``): columns with their types, cheap to
slice, and one call from pandas or polars (``table.to_pandas()``, ``polars.from_arrow``).
``save()`` writes exactly the files the command line writes for the same run.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from trafficsim.runner.compare import write_comparison
from trafficsim.runner.output import write_run
from trafficsim.sim import RunMetrics, Scenario, World


def _table(columns: Mapping[str, np.ndarray]) -> pa.Table:
    """Equal-length arrays as a table; non-finite floats become nulls."""
    out = {}
    for name, values in columns.items():
        a = np.asarray(values)
        if a.dtype.kind == "f":
            out[name] = pa.array(a, mask=~np.isfinite(a))
        else:
            out[name] = pa.array(a)
    return pa.table(out)


@dataclass(frozen=True, slots=True)
class Emissions:
    """Where the emissions came from: per link, per intersection and per minute."""

    links: pa.Table
    intersections: pa.Table
    timeseries: pa.Table


@dataclass(frozen=True, slots=True)
class RunResult:
    """One simulated run."""

    scenario: Scenario
    seed: int
    metrics: RunMetrics
    """The raw figures (numpy arrays), as :func:`trafficsim.sim.compute` returns them."""
    world: World
    """The finished world, e.g. to compute the emissions with another fleet
    (``trafficsim.sim.compute(result.world, fleet="hbefa4")``)."""
    controller: str | None = None
    """The closed loop's controller, or None for a run on the scenario's stored plans."""
    control: Mapping[str, Any] | None = None
    """The closed loop's figures (``control.json``): commands, rejections, fallbacks."""
    feed: Mapping[str, Any] | None = None
    """The live feed's figures (``feed.json``) of a run that published over MQTT."""

    @property
    def summary(self) -> dict[str, Any]:
        """Exactly ``summary.json``: the run's figures in SI units."""
        return self.metrics.summary

    @property
    def vehicles(self) -> pa.Table:
        """One row per vehicle (``vehicles.csv``); times a vehicle has not reached (it is
        still in the network at the end) are null, as they are empty in the CSV."""
        return _table(self.metrics.vehicles)

    @property
    def queues(self) -> pa.Table:
        """Queue of every approach every 5 s, long format (``queues.csv``):
        ``t_s``, ``approach``, ``queue_veh``."""
        q = self.metrics.queues
        ids = list(q["ids"])
        t = np.asarray(q["t_s"], dtype=float)
        counts = np.asarray(q["queue_veh"]).reshape(len(ids), len(t))
        return pa.table(
            {
                "t_s": np.tile(t, len(ids)),
                "approach": np.repeat(np.array(ids, dtype=object), len(t)),
                "queue_veh": counts.astype(np.int64).ravel(),
            }
        )

    @property
    def network(self) -> pa.Table:
        """Vehicles in the network, waiting to enter and completed, every 5 s."""
        return _table(self.metrics.network)

    @property
    def emissions(self) -> Emissions | None:
        em = self.metrics.emissions
        if em is None:
            return None
        return Emissions(
            pa.Table.from_pylist(em.links),
            pa.Table.from_pylist(em.intersections),
            _table(em.series),
        )

    def save(self, out: str | Path, *, plot: bool = True) -> list[Path]:
        """Write the run's files into ``out`` (created if needed), as ``trafficsim run``
        does; returns their paths."""
        out = Path(out)
        files = write_run(self.metrics, out, plot=plot)
        for name, data in (("feed.json", self.feed), ("control.json", self.control)):
            if data is not None:
                files.append(out / name)
                files[-1].write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        return files


@dataclass(frozen=True, slots=True)
class Comparison:
    """Controllers on the same seeds: ``data`` is exactly ``comparison.json``."""

    data: Mapping[str, Any]

    @property
    def scenario(self) -> str:
        return str(self.data["scenario"])

    @property
    def runs(self) -> pa.Table:
        """One row per (controller, seed) with every metric."""
        return pa.Table.from_pylist(list(self.data["runs"]))

    @property
    def means(self) -> pa.Table:
        """Mean and 95 % confidence interval of every metric per controller."""
        rows = [
            {"controller": name, "metric": key, "mean": v["mean"],
             "ci95_low": v["ci95"][0], "ci95_high": v["ci95"][1]}
            for name, metrics in self.data["controllers"].items()
            for key, v in metrics.items()
        ]  # fmt: skip
        return pa.Table.from_pylist(rows)

    @property
    def reductions(self) -> pa.Table:
        """Every controller's reduction against ``fixed`` in %, paired by seed (positive =
        better than fixed), with the 95 % confidence interval."""
        rows = [
            {"controller": name, "metric": key, "reduction_pct": v["pct"],
             "ci95_low_pct": v["ci95_pct"][0], "ci95_high_pct": v["ci95_pct"][1]}
            for name, metrics in self.data["reduction_vs_fixed"].items()
            for key, v in metrics.items()
        ]  # fmt: skip
        return pa.Table.from_pylist(rows)

    def save(self, out: str | Path) -> list[Path]:
        """``comparison.json``, ``comparison.md`` and ``comparison.png`` into ``out``, as
        ``trafficsim compare`` writes them."""
        return write_comparison(dict(self.data), Path(out))
