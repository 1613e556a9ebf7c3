"""``trafficsim train`` and ``evaluate``: fit the congestion predictor on a recorded (or
simulated) feed, and score it on real data with the T-GCN protocol."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from trafficsim.runner.cli.common import (
    Subparsers,
    UsageError,
    add_overrides,
    output_dir,
    progress_bar,
    require_finite,
    require_seed,
)
from trafficsim.sim import parse_overrides

if TYPE_CHECKING:
    from trafficsim.models.datasets import Panel


def register(sub: Subparsers) -> None:
    """Add ``train`` and ``evaluate``."""
    tr = sub.add_parser(
        "train",
        help="train the congestion predictor on a recorded feed",
        description=(
            "Fit one forecaster per target (speed, occupancy, flow of the loops) and horizon "
            "on the first 80 % of a recording made by 'trafficsim record', score it against "
            "persistence on the last 20 %, and save it with its metadata in --out."
        ),
    )
    src = tr.add_mutually_exclusive_group(required=True)
    src.add_argument(
        "--from-recording",
        type=Path,
        metavar="DIR",
        help="directory written by 'trafficsim record'",
    )
    src.add_argument(
        "--scenario",
        metavar="NAME|PATH",
        help="simulate --days days of this scenario with daily demand, weekends, "
        "surges and incidents, record its feed into OUT/recording, and train "
        "on all days but the last, which scores the model",
    )
    tr.add_argument(
        "--days",
        type=int,
        default=7,
        metavar="D",
        help="days to simulate with --scenario (default 7, at least 3)",
    )
    add_overrides(tr)
    tr.add_argument("--out", required=True, metavar="DIR")
    tr.add_argument(
        "--horizons",
        default="5,15,30,60",
        metavar="MIN,...",
        help="forecast horizons in minutes (default 5,15,30,60)",
    )
    tr.add_argument(
        "--model", default="gbm", choices=["persistence", "historical-average", "linear", "gbm"]
    )
    tr.add_argument(
        "--max-iter",
        type=int,
        default=100,
        metavar="N",
        help="boosting iterations (default 100; with the default learning rate 0.1 "
        "a live round for 1,000 devices stays under 100 ms)",
    )
    tr.add_argument("--learning-rate", type=float, default=0.1, metavar="R")
    tr.add_argument("--seed", type=int, default=0)
    tr.set_defaults(handler=_train)

    ev = sub.add_parser(
        "evaluate",
        help="score the congestion predictor on real data (Los-loop, T-GCN protocol)",
        description=(
            "Run the T-GCN protocol on the Los-loop data (207 Los Angeles loop detectors) or "
            "on any speed panel in the same layout (--dataset csv): first 80% of time steps "
            "train, last 20% test, 12-step input window, horizons of 3/6/9/12 steps (15-60 "
            "min), metrics pooled over steps 1..h and at step h. Prints every model, and "
            "whether the files are the published Los-loop files (sha256): only then beside "
            "the published T-GCN figure."
        ),
    )
    ev.add_argument(
        "--dataset",
        choices=["los-loop", "csv"],
        default="los-loop",
        help="los-loop (default) or csv: a panel of your own in the Los-loop layout (--data)",
    )
    ev.add_argument(
        "--data",
        type=Path,
        metavar="DIR",
        help="los-loop: directory with los_speed.csv and los_adj.csv (default "
        "../shared/data/los_loop); csv (required): directory with speeds.csv (first line the "
        "sensor ids, then one row of speeds per 5-minute step, one column per sensor) and "
        "adjacency.csv (one row and one column per sensor, no header), or else with "
        "los_speed.csv and los_adj.csv",
    )
    ev.add_argument(
        "--start",
        metavar="YYYY-MM-DDTHH:MM",
        help="csv: date and time of the first row, on a 5-minute boundary; it places the rows "
        "in the week (default: a Monday at 00:00)",
    )
    ev.add_argument("--unit", metavar="UNIT", help="csv: unit of the speeds (default mph)")
    ev.add_argument(
        "--models",
        default="persistence,historical-average,linear,gbm",
        metavar="M1,M2",
        help="models to score (default: all four)",
    )
    ev.add_argument("--sensors", type=int, metavar="K", help="only the first K sensors (quick)")
    ev.add_argument(
        "--max-iter",
        type=int,
        default=300,
        metavar="N",
        help="boosting iterations of gbm (default 300)",
    )
    ev.add_argument("--seed", type=int, default=0)
    ev.add_argument("--json", action="store_true", help="print the scores as JSON")
    ev.set_defaults(handler=_evaluate)


def _train(args: argparse.Namespace) -> int:
    from trafficsim.models.datasets import DatasetError
    from trafficsim.models.feed_panel import TARGET_COLUMNS, panel_from_recording
    from trafficsim.models.persistence import save_models
    from trafficsim.models.training import train_panels

    try:
        horizons = [int(h) for h in args.horizons.split(",") if h.strip()]
    except ValueError:
        raise UsageError("--horizons", "expected minutes such as 5,15,30,60") from None
    if not horizons or min(horizons) < 1:
        raise UsageError("--horizons", "expected positive minutes such as 5,15,30,60")
    if max(horizons) > MAX_HORIZON_MIN:
        raise UsageError("--horizons", f"expected at most {MAX_HORIZON_MIN} minutes (a day)")
    _check_fit_args(args)
    require_finite("--learning-rate", args.learning_rate, minimum=0.0, what="a rate")
    if args.days > MAX_DAYS:
        raise UsageError("--days", f"expected at most {MAX_DAYS} days, got {args.days}")
    args.out = output_dir(args.out)
    holdout = None
    recording = args.from_recording
    if args.scenario:
        from trafficsim.runner.training_data import record_simulated_days

        if args.days < 3:
            raise UsageError("--days", "expected at least 3 days (2 to train, 1 to score)")
        recording = args.out / "recording"
        with progress_bar(
            Console(stderr=True), "{task.completed:>9.0f} / {task.total:.0f} s"
        ) as progress:
            task = progress.add_task(f"simulating {args.days} days", total=args.days * 86400.0)
            record_simulated_days(
                args.scenario,
                parse_overrides(args.overrides),
                args.days,
                args.seed,
                recording,
                on_progress=lambda t, end: progress.update(task, completed=t),
            )
    try:
        panels = {t: panel_from_recording(recording, t) for t in TARGET_COLUMNS}
        queue = panel_from_recording(recording, "queue")
        extra = (
            {"queue": queue} if queue.values.size and (queue.values == queue.values).any() else {}
        )  # NaN != NaN: a recording without cameras has no queue series
        if args.scenario:
            first = next(iter(panels.values()))
            holdout = round(86400.0 / first.step_s)  # the last day, never trained on
        console = Console(stderr=True)
        with progress_bar(console) as progress:
            task = progress.add_task("training", total=len(panels) * len(horizons))
            trained = train_panels(
                panels,
                horizons_min=horizons,
                model=args.model,
                seed=args.seed,
                max_iter=args.max_iter,
                learning_rate=args.learning_rate,
                holdout_periods=holdout,
                extra_panels=extra,
                on_fit=lambda t, h: progress.update(task, advance=1, description=f"{t}, {h} min"),
            )
    except DatasetError as exc:
        raise UsageError("--from-recording", str(exc)) from None
    meta = save_models(args.out, trained.estimators, trained.metadata, trained.extras())
    (args.out / "training.json").write_text(
        json.dumps({"model_version": meta.version, "holdout": trained.holdout}, indent=2) + "\n",
        encoding="utf-8",
    )
    scored_on = "the last simulated day" if holdout else "the last 20% of the recording"
    t = Table(
        title=f"model {meta.version} ({args.model}) on {scored_on}: RMSE "
        "(improvement on persistence)"
    )
    t.add_column("target")
    for h in horizons:
        t.add_column(f"{h} min", justify="right")
    for target, per in trained.holdout.items():
        t.add_row(
            target,
            *[f"{per[str(h)]['rmse']:.3f} ({per[str(h)]['improvement']:+.0%})" for h in horizons],
        )
    Console().print(t)
    Console().print(escape(f"saved to {args.out}"), highlight=False)
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from trafficsim.models.datasets import DatasetError
    from trafficsim.models.evaluate import check_length, evaluate
    from trafficsim.models.forecasters import MODEL_NAMES

    _check_fit_args(args)
    names = [m.strip() for m in args.models.split(",") if m.strip()]
    unknown = [m for m in names if m not in MODEL_NAMES]
    if unknown or not names:
        raise UsageError("--models", f"unknown {unknown}; choose from {', '.join(MODEL_NAMES)}")
    try:
        panel = _panel(args)
        check_length(panel)
    except DatasetError as exc:
        raise UsageError("--data", str(exc)) from None
    sensors = panel.values.shape[1]
    if args.sensors is not None:
        if not 1 <= args.sensors <= sensors:
            raise UsageError("--sensors", f"expected 1..{sensors}")
        panel = panel.subset(args.sensors)
    console = Console(stderr=True, quiet=args.json)
    with progress_bar(console) as progress:
        task = progress.add_task("fitting", total=12 * len(names))
        result = evaluate(
            panel,
            names,
            seed=args.seed,
            max_iter=args.max_iter,
            on_step=lambda m, s: progress.update(task, advance=1, description=f"{m}, step {s}"),
        )
    if args.json:
        sys.stdout.write(json.dumps(result) + "\n")
        return 0
    out = Console()
    if not out.is_terminal:
        out = Console(width=160)  # a file or a pipe: do not wrap the table at 80 columns
    title = "Los-loop" if args.dataset == "los-loop" else panel.source
    out.print(_score_table(title, names, result, sensors))
    return 0


MAX_HORIZON_MIN = 1440
"""The longest forecast horizon (a day): the features look back one day of profile."""
MAX_DAYS = 366
"""The most days ``train --scenario`` simulates; a year holds every weekday pattern."""


def _check_fit_args(args: argparse.Namespace) -> None:
    """The options both ``train`` and ``evaluate`` pass to scikit-learn, checked here so
    that a bad one is a flag error, not an estimator's traceback."""
    if args.max_iter < 1:
        raise UsageError(
            "--max-iter", f"expected at least 1 boosting iteration, got {args.max_iter}"
        )
    require_seed("--seed", args.seed)


def _panel(args: argparse.Namespace) -> Panel:
    """The panel of ``--dataset`` and ``--data`` (with ``--start`` and ``--unit`` for csv)."""
    from trafficsim.models.datasets import DEFAULT_LOS_LOOP_DIR, load_csv_panel, load_los_loop

    if args.dataset == "los-loop":
        if args.start is not None:
            raise UsageError("--start", "goes with --dataset csv; Los-loop starts on 2012-03-01")
        if args.unit is not None:
            raise UsageError("--unit", "goes with --dataset csv; Los-loop's speeds are in mph")
        return load_los_loop(args.data or DEFAULT_LOS_LOOP_DIR)
    if args.data is None:
        raise UsageError(
            "--data",
            "--dataset csv needs --data DIR, the directory with speeds.csv and adjacency.csv",
        )
    weekday, offset = _start(args.start)
    return load_csv_panel(
        args.data, start_weekday=weekday, start_offset_steps=offset, unit=args.unit or "mph"
    )


def _start(text: str | None) -> tuple[int, int]:
    """Weekday (0 = Monday) and 5-minute steps from midnight of ``--start``."""
    from trafficsim.models.datasets import STEP_S

    if text is None:
        return 0, 0
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        moment = None
    seconds = 0 if moment is None else moment.hour * 3600 + moment.minute * 60 + moment.second
    if moment is None or seconds % STEP_S or moment.microsecond:
        raise UsageError(
            "--start",
            f"expected a date and time on a 5-minute boundary such as "
            f"2012-03-01T00:00, got {text!r}",
        )
    return moment.weekday(), int(seconds // STEP_S)


def _score_table(title: str, names: list[str], result: dict[str, Any], sensors: int) -> Table:
    """Every model's scores at every horizon; the published figure only beside the
    published data, and a caption saying which it is."""
    from trafficsim.models.evaluate import PUBLISHED

    published = result["published_data"]
    if not published:
        caption = "data: not the published Los-loop files (sha256 differs): no published figure"
    elif result["sensors"] < sensors:
        caption = (
            f"data: the first {result['sensors']} of the {sensors} sensors of the published "
            f"Los-loop files; the published figure is on all {sensors}"
        )
    elif not result["comparable_with_published"]:
        caption = (
            "data: the published Los-loop files on another calendar or unit (--start, --unit): "
            "not comparable with the published figure"
        )
    else:
        caption = "data: the published Los-loop files (sha256 checked)"
    t = Table(
        title=f"{title} ({result['sensors']} sensors, {result['train_rows']} train / "
        f"{result['test_rows']} test steps): RMSE / MAE in {result['unit']}, pooled over steps "
        "1..h (RMSE at step h)",
        caption=caption,
    )
    t.add_column("model")
    for h in result["horizons"]:
        t.add_column(f"{int(h) * 5} min", justify="right")
    for m in names:
        cells = []
        for h in result["horizons"]:
            s = result["horizons"][h][m]
            cells.append(f"{s['rmse']:.3f} / {s['mae']:.3f} ({s['rmse_at_h']:.3f})")
        t.add_row(m, *cells)
    for ref, scores in PUBLISHED.items() if published else ():
        t.add_row(
            ref + ", published",
            *[
                f"{scores[int(h)]['rmse']:.4f} / {scores[int(h)]['mae']:.4f}"
                if int(h) in scores
                else "-"
                for h in result["horizons"]
            ],
        )
    return t
