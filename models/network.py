"""The beat classifier network: conv front end -> bidirectional GRU -> additive attention -> softmax.

Two named inputs:

- ``waveform`` (batch, window_samples, n_channels): the beat window of each lead, plus any
  patient-relative channels the caller builds (e.g. the beat minus the record's median beat).
- ``features`` (batch, n_features): scalar per-beat features (RR intervals and ratios,
  morphology, rhythm). They pass through a ``Normalization`` layer stored in the model, so the
  scaling learned on the training data travels with it (:func:`adapt_feature_scaling`).

Output ``probabilities`` (batch, n_classes) in :data:`pipeline.labels.AAMI_CLASSES` order.

The GRU layers keep Keras's cuDNN kernel eligible on a GPU: tanh activation, sigmoid recurrent
activation, ``recurrent_dropout=0``, ``unroll=False``, ``use_bias=True``, ``reset_after=True``
and no mask (the windows are fixed-length). :func:`find_cudnn_ineligible_layers` checks it.

References
----------
Cho K et al., "Learning phrase representations using RNN encoder-decoder for statistical machine
translation", EMNLP 2014 (GRU). Schuster M, Paliwal KK, "Bidirectional recurrent neural
networks", IEEE Trans Signal Process 45(11), 1997. Bahdanau D, Cho K, Bengio Y, ICLR 2015
(additive attention). Keras 3 ``keras.layers.GRU`` documentation, "cuDNN kernel" conditions
(``keras/src/backend/tensorflow/rnn.py``, ``_do_gru_arguments_support_cudnn``).
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass

import keras
import numpy as np

from models.attention import AdditiveAttention
from models.errors import ModelSettingsMismatchError
from pipeline.types import settings_values

logger = logging.getLogger(__name__)

INPUT_WAVEFORM = "waveform"
INPUT_FEATURES = "features"
OUTPUT_PROBABILITIES = "probabilities"
ATTENTION_LAYER = "attention"
FEATURE_SCALING_LAYER = "feature_scaling"


@dataclass(frozen=True)
class NetworkConfig:
    """Shape and size of the classifier; saved with the model (:meth:`to_dict`).

    Attributes
    ----------
    window_samples : int
        Samples per beat window (252 at 360 Hz with the default segmentation, 0.25 s + 0.45 s).
    n_channels : int
        Waveform channels: e.g. 2 leads + 2 "beat minus record template" channels = 4.
    n_features : int
        Scalar features per beat (RR, morphology, rhythm).
    conv_filters : tuple of int
        Filters of each Conv1D layer of the front end.
    conv_kernel : int
        Kernel size (samples) of every Conv1D layer.
    conv_strides : tuple of int
        Stride of each Conv1D layer (one per entry of ``conv_filters``); the sequence the GRU sees
        has ``window_samples / prod(conv_strides)`` steps: 252 / 9 = 28 steps of 25 ms by default.
        The GRU dominates the cost and grows with the steps: on the 2-core machine one batch of 1024
        beats ran at about 13,000 beats/s with strides (2, 2) (63 steps) against 30,000 with (3, 3),
        and only the latter meets the 20,000 beats/s inference target end to end.
    gru_units : int
        Units of each GRU direction.
    n_gru_layers : int
        Stacked bidirectional GRU layers.
    attention_units : int
        Size of the attention scoring space.
    feature_units : int
        Width of the Dense projection of the scalar features.
    dense_units : int
        Width of the Dense layer before the softmax.
    dropout : float
        Dropout rate after the concatenation and the Dense layer (never recurrent dropout, which
        would rule out the cuDNN kernel).
    n_classes : int
        Output classes (5: N, S, V, F, Q).
    learning_rate : float
        Adam learning rate used when compiling.
    waveform_noise : float
        Standard deviation of Gaussian noise added to the waveform channels while training (``GaussianNoise``, a
        no-op at inference), in the channels' units (the template's peak-to-peak amplitude is 1); 0: no layer.
    feature_noise : float
        The same for the standardised scalar features (units of one training standard deviation); 0: no layer.
        Input noise is a regulariser against fitting the training patients (EXPERIMENTS.md row AA).
    """

    window_samples: int = 252
    n_channels: int = 4
    n_features: int = 11
    conv_filters: tuple[int, ...] = (16, 32)
    conv_kernel: int = 7
    conv_strides: tuple[int, ...] = (3, 3)
    gru_units: int = 64
    n_gru_layers: int = 1
    attention_units: int = 32
    feature_units: int = 32
    dense_units: int = 64
    dropout: float = 0.3
    n_classes: int = 5
    learning_rate: float = 1e-3
    waveform_noise: float = 0.0
    feature_noise: float = 0.0

    def __post_init__(self) -> None:
        for name in ("window_samples", "n_channels", "n_features", "conv_kernel", "gru_units", "n_gru_layers",
                     "attention_units", "feature_units", "dense_units", "n_classes"):
            check_positive(name, getattr(self, name))
        for name in ("conv_filters", "conv_strides"):
            for value in getattr(self, name):
                check_positive(name, value)
        if len(self.conv_filters) != len(self.conv_strides):
            raise ValueError(f"Received conv_filters={self.conv_filters!r}, conv_strides={self.conv_strides!r}; "
                             "expected one stride per Conv1D layer.")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"Received dropout={self.dropout!r}; expected a rate in [0, 1).")
        if not self.learning_rate > 0:
            raise ValueError(f"Received learning_rate={self.learning_rate!r}; expected a positive number.")
        for name in ("waveform_noise", "feature_noise"):
            if not (isinstance(getattr(self, name), (int, float)) and 0.0 <= getattr(self, name) < 1.0):
                raise ValueError(f"Received {name}={getattr(self, name)!r}; expected a standard deviation in [0, 1).")

    @property
    def sequence_steps(self) -> int:
        """Time steps the GRU sees (each 'same'-padded strided conv gives ceil(n / stride))."""
        steps = self.window_samples
        for stride in self.conv_strides:
            steps = -(-steps // stride)
        return steps

    def to_dict(self) -> dict:
        """Plain JSON-serialisable dict (tuples as lists); the input-noise keys only when set, so that configurations
        from before those options serialise (and hash) as they did."""
        return {key: list(value) if isinstance(value, tuple) else value for key, value in asdict(self).items()
                if not (key in ("waveform_noise", "feature_noise") and value == 0.0)}

    @classmethod
    def from_dict(cls, values: dict) -> "NetworkConfig":
        """Inverse of :meth:`to_dict`; an unknown key or a value of the wrong kind raises ``ValueError``
        (:func:`pipeline.types.settings_values`)."""
        return cls(**settings_values(cls, values))


def check_positive(name: str, value) -> None:
    """Raise ``ValueError`` unless ``value`` is a positive integer."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"Received {name}={value!r}; expected a positive integer.")


def build_classifier(config: NetworkConfig = NetworkConfig(), *, jit_compile: bool | str = "auto",
                     ema_momentum: float | None = None) -> keras.Model:
    """Build and compile the beat classifier.

    Parameters
    ----------
    config : NetworkConfig
        Sizes of the inputs and layers.
    jit_compile : bool or "auto"
        Passed to ``Model.compile``; "auto" uses XLA where every layer supports it (on the CPU;
        on a GPU the cuDNN GRU kernel is not XLA-compatible and Keras turns XLA off).
    ema_momentum : float or None
        Keep an exponential moving average of the weights during training with this momentum (Keras's
        optimizer option ``use_ema``); None: off. See :func:`compile_classifier`.

    Returns
    -------
    keras.Model
        Inputs ``{"waveform": (None, window_samples, n_channels), "features": (None, n_features)}``,
        output ``probabilities`` (None, n_classes); compiled with Adam and sparse categorical
        cross-entropy on integer labels.

    Examples
    --------
    >>> model = build_classifier(NetworkConfig(window_samples=64, n_channels=2, n_features=3))
    >>> model.output_shape
    (None, 5)
    """
    waveform = keras.Input((config.window_samples, config.n_channels), name=INPUT_WAVEFORM)
    features = keras.Input((config.n_features,), name=INPUT_FEATURES)
    sequence = encode_sequence(encode_waveform(waveform, config), config)
    # The weights output is unused here; creating it in the layer's first call lets
    # build_attention_model expose it without calling the layer again.
    context, _ = AdditiveAttention(config.attention_units, name=ATTENTION_LAYER)(sequence,
                                                                                 return_attention_scores=True)
    merged = keras.layers.Concatenate(name="merge")([context, encode_features(features, config)])
    probabilities = classify(merged, config)
    model = keras.Model({INPUT_WAVEFORM: waveform, INPUT_FEATURES: features}, probabilities, name="beat_classifier")
    compile_classifier(model, config, jit_compile=jit_compile, ema_momentum=ema_momentum)
    return model


def encode_waveform(waveform, config: NetworkConfig):
    """Strided Conv1D layers: the 252-sample window down to 28 steps (default) of local shape features."""
    x = waveform
    if config.waveform_noise > 0:
        x = keras.layers.GaussianNoise(config.waveform_noise, name="waveform_noise")(x)
    for index, (filters, stride) in enumerate(zip(config.conv_filters, config.conv_strides), start=1):
        x = keras.layers.Conv1D(filters, config.conv_kernel, strides=stride, padding="same", activation="relu",
                                name=f"conv_{index}")(x)
    return x


def encode_sequence(x, config: NetworkConfig):
    """Stacked bidirectional GRUs, configured so that Keras can use the cuDNN kernel on a GPU."""
    for index in range(1, config.n_gru_layers + 1):
        gru = keras.layers.GRU(config.gru_units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                               reset_after=True, recurrent_dropout=0.0, unroll=False, return_sequences=True,
                               name=f"gru_{index}")
        x = keras.layers.Bidirectional(gru, name=f"bigru_{index}")(x)
    return x


def encode_features(features, config: NetworkConfig):
    """Standardise the scalar features (statistics stored in the model), add the training noise if any, project them."""
    scaled = keras.layers.Normalization(axis=-1, name=FEATURE_SCALING_LAYER)(features)
    if config.feature_noise > 0:
        scaled = keras.layers.GaussianNoise(config.feature_noise, name="feature_noise")(scaled)
    return keras.layers.Dense(config.feature_units, activation="relu", name="feature_dense")(scaled)


def classify(merged, config: NetworkConfig):
    """Dropout -> Dense -> dropout -> softmax over the classes."""
    x = keras.layers.Dropout(config.dropout, name="dropout_merge")(merged)
    x = keras.layers.Dense(config.dense_units, activation="relu", name="head_dense")(x)
    x = keras.layers.Dropout(config.dropout, name="dropout_head")(x)
    return keras.layers.Dense(config.n_classes, activation="softmax", name=OUTPUT_PROBABILITIES)(x)


def compile_classifier(model: keras.Model, config: NetworkConfig, *, jit_compile: bool | str = "auto",
                       ema_momentum: float | None = None) -> None:
    """Compile with Adam(``config.learning_rate``) and sparse categorical cross-entropy.

    With ``ema_momentum`` the optimizer also keeps an exponential moving average of the trainable weights
    (Polyak averaging; a momentum in (0, 1), checked where a configuration is read,
    :class:`models.train.TrainingConfig`); :class:`models.train.ValidationMonitor` scores and keeps the averaged
    weights.
    """
    optimizer = (keras.optimizers.Adam(config.learning_rate) if ema_momentum is None
                 else keras.optimizers.Adam(config.learning_rate, use_ema=True, ema_momentum=ema_momentum))
    model.compile(optimizer=optimizer,
                  loss=keras.losses.SparseCategoricalCrossentropy(),
                  metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
                  jit_compile=jit_compile)


def limit_cpu_threads(n_threads: int) -> None:
    """Let TensorFlow use at most ``n_threads`` CPU threads in this process (call before any model runs).

    Used when several processes share the cores (``ecg score --jobs``): on the 2-core machine two
    processes with one thread each scored 3.3 records/s, with two threads each 3.0.
    """
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(n_threads)
        tf.config.threading.set_inter_op_parallelism_threads(n_threads)
    except RuntimeError:  # TensorFlow already initialised its thread pools: keep them
        pass


def prepare_for_inference(model: keras.Model) -> keras.Model:
    """Compile a loaded (uncompiled) model for prediction only, without XLA. Returns the same model.

    XLA was on for CPU inference until 2026-11-30. Compiling the 4-member ensemble took about 4 s
    per process on first use, and on the 2-core AMD machine it saved only about 0.05 s per
    30-minute record with one thread. That is a net loss for ``ecg score`` on the 48 MIT-BIH
    records and for the dashboard's first record (BENCHMARKS.md section 6). One setting everywhere
    keeps the outputs identical whatever the number of jobs.
    """
    model.compile(jit_compile=False)
    return model


PREDICT_BATCH_SIZE = 1024
"""Beats per batch of :func:`predict_probabilities`."""
PREDICT_TAIL_BATCH_SIZE = 256
"""Beats per batch for what is left after the full batches."""


def predict_probabilities(model: keras.Model, waveform: np.ndarray, features: np.ndarray, *,
                          batch_size: int = PREDICT_BATCH_SIZE,
                          tail_batch_size: int = PREDICT_TAIL_BATCH_SIZE) -> np.ndarray:
    """Class probabilities of every beat, in fixed-size batches.

    Parameters
    ----------
    model : keras.Model
        A classifier (see :func:`build_classifier`).
    waveform : np.ndarray
        (n_beats, window_samples, n_channels); NaN in a window gives NaN probabilities for that beat.
    features : np.ndarray
        (n_beats, n_features).
    batch_size : int
        Beats per full batch. Batches have fixed sizes, so that the predict function is traced
        twice per process rather than once per record length. (On the 2-core machine this loop ran at
        about 22,000 beats/s where ``model.predict`` on the same arrays ran at about 14,000.)
        1024-beat batches ran about 10 % faster than 512-beat ones on the DS2 beats (BENCHMARKS.md
        section 5, session 7).
    tail_batch_size : int
        Beats per batch for the rest, the last one padded: a 30-minute record has about 2,000
        beats, and padding its last batch to 1024 wasted a fifth of the work (session 2: 10 MIT-BIH
        records, 13,200 vs 12,200 beats/s); with 256-beat tail batches at most 255 padded beats are
        computed per call.

    Returns
    -------
    np.ndarray
        float32 (n_beats, n_classes).

    Raises
    ------
    ModelSettingsMismatchError
        The arrays do not have the model's per-beat shapes.
    """
    if not 0 < tail_batch_size <= batch_size:
        raise ValueError(f"Received tail_batch_size={tail_batch_size!r}; expected a whole number from 1 to "
                         f"batch_size ({batch_size}).")
    check_inputs_match(model, waveform, features)
    n_beats = len(waveform)
    probabilities = np.empty((n_beats, model.output_shape[-1]), dtype=np.float32)
    for start, size in plan_batches(n_beats, batch_size, tail_batch_size):
        stop = min(start + size, n_beats)
        batch = {INPUT_WAVEFORM: pad_rows(waveform[start:stop], size),
                 INPUT_FEATURES: pad_rows(features[start:stop], size)}
        probabilities[start:stop] = np.asarray(model.predict_on_batch(batch))[: stop - start]
    return probabilities


def plan_batches(n_beats: int, batch_size: int, tail_batch_size: int) -> list[tuple[int, int]]:
    """(first beat, batch size) of each batch: full ``batch_size`` batches, then ``tail_batch_size`` ones."""
    n_full = n_beats // batch_size
    full = [(i * batch_size, batch_size) for i in range(n_full)]
    return full + [(start, tail_batch_size) for start in range(n_full * batch_size, n_beats, tail_batch_size)]


def pad_rows(values: np.ndarray, n_rows: int) -> np.ndarray:
    """``values`` as float32 with zero rows appended up to ``n_rows`` (unchanged when already that long)."""
    values = np.asarray(values, dtype=np.float32)
    if len(values) == n_rows:
        return values
    return np.concatenate([values, np.zeros((n_rows - len(values), *values.shape[1:]), dtype=np.float32)])


def adapt_feature_scaling(model: keras.Model, features: np.ndarray) -> None:
    """Set the model's feature standardisation (mean, variance per column) from training features.

    Call once on the training set before fitting; the statistics are weights of the model and
    are saved with it.
    """
    model.get_layer(FEATURE_SCALING_LAYER).adapt(np.asarray(features, dtype=np.float32))


def set_network_weights(model: keras.Model, weights: list[np.ndarray]) -> None:
    """Put ``weights`` (``get_weights()`` of a network of the same shape) into ``model``, feature scaling included.

    Keras's ``Normalization`` layer standardises with copies of its mean and variance taken when it was adapted or
    built, which ``set_weights`` does not refresh: a network rebuilt from another's weights would scale its features
    with the mean 0 and variance 1 it was built with. The copies are taken again here (its ``finalize_state``).
    """
    model.set_weights(weights)
    model.get_layer(FEATURE_SCALING_LAYER).finalize_state()


def build_attention_model(model: keras.Model) -> keras.Model:
    """A model sharing ``model``'s layers that returns the probabilities and the attention weights.

    Returns
    -------
    keras.Model
        Same inputs; outputs ``{"probabilities": (batch, n_classes), "attention": (batch, steps)}``.
        The weights are over the GRU time steps (``NetworkConfig.sequence_steps``); step ``i``
        covers about ``window_samples / steps`` samples starting at ``i * window_samples / steps``
        (:func:`attention_to_samples` maps them back onto the window).
    """
    _, weights = model.get_layer(ATTENTION_LAYER).output
    return keras.Model(model.input, {OUTPUT_PROBABILITIES: model.output, "attention": weights},
                       name=f"{model.name}_explained")


def attention_to_samples(weights: np.ndarray, window_samples: int) -> np.ndarray:
    """Spread per-step attention weights (n_beats, steps) over the window's samples (n_beats, window).

    Each step's weight is shared equally among the samples it covers, so each row still sums to 1.
    """
    weights = np.asarray(weights, dtype=np.float64)
    steps = weights.shape[-1]
    owner = np.minimum((np.arange(window_samples) * steps) // window_samples, steps - 1)
    per_step = np.bincount(owner, minlength=steps)
    return (weights[..., owner] / per_step[owner]).astype(np.float32)


def iter_gru_layers(layer):
    """Yield every GRU inside ``layer`` (a model, a Bidirectional wrapper or a GRU)."""
    if isinstance(layer, keras.layers.GRU):
        yield layer
    elif isinstance(layer, keras.layers.Bidirectional):
        yield from iter_gru_layers(layer.forward_layer)
        yield from iter_gru_layers(layer.backward_layer)
    for child in getattr(layer, "layers", ()):
        yield from iter_gru_layers(child)


def describe_cudnn_problems(gru: keras.layers.GRU) -> list[str]:
    """Why a GRU cannot use the cuDNN kernel (empty when it can).

    The conditions are those of Keras 3 on TensorFlow (``_do_gru_arguments_support_cudnn``):
    tanh activation, sigmoid recurrent activation, ``use_bias=True``, ``reset_after=True``,
    ``unroll=False``; plus ``recurrent_dropout=0`` (otherwise ``GRU.inner_loop`` skips the cuDNN
    path) and ``use_cudnn`` not ``False``. Masks must be right-padded; this model uses none.
    """
    cell = gru.cell
    checks = (("activation", cell.activation in (keras.activations.tanh, keras.ops.tanh), "'tanh'"),
              ("recurrent_activation", cell.recurrent_activation in (keras.activations.sigmoid, keras.ops.sigmoid),
               "'sigmoid'"),
              ("use_bias", cell.use_bias is True, "True"),
              ("reset_after", cell.reset_after is True, "True"),
              ("unroll", gru.unroll is False, "False"),
              ("recurrent_dropout", cell.recurrent_dropout == 0, "0"),
              ("use_cudnn", gru.use_cudnn in ("auto", True), "'auto' or True"))
    return [f"{gru.name}: Received {name}={describe_value(gru, name)}; expected {expected}."
            for name, ok, expected in checks if not ok]


def describe_value(gru: keras.layers.GRU, name: str) -> str:
    """The GRU's setting ``name`` as configured (activation names rather than function objects)."""
    value = getattr(gru, name) if name in ("unroll", "use_cudnn") else getattr(gru.cell, name)
    if callable(value):
        value = keras.activations.serialize(value)
    return repr(value)


def find_cudnn_ineligible_layers(model: keras.Model) -> list[str]:
    """One message per GRU setting (or Masking layer) that keeps the cuDNN kernel out; empty if none."""
    problems = [problem for gru in iter_gru_layers(model) for problem in describe_cudnn_problems(gru)]
    masking = [layer.name for layer in model.layers if isinstance(layer, keras.layers.Masking)]
    problems += [f"{name}: Received a Masking layer; expected no mask (fixed-length beat windows)." for name in masking]
    return problems


def assert_cudnn_eligible(model: keras.Model) -> None:
    """Raise ``ValueError`` listing every GRU setting that would rule out the cuDNN kernel.

    Also raises when the model holds no GRU at all (nothing to check is a mistake here).
    """
    if not any(True for _ in iter_gru_layers(model)):
        raise ValueError(f"Received model {model.name!r} without any GRU layer; expected at least one.")
    problems = find_cudnn_ineligible_layers(model)
    if problems:
        raise ValueError(f"Received model {model.name!r} with {len(problems)} setting(s) not eligible for the cuDNN "
                         "kernel; expected every GRU on cuDNN's settings and no Masking layer:\n  "
                         + "\n  ".join(problems))


def read_input_shapes(model: keras.Model) -> dict[str, tuple]:
    """Per-beat input shape by input name, e.g. ``{"waveform": (252, 4), "features": (11,)}``."""
    return {tensor.name: tuple(tensor.shape[1:]) for tensor in model.inputs}


def check_inputs_match(model: keras.Model, waveform: np.ndarray, features: np.ndarray) -> None:
    """Raise :class:`ModelSettingsMismatchError` when the arrays do not fit the model's inputs.

    Parameters
    ----------
    model : keras.Model
        A classifier from :func:`build_classifier` (or loaded from one).
    waveform : np.ndarray
        (n_beats, window_samples, n_channels).
    features : np.ndarray
        (n_beats, n_features).
    """
    expected = read_input_shapes(model)
    received = {INPUT_WAVEFORM: tuple(np.shape(waveform)[1:]), INPUT_FEATURES: tuple(np.shape(features)[1:])}
    wrong = [name for name in (INPUT_WAVEFORM, INPUT_FEATURES) if received[name] != expected.get(name)]
    if wrong:
        details = "; ".join(f"{name} per beat {received[name]} (model expects {expected.get(name)})" for name in wrong)
        raise ModelSettingsMismatchError(
            f"Received {details}. The data were prepared with settings other than the model's: segment and "
            "build features with the segmentation settings and feature names saved with the model "
            "(LoadedModel.settings), or use a model trained on data prepared like these.")
