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
| ``{root}/signal/{intersection}/status`` | central control or fallback (the alarm) | 1 | yes |
| ``{root}/meta/signals/{intersection}`` | a cabinet's groups, phase table and limits | 1 | yes |
| ``{root}/control/{service}/done`` | a service finished a lock-step round | 1 | no |
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

DEFAULT_ROOT = "hcmc"


class TopicKind(StrEnum):
    """What a topic of the tree carries (the rows of the table above)."""

    READING = "reading"
    PROBE = "probe"
    STATUS = "status"
    DEVICE_META = "device-meta"
    SCENARIO_META = "scenario-meta"
    SIGNAL_META = "signal-meta"
    CLOCK = "clock"
    FORECAST = "forecast"
    SIGNAL_PLAN = "plan"
    SIGNAL_STATE = "state"
    SIGNAL_ACK = "ack"
    SIGNAL_STATUS = "signal-status"
    CONTROL_DONE = "done"


@dataclass(frozen=True, slots=True)
class ParsedTopic:
    """A topic of the tree, taken apart: ``name`` is its last variable level (device,
    client, link or service) and ``place`` the intersection where the topic has one."""

    kind: TopicKind
    name: str = ""
    place: str = ""


_SIGNAL_KINDS = {
    "plan": TopicKind.SIGNAL_PLAN,
    "state": TopicKind.SIGNAL_STATE,
    "ack": TopicKind.SIGNAL_ACK,
    "status": TopicKind.SIGNAL_STATUS,
}


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
        """``what``: "plan", "state", "ack" or "status"."""
        if what not in _SIGNAL_KINDS:
            raise ValueError(f"signal topic kind must be plan, state, ack or status, got {what!r}")
        return f"{self.root}/signal/{_check_level(intersection, 'intersection')}/{what}"

    def signal_meta(self, intersection: str) -> str:
        return f"{self.root}/meta/signals/{_check_level(intersection, 'intersection')}"

    def control_done(self, service: str) -> str:
        return f"{self.root}/control/{_check_level(service, 'service')}/done"

    def all(self) -> str:
        """Filter for everything under the root."""
        return f"{self.root}/#"

    # -- filters ----------------------------------------------------------------------------
    def readings_filter(self) -> str:
        """Every loop and camera reading."""
        return f"{self.root}/sensors/#"

    def meta_filter(self) -> str:
        return f"{self.root}/meta/#"

    def forecasts_filter(self) -> str:
        return f"{self.root}/forecast/#"

    def signal_filter(self, what: str) -> str:
        """Every intersection's ``plan``, ``state``, ``ack`` or ``status``."""
        if what not in _SIGNAL_KINDS:
            raise ValueError(f"signal topic kind must be plan, state, ack or status, got {what!r}")
        return f"{self.root}/signal/+/{what}"

    def done_filter(self) -> str:
        return f"{self.root}/control/+/done"

    # -- parsing ----------------------------------------------------------------------------
    def parse(self, topic: str) -> ParsedTopic | None:
        """What ``topic`` is, or None for a topic outside this tree."""
        prefix = self.root + "/"
        if not topic.startswith(prefix):
            return None
        rest = topic[len(prefix) :].split("/")
        head, n = rest[0], len(rest)
        if head == "clock" and n == 1:
            return ParsedTopic(TopicKind.CLOCK)
        if head == "sensors" and n == 3:
            return ParsedTopic(TopicKind.READING, rest[2], rest[1])
        if head == "forecast" and n == 3:
            return ParsedTopic(TopicKind.FORECAST, rest[2], rest[1])
        if head == "probes" and n == 2:
            return ParsedTopic(TopicKind.PROBE, rest[1])
        if head == "status" and n == 2:
            return ParsedTopic(TopicKind.STATUS, rest[1])
        if head == "signal" and n == 3 and rest[2] in _SIGNAL_KINDS:
            return ParsedTopic(_SIGNAL_KINDS[rest[2]], place=rest[1])
        if head == "control" and n == 3 and rest[2] == "done":
            return ParsedTopic(TopicKind.CONTROL_DONE, rest[1])
        if head == "meta" and n == 2 and rest[1] == "scenario":
            return ParsedTopic(TopicKind.SCENARIO_META)
        if head == "meta" and n == 3 and rest[1] == "devices":
            return ParsedTopic(TopicKind.DEVICE_META, rest[2])
        if head == "meta" and n == 3 and rest[1] == "signals":
            return ParsedTopic(TopicKind.SIGNAL_META, place=rest[2])
        return None
