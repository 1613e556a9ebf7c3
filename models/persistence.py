"""Saving and loading trained forecasters with the metadata that makes them safe to reuse.

A model directory holds ``models.joblib`` (the fitted estimators, one per target and step)
and ``metadata.json``: feature names, horizons, step length, scikit-learn version, the hash
of the training data, the seed, a version id, and the hash of ``models.joblib`` itself.
Loading refuses, with the reason and the fix, a missing file, a model file that is not the
one the metadata describes, a different scikit-learn version, or features that differ from
what the caller will provide.
"""

from __future__ import annotations

import hashlib
import json
import pickle
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import joblib
import sklearn

FORMAT = 2
"""2: estimators pickled under the installed package's names (``trafficsim.models...``);
format 1 pickled them under ``models...``, which no longer imports."""


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

    @property
    def version(self) -> str:
        """Short id of this trained model, published with every forecast."""
        return self.models_sha256[:12]


def data_hash(*arrays: Any) -> str:
    h = hashlib.sha256()
    for a in arrays:
        h.update(memoryview(a).cast("B") if hasattr(a, "__array__") else str(a).encode())
    return h.hexdigest()


@dataclass(frozen=True, slots=True)
class ModelBundle:
    models: dict[tuple[str, int], Any]
    metadata: ModelMetadata
    extras: dict[str, Any]


def save_models(
    directory: Path,
    estimators: dict[tuple[str, int], Any],
    meta: ModelMetadata,
    extras: dict[str, Any] | None = None,
) -> ModelMetadata:
    """Write ``models.joblib`` and ``metadata.json``; returns the metadata as written."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "models.joblib"
    joblib.dump(
        {"models": {f"{t}@{s}": m for (t, s), m in estimators.items()}, "extras": extras or {}},
        path,
    )
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    meta = ModelMetadata(**{**asdict(meta), "models_sha256": digest})
    (directory / "metadata.json").write_text(
        json.dumps(asdict(meta), indent=2) + "\n", encoding="utf-8"
    )
    return meta


def load_models(directory: Path, *, feature_names: tuple[str, ...] | None = None) -> ModelBundle:
    meta_path = directory / "metadata.json"
    model_path = directory / "models.joblib"
    for p in (meta_path, model_path):
        if not p.is_file():
            raise ModelError(
                f"{p}: not found; train a model into {directory} first "
                "(trafficsim train ... --out DIR)"
            )
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
        meta = ModelMetadata(**raw)
    except (KeyError, TypeError) as exc:
        raise ModelError(f"{meta_path}: not a model description ({exc}); retrain") from None
    if meta.format != FORMAT:
        raise ModelError(
            f"{meta_path}: model format {meta.format}, this version reads {FORMAT}; retrain"
        )
    if hashlib.sha256(model_path.read_bytes()).hexdigest() != meta.models_sha256:
        raise ModelError(
            f"{model_path}: does not match {meta_path.name} (sha256 differs): "
            "the files come from different trainings or were changed; retrain"
        )
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
    try:
        stored = joblib.load(model_path)
    except (ImportError, AttributeError, EOFError, pickle.UnpicklingError) as exc:
        raise ModelError(
            f"{model_path}: cannot be read by this version ({type(exc).__name__}: {exc}); retrain"
        ) from None
    models = {}
    for key, est in stored["models"].items():
        target, _, step = key.rpartition("@")
        models[(target, int(step))] = est
    return ModelBundle(models, meta, dict(stored.get("extras", {})))
