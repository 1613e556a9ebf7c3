"""Trained forecasters round-trip through a model directory, and bad directories are
refused with the reason."""

from __future__ import annotations

import json

import numpy as np
import pytest

from trafficsim.models.features import Calendar, PanelFeatures, typical_profile
from trafficsim.models.forecasters import make_forecaster
from trafficsim.models.persistence import (
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
    (path / "models.joblib").unlink()
    with pytest.raises(ModelError, match=r"models\.joblib: not found; train a model"):
        load_models(path)


def test_changed_model_file(trained) -> None:
    path, *_ = trained
    (path / "models.joblib").write_bytes(b"not a model")
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
