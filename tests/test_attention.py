"""The additive attention layer: formula, masking, config and .keras round trips, argument checks."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from models.attention import REGISTERED_NAME, AdditiveAttention


def make_sequence(n: int = 3, steps: int = 7, features: int = 5, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, steps, features)).astype("float32")


def make_pooling_model(units: int = 4, steps: int = 7, features: int = 5) -> keras.Model:
    inputs = keras.Input((steps, features))
    context, weights = AdditiveAttention(units, name="attention")(inputs, return_attention_scores=True)
    return keras.Model(inputs, {"context": context, "weights": weights})


def test_weights_are_a_distribution_over_time():
    _, weights = AdditiveAttention(4)(make_sequence(), return_attention_scores=True)
    weights = np.asarray(weights)
    assert weights.shape == (3, 7)
    assert np.all(weights >= 0)
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, rtol=1e-6)


def test_context_is_the_weighted_sum_of_the_states():
    """score_t = v^T tanh(W h_t + b); context = sum_t softmax(score)_t h_t (Bahdanau et al. 2015)."""
    x = make_sequence()
    layer = AdditiveAttention(4)
    context, weights = layer(x, return_attention_scores=True)
    kernel, bias, score_kernel = (np.asarray(w) for w in (layer.kernel, layer.bias, layer.score_kernel))
    scores = (np.tanh(x @ kernel + bias) @ score_kernel)[..., 0]
    expected_weights = np.exp(scores - scores.max(axis=1, keepdims=True))
    expected_weights /= expected_weights.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(np.asarray(weights), expected_weights, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.asarray(context), np.einsum("nt,ntf->nf", expected_weights, x), rtol=1e-5,
                               atol=1e-6)


def test_default_call_returns_the_context_only():
    context = AdditiveAttention(4)(make_sequence())
    assert tuple(context.shape) == (3, 5)


def test_masked_steps_get_no_weight():
    mask = np.ones((3, 7), dtype=bool)
    mask[:, 5:] = False  # right-padded
    _, weights = AdditiveAttention(4)(make_sequence(), mask=mask, return_attention_scores=True)
    weights = np.asarray(weights)
    np.testing.assert_allclose(weights[:, 5:], 0.0, atol=1e-7)
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, rtol=1e-6)


def test_get_config_round_trip():
    layer = AdditiveAttention(6, kernel_initializer="he_normal", name="pool")
    rebuilt = AdditiveAttention.from_config(layer.get_config())
    assert rebuilt.get_config() == layer.get_config()
    assert rebuilt.units == 6 and rebuilt.name == "pool"


def test_from_config_with_the_same_weights_gives_identical_outputs():
    x = make_sequence()
    layer = AdditiveAttention(4)
    expected = np.asarray(layer(x))
    rebuilt = AdditiveAttention.from_config(layer.get_config())
    rebuilt.build(x.shape)
    rebuilt.set_weights(layer.get_weights())
    np.testing.assert_array_equal(np.asarray(rebuilt(x)), expected)


def test_keras_file_round_trip_in_safe_mode(tmp_path):
    model = make_pooling_model()
    x = make_sequence()
    expected = model.predict(x, verbose=0)
    path = tmp_path / "pooling.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    got = loaded.predict(x, verbose=0)
    assert isinstance(loaded.get_layer("attention"), AdditiveAttention)
    np.testing.assert_array_equal(got["context"], expected["context"])
    np.testing.assert_array_equal(got["weights"], expected["weights"])


def test_registered_under_its_own_name():
    assert keras.saving.get_registered_object(REGISTERED_NAME) is AdditiveAttention
    assert keras.saving.get_registered_name(AdditiveAttention) == REGISTERED_NAME
    assert AdditiveAttention is not keras.layers.AdditiveAttention


@pytest.mark.parametrize("units", [0, -3, 2.5, True, "8", None])
def test_invalid_units_are_rejected(units):
    with pytest.raises(ValueError, match=rf"Received units={units!r}; expected a positive integer\."):
        AdditiveAttention(units)


def test_numpy_integer_units_are_accepted():
    assert AdditiveAttention(np.int64(3)).units == 3


def test_input_without_a_time_axis_is_rejected():
    with pytest.raises(ValueError, match=r"Received input_shape=\(2, 5\); expected \(batch, time, features\)"):
        AdditiveAttention(4)(np.ones((2, 5), "float32"))
