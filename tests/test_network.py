"""The classifier network: config checks, shapes, cuDNN eligibility, explanation model, short training."""

from __future__ import annotations

import dataclasses
import json

import keras
import numpy as np
import pytest

from models.attention import AdditiveAttention
from models.errors import ModelSettingsMismatchError
from models.network import (
    NetworkConfig,
    adapt_feature_scaling,
    assert_cudnn_eligible,
    attention_to_samples,
    build_attention_model,
    build_classifier,
    check_inputs_match,
    find_cudnn_ineligible_layers,
    iter_gru_layers,
    plan_batches,
    predict_probabilities,
    read_input_shapes,
)
from pipeline.clean import clean_signal
from pipeline.labels import AAMI_CLASSES, map_symbols_to_aami
from pipeline.records import read_record
from pipeline.segment import segment_beats
from tests.tiny_network import TINY, random_inputs

@pytest.fixture(scope="module")
def tiny_model() -> keras.Model:
    keras.utils.set_random_seed(0)
    return build_classifier(TINY)


# --- configuration -------------------------------------------------------------------------------


def test_config_dict_round_trip_through_json():
    config = NetworkConfig(conv_filters=(8, 16, 16), conv_strides=(2, 2, 2), n_gru_layers=2)
    restored = NetworkConfig.from_dict(json.loads(json.dumps(config.to_dict())))
    assert restored == config


def test_config_rejects_unknown_keys():
    with pytest.raises(ValueError, match=r"unknown setting\(s\) recurrent_dropout; expected keys among"):
        NetworkConfig.from_dict({"gru_units": 8, "recurrent_dropout": 0.2})
    with pytest.raises(ValueError, match=r"Received gru_units='8'; expected a number"):
        NetworkConfig.from_dict({"gru_units": "8"})


@pytest.mark.parametrize(("change", "message"), [
    ({"gru_units": 0}, r"Received gru_units=0; expected a positive integer\."),
    ({"n_classes": 2.0}, r"Received n_classes=2\.0; expected a positive integer\."),
    ({"conv_filters": (8, 0)}, r"Received conv_filters=0; expected a positive integer\."),
    ({"conv_strides": (2,)}, r"expected one stride per Conv1D layer\."),
    ({"dropout": 1.0}, r"Received dropout=1\.0; expected a rate in \[0, 1\)\."),
    ({"learning_rate": 0}, r"Received learning_rate=0; expected a positive number\."),
    ({"waveform_noise": -0.1}, r"Received waveform_noise=-0\.1; expected a standard deviation in \[0, 1\)\."),
    ({"feature_noise": "0.1"}, r"Received feature_noise='0\.1'; expected a standard deviation in \[0, 1\)\."),
])
def test_config_rejects_invalid_values(change, message):
    with pytest.raises(ValueError, match=message):
        NetworkConfig(**change)


def test_sequence_steps_follow_the_strides():
    assert NetworkConfig(window_samples=252, conv_strides=(2, 2)).sequence_steps == 63
    assert NetworkConfig(window_samples=252, conv_strides=(3, 3)).sequence_steps == 28
    assert NetworkConfig(window_samples=64, conv_strides=(3, 3)).sequence_steps == 8


# --- the model -----------------------------------------------------------------------------------


def test_default_classifier_shapes_and_size():
    config = NetworkConfig()
    model = build_classifier(config)
    assert read_input_shapes(model) == {"waveform": (config.window_samples, config.n_channels),
                                        "features": (config.n_features,)}
    assert model.output_shape == (None, len(AAMI_CLASSES))
    assert model.get_layer("bigru_1").output.shape[1] == config.sequence_steps
    assert 30_000 <= model.count_params() <= 150_000


def test_probabilities_sum_to_one(tiny_model):
    probabilities = tiny_model.predict(random_inputs(TINY), verbose=0)
    assert probabilities.shape == (6, 5)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


@pytest.mark.parametrize("n_layers", [1, 2])
def test_every_gru_is_cudnn_eligible(n_layers):
    model = build_classifier(NetworkConfig(n_gru_layers=n_layers, gru_units=8, window_samples=64))
    grus = list(iter_gru_layers(model))
    assert len(grus) == 2 * n_layers  # forward and backward of each bidirectional layer
    assert find_cudnn_ineligible_layers(model) == []
    assert_cudnn_eligible(model)
    for gru in grus:
        config = gru.get_config()
        assert config["activation"] == "tanh" and config["recurrent_activation"] == "sigmoid"
        assert config["recurrent_dropout"] == 0 and config["unroll"] is False
        assert config["use_bias"] is True and config["reset_after"] is True
        assert gru.use_cudnn in ("auto", True)
    assert not any(isinstance(layer, keras.layers.Masking) for layer in model.layers)


def test_ineligible_gru_settings_are_detected():
    inputs = keras.Input((10, 3))
    x = keras.layers.Masking()(inputs)
    x = keras.layers.Bidirectional(keras.layers.GRU(4, activation="relu", recurrent_dropout=0.1,
                                                    return_sequences=True))(x)
    x = keras.layers.GRU(4, reset_after=False, unroll=True, use_bias=False, recurrent_activation="hard_sigmoid",
                         name="plain_gru")(x)
    model = keras.Model(inputs, x)
    problems = "\n".join(find_cudnn_ineligible_layers(model))
    for expected in ("Received activation='relu'; expected 'tanh'", "Received recurrent_dropout=0.1",
                     "plain_gru: Received reset_after=False", "plain_gru: Received unroll=True",
                     "plain_gru: Received use_bias=False", "plain_gru: Received recurrent_activation='hard_sigmoid'",
                     "Received a Masking layer"):
        assert expected in problems
    with pytest.raises(ValueError, match="not eligible for the cuDNN kernel"):
        assert_cudnn_eligible(model)


def test_model_without_gru_fails_the_check():
    inputs = keras.Input((4,))
    with pytest.raises(ValueError, match="without any GRU layer"):
        assert_cudnn_eligible(keras.Model(inputs, keras.layers.Dense(2)(inputs)))


def test_an_ineligible_model_is_named_with_what_was_expected():
    """The message said only "GRU layers not eligible for the cuDNN kernel:" before the problems (a code review of
    session 54)."""
    inputs = keras.Input((10, 3))
    model = keras.Model(inputs, keras.layers.GRU(4, unroll=True, name="plain_gru")(inputs), name="unrolled")
    with pytest.raises(ValueError, match=r"Received model 'unrolled' with 1 setting\(s\) not eligible for the cuDNN "
                       r"kernel; expected every GRU on cuDNN's settings and no Masking layer:\n  plain_gru: Received "
                       r"unroll=True; expected False\."):
        assert_cudnn_eligible(model)


def test_explanation_model_shares_the_classifier(tiny_model):
    x = random_inputs(TINY)
    explained = build_attention_model(tiny_model).predict(x, verbose=0)
    np.testing.assert_allclose(explained["probabilities"], tiny_model.predict(x, verbose=0), rtol=1e-6)
    assert explained["attention"].shape == (6, TINY.sequence_steps)
    np.testing.assert_allclose(explained["attention"].sum(axis=1), 1.0, rtol=1e-5)
    assert isinstance(tiny_model.get_layer("attention"), AdditiveAttention)


def test_attention_spread_over_samples_keeps_the_total():
    weights = np.array([[0.5, 0.25, 0.25], [1.0, 0.0, 0.0]])
    per_sample = attention_to_samples(weights, window_samples=10)
    assert per_sample.shape == (2, 10)
    np.testing.assert_allclose(per_sample.sum(axis=1), 1.0, rtol=1e-6)
    assert per_sample[1, :4].sum() == pytest.approx(1.0) and per_sample[1, 4:].sum() == 0


def test_classifier_file_round_trip_in_safe_mode(tiny_model, tmp_path):
    x = random_inputs(TINY)
    path = tmp_path / "classifier.keras"
    tiny_model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True, compile=False)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), tiny_model.predict(x, verbose=0))
    explained = build_attention_model(loaded).predict(x, verbose=0)
    assert explained["attention"].shape == (6, TINY.sequence_steps)


def test_input_noise_acts_in_training_only_and_round_trips(tmp_path):
    config = dataclasses.replace(TINY, waveform_noise=0.05, feature_noise=0.1)
    assert config.to_dict()["feature_noise"] == 0.1 and "waveform_noise" not in TINY.to_dict()
    assert NetworkConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config
    keras.utils.set_random_seed(0)
    model = build_classifier(config)
    assert {"waveform_noise", "feature_noise"} <= {layer.name for layer in model.layers}
    x = random_inputs(config)
    inferred = model.predict(x, verbose=0)
    np.testing.assert_array_equal(model.predict(x, verbose=0), inferred)  # no noise at inference
    trained = np.asarray(model(x, training=True))
    assert np.abs(trained - inferred).max() > 1e-4  # noise while training
    model.save(tmp_path / "noisy.keras")
    loaded = keras.saving.load_model(tmp_path / "noisy.keras", safe_mode=True, compile=False)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), inferred)


def test_feature_scaling_is_learned_and_saved(tmp_path):
    model = build_classifier(TINY)
    features = np.random.default_rng(1).normal(loc=5.0, scale=3.0, size=(500, 3)).astype("float32")
    adapt_feature_scaling(model, features)
    scaled = np.asarray(model.get_layer("feature_scaling")(features))
    np.testing.assert_allclose(scaled.mean(axis=0), 0.0, atol=1e-3)
    np.testing.assert_allclose(scaled.std(axis=0), 1.0, rtol=1e-2)
    model.save(tmp_path / "scaled.keras")
    loaded = keras.saving.load_model(tmp_path / "scaled.keras", safe_mode=True, compile=False)
    np.testing.assert_allclose(np.asarray(loaded.get_layer("feature_scaling")(features)), scaled, rtol=1e-6)


def test_inputs_that_do_not_fit_are_rejected(tiny_model):
    x = random_inputs(TINY)
    check_inputs_match(tiny_model, x["waveform"], x["features"])
    with pytest.raises(ModelSettingsMismatchError, match=r"waveform per beat \(64, 1\) \(model expects \(64, 2\)\)"):
        check_inputs_match(tiny_model, x["waveform"][..., :1], x["features"])
    with pytest.raises(ModelSettingsMismatchError, match=r"features per beat \(4,\)"):
        check_inputs_match(tiny_model, x["waveform"], np.zeros((6, 4), "float32"))


# --- a short training run on real beats ----------------------------------------------------------


def load_labelled_beats(excerpts_dir, names=("119", "208")) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Waveforms (primary lead first), RR features and AAMI labels of the reference beats."""
    waveforms, features, labels = [], [], []
    for name in names:
        record = read_record(excerpts_dir / name)
        order = [record.primary_lead] + [j for j in range(record.signal_mv.shape[1]) if j != record.primary_lead]
        signal = clean_signal(record.signal_mv, record.fs_hz)[:, order]
        classes = map_symbols_to_aami(record.annotations.symbols)
        keep = classes != ""
        beats = segment_beats(signal, record.annotations.samples[keep], record.fs_hz)
        waveforms.append(beats.windows_mv)
        features.append(beats.rr_features)
        labels.append(np.array([AAMI_CLASSES.index(c) for c in classes[keep]]))
    return ({"waveform": np.concatenate(waveforms), "features": np.concatenate(features)},
            np.concatenate(labels))


def test_short_training_on_real_beats_lowers_the_loss(excerpts_dir):
    inputs, labels = load_labelled_beats(excerpts_dir)
    assert len(set(labels.tolist())) >= 2  # N and V at least (records 119 and 208)
    keras.utils.set_random_seed(7)
    config = NetworkConfig(window_samples=inputs["waveform"].shape[1], n_channels=2,
                           n_features=inputs["features"].shape[1], conv_filters=(8, 16), conv_strides=(3, 3),
                           gru_units=16, attention_units=8, feature_units=8, dense_units=16, learning_rate=3e-3)
    model = build_classifier(config)
    adapt_feature_scaling(model, inputs["features"])
    initial = model.evaluate(inputs, labels, batch_size=256, verbose=0, return_dict=True)["loss"]
    model.fit(inputs, labels, batch_size=64, epochs=4, shuffle=True, verbose=0)
    final = model.evaluate(inputs, labels, batch_size=256, verbose=0, return_dict=True)["loss"]
    assert np.isfinite(final)
    assert final < 0.8 * initial


def test_batched_prediction_matches_predict_and_pads_the_tail(tiny_model):
    x = random_inputs(TINY, n=11)
    expected = tiny_model.predict(x, verbose=0)
    got = predict_probabilities(tiny_model, x["waveform"], x["features"], batch_size=4, tail_batch_size=2)
    assert got.shape == (11, 5) and got.dtype == np.float32
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    assert plan_batches(11, 4, 2) == [(0, 4), (4, 4), (8, 2), (10, 2)]
    assert plan_batches(3, 4, 4) == [(0, 4)] and plan_batches(0, 4, 2) == []
    with pytest.raises(ValueError, match="tail_batch_size"):
        predict_probabilities(tiny_model, x["waveform"], x["features"], batch_size=4, tail_batch_size=8)
    with pytest.raises(ModelSettingsMismatchError):
        predict_probabilities(tiny_model, x["waveform"][:, :32], x["features"])


def test_a_tail_batch_size_out_of_range_says_what_was_received_and_expected(tiny_model):
    """The message read "tail_batch_size must be in 1..batch_size (4), got 8" (a code review of session 54)."""
    x = random_inputs(TINY, n=3)
    for tail in (8, 0):
        with pytest.raises(ValueError, match=rf"Received tail_batch_size={tail}; expected a whole number from 1 to "
                           r"batch_size \(4\)\."):
            predict_probabilities(tiny_model, x["waveform"], x["features"], batch_size=4, tail_batch_size=tail)
