"""trafficsim: a smart-traffic twin of Ho Chi Minh City.

The Python API (docs/python-api.md has a worked example)::

    import trafficsim

    sc = trafficsim.load_scenario("hcmc-center", {"duration_s": 1800})
    run = trafficsim.simulate(sc, seed=0, controller="predictive")
    run.summary["mean_delay_s"]          # exactly summary.json
    run.vehicles                         # a pyarrow.Table, one row per vehicle
    run.save("out/")                     # the files `trafficsim run` writes
    cmp = trafficsim.compare(sc, seeds=4)
    cmp.reductions                       # reductions vs fixed time, paired by seed

One import package with four layers, each in a folder of its own in the repository:
``trafficsim.sim`` (the world), ``trafficsim.sensors`` (field devices, signal cabinets and
the MQTT wire), ``trafficsim.models`` (the centre: predictor and signal controllers) and
``trafficsim.runner`` (the composition root: command line, closed loop, sweeps, report).

Importing ``trafficsim`` loads none of them: the API's names are loaded on first use, so
``import trafficsim.sensors.mqtt`` stays free of the simulation and ``python -m trafficsim``
(the command line) starts fast.
"""

from __future__ import annotations

from importlib import import_module
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from trafficsim.models.optimizer import ControllerName
    from trafficsim.runner.api import Mqtt, compare, load_scenario, simulate
    from trafficsim.runner.api_arguments import ArgumentError
    from trafficsim.runner.results import Comparison, Emissions, RunResult
    from trafficsim.sensors.deployment_spec import DeploymentSpec
    from trafficsim.sensors.mqtt.broker import BrokerKind
    from trafficsim.sim import Fleet, InputError, Scenario, ScenarioError

_WHERE = MappingProxyType(
    {
        "load_scenario": "trafficsim.runner.api",
        "simulate": "trafficsim.runner.api",
        "compare": "trafficsim.runner.api",
        "Mqtt": "trafficsim.runner.api",
        "ArgumentError": "trafficsim.runner.api_arguments",
        "RunResult": "trafficsim.runner.results",
        "Comparison": "trafficsim.runner.results",
        "Emissions": "trafficsim.runner.results",
        "Scenario": "trafficsim.sim",
        "Fleet": "trafficsim.sim",
        "InputError": "trafficsim.sim",
        "ScenarioError": "trafficsim.sim",
        "ControllerName": "trafficsim.models.optimizer",
        "BrokerKind": "trafficsim.sensors.mqtt.broker",
        "DeploymentSpec": "trafficsim.sensors.deployment_spec",
    }
)
"""Where each name of the API lives (imported on first use)."""

__all__ = [
    "ArgumentError",
    "BrokerKind",
    "Comparison",
    "ControllerName",
    "DeploymentSpec",
    "Emissions",
    "Fleet",
    "InputError",
    "Mqtt",
    "RunResult",
    "Scenario",
    "ScenarioError",
    "__version__",
    "compare",
    "load_scenario",
    "simulate",
]


def __getattr__(name: str) -> Any:
    if name == "__version__":
        # Looked up on first use: importlib.metadata costs every process ~15 ms at start.
        from importlib.metadata import PackageNotFoundError, version

        try:
            found = version("trafficsim")
        except PackageNotFoundError:  # a source tree that was never installed
            found = "unknown"
        globals()["__version__"] = found  # looked up once
        return found
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module 'trafficsim' has no attribute {name!r}")
    return getattr(import_module(where), name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
