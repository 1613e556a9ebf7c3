"""The impact report end to end, reduced (two seeds, five minutes of the HCMC centre): every
file and figure is written, every number of its tables is the one comparison.json holds, and
the same command gives the same report."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from runner.compare import METRICS
from runner.report import CONTROLLERS, CityAssumptions
from sim import load_scenario

FIGURES = (
    "delay_over_time.png",
    "queue_over_time.png",
    "emissions.png",
    "map_delay.png",
    "map_co2_reduction.png",
    "comparison.png",
)


def _report(exe: str, out: Path) -> None:
    p = subprocess.run(
        [exe, "report", "--scenario", "hcmc-center", "--duration", "300", "--seeds", "2",
         "--sensitivity-seeds", "2", "--workers", "2", "--out", str(out), "--quiet"],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert p.returncode == 0, p.stderr


@pytest.fixture(scope="module")
def reports(trafficsim_exe: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    a, b = tmp_path_factory.mktemp("report-a"), tmp_path_factory.mktemp("report-b")
    _report(trafficsim_exe, a)
    _report(trafficsim_exe, b)
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


def _fmt(x: float, nd: int = 1) -> str:
    return f"{x:,.{nd}f}"


def test_every_file_and_figure_is_written(reports) -> None:
    out, _ = reports
    for name in ("report.md", "report.html", "comparison.json", "comparison.md", *FIGURES):
        assert (out / name).stat().st_size > 500, name
    html = (out / "report.html").read_text()
    assert "<table>" in html and all(f'src="{f}"' in html for f in FIGURES[:5])


def test_reduction_table_matches_comparison_json(reports) -> None:
    out, _ = reports
    cmp = json.loads((out / "comparison.json").read_text())
    md = (out / "report.md").read_text()
    rows = _table(md, "## Reductions against today's fixed-time signals")
    assert [r[0] for r in rows] == [label for _, label in METRICS]
    for row, (key, _) in zip(rows, METRICS, strict=True):
        assert row[1] == _fmt(cmp["controllers"]["fixed"][key]["mean"], 2)
        for cell, name in zip(row[2:], CONTROLLERS[1:], strict=True):
            red = cmp["reduction_vs_fixed"][name][key]
            lo, hi = red["ci95_pct"]
            assert cell == f"{_fmt(red['pct'])} % [{_fmt(lo)}, {_fmt(hi)}]", (key, name)


def test_city_extrapolation_follows_from_the_runs_and_the_assumptions(reports) -> None:
    out, _ = reports
    cmp = json.loads((out / "comparison.json").read_text())
    md = (out / "report.md").read_text()
    city = CityAssumptions()
    assert f"{city.signalized_intersections} signalized intersections" in md
    sc = load_scenario("hcmc-center")
    n_signals = sum(1 for n in sc.nodes if n.kind.value == "signal")
    scale = (city.signalized_intersections * city.share_like_modelled / n_signals
             * city.peaks_per_day * city.working_days_per_year)  # fmt: skip
    runs = {(r["controller"], r["seed"]): r for r in cmp["runs"]}
    rows = {r[0]: r for r in _table(md, "## From the centre to the city")}
    for name in CONTROLLERS[1:]:
        co2_t = [(runs[("fixed", s)]["co2_kg"] - runs[(name, s)]["co2_kg"]) / 1000 * scale
                 for s in cmp["seeds"]]  # fmt: skip
        mean = sum(co2_t) / len(co2_t)
        assert rows[name][1].startswith(_fmt(mean, 0) + " ["), (name, rows[name][1], mean)


def test_monitoring_section_names_the_emission_hotspots(reports) -> None:
    out, _ = reports
    md = (out / "report.md").read_text()
    rows = _table(md, "## Where emissions concentrate")
    assert len(rows) == 5
    co2 = [float(r[1].replace(",", "")) for r in rows]
    assert co2 == sorted(co2, reverse=True)
    assert all(re.fullmatch(r"[a-z0-9]+-[a-z0-9]+", r[0]) for r in rows)


def test_same_command_same_report(reports) -> None:
    a, b = reports
    assert (a / "report.md").read_text() == (b / "report.md").read_text()
    assert (a / "comparison.json").read_text() == (b / "comparison.json").read_text()


def test_sensitivity_cases_are_the_ones_computed(reports) -> None:
    out, _ = reports
    md = (out / "report.md").read_text()
    data = json.loads((out / "report_data.json").read_text())["sensitivity"]
    rows = {r[0]: r for r in _table(md, "## Sensitivity")}
    assert set(data) == {
        "demand -20 %",
        "demand +20 %",
        "detectors at half of the intersections",
        "sensor fault rates x5",
    }
    for label, case in data.items():
        red = case["reduction_vs_fixed"]["predictive"]["mean_delay_s"]
        lo, hi = red["ci95_pct"]
        assert rows[label][1] == f"{_fmt(red['pct'])} % [{_fmt(lo)}, {_fmt(hi)}]", label
    assert "`hbefa4` emission factors" in rows
