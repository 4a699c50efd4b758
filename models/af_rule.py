"""The atrial-fibrillation rule: no supraventricular ectopic beat inside atrial fibrillation or flutter.

In atrial fibrillation there is no organised atrial activity, so no beat is an atrial premature beat: MIT-BIH's
annotators label the conducted beats of fibrillation and flutter N, as AAMI EC57's class mapping does, and Holter
analysers do not count supraventricular ectopy during AF. The network sees a beat and its neighbourhood, and calls
many of these irregularly conducted beats S. After the per-beat rules (:func:`models.atrial_rule.decide_classes`),
the record's AF episodes are found exactly as the product reports them (:func:`pipeline.regions.find_regions`: RR
dispersion and P-wave consistency, at the analysis's event settings), and every S call inside one becomes N. The
episodes do not depend on the S labels (the AF evidence leaves out the intervals next to V, F and Q beats only), so
one pass is enough. V, F and Q calls are left alone: a ventricular premature beat in AF is still one.

Chosen on DS1 nested out-of-fold probabilities at three seeds (EXPERIMENTS.md row AC,
``experiments/af_s_rule_study.py``). A model's settings switch it on (``"af_rule": true``, from the training
configuration's ``af_rule = true``); a model saved without the key is used without it.

The rule needs the whole record (its signal and every beat), so it runs where a record is analysed
(:func:`app.analysis.analyse_record`, ``ecg evaluate``, the model labels of ``ecg evaluate-regions``), not in the
registered MLflow model, whose input is a batch of prepared beats.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from pipeline.labels import AAMI_CLASSES

if TYPE_CHECKING:  # kept out of the import: models.atrial_rule reads this module's setting and stays light
    from models.predict import BeatPredictions
    from pipeline.region_eval import RhythmEvidence
    from pipeline.regions import RegionSettings
    from pipeline.types import Record

SETTINGS_KEY = "af_rule"
_N, _S = AAMI_CLASSES.index("N"), AAMI_CLASSES.index("S")


def find_supraventricular_in_af(class_indices: np.ndarray, in_af: np.ndarray) -> np.ndarray:
    """Boolean per beat: called S and inside an AF episode (the beats the rule makes N).

    Examples
    --------
    >>> find_supraventricular_in_af(np.array([0, 1, 1, 2]), np.array([False, False, True, True])).tolist()
    [False, False, True, False]
    """
    if np.shape(in_af) != np.shape(class_indices):
        raise ValueError(f"Received {np.shape(in_af)} AF flags for {np.shape(class_indices)} classes; expected one "
                         "flag per beat.")
    return (np.asarray(class_indices) == _S) & np.asarray(in_af, dtype=bool)


def apply_af_rule(record: Record, predictions: BeatPredictions, spans: list, settings: RegionSettings,
                  evidence: RhythmEvidence | None = None,
                  detected_samples: np.ndarray | None = None, af_edits: tuple = ()) -> BeatPredictions:
    """``predictions`` with every S call inside the record's AF episodes made N (``in_af`` marks them).

    ``spans`` are the quality spans the regions are found from, ``settings`` the event settings, ``evidence``
    the record's rhythm evidence for these beats when already measured (:func:`measure_rhythm_evidence`),
    ``detected_samples`` the detector's waves for the flutter rate check (:attr:`pipeline.types.Detection.waves`,
    the placed beats with those its refractory check removed) when ``predictions`` are not them, and ``af_edits`` a
    reader's word on the atrial rhythm (:mod:`pipeline.reader_rhythm`), which the episodes follow.
    """
    from pipeline.region_eval import find_record_af_beats

    classes = predictions.class_indices
    if not (classes == _S).any():  # nothing to change: the episodes are not looked for
        return replace(predictions, in_af=np.zeros(len(predictions), bool))
    in_af = find_record_af_beats(record, predictions.samples, predictions.classes, spans, settings, detected_samples,
                                 evidence, predictions.paced, af_edits)
    changed = find_supraventricular_in_af(classes, in_af)
    return replace(predictions, decided=np.where(changed, _N, classes), in_af=changed)


def apply_af_rule_to_record(record: Record, predictions: BeatPredictions, settings: RegionSettings,
                            quality_spans: list | None = None,
                            detected_samples: np.ndarray | None = None) -> BeatPredictions:
    """:func:`apply_af_rule` with the record's quality spans (found unless given) spared over trains of these beats,
    as ``ecg score`` finds them (:func:`app.analysis.analyse_record`, which also shares the rhythm evidence with the
    regions, calls :func:`apply_af_rule` itself)."""
    from pipeline.quality import find_quality_spans, spare_beat_trains

    spans = find_quality_spans(record.signal_mv, record.fs_hz) if quality_spans is None else quality_spans
    spared = spare_beat_trains(spans, record.signal_mv, predictions.samples, record.fs_hz)
    return apply_af_rule(record, predictions, spared, settings, detected_samples=detected_samples)
