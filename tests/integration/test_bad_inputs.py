"""Bad scenarios, TOML files and flags on the command line: each one ends with one line
naming the field, file or flag and the fix, exit status 2, and nothing written.

The cases are the kinds an outside probe found ending in a traceback, a memory error or a
hang (deeply nested TOML, a demand of 10^12 vehicles per hour, a ring with no exit, ids that
cannot be MQTT topic levels, an ``--out`` that is a file ...), each swept across the places
it can occur. The contract itself is in ``tests/support/cli_refusal.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_refusal import fill, refused_as_process, refused_in_process

BASE = """
[scenario]
name = "t"
duration_s = 600

[[nodes]]
id = "W"
kind = "boundary"
[[nodes]]
id = "C"
kind = "signal"
[[nodes]]
id = "E"
kind = "boundary"

[[links]]
id = "in"
from = "W"
to = "C"
length_m = 200
lanes = 2
speed_kmh = 40
[[links]]
id = "out"
from = "C"
to = "E"
length_m = 200
lanes = 2
speed_kmh = 40

[[movements]]
from = "in"
to = "out"
share = 1.0
group = "A"

[[signals]]
node = "C"
[[signals.phases]]
groups = ["A"]
green_s = 30
"""
DEMAND = '\n[[demand]]\nlink = "in"\nflow_veh_per_h = 600\n'

RING = """
[scenario]
name = "ring"
duration_s = 300
[link_defaults]
length_m = 100
lanes = 1
speed_kmh = 40
[[nodes]]
id = "W"
kind = "boundary"
[[nodes]]
id = "A"
kind = "uncontrolled"
[[nodes]]
id = "B"
kind = "uncontrolled"
[[links]]
id = "in"
from = "W"
to = "A"
[[links]]
id = "ab"
from = "A"
to = "B"
[[links]]
id = "ba"
from = "B"
to = "A"
[[movements]]
from = "in"
to = "ab"
share = 1.0
[[movements]]
from = "ab"
to = "ba"
share = 1.0
[[movements]]
from = "ba"
to = "ab"
share = 1.0
[[demand]]
link = "in"
flow_veh_per_h = 600
"""

DEEP = "x = " + "[" * 3000 + "]" * 3000 + "\n"

BAD_IDS = {
    "plus": "C+1",
    "hash": "C#1",
    "slash": "C/1",
    "nul": "C\\u0000x",
    "long": "C" * 70_000,
}


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("inputs")
    (d / "base.toml").write_text(BASE + DEMAND, encoding="utf-8")
    (d / "no-demand.toml").write_text(BASE, encoding="utf-8")
    (d / "ring.toml").write_text(RING, encoding="utf-8")
    (d / "deep.toml").write_text(DEEP, encoding="utf-8")
    for name, bad in BAD_IDS.items():
        text = (BASE + DEMAND).replace('"C"', f'"{bad}"')
        (d / f"id-{name}.toml").write_text(text, encoding="utf-8")
    link = (BASE + DEMAND).replace('"in"', '"in+x"')
    (d / "link-id.toml").write_text(link, encoding="utf-8")
    (d / "a-file").write_text("not a directory\n", encoding="utf-8")
    (d / "trace.csv").write_text("t_s,speed_mps\n0,1\n1e12,2\n", encoding="utf-8")
    return d


@pytest.fixture
def cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working directory: the command must leave it empty."""
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


RUN = ("run", "--no-mqtt", "--quiet", "--no-plot", "--out", "{cwd}/o")
"""A plain run into the working directory."""

# (id, argv, what the line must say)
IN_PROCESS: list[tuple[str, list[str], str]] = [
    # deeply nested TOML, in every TOML the project reads
    ("deep-scenario", [*RUN, "--scenario", "{in}/deep.toml"], "deep.toml: arrays or inline"),
    (
        "deep-design-flows",
        [*RUN, "--scenario", "grid", "--controller", "fixed", "--design-flows", "{in}/deep.toml"],
        "deep.toml: arrays or inline tables nested too deeply",
    ),
    (
        "deep-credentials",
        ["run", "--scenario", "grid", "--credentials", "{in}/deep.toml", "--out", "{cwd}/o"],
        "--credentials: {in}/deep.toml: arrays or inline tables nested too deeply",
    ),
    ("deep-set", [*RUN, "--scenario", "grid", "--set", "x=" + "[" * 3000], "--set: [[["),
    # signal timing that never discharges (used to write outputs, then crash)
    (
        "startup-lost-file",
        [*RUN, "--scenario", "{in}/base.toml", "--set", "scenario.startup_lost_s=100"],
        "base.toml: scenario.startup_lost_s: 100 s is as long as the green of group 'A'",
    ),
    (
        "green-below-lost-builtin",
        [*RUN, "--scenario", "grid", "--set", "green_s=1", "--set", "yellow_s=0"],
        "built-in scenario 'grid': scenario.startup_lost_s",
    ),
    # ids that cannot be MQTT topic levels, refused whatever the transport
    *[
        (
            f"node-id-{name}",
            [*RUN, "--scenario", f"{{in}}/id-{name}.toml"],
            f"id-{name}.toml: nodes[1].id: expected 1-64 letters, digits",
        )
        for name in BAD_IDS
    ],
    (
        "node-id-feed",
        ["run", "--scenario", "{in}/id-plus.toml", "--quiet", "--out", "{cwd}/o"],
        "nodes[1].id: expected 1-64 letters",
    ),
    (
        "link-id",
        [*RUN, "--scenario", "{in}/link-id.toml"],
        "link-id.toml: links[0].id: expected 1-64 letters",
    ),
    (
        "node-id-set",
        [*RUN, "--scenario", "{in}/base.toml", "--set", 'nodes.C.id="C/x"'],
        "nodes[1].id: expected 1-64",
    ),
    ("topic-root-no-mqtt", [*RUN, "--scenario", "grid", "--topic-root", "a/+"], "--topic-root:"),
    (
        "topic-root-feed",
        ["run", "--scenario", "grid", "--topic-root", "a/+", "--out", "{cwd}/o"],
        "--topic-root:",
    ),
    # fix hints keep their [[tables]] (Rich markup ate them)
    (
        "markup",
        [*RUN, "--scenario", "{in}/no-demand.toml"],
        "demand: missing; add at least one [[demand]] table",
    ),
    # --out
    (
        "out-a-file",
        [*RUN[:-2], "--scenario", "grid", "--out", "{in}/a-file"],
        "--out: {in}/a-file exists and is not a directory",
    ),
    (
        "out-proc",
        [*RUN[:-2], "--scenario", "grid", "--out", "/proc/x"],
        "--out: cannot create /proc/x",
    ),
    ("out-empty", [*RUN[:-2], "--scenario", "grid", "--out", ""], "--out: empty"),
    (
        "out-under-a-file",
        [*RUN[:-2], "--scenario", "grid", "--out", "{in}/a-file/o"],
        "--out: {in}/a-file is not a directory",
    ),
    ("compare-out-file", ["compare", "--scenario", "grid", "--out", "{in}/a-file"], "--out:"),
    ("report-out-empty", ["report", "--scenario", "grid", "--out", ""], "--out: empty"),
    ("train-out-file", ["train", "--scenario", "grid", "--out", "{in}/a-file"], "--out:"),
    ("record-out-empty", ["record", "--out", "", "--duration", "1"], "--out: empty"),
    ("credentials-out-proc", ["credentials", "--scenario", "grid", "--out", "/proc/x"], "--out:"),
    # --ca-certs that is not there
    *[
        (
            f"ca-certs-{name}",
            [*argv, "--ca-certs", "{in}/missing.pem"],
            "--ca-certs: {in}/missing.pem: not found",
        )
        for name, argv in (
            (
                "run",
                [
                    "run",
                    "--scenario",
                    "grid",
                    "--broker",
                    "mqtts://127.0.0.1:1",
                    "--out",
                    "{cwd}/o",
                ],
            ),
            ("run-embedded", ["run", "--scenario", "grid", "--out", "{cwd}/o"]),
            ("watch", ["watch", "--broker", "mqtts://127.0.0.1:1", "--duration", "1"]),
            ("record", ["record", "--broker", "mqtts://127.0.0.1:1", "--out", "{cwd}/r"]),
            ("serve-optimizer", ["serve", "optimizer", "--broker", "mqtts://127.0.0.1:1"]),
        )
    ],
    # closed-loop and sweep flags
    (
        "deadline-negative",
        [*RUN, "--scenario", "grid", "--controller", "fixed", "--deadline", "-1"],
        "--deadline:",
    ),
    (
        "deadline-feed",
        [
            "run",
            "--scenario",
            "grid",
            "--controller",
            "fixed",
            "--deadline",
            "-1",
            "--out",
            "{cwd}/o",
        ],
        "--deadline:",
    ),
    (
        "compare-step-0",
        ["compare", "--scenario", "grid", "--control-step", "0", "--out", "{cwd}/o"],
        "--control-step:",
    ),
    (
        "compare-step-nan",
        ["compare", "--scenario", "grid", "--control-step", "nan", "--out", "{cwd}/o"],
        "--control-step:",
    ),
    # train and evaluate
    *[
        (f"{cmd}-{flag[2:]}-{value}", [*argv, flag, value], f"{flag}:")
        for cmd, argv in (
            ("train", ["train", "--scenario", "grid", "--out", "{cwd}/t"]),
            ("evaluate", ["evaluate", "--data", "{in}"]),
        )
        for flag, value in (("--max-iter", "0"), ("--seed", "-1"), ("--seed", "4294967296"))
    ],
    (
        "evaluate-data-a-file",
        ["evaluate", "--data", "{in}/a-file"],
        "--data: {in}/a-file: is a file; give the directory holding los_speed.csv",
    ),
    (
        "speed-tiny",
        ["run", "--scenario", "grid", "--speed", "1e-300", "--out", "{cwd}/o"],
        "--speed: expected at least 0.01 simulated seconds per wall second",
    ),
    (
        "train-learning-rate-nan",
        ["train", "--scenario", "grid", "--out", "{cwd}/t", "--learning-rate", "nan"],
        "--learning-rate:",
    ),
    (
        "train-learning-rate-0",
        ["train", "--scenario", "grid", "--out", "{cwd}/t", "--learning-rate", "0"],
        "--learning-rate:",
    ),
    (
        "train-days",
        ["train", "--scenario", "grid", "--out", "{cwd}/t", "--days", "100000"],
        "--days: expected at most 366",
    ),
    (
        "train-horizon",
        ["train", "--scenario", "grid", "--out", "{cwd}/t", "--horizons", "100000"],
        "--horizons:",
    ),
    # scenario sizes: refused at load (quick), as built-ins and as files
    (
        "builtin-size-show",
        ["scenarios", "--show", "grid", "--set", "size=1000"],
        "size: expected at most 100",
    ),
    (
        "builtin-duration",
        [*RUN, "--scenario", "hcmc-center", "--set", "duration_s=1e12"],
        "scenario.duration_s: 1e+12 s sampled every 5 s",
    ),
    (
        "builtin-demand",
        [*RUN, "--scenario", "grid", "--set", "entry_flow_veh_per_h=1e12"],
        "demand: the demand sends about",
    ),
    (
        "train-days-demand",
        ["train", "--scenario", "grid", "--set", "entry_flow_veh_per_h=1e7", "--out", "{cwd}/t"],
        "demand: the demand sends about",
    ),
    ("duration-flag", [*RUN, "--scenario", "grid", "--duration", "1e12"], "scenario.duration_s:"),
    (
        "profile-demand",
        [*RUN, "--scenario", "{in}/base.toml", "--set", "demand.0.flow_veh_per_h=1e9"],
        "demand: the demand sends",
    ),
    (
        "start-year",
        [
            *RUN,
            "--scenario",
            "{in}/base.toml",
            "--set",
            'scenario.start_time="9999-12-31T23:59:59+07:00"',
        ],
        "base.toml: scenario.start_time: expected a year from 1970 to 2099",
    ),
    (
        "green-tiny-builtin",
        [*RUN, "--scenario", "grid", "--set", "green_s=0.5"],
        "signals[0].phases[0].green_s: expected at least 1",
    ),
    # sweeps that asked for more than a machine holds
    (
        "compare-workers",
        ["compare", "--scenario", "grid", "--workers", "100000", "--out", "{cwd}/o"],
        "--workers: expected at most",
    ),
    (
        "compare-seeds",
        ["compare", "--scenario", "grid", "--seeds", "100000000000", "--out", "{cwd}/o"],
        "--seeds: expected at most 1,000",
    ),
    (
        "report-demand",
        ["report", "--scenario", "grid", "--demand-factors", "1e12", "--out", "{cwd}/o"],
        "--demand-factors: 1e+12 times the demand",
    ),
    # files that never end
    ("scenario-dev-zero", [*RUN, "--scenario", "/dev/zero"], "/dev/zero: larger than 64 MB"),
    (
        "design-flows-dev-zero",
        [*RUN, "--scenario", "grid", "--controller", "fixed", "--design-flows", "/dev/zero"],
        "/dev/zero: larger than 64 MB",
    ),
    (
        "trace-dev-zero",
        ["emissions", "--trace", "/dev/zero", "--class", "car"],
        "--trace: /dev/zero: larger than 64 MB",
    ),
    (
        "trace-directory",
        ["emissions", "--trace", "{in}", "--class", "car"],
        "--trace: {in}: cannot be read",
    ),
    # argparse's own refusals, on one line too
    (
        "unknown-choice",
        ["run", "--scenario", "grid", "--controller", "nope"],
        "trafficsim run: error: argument --controller: invalid choice",
    ),
    (
        "missing-option",
        ["run"],
        "the following arguments are required: --scenario; see 'trafficsim run --help'",
    ),
    (
        "not-a-number",
        ["run", "--scenario", "grid", "--seed", "x"],
        "argument --seed: invalid int value",
    ),
]


@pytest.mark.parametrize(
    ("argv", "expected"), [c[1:] for c in IN_PROCESS], ids=[c[0] for c in IN_PROCESS]
)
def test_refused_in_process(argv, expected, inputs, cwd, capsys) -> None:
    refused_in_process(
        fill(argv, inputs=inputs, cwd=cwd), expected.format(**{"in": inputs}), cwd, inputs, capsys
    )


# Those that hung or ran out of memory, as real processes with a timeout.
AS_PROCESS: list[tuple[str, list[str], str]] = [
    (
        "ring",
        [*RUN, "--scenario", "{in}/ring.toml"],
        "ring.toml: movements: no movements lead from link(s) 'in', 'ab', 'ba'",
    ),
    (
        "deadline-nan",
        [*RUN, "--scenario", "grid", "--controller", "fixed", "--deadline", "nan"],
        "--deadline:",
    ),
    (
        "duration-1e12",
        [*RUN, "--scenario", "{in}/base.toml", "--set", "duration_s=1e12"],
        "base.toml: scenario.duration_s:",
    ),
    (
        "flow-1e12",
        [*RUN, "--scenario", "{in}/base.toml", "--set", "demand.0.flow_veh_per_h=1e12"],
        "base.toml: demand: the demand sends about 1.67e+11 vehicles",
    ),
    (
        "sample-1e-9",
        [*RUN, "--scenario", "{in}/base.toml", "--set", "scenario.sample_period_s=1e-9"],
        "base.toml: scenario.sample_period_s: 600 s sampled every 1e-09 s",
    ),
    (
        "green-1e-9-closed-loop",
        [
            *RUN,
            "--scenario",
            "{in}/base.toml",
            "--set",
            "signals.C.phases.0.green_s=1e-9",
            "--controller",
            "max-pressure",
        ],
        "base.toml: signals[0].phases[0].green_s: expected at least 1",
    ),
    (
        "size-1000",
        [*RUN, "--scenario", "grid", "--set", "size=1000"],
        "built-in scenario 'grid': size: expected at most 100",
    ),
    (
        "emissions-1e12",
        ["emissions", "--trace", "{in}/trace.csv", "--class", "motorcycle"],
        "--trace: {in}/trace.csv: the trace spans 1e+12 s",
    ),
]


@pytest.mark.parametrize(
    ("argv", "expected"), [c[1:] for c in AS_PROCESS], ids=[c[0] for c in AS_PROCESS]
)
def test_refused_as_process(trafficsim_exe, argv, expected, inputs, cwd) -> None:
    refused_as_process(
        trafficsim_exe,
        fill(argv, inputs=inputs, cwd=cwd),
        expected.format(**{"in": inputs}),
        cwd,
        inputs,
    )
