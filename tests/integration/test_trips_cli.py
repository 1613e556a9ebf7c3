"""Routed demand on the command line: the documented example runs and reports SUMO's delay;
bad routed demand (unknown links, routes, zones and classes, a route whose links no
movement joins, a missing trips file, a bad column) ends with one line naming the file and
the field, exit status 2, nothing written (the contract is in
``tests/support/cli_refusal.py``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_refusal import fill, refused_in_process
from routed_net import trip, two_paths

RUN = ["run", "--no-mqtt", "--quiet", "--no-plot", "--out", "{cwd}/o", "--scenario"]

CASES: list[tuple[str, str, str, str]] = [
    # (id, demand tables or trips-file head, file the line names, what it says)
    (
        "unknown-link",
        trip(0, links=["O_A", "X"]),
        "two_paths.toml",
        "trips[0].links: unknown link 'X'",
    ),
    (
        "broken-route",
        '[[routes]]\nid = "r"\nlinks = ["O_A", "M_B"]\n',
        "two_paths.toml",
        "routes[0].links: route 'r': links 'O_A' and 'M_B' follow each other but no movement "
        "joins them",
    ),
    ("unknown-route", trip(0, route="r"), "two_paths.toml", "trips[0].route: unknown route 'r'"),
    (
        "unknown-class",
        trip(0, "tram", links=["O_A"]),
        "two_paths.toml",
        "trips[0].class: unknown vehicle class 'tram'",
    ),
    (
        "unknown-zone",
        '[[od]]\nfrom = "z"\nto = "z"\nflow_veh_per_h = 60\n',
        "two_paths.toml",
        "od[0].from: unknown zone 'z'",
    ),
    ("missing-file", "HEAD:none.csv", "two_paths.toml", "scenario.trips_file: file not found"),
    ("bad-column", "HEAD:cols.csv", "cols.csv", "columns: unknown column 'link'"),
    ("bad-row", "HEAD:rows.csv", "rows.csv", "rows[1].links: unknown link 'Q'"),
]


@pytest.fixture
def cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


@pytest.mark.parametrize(
    ("demand", "file", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_bad_trips_refused(
    demand: str,
    file: str,
    expected: str,
    tmp_path: Path,
    cwd: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    (inputs / "cols.csv").write_text("id,depart_s,class,link\n", encoding="utf-8")
    (inputs / "rows.csv").write_text(
        "id,depart_s,class,links\na,0,car,O_A\nb,1,car,O_A Q\n", encoding="utf-8"
    )
    head = ""
    if demand.startswith("HEAD:"):
        head, demand = f'trips_file = "{demand[5:]}"', ""
    path = two_paths(inputs, demand, head=head)
    line = refused_in_process(fill([*RUN, str(path)], cwd=cwd), expected, cwd, inputs, capsys)
    assert line.startswith(f"error: {inputs / file}: "), line


EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "routes_od.toml"


def test_the_routed_example_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from trafficsim.runner.cli import main

    out = tmp_path / "out"
    argv = ["run", "--scenario", str(EXAMPLE), "--no-mqtt", "--no-plot", "--out", str(out)]
    assert main(argv) == 0
    assert "mean delay as SUMO counts it" in capsys.readouterr().out
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    sd = s["sumo_delay"]
    assert sd["vehicles_scheduled"] == s["vehicles_generated"] > 500
    assert sd["vehicles_inserted"] == sd["vehicles_completed"] + sd["vehicles_on_network"]
    header = (out / "vehicles.csv").read_text(encoding="utf-8").splitlines()[0].split(",")
    assert {"trip", "time_loss_s", "departure_delay_s", "sumo_delay_s"} <= set(header)
