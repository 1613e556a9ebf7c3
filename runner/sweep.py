"""Many closed-loop runs on Dask: local processes by default, or a ``dask.distributed``
scheduler to go to a cluster. A job is one (scenario, controller, seed) in memory; its
result is the row of figures a comparison summarises."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trafficsim.runner.stats import METRICS
from trafficsim.sensors.deployment_spec import DeploymentSpec
from trafficsim.sim import Scenario, compute


@dataclass(frozen=True, slots=True)
class Job:
    scenario: Scenario
    controller: str
    seed: int
    step_s: float = 2.0
    predictor_model: Path | None = None
    params: tuple[tuple[str, Any], ...] = ()
    detail: bool = False
    """Also return series, per-intersection figures and the other fleet's totals (report)."""
    name: str | None = None
    """The run's name in the results (default: the controller), e.g. ``fixed-retimed``."""
    deployment: DeploymentSpec | None = None
    """The field devices (default: the scenario's ``[sensors]`` table)."""


def run_job(job: Job) -> dict[str, Any]:
    """One closed-loop run in memory; returns the figures the comparison needs."""
    # Imported here, where a run starts: the report's settings, which the command line reads
    # for its option defaults, stay cheap to import (no broker, MQTT or optimizer modules).
    from trafficsim.runner.closed_loop import LoopOptions, run_closed_loop

    opts = LoopOptions(
        controller=job.controller,
        controller_params=job.params,
        step_s=job.step_s,
        predictor_model=job.predictor_model,
        deployment=job.deployment,
    )
    world, stats = run_closed_loop(job.scenario, job.seed, opts)
    result = compute(world)
    s = result.summary
    out = {k: s[k] for k, _ in METRICS if k in s}
    out["mean_queue_veh"] = round(sum(a["mean_queue_veh"] for a in s["approaches"]), 3)
    out["throughput_veh_per_h"] = round(
        s["vehicles_completed"] * 3600.0 / job.scenario.duration_s, 2
    )
    out["controller"] = job.name or job.controller
    out["seed"] = job.seed
    out["rejected_commands"] = stats.rejected
    out["fallbacks"] = stats.fallbacks
    if job.detail:
        from trafficsim.runner.report.details import run_detail

        out["detail"] = run_detail(world, result)
    return out


def run_jobs(
    jobs: Sequence[Job],
    *,
    workers: int = 2,
    scheduler: str | None = None,
    on_done: Callable[[dict[str, Any]], None] = lambda r: None,
) -> list[dict[str, Any]]:
    """Every job on Dask, results in the jobs' order. One cluster for all of them, so the
    workers stay busy until the last run whatever the runs' lengths."""
    from dask.distributed import Client, LocalCluster, as_completed

    if scheduler:
        client = Client(scheduler)
        cluster = None
    else:
        cluster = LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
        )
        client = Client(cluster)
    rows: list[dict[str, Any] | None] = [None] * len(jobs)
    try:
        futures = client.map(run_job, list(jobs), pure=False)
        where = {f.key: i for i, f in enumerate(futures)}
        for fut in as_completed(futures):
            row = fut.result()
            rows[where[fut.key]] = row
            on_done(row)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    return [r for r in rows if r is not None]
