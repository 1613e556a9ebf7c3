"""Trained forecasters round-trip through a model directory, and bad directories are
refused with the reason."""

from __future__ import annotations

import hashlib
import json
import pickle
from pathlib import Path

import numpy as np
import pytest
import skops.io as sio

from trafficsim.models.features import Calendar, PanelFeatures, typical_profile
from trafficsim.models.forecasters import make_forecaster
from trafficsim.models.persistence import (
    TRUSTED_TYPES,
    ModelError,
    ModelMetadata,
    data_hash,
    load_models,
    save_models,
)


@pytest.fixture
def trained(tmp_path):
    rng = np.random.default_rng(1)
    values = 50 + rng.normal(0, 3, size=(24 * 8, 3)).cumsum(axis=0) * 0.1
    cal = Calendar(24, 0)
    prof = typical_profile(values, 150, cal)
    f = PanelFeatures(np.ones((3, 3)), cal)
    origins = np.arange(12, 140)
    X = f.build(values, prof, origins, 2)
    y = values[origins + 1].reshape(-1)
    models = {("speed", 2): make_forecaster("gbm", f.names, max_iter=20).fit(X, y)}
    meta = ModelMetadata(
        model="gbm",
        targets=("speed",),
        steps=(2,),
        step_s=300.0,
        feature_names=f.names,
        training_data_sha256=data_hash(values),
        seed=0,
    )
    written = save_models(tmp_path / "model", models, meta)
    return tmp_path / "model", models, written, X, f.names


def test_round_trip_predicts_the_same(trained) -> None:
    path, models, meta, X, names = trained
    bundle = load_models(path, feature_names=names)
    assert np.array_equal(bundle.models[("speed", 2)].predict(X), models[("speed", 2)].predict(X))
    assert bundle.metadata == meta and len(bundle.metadata.version) == 12


def test_missing_file(trained) -> None:
    path, *_ = trained
    (path / "estimators.skops").unlink()
    with pytest.raises(ModelError, match=r"estimators\.skops: not found; train a model"):
        load_models(path)


def test_changed_model_file(trained) -> None:
    path, *_ = trained
    (path / "estimators.skops").write_bytes(b"not a model")
    with pytest.raises(ModelError, match="sha256 differs"):
        load_models(path)


def test_other_sklearn_version(trained) -> None:
    path, *_ = trained
    meta = json.loads((path / "metadata.json").read_text())
    meta["sklearn_version"] = "0.24.2"
    (path / "metadata.json").write_text(json.dumps(meta))
    with pytest.raises(ModelError, match=r"trained with scikit-learn 0\.24\.2"):
        load_models(path)


def test_other_features(trained) -> None:
    path, _, _, _, names = trained
    with pytest.raises(ModelError, match=r"missing \['sensor'\]"):
        load_models(path, feature_names=tuple(n for n in names if n != "sensor"))


def test_unreadable_metadata(trained) -> None:
    path, *_ = trained
    (path / "metadata.json").write_text("{}")
    with pytest.raises(ModelError, match="not a model description"):
        load_models(path)


def test_the_directory_holds_no_pickle(trained) -> None:
    """Everything but the estimators is JSON or npz; the estimators are skops (a zip of a
    JSON schema and arrays) naming only trusted types."""
    path, *_ = trained
    assert sorted(p.name for p in path.iterdir()) == [
        "arrays.npz",
        "estimators.skops",
        "metadata.json",
        "predictor.json",
    ]
    json.loads((path / "predictor.json").read_text())
    np.load(path / "arrays.npz", allow_pickle=False).close()
    assert set(sio.get_untrusted_types(file=path / "estimators.skops")) <= set(TRUSTED_TYPES)


class Marker:
    """An object whose rebuilding writes a file: what a hostile model file would do."""

    path = ""

    def __setstate__(self, state: dict[str, object]) -> None:
        Path(str(state["path"])).write_text("ran")

    def __reduce__(self) -> tuple[object, ...]:
        return (open, (self.path, "w"))


def _rehash(path: Path, name: str, data: bytes) -> None:
    """Replace a model file and recompute every hash the metadata keeps, as an attacker
    who can write the directory would."""
    (path / name).write_bytes(data)
    meta = json.loads((path / "metadata.json").read_text())
    meta["files_sha256"][name] = hashlib.sha256(data).hexdigest()
    lines = "".join(f"{n}:{h}\n" for n, h in meta["files_sha256"].items())
    meta["models_sha256"] = hashlib.sha256(lines.encode()).hexdigest()
    (path / "metadata.json").write_text(json.dumps(meta))


def test_a_skops_file_naming_an_untrusted_type_is_refused_unrun(trained, tmp_path) -> None:
    path, *_ = trained
    marker = tmp_path / "marker"
    evil = Marker()
    evil.__dict__["path"] = str(marker)
    data = sio.dumps({"speed@2": evil})
    # The crafted file is live: trusting its type would write the marker.
    sio.loads(data, trusted=sio.get_untrusted_types(data=data))
    assert marker.read_text() == "ran"
    marker.unlink()
    _rehash(path, "estimators.skops", data)
    with pytest.raises(ModelError, match=r"names types a model file may not hold \(.*Marker"):
        load_models(path)
    assert not marker.exists()


def test_a_pickle_in_place_of_the_estimators_is_refused_unrun(trained, tmp_path) -> None:
    path, *_ = trained
    marker = tmp_path / "marker"
    evil = Marker()
    evil.path = str(marker)
    _rehash(path, "estimators.skops", pickle.dumps(evil))
    with pytest.raises(ModelError, match="not a model file of this version"):
        load_models(path)
    assert not marker.exists()


def test_an_old_pickled_model_is_refused_unread(trained, tmp_path) -> None:
    """Format 2 (models.joblib, a pickle) with its hash recomputed, as in the probe."""
    path, *_ = trained
    marker = tmp_path / "marker"
    evil = Marker()
    evil.path = str(marker)
    blob = pickle.dumps(evil)
    (path / "models.joblib").write_bytes(blob)
    meta = json.loads((path / "metadata.json").read_text())
    meta.update(format=2, models_sha256=hashlib.sha256(blob).hexdigest())
    del meta["files_sha256"]
    (path / "metadata.json").write_text(json.dumps(meta))
    with pytest.raises(ModelError, match=r"model format 2, this version reads 3.*; retrain"):
        load_models(path)
    assert not marker.exists()


def test_a_round_trip_keeps_the_live_predictors_extras(tmp_path) -> None:
    from trafficsim.models.features import Calendar, ProfileTable

    cal = Calendar(24, 2, 3)
    table = ProfileTable.fit(np.arange(48.0 * 2).reshape(48, 2), cal)
    extras = {
        "profiles": {"speed": table},
        "devices": ("loop-a", "loop-b"),
        "adjacency": np.eye(2),
        "calendar": cal,
        "holdout": {"speed": {"5": {"rmse": 1.5}}},
        "series": ("flow", "speed"),
    }
    meta = ModelMetadata("persistence", ("speed",), (5,), 60.0, ("lag1",), "0" * 64, 0)
    save_models(tmp_path / "m", {}, meta, extras)
    got = load_models(tmp_path / "m").extras
    assert got["calendar"] == cal and got["devices"] == extras["devices"]
    assert got["series"] == extras["series"] and got["holdout"] == extras["holdout"]
    assert np.array_equal(got["adjacency"], np.eye(2))
    assert all(
        np.array_equal(getattr(got["profiles"]["speed"], f), getattr(table, f))
        for f in ("total", "count", "fallback")
    )
