"""Recordings and model directories spoilt the ways a disk or a killed process spoils them:
each reader (``train --from-recording``, ``run --predictor``, ``serve predictor --model``,
``report --predictor``) ends with one line naming the file and the fix, exit status 2, and
nothing written.

One good recording (a simulated day of the ``isolated`` built-in, as ``trafficsim record``
writes it) and one model trained on it are made once; each case copies one and breaks it.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from cli_refusal import fill, refused_in_process

FIRST = "readings-000000.parquet"


@pytest.fixture(scope="module")
def good(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``good/rec``: a day recorded; ``good/model``: a linear model trained on it."""
    from trafficsim.runner.cli import main
    from trafficsim.runner.training_data import record_simulated_days

    d = tmp_path_factory.mktemp("good")
    record_simulated_days("isolated", {}, 1, 0, d / "rec")
    args = ["train", "--from-recording", str(d / "rec"), "--out", str(d / "model")]
    assert main([*args, "--model", "linear", "--horizons", "5"]) == 0
    return d


def _column(rec: Path, name: str, value: object) -> None:
    """Every value of column ``name`` of the first file set to ``value``."""
    t = pq.read_table(rec / FIRST)
    column = pa.array([value] * t.num_rows, type=t.schema.field(name).type)
    pq.write_table(t.set_column(t.schema.get_field_index(name), name, column), rec / FIRST)


def _retyped(rec: Path) -> None:
    t = pq.read_table(rec / FIRST)
    text = pa.array([str(v) for v in t.column("sim_time_s").to_pylist()])
    pq.write_table(
        t.set_column(t.schema.get_field_index("sim_time_s"), "sim_time_s", text), rec / FIRST
    )


def _meta(rec: Path, edit: Callable[[dict], None]) -> None:
    data = json.loads((rec / "meta.json").read_text(encoding="utf-8"))
    edit(data)
    (rec / "meta.json").write_text(json.dumps(data), encoding="utf-8")


def _first_device(data: dict) -> dict:
    return next(iter(data["devices"].values()))


RECORDINGS: dict[str, tuple[Callable[[Path], object], str]] = {
    "truncated": (lambda r: (r / FIRST).write_bytes((r / FIRST).read_bytes()[:5000]), FIRST),
    "empty-file": (lambda r: (r / FIRST).write_bytes(b""), FIRST),
    "garbage": (lambda r: (r / FIRST).write_bytes(b"\x00\xff" * 4000), FIRST),
    "tail-cut": (lambda r: (r / FIRST).write_bytes((r / FIRST).read_bytes()[:-10]), FIRST),
    "other-schema": (lambda r: pq.write_table(pa.table({"a": [1, 2]}), r / FIRST), FIRST),
    "column-type": (_retyped, "column sim_time_s holds string"),
    "missing-column": (
        lambda r: pq.write_table(pq.read_table(r / FIRST).drop(["occupancy"]), r / FIRST),
        FIRST,
    ),
    "directory": (lambda r: (r / "readings-000099.parquet").mkdir(), "readings-000099.parquet"),
    "nan-time": (lambda r: _column(r, "sim_time_s", float("nan")), "sim_time_s nan"),
    "huge-time": (lambda r: _column(r, "sim_time_s", 1e15), "more than the 50,000,000"),
    "zero-period": (lambda r: _column(r, "period_s", 0.0), "period_s 0.0"),
    "null-device": (lambda r: _column(r, "device_id", None), "without a device id"),
    "no-loops": (
        lambda r: (
            _column(r, "device_type", "camera")
            or [p.unlink() for p in r.glob("readings-00000[1-9].parquet")]
        ),
        "no inductive-loop readings",
    ),
    "no-readings": (lambda r: [p.unlink() for p in r.glob("readings-*")], "no readings-*.parquet"),
    "meta-missing": (lambda r: (r / "meta.json").unlink(), "meta.json: not found"),
    "meta-latin-1": (
        lambda r: (r / "meta.json").write_bytes('{"x": "café"}'.encode("latin-1")),
        "meta.json: not UTF-8",
    ),
    "meta-truncated": (
        lambda r: (r / "meta.json").write_bytes((r / "meta.json").read_bytes()[:100]),
        "meta.json: not JSON",
    ),
    "meta-deep": (
        lambda r: (r / "meta.json").write_text("[" * 100_000, encoding="utf-8"),
        "meta.json: nested too deeply",
    ),
    "meta-directory": (
        lambda r: ((r / "meta.json").unlink(), (r / "meta.json").mkdir()),
        "meta.json: not found",
    ),
    "meta-start-time": (
        lambda r: _meta(r, lambda m: m["scenario"].update(startTime="noon")),
        "scenario.startTime 'noon' is not an ISO 8601",
    ),
    "meta-neighbours": (
        lambda r: _meta(r, lambda m: _first_device(m).update(upstreamDevices=7)),
        "upstreamDevices is not a list",
    ),
    "is-a-file": (lambda r: (shutil.rmtree(r), r.write_text("x")), "no readings-*.parquet"),
    "not-there": (lambda r: shutil.rmtree(r), "no readings-*.parquet"),
}


@pytest.mark.parametrize("kind", sorted(RECORDINGS))
def test_spoilt_recording(kind, good, tmp_path, capsys) -> None:
    inputs = tmp_path / "inputs"
    rec = inputs / "rec"
    shutil.copytree(good / "rec", rec)
    spoil, expected = RECORDINGS[kind]
    spoil(rec)
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    argv = ["train", "--from-recording", "{in}/rec", "--out", "{cwd}/model", "--model", "linear"]
    line = refused_in_process(fill(argv, inputs=inputs, cwd=cwd), expected, cwd, inputs, capsys)
    assert line.startswith("error: --from-recording: ")


MODELS: dict[str, tuple[Callable[[Path], object], str]] = {
    "metadata-latin-1": (
        lambda m: (m / "metadata.json").write_bytes('{"model": "café"}'.encode("latin-1")),
        "metadata.json: not UTF-8 text",
    ),
    "metadata-deep": (
        lambda m: (m / "metadata.json").write_text("[" * 100_000, encoding="utf-8"),
        "metadata.json: nested too deeply",
    ),
    "metadata-truncated": (
        lambda m: (m / "metadata.json").write_bytes((m / "metadata.json").read_bytes()[:50]),
        "metadata.json: not a model description",
    ),
    "metadata-a-list": (
        lambda m: (m / "metadata.json").write_text("[1, 2]", encoding="utf-8"),
        "metadata.json: not a model description",
    ),
    "metadata-missing": (lambda m: (m / "metadata.json").unlink(), "metadata.json: not found"),
    "estimators-truncated": (
        lambda m: (m / "estimators.skops").write_bytes((m / "estimators.skops").read_bytes()[:100]),
        "estimators.skops: does not match",
    ),
}
USERS = {
    "run": ["run", "--scenario", "isolated", "--duration", "60", "--predictor", "{in}/model"],
    "closed-loop": [
        *("run", "--scenario", "isolated", "--duration", "60", "--no-mqtt"),
        *("--controller", "predictive", "--predictor", "{in}/model"),
    ],
    "serve": ["serve", "predictor", "--model", "{in}/model", "--broker", "mqtt://127.0.0.1:1"],
    "report": ["report", "--scenario", "isolated", "--predictor", "{in}/model"],
}


def _model_case(good: Path, tmp_path: Path) -> tuple[Path, Path]:
    inputs = tmp_path / "inputs"
    shutil.copytree(good / "model", inputs / "model")
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    return inputs, cwd


@pytest.mark.parametrize("user", sorted(USERS))
@pytest.mark.parametrize("kind", sorted(MODELS))
def test_spoilt_model(kind, user, good, tmp_path, capsys, monkeypatch) -> None:
    inputs, cwd = _model_case(good, tmp_path)
    monkeypatch.chdir(cwd)
    spoil, expected = MODELS[kind]
    spoil(inputs / "model")
    argv = fill(
        [*USERS[user], "--out", "{cwd}/o"] if user != "serve" else USERS[user],
        inputs=inputs,
        cwd=cwd,
    )
    line = refused_in_process(argv, expected, cwd, inputs, capsys)
    assert ("--model: " if user == "serve" else "--predictor: ") in line


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "--scenario", "grid", "--duration", "60", "--predictor", "{in}/model"],
        [
            *("run", "--scenario", "grid", "--duration", "60", "--no-mqtt"),
            *("--controller", "predictive", "--predictor", "{in}/model"),
        ],
        ["compare", "--scenario", "grid", "--predictor", "{in}/model", "--seeds", "2"],
    ],
    ids=["live", "closed-loop", "compare"],
)
def test_a_model_of_another_network(argv, good, tmp_path, capsys, monkeypatch) -> None:
    """It used to run to the end, exit 0 and publish no forecast."""
    inputs, cwd = _model_case(good, tmp_path)
    monkeypatch.chdir(cwd)
    argv = fill([*argv, "--out", "{cwd}/o"], inputs=inputs, cwd=cwd)
    refused_in_process(argv, "was trained on other loops", cwd, inputs, capsys)


def test_a_recorder_numbers_past_stray_files(good, tmp_path) -> None:
    """A stray readings-copy.parquet stopped ``record --out`` from starting (ValueError)."""
    from trafficsim.runner.record import Recorder

    out = tmp_path / "rec"
    shutil.copytree(good / "rec", out)
    (out / "readings-copy.parquet").write_bytes(b"")
    assert Recorder(out)._next == 4  # after readings-000003.parquet
