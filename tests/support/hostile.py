"""Hostile messages for the fuzz tests: strategies built from the AsyncAPI document's payload
schemas (docs/asyncapi.yaml), mutations of them, and the corpus of messages that killed
services before (issue: a message never kills a service).

``schema_strategy`` turns the subset of JSON Schema the document uses (type, properties,
required, additionalProperties, items, min/maxItems, enum, const, minimum, maximum,
exclusiveMinimum, minLength, $ref, allOf) into a hypothesis strategy of valid payloads;
``hostile_payloads`` bends those into what a broken or malicious client sends.
"""

from __future__ import annotations

import json
import random
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from hypothesis import strategies as st

ASYNCAPI = Path(__file__).resolve().parents[2] / "docs" / "asyncapi.yaml"

JSONValue = Any


@cache
def document() -> dict[str, Any]:
    return dict(yaml.safe_load(ASYNCAPI.read_text(encoding="utf-8")))


def _resolve(ref: str) -> dict[str, Any]:
    node: Any = document()
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return dict(node)


def message_schema(name: str) -> dict[str, Any]:
    """The payload schema of ``components/messages/{name}``."""
    return dict(_resolve(f"#/components/messages/{name}")["payload"])


def _merge(schemas: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {"properties": {}, "required": []}
    for s in schemas:
        s = _resolve(s["$ref"]) if "$ref" in s else s
        if "allOf" in s:
            s = {**_merge(s["allOf"]), **{k: v for k, v in s.items() if k != "allOf"}}
        out["properties"] = {**out["properties"], **s.get("properties", {})}
        out["required"] = [*out["required"], *s.get("required", [])]
        out |= {k: v for k, v in s.items() if k not in ("properties", "required")}
    return out


_SCALAR = {
    "string": st.text(min_size=1, max_size=12),
    "integer": st.integers(min_value=-(2**70), max_value=2**70),
    "number": st.floats(allow_nan=False, allow_infinity=False) | st.integers(-1000, 10**6),
    "boolean": st.booleans(),
    "null": st.none(),
}


def schema_strategy(schema: dict[str, Any]) -> st.SearchStrategy[JSONValue]:
    """Valid instances of ``schema`` (the document's subset of JSON Schema)."""
    if "$ref" in schema:
        return schema_strategy(_resolve(schema["$ref"]))
    if "allOf" in schema:
        return schema_strategy(_merge(schema["allOf"]))
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema.get("type", "object" if "properties" in schema else None)
    if isinstance(kind, list):
        return st.one_of([schema_strategy({**schema, "type": k}) for k in kind])
    if kind == "object":
        props = schema.get("properties", {})
        required = [k for k in schema.get("required", []) if k in props]
        optional = {k: schema_strategy(v) for k, v in props.items() if k not in required}
        extra = schema.get("additionalProperties")
        base = st.fixed_dictionaries(
            {k: schema_strategy(props[k]) for k in required}, optional=optional
        )
        if isinstance(extra, dict) and not props:
            return st.dictionaries(
                st.text(min_size=1, max_size=8), schema_strategy(extra), max_size=4
            )
        return base
    if kind == "array":
        items = schema_strategy(schema.get("items", {"type": "string"}))
        return st.lists(
            items, min_size=schema.get("minItems", 0), max_size=schema.get("maxItems", 4)
        )
    if kind in ("number", "integer"):
        lo = schema.get("minimum", schema.get("exclusiveMinimum"))
        hi = schema.get("maximum")
        if kind == "integer":
            return st.integers(
                min_value=None if lo is None else int(lo) + ("exclusiveMinimum" in schema),
                max_value=None if hi is None else int(hi),
            )
        return st.floats(
            min_value=lo,
            max_value=hi,
            exclude_min="exclusiveMinimum" in schema,
            allow_nan=False,
            allow_infinity=False,
        )
    if kind == "string":
        return st.text(min_size=max(1, schema.get("minLength", 0)), max_size=16)
    if kind in _SCALAR:
        return _SCALAR[kind]
    return st.none()


# -- what a hostile or broken client sends ----------------------------------------------------
BAD_VALUES: list[JSONValue] = [
    None,
    "",
    "x" * 300,
    "<script>alert(1)</script>",
    True,
    -1,
    0,
    2**63,
    -(2**63) - 1,
    10**30,
    1e308,
    -1e308,
    1e-320,
    [],
    {},
    [[[[1]]]],
    {"a": {"b": {"c": None}}},
    "NaN",
    99,
]
"""Values that are wrong for some field of every message: wrong types, out of range,
huge, empty, script in a string."""

KILLERS: list[tuple[str, bytes]] = [
    # A 4 KB nested array on a device's own topic (RecursionError in every consumer).
    ("hcmc/sensors/r0c0/loop-N0-r0c0-NS", b"[" * 2000 + b"]" * 2000),
    ("hcmc/sensors/r0c0/loop-N0-r0c0-NS", b'{"a":' * 1500 + b"1" + b"}" * 1500),
    ("hcmc/clock", b'{"simTimeSeconds": Infinity, "dateObserved": "x"}'),
    ("hcmc/clock", b'{"simTimeSeconds": 1e400, "dateObserved": "x"}'),
    ("hcmc/clock", b'{"simTimeSeconds": NaN}'),
    ("hcmc/control/x/done", b'{"simTimeSeconds": null}'),
    ("hcmc/control/optimizer/done", b'{"simTimeSeconds": null, "service": "optimizer"}'),
    ("hcmc/control/predictor/done", b'{"simTimeSeconds": -Infinity, "service": "predictor"}'),
    # seq of 2^63 and of 4,300+ digits (the recorder).
    (
        "hcmc/sensors/r0c0/loop-N0-r0c0-NS",
        b'{"deviceId":"loop-N0-r0c0-NS","deviceType":"inductiveLoop","seq":9223372036854775808,'
        b'"simTimeSeconds":60,"periodSeconds":60,"intensity":1}',
    ),
    (
        "hcmc/sensors/r0c0/loop-N0-r0c0-NS",
        b'{"deviceId":"loop-N0-r0c0-NS","deviceType":"inductiveLoop","seq":'
        + b"9" * 4400
        + b',"simTimeSeconds":60,"periodSeconds":60,"intensity":1}',
    ),
    # A null intensity (watch), intensityByClass not an object (the optimizer).
    (
        "hcmc/sensors/r0c0/loop-N0-r0c0-NS",
        b'{"deviceId":"loop-N0-r0c0-NS","deviceType":"inductiveLoop","seq":1,'
        b'"simTimeSeconds":60,"periodSeconds":60,"intensity":null}',
    ),
    (
        "hcmc/sensors/r0c0/cam-N0-r0c0-NS",
        b'{"deviceId":"cam-N0-r0c0-NS","deviceType":"camera","seq":1,"simTimeSeconds":60,'
        b'"periodSeconds":60,"intensity":3,"intensityByClass":[1,2],"queueLengthVehicles":2}',
    ),
    # A reading claiming another device's name and a huge seq; one from the far future.
    (
        "hcmc/sensors/r0c0/loop-N0-r0c0-NS",
        b'{"deviceId":"loop-W0-r0c0-EW","deviceType":"inductiveLoop","seq":1000000000,'
        b'"simTimeSeconds":60,"periodSeconds":60,"intensity":1}',
    ),
    (
        "hcmc/sensors/r0c0/loop-N0-r0c0-NS",
        b'{"deviceId":"loop-N0-r0c0-NS","deviceType":"inductiveLoop","seq":2,'
        b'"simTimeSeconds":1000000000000,"periodSeconds":60,"intensity":1}',
    ),
    (
        "hcmc/sensors/r0c0/loop-N0-r0c0-NS",
        b'{"deviceId":"loop-N0-r0c0-NS","deviceType":"inductiveLoop","seq":2,'
        b'"simTimeSeconds":500000000,"periodSeconds":60,"intensity":1}',
    ),
    (
        "hcmc/sensors/r0c0/loop-N0-r0c0-NS",
        b'{"deviceId":"loop-N0-r0c0-NS","deviceType":"inductiveLoop","seq":1000000000,'
        b'"simTimeSeconds":120,"periodSeconds":60,"intensity":1}',
    ),
    # A signal state showing phase 99; cabinet metadata with a zero saturation flow.
    (
        "hcmc/signal/r0c0/state",
        b'{"intersection":"r0c0","simTimeSeconds":5,"groups":{"NS":"green"},"phase":99,'
        b'"mode":"fixed","planId":"x"}',
    ),
    (
        "hcmc/meta/signals/zz",
        b'{"intersection":"zz","groups":{"A":{"approaches":[],"laneGroups":[],"exits":[],'
        b'"satFlowPcuPerHour":0}},"phases":[["A"]],"storedPlan":{"offsetSeconds":0,"phases":'
        b'[{"groups":["A"],"greenSeconds":10,"yellowSeconds":3}]},"minGreenSeconds":5,'
        b'"maxGreenSeconds":60,"maxCycleSeconds":120,"minYellowSeconds":3,"minAllRedSeconds":1,'
        b'"fallbackSeconds":60,"startupLostSeconds":2,"yellowEndUseSeconds":2,'
        b'"pcuEquivalents":{"car":1}}',
    ),
    (
        "hcmc/meta/signals/zz",
        b'{"intersection":"zz","groups":{"A":{"approaches":[],"laneGroups":[],"exits":[],'
        b'"satFlowPcuPerHour":1800}},"phases":[["B"]],"storedPlan":{"offsetSeconds":0,'
        b'"phases":[{"groups":["C"],"greenSeconds":10,"yellowSeconds":3}]},'
        b'"minGreenSeconds":5,"maxGreenSeconds":60,"maxCycleSeconds":120,"minYellowSeconds":3,'
        b'"minAllRedSeconds":1,"fallbackSeconds":60,"startupLostSeconds":2,'
        b'"yellowEndUseSeconds":2,"pcuEquivalents":{"car":1}}',
    ),
    ("hcmc/meta/devices/loop-x", b"\xff\xfe garbage"),
    ("hcmc/meta/devices/loop-x", b'{"deviceId": ["loop-x"], "intersection": {"a": 1}}'),
    ("hcmc/signal/r0c0/ack", b'{"intersection":"r0c0","accepted":"yes","simTimeSeconds":1}'),
    ("hcmc/forecast/r0c0/loop-N0-r0c0-NS", b'{"deviceId":"x","forecasts":[{"a":1}]}'),
    ("hcmc/sensors/r0c0/loop-N0-r0c0-NS", b"\x00" * 64),
    ("hcmc/sensors/r0c0/loop-N0-r0c0-NS", b""),
    ("hcmc/sensors/r0c0/loop-N0-r0c0-NS", b'"just a string"'),
    ("hcmc/sensors/r0c0/loop-N0-r0c0-NS", b"x" * 300_000),
]
"""Messages that ended a service, or a run, before they were parsed at the edge."""


def _bent(value: JSONValue, draw: st.DrawFn) -> JSONValue:
    """``value`` with one field (at any depth) replaced, removed or wrapped."""
    if isinstance(value, dict) and value:
        key = draw(st.sampled_from(sorted(value)))
        how = draw(st.sampled_from(["replace", "remove", "deeper", "bend"]))
        out = dict(value)
        if how == "remove":
            del out[key]
        elif how == "deeper":
            out[key] = [[[out[key]]]]
        elif how == "bend":
            out[key] = _bent(out[key], draw)
        else:
            out[key] = draw(st.sampled_from(BAD_VALUES))
        return out
    if isinstance(value, list) and value:
        i = draw(st.integers(0, len(value) - 1))
        return [*value[:i], _bent(value[i], draw), *value[i + 1 :]]
    return draw(st.sampled_from(BAD_VALUES))


@st.composite
def hostile_payloads(draw: st.DrawFn, message: str) -> bytes:
    """What a broken or hostile client sends where ``message`` is expected: a valid one bent
    in one place, broken JSON, JSON that is not an object, or NaN/Infinity/huge numbers."""
    valid = draw(schema_strategy(message_schema(message)))
    how = draw(st.sampled_from(["bent", "bent", "bent", "truncated", "constant", "other"]))
    if how == "bent":
        return json.dumps(_bent(valid, draw)).encode()
    text = json.dumps(valid)
    if how == "truncated":
        return text[: draw(st.integers(0, max(0, len(text) - 1)))].encode()
    if how == "constant" and isinstance(valid, dict) and valid:
        key = draw(st.sampled_from(sorted(valid)))
        constant = draw(st.sampled_from(["NaN", "Infinity", "-Infinity", "1e999", "9" * 5000]))
        return json.dumps({**valid, key: "@@"}).replace('"@@"', constant).encode()
    return draw(
        st.sampled_from([b"null", b"[]", b"1", b'"x"', b"\xff", b"{", b"[" * 64 + b"]" * 64])
    )


READING_MESSAGES = ("LoopReading", "CameraReading", "ProbeReading")
OTHER_MESSAGES = (
    "Forecast",
    "DeviceMeta",
    "ScenarioMeta",
    "CyclePlan",
    "StageCommand",
    "SignalState",
    "SignalAck",
    "SignalMeta",
    "ControlDone",
    "Clock",
)


# -- a flood for the real services --------------------------------------------------------
WRONG_TYPES: list[JSONValue] = [None, [], {}, "x", True, [[[[[]]]]], {"$gt": 1}]
"""Values of the wrong JSON type for any field a consumer reads (numbers, strings, lists and
objects alike are refused where one of these stands)."""


def _broken(rng: random.Random, payload: dict[str, Any], used: tuple[str, ...]) -> bytes:
    """``payload`` made unusable for certain: a field its consumers read gets a value of the
    wrong type, goes missing, or the text is cut, or carries a number JSON does not allow."""
    how = rng.choice(["type", "type", "missing", "cut", "constant", "deep", "huge"])
    field = rng.choice([k for k in used if k in payload])
    if how == "type":
        bad = rng.choice([v for v in WRONG_TYPES if type(v) is not type(payload[field])])
        return json.dumps({**payload, field: bad}).encode()
    if how == "missing":
        return json.dumps({k: v for k, v in payload.items() if k != field}).encode()
    text = json.dumps(payload)
    if how == "cut":
        return text[: rng.randrange(len(text) - 1)].encode()
    if how == "deep":
        return json.dumps({**payload, field: "@@"}).replace('"@@"', "[" * 40 + "]" * 40).encode()
    if how == "huge":
        return json.dumps({**payload, field: "@@"}).replace('"@@"', "9" * 5000).encode()
    constant = rng.choice(["NaN", "Infinity", "-Infinity", "1e999"])
    return json.dumps({**payload, field: "@@"}).replace('"@@"', constant).encode()


def _anything(rng: random.Random, payload: dict[str, Any], name: str) -> bytes:
    """``payload`` renamed to ``name`` and bent in one place, any way at all (it may stay
    valid: a made-up device's reading)."""
    out = {**payload, "deviceId": name} if "deviceId" in payload else dict(payload)
    if rng.random() < 0.8:
        out[rng.choice(sorted(out))] = rng.choice([*BAD_VALUES, *WRONG_TYPES])
    return json.dumps(out).encode()


def _elsewhere(topic: str, name: str) -> str:
    """``topic`` with its device, place or service made up."""
    parts = topic.split("/")
    level = {"signal": 2, "control": 2}.get(parts[1], len(parts) - 1)
    parts[level] = name
    return "/".join(parts)


def flood(
    rng: random.Random,
    genuine: list[tuple[str, dict[str, Any], tuple[str, ...]]],
    n: int,
    root: str = "hcmc",
) -> list[tuple[str, bytes]]:
    """``n`` hostile messages against the topics of ``genuine`` (topic, a genuine payload,
    the fields its consumers read): on a genuine topic only messages unusable for certain
    (a consumer that took one would be wrong), on made-up devices, places and services
    anything at all, and the corpus of killers on both."""
    killers = [(t.replace("hcmc/", f"{root}/", 1), p) for t, p in KILLERS]
    out: list[tuple[str, bytes]] = []
    while len(out) < n:
        pick = rng.random()
        topic, payload, used = rng.choice(genuine)
        if pick < 0.1:
            out.append(rng.choice(killers))
        elif pick < 0.6:
            out.append((topic, _broken(rng, payload, used)))
        else:
            name = f"fuzz-{rng.randrange(100_000)}"
            out.append((_elsewhere(topic, name), _anything(rng, payload, name)))
    return out
