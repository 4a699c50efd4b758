"""Patient-adversarial training: a representation of the beat that does not tell which patient it came from.

Inter-patient classification fails where the network learns a training patient's own ECG (their QRS shape, their
heart rate) instead of what makes a beat ectopic. Domain-adversarial training (Ganin et al. 2016) removes what
identifies the domain from the learned representation; Zhang et al. 2021 took each patient as a domain for
inter-patient beat classification on MIT-BIH (S 78.8 / 90.8, V 92.5 / 94.3 on DS2). Here, while training only:

- a *patient head* (Dense -> softmax over the training patients) reads the classifier's merged representation (the
  attention context and the projected scalar features, the input of the class head) through a
  :class:`GradientReversal` layer;
- the head learns to name the patient; the reversed gradient, scaled by a weight, pushes the encoder to make that
  impossible, while the class loss keeps the representation useful for the classes;
- the weight ramps up over the epochs as in Ganin et al. (``2 / (1 + exp(-10 p)) - 1`` of its maximum, ``p`` the
  fraction of the epochs done), so that the class features form before the adversary weighs in.

The delivered classifier is the plain network (:func:`models.network.build_classifier`): the patient head and the
reversal layer are not part of it, so inference, the saved model and its cost are unchanged.

References
----------
Ganin Y, Ustinova E, Ajakan H, et al., "Domain-adversarial training of neural networks", JMLR 17(59):1-35, 2016.
Zhang J, Liu A, Liang D, Chen X, Gao M, "Interpatient ECG heartbeat classification with an adversarial
convolutional neural network", J Healthc Eng 2021:9946596.
"""

from __future__ import annotations

import math

import keras
import numpy as np
from keras import ops

from models.network import OUTPUT_PROBABILITIES

MERGE_LAYER = "merge"
"""The classifier layer whose output (the input of the class head) the patient head reads."""
OUTPUT_PATIENT = "patient"


class GradientReversal(keras.layers.Layer):
    """Identity forward; the gradient multiplied by ``-weight`` backward (``weight`` a variable a callback sets).

    ``stop_gradient((1 + w) x) - w x`` has the value ``x`` and the gradient ``-w``, with any backend.
    Training only: never saved with a model.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.weight = keras.Variable(0.0, trainable=False, name="reversal_weight")

    def call(self, x):
        return ops.stop_gradient((1.0 + self.weight) * x) - self.weight * x


class AdversarialRamp(keras.callbacks.Callback):
    """Set the reversal weight at each epoch's start: ``max_weight * (2 / (1 + exp(-10 p)) - 1)``."""

    def __init__(self, reversal: GradientReversal, max_weight: float, epochs: int):
        super().__init__()
        self.reversal, self.max_weight, self.epochs = reversal, float(max_weight), int(epochs)

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.reversal.weight.assign(ramp_weight(self.max_weight, epoch, self.epochs))


def ramp_weight(max_weight: float, epoch: int, epochs: int) -> float:
    """The reversal weight of 0-based ``epoch`` out of ``epochs`` (Ganin et al.'s schedule).

    >>> ramp_weight(1.0, 0, 10), round(ramp_weight(1.0, 5, 10), 3)
    (0.0, 0.987)
    """
    progress = epoch / max(epochs, 1)
    return max_weight * (2.0 / (1.0 + math.exp(-10.0 * progress)) - 1.0)


def build_adversarial_model(classifier: keras.Model, n_patients: int, units: int, learning_rate: float,
                            jit_compile: bool | str = "auto") -> tuple[keras.Model, GradientReversal]:
    """A model sharing ``classifier``'s layers with a second output, the patient head behind a gradient reversal;
    compiled with Adam and a cross-entropy on each output. Returns it and its reversal layer (weight 0 until set)."""
    if n_patients < 2:
        raise ValueError(f"Received n_patients={n_patients!r}; adversarial training needs at least 2 patients.")
    reversal = GradientReversal(name="gradient_reversal")
    hidden = keras.layers.Dense(units, activation="relu", name="patient_dense")(
        reversal(classifier.get_layer(MERGE_LAYER).output))
    patient = keras.layers.Dense(n_patients, activation="softmax", name=OUTPUT_PATIENT)(hidden)
    model = keras.Model(classifier.input, {OUTPUT_PROBABILITIES: classifier.output, OUTPUT_PATIENT: patient},
                        name="adversarial_training")
    model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                  loss={OUTPUT_PROBABILITIES: keras.losses.SparseCategoricalCrossentropy(),
                        OUTPUT_PATIENT: keras.losses.SparseCategoricalCrossentropy()},
                  jit_compile=jit_compile)
    return model, reversal


def encode_patients(record_names: np.ndarray) -> tuple[np.ndarray, int]:
    """Index of each beat's patient (record) among the distinct ones, and how many there are.

    >>> encode_patients(np.array(["203", "101", "203"]))
    (array([1, 0, 1]), 2)
    """
    names, index = np.unique(np.asarray(record_names), return_inverse=True)
    return index.astype(np.int64), len(names)
