"""Additive (Bahdanau) attention pooling over time, as a serializable Keras layer.

The layer turns a sequence of hidden states ``h_t`` (the bidirectional GRU's outputs over the
beat window) into one context vector, and can return its per-time-step weights so that the
dashboard can show which part of the beat the classifier looked at.

References
----------
Bahdanau D, Cho K, Bengio Y, "Neural machine translation by jointly learning to align and
translate", ICLR 2015 (additive attention). Yang Z et al., "Hierarchical attention networks for
document classification", NAACL 2016 (attention pooling of a recurrent sequence with a learned
scoring vector, the form used here).
"""

from __future__ import annotations

import numbers

import keras
from keras import ops

REGISTERED_NAME = "ecg>AdditiveAttention"
"""Name under which the layer is stored in ``.keras`` files (distinct from ``keras.layers.AdditiveAttention``)."""


@keras.saving.register_keras_serializable(package="ecg", name="AdditiveAttention")
class AdditiveAttention(keras.layers.Layer):
    """Additive attention pooling: one context vector from a sequence, with weights over time.

    For hidden states ``h_t`` (t = 1..T) the layer computes

    - ``score_t = v^T tanh(W h_t + b)``
    - ``weights = softmax_t(score)`` (masked steps get weight 0)
    - ``context = sum_t weights_t h_t``

    Parameters
    ----------
    units : int
        Size of the scoring space (columns of ``W``); a positive integer.
    kernel_initializer : str or keras.initializers.Initializer
        Initializer of ``W`` and ``v``.
    **kwargs
        Passed to :class:`keras.layers.Layer` (``name``, ``dtype``, ...).

    Notes
    -----
    Input: ``(batch, time, features)``. Output: ``(batch, features)``, or ``(context, weights)``
    with weights ``(batch, time)`` when called with ``return_attention_scores=True``. A boolean
    mask ``(batch, time)`` is honoured when given (or propagated by the previous layer).

    The layer is registered as ``"ecg>AdditiveAttention"``; importing this module is enough for
    :func:`keras.saving.load_model` (also with ``safe_mode=True``) to find it.

    References
    ----------
    Bahdanau D, Cho K, Bengio Y, ICLR 2015.

    Examples
    --------
    >>> import numpy as np
    >>> layer = AdditiveAttention(units=8)
    >>> context, weights = layer(np.ones((2, 5, 3), "float32"), return_attention_scores=True)
    >>> tuple(context.shape), tuple(weights.shape)
    ((2, 3), (2, 5))
    >>> np.allclose(np.asarray(weights).sum(axis=1), 1.0)
    True
    """

    def __init__(self, units: int, kernel_initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        check_positive_int("units", units)
        self.units = int(units)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.supports_masking = True

    def build(self, input_shape) -> None:
        """Create ``W`` (features, units), ``b`` (units,) and ``v`` (units, 1)."""
        check_sequence_shape(input_shape)
        n_features = int(input_shape[-1])
        self.kernel = self.add_weight(name="kernel", shape=(n_features, self.units),
                                      initializer=self.kernel_initializer)
        self.bias = self.add_weight(name="bias", shape=(self.units,), initializer="zeros")
        self.score_kernel = self.add_weight(name="score_kernel", shape=(self.units, 1),
                                            initializer=self.kernel_initializer)

    def call(self, inputs, mask=None, return_attention_scores: bool = False):
        """Context vector (and the weights over time when ``return_attention_scores``)."""
        projected = ops.tanh(ops.matmul(inputs, self.kernel) + self.bias)
        scores = ops.squeeze(ops.matmul(projected, self.score_kernel), axis=-1)
        if mask is not None:
            scores = ops.where(ops.cast(mask, "bool"), scores, large_negative(scores.dtype))
        weights = ops.softmax(scores, axis=-1)
        context = ops.sum(inputs * ops.expand_dims(weights, axis=-1), axis=1)
        if return_attention_scores:
            return context, weights
        return context

    def compute_mask(self, inputs, mask=None):
        """The time axis is pooled away, so the output carries no mask."""
        return None

    def get_config(self) -> dict:
        """Constructor arguments, so that ``from_config(get_config())`` rebuilds the layer."""
        config = super().get_config()
        config.update({"units": self.units,
                       "kernel_initializer": keras.initializers.serialize(self.kernel_initializer)})
        return config


def check_positive_int(name: str, value) -> None:
    """Raise ``ValueError`` unless ``value`` is a positive integer (bools are not integers here)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"Received {name}={value!r}; expected a positive integer.")


def check_sequence_shape(input_shape) -> None:
    """Raise ``ValueError`` unless the shape is (batch, time, features) with known features."""
    if len(input_shape) != 3 or input_shape[-1] is None:
        raise ValueError(f"Received input_shape={tuple(input_shape)}; expected (batch, time, features) with a "
                         "known number of features.")


def large_negative(dtype) -> float:
    """A score that softmax turns into ~0 without overflowing ``dtype`` (float16 tops out at 65504)."""
    return -6.0e4 if "float16" in str(dtype) else -1.0e9
