"""Saving and loading trained forecasters in files that cannot run code when they are read.

A model directory holds four files that loading reads, and nothing of it is ever unpickled:

- ``metadata.json``: model, targets, horizons, step length, feature names, scikit-learn
  version, the hash of the training data, the seed, the format, and the sha256 of each of
  the three files below (their combined hash is the version published with every forecast);
- ``estimators.skops``: the fitted estimators (one per target and step) in the skops format,
  a zip of a JSON schema and numpy arrays. skops rebuilds only types it is told to trust:
  loading lists the types the file names (``skops.io.get_untrusted_types``) and refuses it
  unless every one is in :data:`TRUSTED_TYPES`, so a tampered file can at most describe
  estimators of those classes, never call a function;
- ``predictor.json``: what the live service needs besides the estimators (the devices in
  panel order, the calendar, the extra series, the holdout scores);
- ``arrays.npz``: the neighbour weights and the typical profiles, read with
  ``allow_pickle=False``.

Loading refuses, with the reason and the fix, a missing file, another format (format 2 and
older were pickles: retrain), a file that is not the one the metadata describes, a type
outside the trusted list, a different scikit-learn version, or features that differ from
what the caller will provide. Other files in the directory (``training.json``, a
``recording/``) are the trainer's report and data, never read here.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import sklearn
import skops.io as sio

from trafficsim.models.features import Calendar, ProfileTable

FORMAT = 3
"""3: estimators in skops, the rest JSON and npz (no pickle anywhere); 2 and 1 were joblib
pickles, which run whatever code the file names when loaded."""

ESTIMATORS_FILE = "estimators.skops"
PREDICTOR_FILE = "predictor.json"
ARRAYS_FILE = "arrays.npz"
MODEL_FILES = (ESTIMATORS_FILE, PREDICTOR_FILE, ARRAYS_FILE)

TRUSTED_TYPES = (
    "trafficsim.models.forecasters.ColumnForecaster",
    "trafficsim.models.forecasters.ResidualForecaster",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "numpy.dtype",
)
"""Types beyond skops' own safe defaults (scikit-learn estimators, numpy arrays, builtins)
that a model file may name: the project's forecasters and what they hold. Every one only
stores attributes when rebuilt."""

_PROFILE_FIELDS = ("total", "count", "fallback")


class ModelError(ValueError):
    """A model directory that cannot be used, with the file and the fix."""


@dataclass(frozen=True, slots=True)
class ModelMetadata:
    model: str
    targets: tuple[str, ...]
    steps: tuple[int, ...]
    step_s: float
    feature_names: tuple[str, ...]
    training_data_sha256: str
    seed: int
    sklearn_version: str = sklearn.__version__
    created: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    format: int = FORMAT
    models_sha256: str = ""
    """sha256 over the names and hashes of :data:`MODEL_FILES`."""
    files_sha256: tuple[tuple[str, str], ...] = ()
    """(file name, sha256) of each of :data:`MODEL_FILES`."""

    @property
    def version(self) -> str:
        """Short id of this trained model, published with every forecast."""
        return self.models_sha256[:12]


def data_hash(*arrays: Any) -> str:
    h = hashlib.sha256()
    for a in arrays:
        h.update(memoryview(a).cast("B") if hasattr(a, "__array__") else str(a).encode())
    return h.hexdigest()


def _combined_hash(files: tuple[tuple[str, str], ...]) -> str:
    return hashlib.sha256("".join(f"{n}:{h}\n" for n, h in files).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class ModelBundle:
    models: dict[tuple[str, int], Any]
    metadata: ModelMetadata
    extras: dict[str, Any]


def _split_extras(extras: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The JSON part and the arrays of a trained predictor's extras."""
    doc: dict[str, Any] = {}
    arrays: dict[str, np.ndarray] = {}
    for key, value in extras.items():
        if key == "profiles":
            doc["profiles"] = sorted(value)
            for target, table in value.items():
                for f in _PROFILE_FIELDS:
                    arrays[f"profiles/{target}/{f}"] = np.asarray(getattr(table, f))
        elif key == "calendar":
            doc["calendar"] = asdict(value)
        elif isinstance(value, np.ndarray):
            arrays[key] = value
        else:
            doc[key] = value
    return doc, arrays


def _join_extras(doc: dict[str, Any], arrays: Mapping[str, np.ndarray]) -> dict[str, Any]:
    extras: dict[str, Any] = {}
    for key, value in doc.items():
        if key == "profiles":
            extras[key] = {
                t: ProfileTable(*(arrays[f"profiles/{t}/{f}"] for f in _PROFILE_FIELDS))
                for t in value
            }
        elif key == "calendar":
            extras[key] = Calendar(**value)
        elif key in ("devices", "series"):
            extras[key] = tuple(value)
        else:
            extras[key] = value
    extras.update({k: v for k, v in arrays.items() if not k.startswith("profiles/")})
    return extras


def save_models(
    directory: Path,
    estimators: dict[tuple[str, int], Any],
    meta: ModelMetadata,
    extras: dict[str, Any] | None = None,
) -> ModelMetadata:
    """Write the model files and ``metadata.json``; returns the metadata as written."""
    directory.mkdir(parents=True, exist_ok=True)
    blob = sio.dumps({f"{t}@{s}": m for (t, s), m in estimators.items()})
    untrusted = set(sio.get_untrusted_types(data=blob)) - set(TRUSTED_TYPES)
    if untrusted:  # a new estimator class: add it to TRUSTED_TYPES once it is known safe
        raise ModelError(f"the estimators hold types loading would refuse: {sorted(untrusted)}")
    doc, arrays = _split_extras(extras or {})
    (directory / ESTIMATORS_FILE).write_bytes(blob)
    (directory / PREDICTOR_FILE).write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    with (directory / ARRAYS_FILE).open("wb") as fh:
        np.savez(fh, allow_pickle=False, **arrays)
    files = tuple(
        (name, hashlib.sha256((directory / name).read_bytes()).hexdigest()) for name in MODEL_FILES
    )
    meta = ModelMetadata(
        **{**asdict(meta), "models_sha256": _combined_hash(files), "files_sha256": files}
    )
    doc_meta = {**asdict(meta), "files_sha256": dict(files)}
    (directory / "metadata.json").write_text(json.dumps(doc_meta, indent=2) + "\n", "utf-8")
    return meta


def _read_metadata(meta_path: Path) -> ModelMetadata:
    try:
        raw = json.loads(meta_path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise ModelError(f"{meta_path}: not UTF-8 text; retrain") from None
    except RecursionError:
        raise ModelError(f"{meta_path}: nested too deeply to read; retrain") from None
    except json.JSONDecodeError as exc:
        raise ModelError(f"{meta_path}: not a model description ({exc}); retrain") from None
    try:
        raw["targets"], raw["steps"] = tuple(raw["targets"]), tuple(raw["steps"])
        raw["feature_names"] = tuple(raw["feature_names"])
        raw["files_sha256"] = tuple(dict(raw.get("files_sha256", {})).items())
        return ModelMetadata(**raw)
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelError(f"{meta_path}: not a model description ({exc}); retrain") from None


def load_models(directory: Path, *, feature_names: tuple[str, ...] | None = None) -> ModelBundle:
    """The model of ``directory``, checked before anything of it is rebuilt (see the module
    docstring); a :class:`ModelError` with the fix otherwise."""
    meta_path = directory / "metadata.json"
    if not meta_path.is_file():
        raise ModelError(
            f"{meta_path}: not found; train a model into {directory} first "
            "(trafficsim train ... --out DIR)"
        )
    meta = _read_metadata(meta_path)
    if meta.format != FORMAT:
        raise ModelError(
            f"{meta_path}: model format {meta.format}, this version reads {FORMAT} (formats "
            "before 3 were pickles, which can run code when loaded); retrain"
        )
    for p in (directory / n for n in MODEL_FILES):
        if not p.is_file():
            raise ModelError(
                f"{p}: not found; train a model into {directory} first "
                "(trafficsim train ... --out DIR)"
            )
    listed = dict(meta.files_sha256)
    for name in MODEL_FILES:
        path = directory / name
        if hashlib.sha256(path.read_bytes()).hexdigest() != listed.get(name):
            raise ModelError(
                f"{path}: does not match {meta_path.name} (sha256 differs): "
                "the files come from different trainings or were changed; retrain"
            )
    if _combined_hash(meta.files_sha256) != meta.models_sha256:
        raise ModelError(f"{meta_path}: models_sha256 does not match its files; retrain")
    if meta.sklearn_version != sklearn.__version__:
        raise ModelError(
            f"{directory}: trained with scikit-learn {meta.sklearn_version}, this "
            f"is {sklearn.__version__}; retrain, or install scikit-learn=="
            f"{meta.sklearn_version}"
        )
    if feature_names is not None and tuple(feature_names) != meta.feature_names:
        missing = sorted(set(meta.feature_names) - set(feature_names))
        extra = sorted(set(feature_names) - set(meta.feature_names))
        raise ModelError(
            f"{directory}: the model expects other features (missing {missing}, "
            f"unexpected {extra}, or another order); retrain with this version"
        )
    stored = _read_estimators(directory / ESTIMATORS_FILE)
    models = {}
    for key, est in stored.items():
        target, _, step = key.rpartition("@")
        models[(target, int(step))] = est
    return ModelBundle(models, meta, _read_extras(directory))


def _read_estimators(path: Path) -> dict[str, Any]:
    data = path.read_bytes()
    try:
        untrusted = sio.get_untrusted_types(data=data)
        refused = sorted(set(untrusted) - set(TRUSTED_TYPES))
        if refused:
            raise ModelError(
                f"{path}: names types a model file may not hold ({', '.join(refused[:5])}); "
                "it was not written by 'trafficsim train': retrain"
            )
        stored = sio.loads(data, trusted=list(untrusted))
    except ModelError:
        raise
    except (zipfile.BadZipFile, KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ModelError(
            f"{path}: not a model file of this version ({type(exc).__name__}: {exc}); retrain"
        ) from None
    if not isinstance(stored, dict) or not all(isinstance(k, str) for k in stored):
        raise ModelError(f"{path}: expected estimators by 'target@step'; retrain")
    return stored


def _read_extras(directory: Path) -> dict[str, Any]:
    try:
        doc = json.loads((directory / PREDICTOR_FILE).read_text(encoding="utf-8"))
        with np.load(directory / ARRAYS_FILE, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
        return _join_extras(doc, arrays)
    except (
        json.JSONDecodeError,
        UnicodeDecodeError,
        zipfile.BadZipFile,
        KeyError,
        TypeError,
        ValueError,
        AttributeError,
    ) as exc:
        raise ModelError(
            f"{directory}: {PREDICTOR_FILE} or {ARRAYS_FILE} unreadable ({exc}); retrain"
        ) from None
