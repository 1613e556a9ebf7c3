"""The Python API: what notebooks and scripts call, and what the command line is a layer over.

>>> import trafficsim
>>> sc = trafficsim.load_scenario("grid", {"size": 3, "duration_s": 900})
>>> run = trafficsim.simulate(sc, seed=1, controller="max-pressure")
>>> run.summary["mean_delay_s"], run.vehicles.num_rows

Runs are in memory unless ``mqtt`` is given; then the run publishes its devices' readings
on a broker (an embedded one by default) and a closed loop exchanges its plans over it. The
same scenario, seed and options give the same results either way.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trafficsim.models.optimizer import ControllerName
from trafficsim.runner.results import Comparison, RunResult
from trafficsim.runner.session import BrokerSettings
from trafficsim.sensors.deployment_spec import DeploymentSpec
from trafficsim.sensors.mqtt.broker import BrokerKind
from trafficsim.sensors.mqtt.topics import DEFAULT_ROOT, Topics
from trafficsim.sensors.mqtt.transport import BrokerConfig
from trafficsim.sim import Fleet, InputError, Scenario, World, compute
from trafficsim.sim import load_scenario as _load

ProgressHook = Callable[[float], None]
"""Called with the simulated time (s) as a run advances."""
BrokerHook = Callable[[str, str], None]
"""Called once with the broker's URL and what it is (``embedded mosquitto``, ``external``)."""


MAX_SEEDS = 1000
"""Most seeds of one comparison: confidence intervals are narrow long before (a seed is a
run per controller), and a count such as 10^11 exhausted memory listing them."""

MIN_SPEED = 0.01
"""Slowest pace of a run, in simulated seconds per wall second: at 1/100 of real time one
simulated minute already takes 1 h 40 min; a slower pace is a typo, and 1e-300 would never end."""


def max_workers() -> int:
    """Most local worker processes of a sweep: four per core. More only queue for the
    cores, and 100,000 of them hung the machine starting."""
    import os

    return 4 * (os.cpu_count() or 1)


class ArgumentError(InputError):
    """An argument of the API that cannot be used; ``source`` is the argument's name."""

    def __init__(self, argument: str, problem: str) -> None:
        super().__init__(argument, "", problem)


@dataclass(frozen=True, slots=True)
class Mqtt:
    """Run over MQTT: what broker, how to log in, how fast."""

    url: str | None = None
    """``mqtt[s]://[user:pass@]host:port`` of a running broker; None starts an embedded one
    on 127.0.0.1 (port 1883 when free)."""
    embedded: BrokerKind = BrokerKind.AUTO
    """Which embedded broker: Mosquitto when installed, else amqtt."""
    topic_root: str = DEFAULT_ROOT
    qos: int = 1
    """QoS of the readings (the closed loop uses 1 for everything)."""
    ca_certs: str | None = None
    """CA bundle for ``mqtts://`` brokers."""
    passwords: Mapping[str, str] | None = None
    """Client id -> password on a secured broker (``trafficsim credentials`` makes them)."""
    deadline_s: float = 10.0
    """Closed loop: wall seconds to wait for the services' answer to each tick."""
    external_optimizer: bool = False
    """Closed loop: the optimizer runs elsewhere (``trafficsim serve optimizer``)."""
    external_predictor: bool = False
    """Closed loop: a predictor runs elsewhere (``trafficsim serve predictor``)."""


def load_scenario(name_or_path: str | Path, overrides: Mapping[str, Any] | None = None) -> Scenario:
    """A built-in scenario by name (``trafficsim scenarios`` lists them) or a TOML file, with
    ``overrides`` applied: a built-in's parameters (``{"size": 6}``) or dotted paths into a
    file (``{"links.N_in.lanes": 3}``), as ``--set`` gives them. A bad name, file or value
    raises :class:`~trafficsim.sim.ScenarioError` naming the field and the fix."""
    return _load(str(name_or_path), dict(overrides or {}))


def simulate(
    scenario: Scenario | str | Path,
    seed: int = 0,
    *,
    duration_s: float | None = None,
    controller: ControllerName | str | None = None,
    step_s: float = 2.0,
    predictor: str | Path | None = None,
    design_flows: str | Path | None = None,
    fleet: Fleet | str | None = None,
    deployment: DeploymentSpec | None = None,
    mqtt: Mqtt | None = None,
    speed: float | None = None,
    on_progress: ProgressHook | None = None,
    on_broker: BrokerHook | None = None,
) -> RunResult:
    """Simulate ``scenario`` with ``seed`` and return its results.

    ``controller``: run the closed loop (field cabinets, the centre's optimizer) with this
    controller, every ``step_s`` simulated seconds; None runs the stored plans with no
    centre. ``predictor``: a model directory (``trafficsim train``) whose forecasts feed the
    optimizer (and, on a live feed, are published). ``design_flows``: a design-flow file that
    times the ``fixed`` controller by Webster's method. ``fleet``: the emission factors
    (default: the scenario's). ``deployment``: the field devices (default: the scenario's
    ``[sensors]`` table; e.g. ``DeploymentSpec.of(sc).covering(0.5, sc)`` for detectors at
    half of the intersections). ``mqtt``: run over a broker instead of in memory.
    ``speed``: simulated seconds per wall second (1.0: real time, for demonstrations);
    None runs as fast as it can.
    """
    sc = _scenario(scenario, duration_s)
    _check_seed(seed)
    name = None if controller is None else _controller(controller)
    if fleet is not None and str(fleet) not in {f.value for f in Fleet}:
        raise ArgumentError("fleet", f"expected one of {', '.join(f.value for f in Fleet)}")
    if speed is not None and not (_finite(speed) and speed >= MIN_SPEED):
        raise ArgumentError(
            "speed",
            f"expected at least {MIN_SPEED:g} simulated seconds per wall second, "
            f"got {_shown(speed)}",
        )
    _check_step(step_s)
    if mqtt is not None:
        _check_mqtt(mqtt, closed_loop=name is not None)
        if mqtt.passwords is not None:
            clients(sc, closed_loop=name is not None)  # no login takes a service's name
    model = None if predictor is None else _model(Path(predictor), sc, deployment)
    progress = on_progress or (lambda t: None)
    hook = on_broker or (lambda url, kind: None)
    if name is not None:
        return _closed_loop(sc, seed, name, step_s, model, design_flows, fleet, deployment,
                            mqtt, speed, progress, hook)  # fmt: skip
    if design_flows is not None:
        raise ArgumentError("design_flows", "design flows time the fixed controller")
    t0 = time.perf_counter()
    world = World(sc, seed)
    feed = None
    if mqtt is None:
        if model is not None:
            raise ArgumentError("predictor", "a predictor reads the live feed: give mqtt")
        from trafficsim.runner.session import Pacer

        end = sc.duration_s
        step = max(60.0, end / 200.0)
        pacer = Pacer(speed)
        t = 0.0
        while t < end:
            t = min(end, t + step)
            world.step_to(t)
            progress(t)
            pacer.wait(t)
    else:
        feed = _live(world, mqtt, model, deployment, speed, progress, hook)
    metrics = compute(world, wall_time_s=time.perf_counter() - t0, fleet=fleet)
    return RunResult(sc, seed, metrics, world, feed=feed)


def compare(
    scenario: Scenario | str | Path,
    controllers: Iterable[ControllerName | str] = tuple(ControllerName),
    seeds: int | Sequence[int] = 5,
    *,
    duration_s: float | None = None,
    step_s: float = 2.0,
    predictor: str | Path | None = None,
    design_flows: str | Path | None = None,
    deployment: DeploymentSpec | None = None,
    workers: int = 2,
    scheduler: str | None = None,
    on_done: Callable[[dict[str, Any]], None] | None = None,
) -> Comparison:
    """Every controller on the same seeds (common random numbers), in memory, on Dask (local
    processes, or the ``dask.distributed`` scheduler at ``scheduler``): means with 95 %
    confidence intervals and the reductions against ``fixed`` paired by seed. ``seeds``: a
    count (seeds 0..N-1) or the seeds themselves; at least 2. ``predictor`` runs in the loop
    of the ``predictive`` runs, ``design_flows`` time the ``fixed`` baseline."""
    from trafficsim.runner.compare import run_comparison

    sc = _scenario(scenario, duration_s)
    names = [_controller(c) for c in controllers]
    if ControllerName.FIXED not in names:
        names.insert(0, ControllerName.FIXED)
    seed_list = list(range(seeds)) if isinstance(seeds, int) else [int(s) for s in seeds]
    if len(seed_list) < 2:
        raise ArgumentError("seeds", "a confidence interval needs at least 2 seeds")
    if len(seed_list) > MAX_SEEDS:
        raise ArgumentError(
            "seeds", f"expected at most {MAX_SEEDS:,} seeds, got {len(seed_list):,}"
        )
    for s in seed_list:
        _check_seed(s)
    if not 1 <= workers <= max_workers():
        raise ArgumentError(
            "workers", f"expected 1 to {max_workers()} worker processes, got {workers}"
        )
    _check_step(step_s)
    model = None if predictor is None else _model(Path(predictor), sc, deployment)
    cmp = run_comparison(
        sc,
        [n.value for n in names],
        seed_list,
        workers=workers,
        scheduler=scheduler,
        step_s=step_s,
        predictor_model=model,
        fixed_params=_design_flows(design_flows, ControllerName.FIXED),
        deployment=deployment,
        on_done=on_done or (lambda r: None),
    )
    return Comparison(cmp)


def clients(scenario: Scenario, *, closed_loop: bool) -> list[str]:
    """The MQTT clients a run of ``scenario`` connects for its field: every device, and in a
    closed loop every signal cabinet (each logs in under its intersection id); a
    :class:`~trafficsim.sim.ScenarioError` when one would take a service account's name."""
    from trafficsim.runner.logins import field_logins

    devices, cabinets = field_logins(scenario, cabinets=closed_loop)
    return [*devices, *cabinets]


# -- the two ways to run -------------------------------------------------------------------
def _live(
    world: World,
    mqtt: Mqtt,
    model: Path | None,
    deployment: DeploymentSpec | None,
    speed: float | None,
    progress: ProgressHook,
    hook: BrokerHook,
) -> dict[str, Any]:
    from trafficsim.runner.live import LiveOptions, run_live
    from trafficsim.sensors.field import Field

    field = Field(world, deployment)  # checks the devices against the network
    opts = LiveOptions(_broker(mqtt), qos=mqtt.qos, speed=speed, predictor_model=model)
    return run_live(world, field, opts, on_broker=hook, on_progress=progress)


def _closed_loop(
    sc: Scenario,
    seed: int,
    name: ControllerName,
    step_s: float,
    model: Path | None,
    design_flows: str | Path | None,
    fleet: Fleet | str | None,
    deployment: DeploymentSpec | None,
    mqtt: Mqtt | None,
    speed: float | None,
    progress: ProgressHook,
    hook: BrokerHook,
) -> RunResult:
    from trafficsim.runner.closed_loop import LoopOptions, run_closed_loop

    params = _design_flows(design_flows, name)
    m = mqtt or Mqtt()
    opts = LoopOptions(
        controller=name.value,
        controller_params=tuple(params.items()),
        step_s=step_s,
        transport="memory" if mqtt is None else "mqtt",
        broker=_broker(m),
        deadline_s=m.deadline_s,
        external_optimizer=m.external_optimizer,
        external_predictor=m.external_predictor,
        predictor_model=model,
        speed=speed,
        deployment=deployment,
    )
    t0 = time.perf_counter()
    world, stats = run_closed_loop(sc, seed, opts, on_progress=progress, on_broker=hook)
    metrics = compute(world, wall_time_s=time.perf_counter() - t0, fleet=fleet)
    control = {"controller": name.value, "transport": opts.transport, **stats.as_dict()}
    return RunResult(sc, seed, metrics, world, controller=name.value, control=control)


def _broker(m: Mqtt) -> BrokerSettings:
    """The session's broker settings of the API's :class:`Mqtt`."""
    passwords = None if m.passwords is None else dict(m.passwords)
    return BrokerSettings(m.url, m.embedded, m.ca_certs, m.topic_root, passwords)


# -- checks ----------------------------------------------------------------------------------
def _scenario(scenario: Scenario | str | Path, duration_s: float | None) -> Scenario:
    if duration_s is not None and not (_finite(duration_s) and duration_s > 0):
        raise ArgumentError(
            "duration_s", f"expected a positive number of seconds, got {_shown(duration_s)}"
        )
    if isinstance(scenario, Scenario):
        return (
            scenario if duration_s is None else dataclasses.replace(scenario, duration_s=duration_s)
        )
    overrides = {} if duration_s is None else {"duration_s": duration_s}
    return load_scenario(scenario, overrides)


def _check_seed(seed: int) -> None:
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ArgumentError("seed", f"expected a non-negative integer, got {seed}")


def _finite(x: object) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def _shown(x: object) -> str:
    """A number as the command line shows it (``0``, ``-1.5``), anything else as Python."""
    return f"{x:g}" if isinstance(x, int | float) and not isinstance(x, bool) else repr(x)


def _check_step(step_s: float) -> None:
    if not (_finite(step_s) and step_s > 0):
        raise ArgumentError("step_s", "expected a positive number of seconds")


def _controller(name: ControllerName | str) -> ControllerName:
    try:
        return ControllerName(name)
    except ValueError:
        known = ", ".join(c.value for c in ControllerName)
        raise ArgumentError(
            "controller", f"unknown controller {name!r}; choose from {known}"
        ) from None


def _check_mqtt(mqtt: Mqtt, *, closed_loop: bool) -> None:
    if mqtt.qos not in (0, 1, 2):
        raise ArgumentError("mqtt.qos", f"expected 0, 1 or 2, got {mqtt.qos!r}")
    if mqtt.embedded not in {k.value for k in BrokerKind}:
        known = ", ".join(k.value for k in BrokerKind)
        raise ArgumentError("mqtt.embedded", f"expected one of {known}, got {mqtt.embedded!r}")
    if not (_finite(mqtt.deadline_s) and mqtt.deadline_s > 0):
        raise ArgumentError("mqtt.deadline_s", "expected a positive number of wall seconds")
    if mqtt.ca_certs is not None and not Path(mqtt.ca_certs).is_file():
        raise ArgumentError(
            "mqtt.ca_certs", f"{mqtt.ca_certs}: not found; give the CA certificate file (PEM)"
        )
    try:
        Topics(mqtt.topic_root)
    except ValueError as exc:
        raise ArgumentError("mqtt.topic_root", str(exc)) from None
    if mqtt.url is not None:
        try:
            BrokerConfig.from_url(mqtt.url, ca_certs=mqtt.ca_certs)
        except ValueError as exc:
            raise ArgumentError("mqtt.url", str(exc)) from None
    if not closed_loop and (mqtt.external_optimizer or mqtt.external_predictor):
        raise ArgumentError(
            "mqtt", "external services take part in a closed loop: name a controller"
        )


def _model(path: Path, scenario: Scenario, deployment: DeploymentSpec | None) -> Path:
    """``path`` if it holds a predictor model usable on ``scenario`` (checked before anything
    starts): one that loads, builds a predictor, and knows some of the scenario's loops. A
    model trained on another network used to run to the end and forecast nothing."""
    from trafficsim.models.persistence import ModelError, load_models
    from trafficsim.models.service import Predictor
    from trafficsim.sensors.field import Field
    from trafficsim.sensors.readings import DeviceKind

    try:
        bundle = load_models(path)
        known = set(Predictor(bundle).devices)
    except ModelError as exc:
        raise ArgumentError("predictor", str(exc)) from None
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ArgumentError(
            "predictor", f"{path}: not a usable predictor ({type(exc).__name__}: {exc}); retrain"
        ) from None
    field = Field(World(scenario, 0), deployment)
    loops = sorted(d for d, info in field.info.items() if info.kind is DeviceKind.LOOP)
    if loops and not known.intersection(loops):
        raise ArgumentError(
            "predictor",
            f"{path} was trained on other loops ({', '.join(sorted(known)[:3])}, ...) than "
            f"{scenario.name}'s ({', '.join(loops[:3])}, ...), so it would forecast nothing; "
            "train it on this scenario",
        )
    return path


def _design_flows(path: str | Path | None, controller: ControllerName) -> dict[str, Any]:
    if path is None:
        return {}
    if controller is not ControllerName.FIXED:
        raise ArgumentError("design_flows", "design flows time the fixed controller")
    from trafficsim.runner.design_flows import load_design_flows

    return load_design_flows(Path(path))
