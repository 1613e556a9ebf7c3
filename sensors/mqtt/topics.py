"""The topic tree under one configurable root (default ``hcmc``); see docs/asyncapi.yaml.

| topic | what | QoS | retained |
|---|---|---|---|
| ``{root}/sensors/{intersection}/{device}`` | loop and camera readings | 1 | no |
| ``{root}/probes/{link}`` | probe-vehicle travel times per link | 1 | no |
| ``{root}/status/{client}`` | ``online`` / ``offline`` (last will) | 1 | yes |
| ``{root}/meta/devices/{device}`` | device metadata | 1 | yes |
| ``{root}/meta/scenario`` | the running scenario | 1 | yes |
| ``{root}/clock`` | simulated time after each publishing step | 0 | no |
| ``{root}/forecast/{intersection}/{device}`` | predictor output | 1 | no |
| ``{root}/signal/{intersection}/plan`` | commands from the optimizer | 1 | no |
| ``{root}/signal/{intersection}/state`` | signal display changes | 1 | no |
| ``{root}/signal/{intersection}/ack`` | command accepted or rejected, with the reason | 1 | no |
| ``{root}/meta/signals/{intersection}`` | a cabinet's groups, phase table and limits | 1 | yes |
| ``{root}/control/{service}/done`` | a service finished a lock-step round | 1 | no |
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_ROOT = "hcmc"


def _check_level(value: str, what: str) -> str:
    if not value or any(ch in value for ch in "/+#\0"):
        raise ValueError(
            f"{what} {value!r} cannot be a topic level: it must be non-empty and "
            "contain no '/', '+', '#'"
        )
    return value


@dataclass(frozen=True, slots=True)
class Topics:
    root: str = DEFAULT_ROOT

    def __post_init__(self) -> None:
        parts = self.root.split("/")
        for p in parts:
            _check_level(p, "topic root part")

    def reading(self, intersection: str, device: str) -> str:
        return (
            f"{self.root}/sensors/{_check_level(intersection, 'intersection')}/"
            f"{_check_level(device, 'device')}"
        )

    def probe(self, link: str) -> str:
        return f"{self.root}/probes/{_check_level(link, 'link')}"

    def status(self, client: str) -> str:
        return f"{self.root}/status/{_check_level(client, 'client')}"

    def device_meta(self, device: str) -> str:
        return f"{self.root}/meta/devices/{_check_level(device, 'device')}"

    def scenario_meta(self) -> str:
        return f"{self.root}/meta/scenario"

    def clock(self) -> str:
        return f"{self.root}/clock"

    def forecast(self, intersection: str, device: str) -> str:
        return (
            f"{self.root}/forecast/{_check_level(intersection, 'intersection')}/"
            f"{_check_level(device, 'device')}"
        )

    def signal(self, intersection: str, what: str) -> str:
        """``what``: "plan", "state" or "ack"."""
        if what not in ("plan", "state", "ack"):
            raise ValueError(f"signal topic kind must be plan, state or ack, got {what!r}")
        return f"{self.root}/signal/{_check_level(intersection, 'intersection')}/{what}"

    def signal_meta(self, intersection: str) -> str:
        return f"{self.root}/meta/signals/{_check_level(intersection, 'intersection')}"

    def control_done(self, service: str) -> str:
        return f"{self.root}/control/{_check_level(service, 'service')}/done"

    def all(self) -> str:
        """Filter for everything under the root."""
        return f"{self.root}/#"
