"""The impact report end to end, reduced (two seeds, five minutes of the HCMC centre, two
levels per sensitivity sweep): every file and figure is written, every number of its tables
is the one comparison.json or report_data.json holds, and the same command gives the same
report."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from tests_support import run_together

from trafficsim.runner.closed_loop import LoopOptions, run_closed_loop
from trafficsim.runner.formatting import decimals, reduction
from trafficsim.runner.report import CityAssumptions
from trafficsim.runner.report.cases import ADAPTIVE, CONTROLLERS, RETIMED
from trafficsim.runner.stats import METRICS
from trafficsim.sensors.deployment_spec import DeploymentSpec
from trafficsim.sim import compute, load_scenario

FIGURES = (
    "delay_over_time.png",
    "queue_over_time.png",
    "emissions.png",
    "map_delay.png",
    "map_co2_reduction.png",
    "comparison.png",
    "sensitivity.png",
)
SWEEPS = ["--demand-factors", "0.8,1.2", "--instrumented-shares", "0.5", "--fault-factors", "0,5"]


def _report(exe: str, out: Path) -> list[str]:
    return [
        exe, "report", "--scenario", "hcmc-center", "--duration", "300", "--seeds", "2",
        "--sensitivity-seeds", "2", *SWEEPS, "--workers", "2", "--out", str(out), "--quiet",
    ]  # fmt: skip


@pytest.fixture(scope="module")
def reports(trafficsim_exe: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The same command twice, at the same time (each on a Dask cluster of its own): one
    report's start, figures and pages while the other's runs keep the cores busy."""
    a, b = tmp_path_factory.mktemp("report-a"), tmp_path_factory.mktemp("report-b")
    for p in run_together(_report(trafficsim_exe, a), _report(trafficsim_exe, b), timeout_s=600):
        assert p.returncode == 0, p.stderr
    return a, b


def _table(md: str, heading: str) -> list[list[str]]:
    """The body rows of the first table after ``heading``."""
    rows: list[str] = []
    for line in md.split(heading, 1)[1].splitlines():
        if line.startswith("|"):
            rows.append(line)
        elif rows:
            break
    return [[c.strip() for c in r.strip("|").split("|")] for r in rows[2:]]


def test_every_file_and_figure_is_written(reports) -> None:
    out, _ = reports
    for name in ("report.md", "report.html", "comparison.json", "comparison.md", *FIGURES):
        assert (out / name).stat().st_size > 500, name
    md = (out / "report.md").read_text()
    assert all(f"]({f})" in md for f in FIGURES)
    html = (out / "report.html").read_text()
    # One file to mail: every figure embedded, none left as a link to a file beside it.
    assert "<table>" in html and "<nav>" in html
    assert html.count('src="data:image/png;base64,') == md.count("![")
    assert all(f'data-file="{f}"' in html for f in FIGURES)
    assert 'src="' not in html.replace('src="data:image/png;base64,', "")
    assert "Reproduce: `trafficsim report --scenario hcmc-center --seeds 2 --duration 300 " in md


def test_reduction_table_matches_comparison_json(reports) -> None:
    out, _ = reports
    cmp = json.loads((out / "comparison.json").read_text())
    md = (out / "report.md").read_text()
    rows = _table(md, "## Reductions against today's fixed-time signals")
    assert [r[0] for r in rows] == [label for _, label in METRICS]
    for row, (key, _) in zip(rows, METRICS, strict=True):
        assert row[1] == decimals(cmp["controllers"]["fixed"][key]["mean"], 2)
        for cell, name in zip(row[2:], CONTROLLERS[1:], strict=True):
            red = cmp["reduction_vs_fixed"][name][key]
            assert cell == reduction(red), (key, name)


def test_retimed_baseline_table_matches_the_paired_runs(reports) -> None:
    out, _ = reports
    cmp = json.loads((out / "comparison.json").read_text())
    data = json.loads((out / "report_data.json").read_text())
    md = (out / "report.md").read_text()
    assert RETIMED in cmp["controllers"] and RETIMED in cmp["reduction_vs_fixed"]
    # Its design flows differ from the stored plans: the runs are not the fixed ones again.
    runs = {(r["controller"], r["seed"]): r for r in cmp["runs"]}
    assert runs[(RETIMED, 0)]["mean_delay_s"] != runs[("fixed", 0)]["mean_delay_s"]
    rows = _table(md, "## Against fixed-time plans retimed to the counts")
    assert [r[0] for r in rows] == [label for _, label in METRICS]
    for row, (key, _) in zip(rows, METRICS, strict=True):
        assert row[1] == decimals(cmp["controllers"][RETIMED][key]["mean"], 2)
        for cell, name in zip(row[2:], ADAPTIVE, strict=True):
            red = data["reduction_vs_retimed"][name][key]
            assert cell == reduction(red), (key, name)
    # The paired reduction, recomputed from the runs.
    d = [(runs[(RETIMED, s)]["mean_delay_s"] - runs[("predictive", s)]["mean_delay_s"])
         for s in cmp["seeds"]]  # fmt: skip
    base = sum(runs[(RETIMED, s)]["mean_delay_s"] for s in cmp["seeds"]) / len(cmp["seeds"])
    pct = 100 * sum(d) / len(d) / base
    assert data["reduction_vs_retimed"]["predictive"]["mean_delay_s"]["pct"] == pytest.approx(
        pct, abs=1e-3
    )


def test_city_extrapolation_follows_from_the_runs_and_the_assumptions(reports) -> None:
    out, _ = reports
    cmp = json.loads((out / "comparison.json").read_text())
    md = (out / "report.md").read_text()
    city = CityAssumptions()
    assert f"{city.signalized_intersections} signalized intersections" in md
    sc = load_scenario("hcmc-center")
    n_signals = sum(1 for n in sc.nodes if n.kind.value == "signal")
    assert f"{city.fixed_time_intersections} of them on fixed cycles" in md
    scale = (city.fixed_time_intersections * city.share_like_modelled / n_signals
             * city.peaks_per_day * city.working_days_per_year)  # fmt: skip
    runs = {(r["controller"], r["seed"]): r for r in cmp["runs"]}
    rows = {r[0]: r for r in _table(md, "## From the centre to the city")}
    for name in CONTROLLERS[1:]:
        co2_t = [(runs[("fixed", s)]["co2_kg"] - runs[(name, s)]["co2_kg"]) / 1000 * scale
                 for s in cmp["seeds"]]  # fmt: skip
        mean = sum(co2_t) / len(co2_t)
        assert rows[name][1].startswith(decimals(mean, 0) + " ["), (name, rows[name][1], mean)


def test_monitoring_section_names_the_emission_hotspots(reports) -> None:
    out, _ = reports
    md = (out / "report.md").read_text()
    rows = _table(md, "## Where emissions concentrate")
    assert len(rows) == 5
    co2 = [float(r[1].replace(",", "")) for r in rows]
    assert co2 == sorted(co2, reverse=True)
    # Named by the streets that meet there (OSM's names), with the node's id.
    streets = {ln.name for ln in load_scenario("hcmc-center", {"duration_s": 60.0}).links}
    for r in rows:
        m = re.fullmatch(r"(.+) x (.+) \((\S+)\)", r[0])
        assert m and {m[1], m[2]} <= streets, r[0]


def test_same_command_same_report(reports) -> None:
    a, b = reports
    assert (a / "report.md").read_text() == (b / "report.md").read_text()
    assert (a / "comparison.json").read_text() == (b / "comparison.json").read_text()


def test_sensitivity_cases_are_the_ones_computed(reports) -> None:
    out, _ = reports
    md = (out / "report.md").read_text()
    data = json.loads((out / "report_data.json").read_text())
    cases = data["sensitivity"]
    rows = {r[0]: r for r in _table(md, "## Sensitivity")}
    assert {label: (c["group"], c["level"]) for label, c in cases.items()} == {
        "demand -20 %": ("demand", 0.8),
        "demand +20 %": ("demand", 1.2),
        "detectors at 50% of the intersections": ("detectors", 0.5),
        "sensor fault rates x0": ("faults", 0.0),
        "sensor fault rates x5": ("faults", 5.0),
        # Another model of the city: the width-based saturation flow.
        "width-based saturation flow (S0 = 600 PCU/h per m), same demand": ("model", None),
    }
    base = data["sensitivity_as_modelled"]
    for label, case in [("as modelled", base), *cases.items()]:
        red = case["reduction_vs_fixed"]["predictive"]
        for col, key in ((1, "mean_delay_s"), (2, "co2_kg")):
            assert rows[label][col] == reduction(red[key])
    assert "`hbefa4` emission factors (seeds [0, 1])" in rows
    # Sensor cases are compared with the as-modelled fixed-time runs (same traffic).
    fixed = base["controllers"]["fixed"]
    assert cases["sensor fault rates x5"]["controllers"]["fixed"] == fixed
    assert cases["demand +20 %"]["controllers"]["fixed"] != fixed


def test_key_findings_quote_the_tables(reports) -> None:
    out, _ = reports
    cmp = json.loads((out / "comparison.json").read_text())
    md = (out / "report.md").read_text()
    findings = md.split("## Key findings", 1)[1].split("\n## ", 1)[0]
    red = cmp["reduction_vs_fixed"]
    best = max(CONTROLLERS[1:], key=lambda n: red[n]["mean_delay_s"]["pct"])
    d, c = red[best]["mean_delay_s"], red[best]["co2_kg"]
    assert (
        f"`{best}` control cuts the mean delay by {reduction(d)} and CO2 by {reduction(c)}"
    ) in findings
    fixed = cmp["controllers"]["fixed"]["mean_delay_s"]["mean"]
    assert f"a vehicle loses {decimals(fixed)} s on average" in findings


def test_fixed_time_traffic_does_not_depend_on_the_sensors() -> None:
    """Why the report may reuse the as-modelled fixed-time runs as the baseline of its sensor
    cases: fewer detectors or more faults leave fixed-time traffic unchanged, while they do
    change what the predictive controller does."""
    sc = load_scenario("hcmc-center", {"duration_s": 240.0})

    def summary(deployment: DeploymentSpec | None, controller: str) -> str:
        opts = LoopOptions(controller=controller, deployment=deployment)
        world, _ = run_closed_loop(sc, 4, opts)
        s = compute(world).summary
        s.pop("wall_time_s")
        return json.dumps(s, sort_keys=True)

    spec = DeploymentSpec.of(sc)
    variants = [spec.covering(0.25, sc), spec.with_fault_factor(10.0)]
    assert all(summary(v, "fixed") == summary(None, "fixed") for v in variants)
    assert summary(variants[0], "predictive") != summary(None, "predictive")
