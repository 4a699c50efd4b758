"""Patient-adversarial training (models/adversarial.py): the reversed gradient, its schedule, the delivered network."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from models.adversarial import (OUTPUT_PATIENT, GradientReversal, build_adversarial_model, encode_patients,
                                ramp_weight)
from models.network import OUTPUT_PROBABILITIES, NetworkConfig, build_classifier
from models.prepare import InputSettings
from models.train import TrainingConfig, train_ensemble
from models.training_data import load_labelled_inputs

EXCERPTS = ("100", "106", "119", "201", "208", "232")


@pytest.fixture(scope="module")
def excerpt_inputs(excerpts_dir, tmp_path_factory):
    return load_labelled_inputs(EXCERPTS, excerpts_dir, tmp_path_factory.mktemp("inputs"), InputSettings(),
                                progress=False)


def test_gradient_reversal_passes_values_and_turns_the_gradient():
    layer = GradientReversal()
    layer.weight.assign(0.5)
    x = tf.constant(np.linspace(-1, 1, 12, dtype=np.float32).reshape(3, 4))
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = layer(x)
        loss = tf.reduce_sum(y * y)
    np.testing.assert_allclose(y.numpy(), x.numpy(), atol=1e-7)
    np.testing.assert_allclose(tape.gradient(loss, x).numpy(), -0.5 * 2 * x.numpy(), atol=1e-6)


def test_the_weight_ramps_from_zero_to_its_maximum():
    weights = [ramp_weight(0.3, epoch, 15) for epoch in range(15)]
    assert weights[0] == 0.0 and all(b > a for a, b in zip(weights, weights[1:]))
    assert 0.29 < weights[-1] <= 0.3


def test_the_encoder_gets_the_patient_gradient_reversed_and_scaled(excerpt_inputs):
    """The patient loss's gradient on the conv weights with reversal weight w is -w times the plain gradient."""
    data = excerpt_inputs.select(np.isin(excerpt_inputs.record_names, ("100", "119", "208")))
    classifier = build_classifier(NetworkConfig(n_features=data.inputs.features.shape[1], gru_units=8, dense_units=16))
    patients, n_patients = encode_patients(data.record_names)
    model, reversal = build_adversarial_model(classifier, n_patients, 16, 1e-3)
    inputs = {k: tf.constant(v[:64]) for k, v in data.inputs.as_dict().items()}
    conv = next(v for v in model.trainable_variables if v.path == "conv_1/kernel")

    def patient_gradient(weight: float) -> np.ndarray:
        reversal.weight.assign(weight)
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(keras.losses.sparse_categorical_crossentropy(patients[:64],
                                                                               model(inputs)[OUTPUT_PATIENT]))
        return tape.gradient(loss, [conv])[0].numpy()

    plain = patient_gradient(-1.0)  # weight -1: the gradient passes unchanged
    assert np.abs(plain).max() > 0
    np.testing.assert_allclose(patient_gradient(0.3), -0.3 * plain, rtol=1e-4, atol=1e-7)
    assert n_patients == 3 and set(model.output) == {OUTPUT_PROBABILITIES, OUTPUT_PATIENT}


@pytest.mark.slow
def test_adversarial_training_learns_the_classes_and_delivers_the_plain_network(excerpt_inputs):
    network = NetworkConfig(gru_units=8, dense_units=16)
    config = TrainingConfig(n_folds=3, epochs=3, patience=3, network=network, ensemble_members=2,
                            adversarial_weight=0.3)
    result = train_ensemble(excerpt_inputs, config, progress=False)
    assert result.validation_metrics["cv_V_se"] > 0.6  # learned from the other patients
    plain = build_classifier(NetworkConfig(n_features=excerpt_inputs.inputs.features.shape[1], gru_units=8,
                                           dense_units=16))
    for fold in result.folds:  # no patient head, no reversal layer: the delivered network is the plain one
        assert [layer.name for layer in fold.model.layers] == [layer.name for layer in plain.layers]
        assert fold.model.output_shape == (None, 5)
    assert np.isfinite(result.folds[0].history[-1]["train_loss"])


def test_the_weight_is_checked_and_saved_only_when_used():
    assert "adversarial_weight" not in TrainingConfig().to_dict()  # earlier configurations serialise as they did
    config = TrainingConfig(adversarial_weight=0.3)
    assert TrainingConfig.from_dict(config.to_dict()) == config
    for value in (-0.1, True, "0.3", 11.0):
        with pytest.raises(ValueError, match="adversarial_weight"):
            TrainingConfig(adversarial_weight=value)
    with pytest.raises(ValueError, match="n_patients"):
        build_adversarial_model(build_classifier(NetworkConfig(window_samples=64, n_channels=2, n_features=3)), 1, 8,
                                1e-3)
