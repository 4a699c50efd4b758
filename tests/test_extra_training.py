"""Training on other annotated databases besides DS1 (``ecg train --extra-data-dir``): their beats join every fold's
training set, never a validation fold, and MIT-BIH records are refused whatever their names."""

from __future__ import annotations

import json

import mlflow
import numpy as np
import pytest

import models.train
import models.training_run
from made_records import write_other_database
from models.network import NetworkConfig
from models.prepare import InputSettings
from models.train import TrainingConfig, train_ensemble
from models.training_data import load_extra_inputs, load_labelled_inputs
from models.training_run import fingerprint_data, run_training
from pipeline.database import find_mitdb_copies
from pipeline.errors import DataDirectoryError
from pipeline.labels import AAMI_CLASSES

MAIN = ("100", "106", "201", "232")  # stands for DS1 in these tests
OTHER = ("119", "208")  # made into the other database, at 128 Hz


@pytest.fixture(scope="module")
def other_database(excerpts_dir, tmp_path_factory):
    return write_other_database(excerpts_dir, tmp_path_factory.mktemp("other") / "otherdb", excerpts=OTHER)


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("inputs")


@pytest.fixture(scope="module")
def main_inputs(excerpts_dir, cache_dir):
    return load_labelled_inputs(MAIN, excerpts_dir, cache_dir, InputSettings(), progress=False)


@pytest.fixture(scope="module")
def extra(other_database, cache_dir):
    return load_extra_inputs((other_database,), cache_dir, InputSettings(), progress=False)


def test_another_databases_beats_are_prepared_as_ds1s_and_unlabelled_records_listed(extra, excerpts_dir, main_inputs,
                                                                                    cache_dir):
    original = load_labelled_inputs(OTHER, excerpts_dir, cache_dir, InputSettings(), progress=False)
    assert extra.inputs.inputs.waveform.shape[1:] == main_inputs.inputs.waveform.shape[1:]  # the model's rate
    assert extra.inputs.inputs.feature_names == main_inputs.inputs.feature_names
    # Every labelled beat of the 128 Hz copies is there, with its class, under a name that cannot be a DS1 record's.
    assert sorted(set(extra.inputs.record_names.tolist())) == ["otherdb/x119", "otherdb/x208"]
    np.testing.assert_array_equal(extra.inputs.labels, original.labels)
    counts = np.bincount(original.labels, minlength=len(AAMI_CLASSES))
    assert extra.databases == ({"database": "otherdb", "records": 2,
                                "beats": {c: int(n) for c, n in zip(AAMI_CLASSES, counts)}},)
    assert counts[2] > 50  # 119's and 208's PVCs: the copies carry ventricular beats to learn from
    assert extra.skipped == (("otherdb/rhythm_only", "no labelled beat",
                              "no labelled beat in its reference annotations"),)
    # The copies' inputs are close to the originals' (resampled twice: 360 -> 128 -> 360 Hz).
    waveform, copy = original.inputs.waveform, extra.inputs.inputs.waveform
    assert np.median([np.corrcoef(a.ravel(), b.ravel())[0, 1] for a, b in zip(waveform[::50], copy[::50])]) > 0.9


def test_mitdb_records_are_refused_whatever_their_name(mitdb_dir, tmp_path, excerpts_dir, cache_dir):
    folder = tmp_path / "renamed"
    folder.mkdir()
    (folder / "100.dat").symlink_to(mitdb_dir / "100.dat")
    header = (mitdb_dir / "100.hea").read_text().splitlines()
    (folder / "mine.hea").write_text("\n".join(["mine" + header[0][len("100"):]] + header[1:]) + "\n")
    (folder / "mine.atr").symlink_to(mitdb_dir / "100.atr")
    assert find_mitdb_copies(folder, ("mine",)) == ("mine",)
    assert find_mitdb_copies(excerpts_dir, ("100", "119")) == ()  # excerpts are not the published files
    with pytest.raises(DataDirectoryError, match=r"MIT-BIH Arrhythmia Database records \(mine\).*DS2 is the test"):
        load_extra_inputs((folder,), cache_dir, InputSettings(), progress=False)


def test_a_directory_without_usable_records_is_an_error(tmp_path, cache_dir):
    with pytest.raises(DataDirectoryError, match="holds no WFDB record"):
        load_extra_inputs((tmp_path,), cache_dir, InputSettings(), progress=False)
    (tmp_path / "broken.hea").write_text("broken 2 360 650000\n")
    with pytest.raises(DataDirectoryError, match="none of its 1 records has labelled beats"):
        load_extra_inputs((tmp_path,), cache_dir, InputSettings(), progress=False)


def test_extra_beats_train_every_fold_and_are_never_validated(main_inputs, extra, monkeypatch):
    seen = []
    train_network = models.train.train_network

    def spy(task, *args, **kwargs):
        names = task.pool.record_names
        seen.append((set(names[task.train_mask].tolist()), set(names[~task.train_mask].tolist())))
        return train_network(task, *args, **kwargs)

    monkeypatch.setattr(models.train, "train_network", spy)
    config = TrainingConfig(n_folds=2, epochs=1, patience=1, network=NetworkConfig(gru_units=8, dense_units=16))
    result = train_ensemble(main_inputs, config, progress=False, extra=extra.inputs)
    other = set(extra.inputs.record_names.tolist())
    assert len(seen) == 2
    for trained, validated in seen:
        assert other <= trained and not other & validated  # in every fold's training set, in no validation
        assert validated and validated <= set(MAIN)
    assert set().union(*(f.validation_records for f in result.folds)) == set(MAIN)
    assert result.oof_probabilities.shape == (len(main_inputs), 5)  # out-of-fold figures: the main patients only
    assert result.oof_counts.matrix[:-1].sum() == len(main_inputs)
    assert fingerprint_data(main_inputs, extra) != fingerprint_data(main_inputs) == fingerprint_data(main_inputs, None)


@pytest.mark.slow
def test_a_tracked_run_names_its_extra_databases(excerpts_dir, other_database, tmp_path, monkeypatch):
    monkeypatch.setattr(models.training_run, "DS1", MAIN)
    config = TrainingConfig(n_folds=2, epochs=1, patience=1, network=NetworkConfig(gru_units=8, dense_units=16))
    outcome = run_training(excerpts_dir, tmp_path / "cache", config, mlruns_dir=tmp_path / "mlruns",
                           run_name="extra", progress=False, extra_dirs=(other_database,))
    run = mlflow.get_run(outcome.run_id)
    assert run.data.tags["split"] == "DS1 (patient-wise CV) + training-only otherdb (2 records)"
    logged = json.loads(mlflow.artifacts.load_text(f"runs:/{outcome.run_id}/extra_training_data.json"))
    assert logged["databases"][0]["records"] == 2
    assert logged["skipped"] == {"records": 1, "reasons": {"no labelled beat": 1}}  # a site's record names stay home
    assert "rhythm_only" not in json.dumps(logged) and str(other_database) not in json.dumps(logged)
    settings = json.loads(mlflow.artifacts.load_text(f"runs:/{outcome.run_id}/model_settings.json"))
    assert settings["extra_training_data"] == logged
    for key in ("n_features", "window_samples", "n_channels"):  # the parameters describe the network as built
        assert run.data.params[f"network.{key}"] == str(settings["network"][key])
    # settings left at their defaults are parameters too, so that runs compare in MLflow's table (QA, session 50)
    assert run.data.params["seeds_per_fold"] == "1" and run.data.params["context_stage"] == "False"
    assert run.data.params["one_lead_fraction"] == "0.0" and "seeds_per_fold" not in settings["training"]
    assert settings["train_records"] == sorted(MAIN)  # the records validated on; the others are named above


def test_records_whose_feature_names_differ_are_named_with_what_was_expected():
    """The message read "Records disagree on feature names", naming neither the records nor the names (a code review
    of session 54)."""
    import re

    from models.errors import ModelSettingsMismatchError
    from models.inputs import ModelInputs
    from models.training_data import LabelledInputs, concatenate_inputs

    def part(name, feature_names):
        inputs = ModelInputs(np.zeros((2, 4, 1), np.float32), np.zeros((2, len(feature_names)), np.float32),
                             feature_names)
        return LabelledInputs(inputs, np.zeros(2, np.int64), np.full(2, name), np.arange(2))

    joined = concatenate_inputs([part("100", ("rr_pre",)), part("101", ("rr_pre",))])
    assert len(joined) == 4 and joined.record_names.tolist() == ["100", "100", "101", "101"]
    with pytest.raises(ModelSettingsMismatchError, match=re.escape(
            "Received feature names ['rr_pre'] for record(s) 100, 102; ['rr_pre', 'qrs_ms'] for record(s) 101; "
            "expected the same feature names for every record")):
        concatenate_inputs([part("100", ("rr_pre",)), part("101", ("rr_pre", "qrs_ms")), part("102", ("rr_pre",))])
    with pytest.raises(ValueError, match="Received no records' inputs; expected at least one"):
        concatenate_inputs([])
