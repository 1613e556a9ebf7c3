"""The repository keeps its own rules: layering, lint and format, and the benchmarks run."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _tool(name: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / name), *args], cwd=REPO, capture_output=True, text=True, timeout=300, check=False
    )


def test_layers_point_one_way() -> None:
    p = _tool("lint-imports")
    assert p.returncode == 0, p.stdout + p.stderr
    assert "broken" not in p.stdout.lower().replace("0 broken", "")


def test_ruff_lint_and_format_are_clean() -> None:
    lint = _tool("ruff", "check", ".")
    assert lint.returncode == 0, lint.stdout
    fmt = _tool("ruff", "format", "--check", ".")
    assert fmt.returncode == 0, fmt.stdout


def test_types_check_strictly() -> None:
    p = _tool("mypy")
    assert p.returncode == 0, p.stdout


def test_tests_wait_for_evidence_not_for_time() -> None:
    """No test sleeps to synchronise with a process or a broker: on a busy machine a fixed
    sleep is too short, and everywhere else too long. The waits of tests/support poll for
    evidence (a retained status, a file, a count, a marker) with a timeout; use them."""
    support = REPO / "tests" / "support"
    calls = []
    for path in sorted((REPO / "tests").rglob("*.py")):
        if path.is_relative_to(support):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if not isinstance(node, ast.Call):
                continue
            f = node.func
            name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")
            if name == "sleep":
                calls.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert not calls, f"sleep() in tests (wait with tests_support instead): {calls}"


def test_sim_speed_benchmark_prints_json_lines(tmp_path) -> None:
    p = subprocess.run(
        [
            sys.executable,
            str(REPO / "benchmarks" / "sim_speed.py"),
            "--sizes",
            "2",
            "--duration",
            "600",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=tmp_path,
    )
    assert p.returncode == 0, p.stderr
    rows = [json.loads(line) for line in p.stdout.splitlines() if line.startswith("{")]
    assert len(rows) == 1
    row = rows[0]
    assert row["size"] == 2 and row["vehicles_generated"] > 0
    for key in ("wall_time_s", "events_per_s", "vehicle_links_per_s", "peak_rss_mb"):
        assert row[key] > 0


def test_controllers_benchmark_prints_its_table_and_targets(tmp_path) -> None:
    p = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "controllers.py"), "--size", "2",
         "--duration", "300", "--seeds", "2", "--out", str(tmp_path / "b")],
        capture_output=True, text=True, timeout=300, check=False, cwd=tmp_path,
    )  # fmt: skip
    assert p.returncode == 0, p.stderr
    assert "| mean delay (s/veh) |" in p.stdout
    row = json.loads(next(line for line in p.stdout.splitlines() if line.startswith("{")))
    assert {"target_delay_25pct", "target_co2_10pct", "predictive_beats_max_pressure",
            "predictive_vs_retimed_delay_reduction_pct"} <= set(row)  # fmt: skip
    assert (tmp_path / "b" / "comparison.png").exists()


def test_peer_benchmark_runs_its_own_engine(tmp_path) -> None:
    """The peers (SUMO, UXsim) are an optional extra; the script's trafficsim side and its
    output format are checked here."""
    p = subprocess.run(
        [
            sys.executable,
            str(REPO / "benchmarks" / "sim_vs_peers.py"),
            "--size",
            "2",
            "--duration",
            "600",
            "--engines",
            "trafficsim",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=tmp_path,
    )
    assert p.returncode == 0, p.stderr
    row = json.loads(p.stdout.splitlines()[0])
    assert row["engine"] == "trafficsim"
    assert row["vehicles_completed"] > 0
    assert 0 < row["mean_delay_s"] < row["mean_travel_time_s"]


def test_feed_throughput_benchmark_runs(tmp_path) -> None:
    """A small run of benchmarks/feed_throughput.py against a real Mosquitto: it prints
    its JSON lines, and at a low rate nothing is lost."""
    import shutil

    import pytest

    if shutil.which("mosquitto") is None:
        pytest.skip("the mosquitto binary is not installed (.ci/run installs it)")
    p = subprocess.run(
        [
            sys.executable,
            str(REPO / "benchmarks" / "feed_throughput.py"),
            "--rates",
            "500",
            "--seconds",
            "1",
            "--devices",
            "20",
            "--max-messages",
            "2000",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=tmp_path,
    )
    assert p.returncode == 0, p.stderr
    rows = [json.loads(line) for line in p.stdout.splitlines() if line.startswith("{")]
    assert [r.get("publisher") for r in rows[:3]] == ["trafficsim", "trafficsim", "bare-paho"]
    assert rows[0]["lost"] == 0 and rows[0]["delivered"] == 500
    assert rows[-1]["max_rate_ratio_vs_bare_paho"] > 0


def _installed_package() -> Path:
    import trafficsim

    return Path(trafficsim.__file__).parent


def test_one_import_package_is_installed_with_every_module() -> None:
    """``pip install .`` puts exactly one top-level import package, ``trafficsim``, into
    site-packages, and every module of the source folders is inside it (pyproject's
    package list and package-dir mapping are complete)."""
    from importlib.metadata import distribution

    dist = distribution("trafficsim")
    tops = {
        Path(str(f)).parts[0]
        for f in dist.files or []
        if not Path(str(f)).parts[0].endswith((".dist-info", ".data"))
        and Path(str(f)).parts[0] != ".."  # the console script, outside site-packages
    }
    assert tops == {"trafficsim"}, tops
    installed = _installed_package()
    layers = {"api": installed, "sim": installed / "sim", "sensors": installed / "sensors",
              "models": installed / "models", "runner": installed / "runner"}  # fmt: skip
    for folder, target in layers.items():
        for src in (REPO / folder).rglob("*.py"):
            rel = src.relative_to(REPO / folder)
            assert (target / rel).is_file(), f"{folder}/{rel} is not installed: add its package"


def test_python_dash_m_trafficsim_is_the_command_line() -> None:
    p = subprocess.run(
        [sys.executable, "-m", "trafficsim", "scenarios"],
        capture_output=True, text=True, timeout=120, check=False, cwd=REPO,
    )  # fmt: skip
    assert p.returncode == 0, p.stderr
    assert "grid" in p.stdout and "hcmc-center" in p.stdout
    bare = subprocess.run(
        [sys.executable, "-m", "trafficsim"], capture_output=True, text=True, timeout=120,
        check=False, cwd=REPO,
    )  # fmt: skip
    assert bare.returncode == 2 and "usage: trafficsim" in bare.stdout
