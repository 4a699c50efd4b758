"""The beat-context stage: its inputs, its division of p(N) + p(S), saving and safe loading, training with it."""

from __future__ import annotations

import base64
import hashlib
import json

import mlflow
import numpy as np
import pytest
import skops.io

import models.registry
import models.training_run
from models.atrial_rule import DecisionRules, apply_temperature
from models.bundled import BUNDLED_DIR
from models.context_stage import (NEIGHBOUR_FEATURES, OFFSETS, SETTINGS_KEY, ContextStage, context_inputs,
                                  split_supraventricular)
from models.errors import CorruptModelError
from models.evaluate import predict_beats
from models.loading import load_local
from models.network import NetworkConfig
from models.prepare import InputSettings, prepare_reference_beats
from models.train import TrainingConfig, train_ensemble
from models.training_data import load_labelled_inputs
from models.training_run import run_training
from pipeline.records import read_record

N_FEATURES = 43
NAMES = [f"f{k}" for k in range(N_FEATURES - len(NEIGHBOUR_FEATURES))] + list(NEIGHBOUR_FEATURES)


class Intruder:
    """An object of a type no saved stage may hold."""

    def __init__(self):
        self.payload = "not a classifier"


@pytest.fixture(scope="module")
def bundled():
    return load_local(BUNDLED_DIR / "model.keras")


@pytest.fixture(scope="module")
def record_beats(bundled, excerpts_dir):
    """Record 232's excerpt (many S beats) prepared as the bundled model reads it, with its network probabilities."""
    record = read_record(excerpts_dir / "232")
    prepared, _ = prepare_reference_beats(record, InputSettings.from_dict(bundled.settings["inputs"]))
    return prepared, predict_beats(bundled.model, prepared.inputs)


def test_inputs_read_each_neighbour_of_the_same_recording_and_flag_the_ends():
    rng = np.random.default_rng(0)
    probabilities = rng.dirichlet(np.ones(5), size=6)
    features = rng.normal(size=(6, N_FEATURES))
    rows = context_inputs(probabilities, features, NAMES)
    own = 5 + N_FEATURES
    block = 5 + len(NEIGHBOUR_FEATURES) + 1
    assert rows.shape == (6, own + len(OFFSETS) * block)
    assert np.allclose(rows[:, :5], np.log(probabilities)) and np.allclose(rows[:, 5:own], features)
    neighbour_columns = [NAMES.index(n) for n in NEIGHBOUR_FEATURES]
    for k, offset in enumerate(OFFSETS):
        start = own + k * block
        for beat in range(6):
            other = beat + offset
            values = rows[beat, start:start + block]
            if 0 <= other < 6:
                assert np.allclose(values[:5], np.log(probabilities[other]))
                assert np.allclose(values[5:-1], features[other, neighbour_columns]) and values[-1] == 0
            else:  # past the recording's ends: nothing read, the flag set
                assert np.all(values[:-1] == 0) and values[-1] == 1
    with pytest.raises(ValueError, match="qrs_width_diff_ms"):
        context_inputs(probabilities, features, NAMES[:-1] + ["other"])


def test_the_division_keeps_the_ventricular_classes_and_the_supraventricular_mass():
    probabilities = np.random.default_rng(1).dirichlet(np.ones(5), size=50).astype(np.float32)
    share = np.linspace(0, 1, 50)
    divided = split_supraventricular(probabilities, share)
    assert np.allclose(divided[:, 2:], probabilities[:, 2:])
    assert np.allclose(divided[:, 0] + divided[:, 1], probabilities[:, 0] + probabilities[:, 1], atol=1e-6)
    assert np.allclose(divided[:, 1], share * (probabilities[:, 0] + probabilities[:, 1]), atol=1e-6)
    assert np.allclose(divided.sum(axis=1), 1.0, atol=1e-5) and divided.dtype == np.float32


def test_the_bundled_stage_round_trips_through_its_settings(bundled, record_beats):
    prepared, probabilities = record_beats
    stage = ContextStage.from_settings(bundled.settings)
    assert stage is not None, "the bundled model carries its context stage"
    again = ContextStage.from_settings({SETTINGS_KEY: json.loads(json.dumps(stage.to_settings()))})
    names = prepared.inputs.feature_names
    first = stage.split(probabilities, prepared.inputs.features, names)
    assert np.array_equal(first, again.split(probabilities, prepared.inputs.features, names))
    assert not np.allclose(first, probabilities)  # it does divide N + S differently from the network
    assert np.allclose(first[:, 2:], probabilities[:, 2:])


def test_decisions_come_from_the_divided_probabilities(bundled, record_beats):
    prepared, probabilities = record_beats
    decisions = DecisionRules.from_settings(bundled.settings)
    decision = decisions.decide(probabilities, prepared.inputs.features, prepared.inputs.feature_names)
    expected = decisions.context_stage.split(probabilities, prepared.inputs.features, prepared.inputs.feature_names)
    assert decisions.temperature is not None  # the reported probabilities: the divided ones, then tempered
    assert np.array_equal(decision.probabilities, apply_temperature(expected, decisions.temperature))
    untouched = ~(decision.atrial | decision.conducted | decision.run)
    assert np.array_equal(decision.classes[untouched], np.argmax(expected, axis=1)[untouched])
    without = DecisionRules.from_settings({k: v for k, v in bundled.settings.items()
                                           if k not in (SETTINGS_KEY, "temperature")})
    assert without.context_stage is None
    assert np.array_equal(without.decide(probabilities, prepared.inputs.features,
                                         prepared.inputs.feature_names).probabilities, probabilities)


def saved_archive(archive: bytes) -> dict:
    return {SETTINGS_KEY: {"format": "skops", "sha256": hashlib.sha256(archive).hexdigest(), "offsets": list(OFFSETS),
                           "neighbour_features": list(NEIGHBOUR_FEATURES),
                           "archive": base64.b64encode(archive).decode("ascii")}}


def test_a_damaged_or_foreign_stage_is_refused_with_a_clear_error(bundled):
    saved = bundled.settings[SETTINGS_KEY]
    edited = dict(saved, archive=base64.b64encode(base64.b64decode(saved["archive"])[:-10]).decode("ascii"))
    with pytest.raises(CorruptModelError, match="does not match its SHA-256"):
        ContextStage.from_settings({SETTINGS_KEY: edited})
    with pytest.raises(CorruptModelError, match="not valid base64"):
        ContextStage.from_settings({SETTINGS_KEY: dict(saved, archive="***")})
    with pytest.raises(CorruptModelError, match="Intruder"):  # never instantiated: refused by type before loading
        ContextStage.from_settings(saved_archive(skops.io.dumps(Intruder())))
    with pytest.raises(CorruptModelError, match="cannot be read"):
        ContextStage.from_settings(saved_archive(b"PK not a zip archive"))
    with pytest.raises(CorruptModelError, match="neighbours"):
        ContextStage.from_settings({SETTINGS_KEY: dict(saved, offsets=[-1, 1])})
    with pytest.raises(CorruptModelError, match="format"):
        ContextStage.from_settings({SETTINGS_KEY: True})


def test_the_context_stage_switch_is_checked_and_saved_only_when_on():
    assert "context_stage" not in TrainingConfig().to_dict()  # earlier configurations serialise as they did
    assert TrainingConfig.from_dict(TrainingConfig(context_stage=True).to_dict()).context_stage is True
    with pytest.raises(ValueError, match="context_stage"):
        TrainingConfig(context_stage="yes")


@pytest.mark.slow
def test_training_with_the_stage_fits_it_on_nested_probabilities_and_saves_it(excerpts_dir, tmp_path, monkeypatch):
    records = ("100", "106", "119", "201", "208", "232")
    monkeypatch.setattr(models.training_run, "DS1", records)
    calls = []
    nested = models.training_run.nested_oof_probabilities

    def spy(data, config, *args, **kwargs):
        calls.append(config.n_folds)
        return nested(data, config, *args, **kwargs)

    monkeypatch.setattr(models.training_run, "nested_oof_probabilities", spy)
    config = TrainingConfig(n_folds=3, epochs=1, patience=1, network=NetworkConfig(gru_units=8, dense_units=16),
                            context_stage=True)
    outcome = run_training(excerpts_dir, tmp_path / "cache", config, mlruns_dir=tmp_path / "mlruns",
                           run_name="stage", progress=False, jobs=2)  # networks trained in two worker processes
    assert calls == [3]  # nested over the run's own folds
    client = mlflow.MlflowClient()
    for fold in range(3):  # the workers' per-epoch curves logged in the run, the nested networks' not
        assert len(client.get_metric_history(outcome.run_id, f"fold{fold}_val_selection_score")) == 1
    settings = json.loads(mlflow.artifacts.load_text(f"runs:/{outcome.run_id}/model_settings.json"))
    assert settings["training"]["context_stage"] is True
    stage = ContextStage.from_settings(settings)
    assert stage is not None
    assert "context_stage_time_s" in mlflow.get_run(outcome.run_id).data.metrics
    loaded = models.registry.load_model(outcome.model_uri)
    record = read_record(excerpts_dir / "201")
    prepared, _ = prepare_reference_beats(record, InputSettings.from_dict(loaded.settings["inputs"]))
    probabilities = predict_beats(loaded.model, prepared.inputs)
    decision = DecisionRules.from_settings(loaded.settings).decide(probabilities, prepared.inputs.features,
                                                                    prepared.inputs.feature_names)
    assert np.allclose(decision.probabilities[:, 2:], probabilities[:, 2:])
    assert np.allclose(decision.probabilities[:, :2].sum(axis=1), probabilities[:, :2].sum(axis=1), atol=1e-5)


@pytest.mark.slow
def test_training_only_the_delivered_folds_delivers_the_same_networks(excerpts_dir, tmp_path):
    data = load_labelled_inputs(("100", "106", "119", "201", "208", "232"), excerpts_dir, tmp_path, InputSettings(),
                                progress=False)
    config = TrainingConfig(n_folds=3, epochs=1, patience=1, network=NetworkConfig(gru_units=8, dense_units=16),
                            ensemble_members=1)
    full = train_ensemble(data, config, progress=False)
    delivered = train_ensemble(data, config, progress=False, delivered_only=True)
    assert len(full.folds) == 3 and len(delivered.folds) == 1
    inputs = data.inputs.as_dict()
    assert np.allclose(full.ensemble.predict(inputs, verbose=0), delivered.ensemble.predict(inputs, verbose=0),
                       atol=1e-6)
    scored = delivered.oof_counts.matrix[:-1].sum()  # the figures cover the trained fold's patients only
    assert 0 < scored == int((data.record_names[:, None] == np.array(delivered.folds[0].validation_records)).sum())
