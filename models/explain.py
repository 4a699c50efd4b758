"""Where the classifier looked: attention weights of chosen beats, mapped onto their windows.

The network pools its recurrent sequence with additive attention (:mod:`models.attention`); the
weights over the time steps say which part of the beat window shaped the decision. For the
delivered ensemble (``beat_classifier_ensemble``, members ``member_0`` .. ``member_k``) the
weights and probabilities of the members are averaged, as the ensemble averages its members'
probabilities.

References
----------
Bahdanau, Cho & Bengio, "Neural machine translation by jointly learning to align and translate",
ICLR 2015 (additive attention).
"""

from __future__ import annotations

import numpy as np

from models.network import ATTENTION_LAYER, attention_to_samples, build_attention_model, pad_rows
from models.prepare import InputSettings, prepare_beats
from models.loading import LoadedModel
from pipeline.detect import detect_record_peaks
from pipeline.types import Record

MEMBER_PREFIX = "member_"
"""Name prefix of the ensemble's member models (see :func:`models.train.build_ensemble`)."""


def find_attention_members(model) -> list:
    """The sub-models that hold an attention layer: the ensemble's members, or the model itself."""
    members = [layer for layer in model.layers if layer.name.startswith(MEMBER_PREFIX)]
    if members:
        return members
    names = [layer.name for layer in model.layers]
    if ATTENTION_LAYER not in names:
        raise ValueError(f"Received a model named {model.name!r} with layers {names}; expected an "
                         f"'{ATTENTION_LAYER}' layer or ensemble members named '{MEMBER_PREFIX}0'...")
    return [model]


def explain_inputs(model, inputs: dict[str, np.ndarray], window_samples: int,
                   batch_size: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """Member-averaged probabilities (n, 5) and attention over the window (n, window_samples)."""
    n_beats = len(next(iter(inputs.values())))
    members = find_attention_members(model)
    probabilities = np.zeros((n_beats, model.output_shape[-1]), np.float64)
    attention = np.zeros((n_beats, window_samples), np.float64)
    for member in members:
        explained = build_attention_model(member)
        for start in range(0, n_beats, batch_size):
            stop = min(start + batch_size, n_beats)
            batch = {name: pad_rows(values[start:stop], batch_size) for name, values in inputs.items()}
            outputs = explained.predict_on_batch(batch)
            probabilities[start:stop] += np.asarray(outputs["probabilities"])[: stop - start]
            weights = np.asarray(outputs["attention"])[: stop - start]
            attention[start:stop] += attention_to_samples(weights, window_samples)
    n_members = len(members)
    return (probabilities / n_members).astype(np.float32), (attention / n_members).astype(np.float32)


def explain_beats(loaded_model: LoadedModel, record: Record, beat_samples: np.ndarray,
                  r_peaks: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Class probabilities and attention of the beats at ``beat_samples``.

    Parameters
    ----------
    loaded_model : LoadedModel
        The classifier (ensemble or single network) with its input settings.
    record : Record
        The record, at the model's rate.
    beat_samples : np.ndarray
        R-peak samples of the beats to explain; each must be one of ``r_peaks``.
    r_peaks : np.ndarray, optional
        Every beat of the record as detected (e.g. ``analysis.predictions.detected_samples``). The beats' context (RR
        ratios, the record's dominant beat) comes from all of them, exactly as in
        :func:`models.predict.classify_record`; detected when not given.

    Returns
    -------
    probabilities : np.ndarray
        float32 (n, 5).
    attention : np.ndarray
        float32 (n, window_samples); each row sums to 1.
    window_starts : np.ndarray
        int64 (n,), record sample of each window's first sample.

    Raises
    ------
    ValueError
        A sample of ``beat_samples`` is not among ``r_peaks``.

    Examples
    --------
    >>> probabilities, attention, starts = explain_beats(model, record, predictions.detected_samples[:3],
    ...                                                  predictions.detected_samples)  # doctest: +SKIP
    >>> attention.sum(axis=1)  # doctest: +SKIP
    array([1., 1., 1.], dtype=float32)
    """
    settings = InputSettings.from_dict(loaded_model.settings["inputs"])
    peaks = detect_record_peaks(record).samples if r_peaks is None else np.asarray(r_peaks, np.int64)
    wanted = np.asarray(beat_samples, np.int64).reshape(-1)
    rows = locate_beats(peaks, wanted)
    window = settings.segmentation.window_samples
    if len(wanted) == 0:
        return (np.zeros((0, 5), np.float32), np.zeros((0, window), np.float32), np.zeros(0, np.int64))
    prepared = prepare_beats(record, peaks, settings)
    inputs = {name: values[rows] for name, values in prepared.inputs.as_dict().items()}
    probabilities, attention = explain_inputs(loaded_model.model, inputs, window)
    return probabilities, attention, wanted - settings.segmentation.pre_samples


def locate_beats(r_peaks: np.ndarray, beat_samples: np.ndarray) -> np.ndarray:
    """Row of each of ``beat_samples`` in the ascending ``r_peaks`` (ValueError when absent)."""
    rows = np.searchsorted(r_peaks, beat_samples)
    found = (rows < len(r_peaks)) & (r_peaks[np.minimum(rows, len(r_peaks) - 1)] == beat_samples) \
        if len(r_peaks) else np.zeros(len(beat_samples), bool)
    if not np.all(found):
        missing = beat_samples[~found][:5].tolist()
        raise ValueError(f"Received beat_samples {missing}; expected R peaks of the record (the r_peaks given).")
    return rows
