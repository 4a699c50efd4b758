"""The morphology-family rule: a V call whose QRS matches a family of mostly non-ventricular beats becomes N.

Holter analysers classify by template: a recording's beats are grouped into families of like QRS shape
(:mod:`pipeline.families`, the leader algorithm with a 0.9 correlation over every lead) and a family is labelled as a
whole, because a ventricular beat's QRS differs from the conducted one's. The network calls each beat on its own, and
on patients it never saw it calls some conducted beats V (DS1 nested: V +P 83-85 % against V Se 88-92 %). After every
other rule, in a family of at least :data:`MIN_FAMILY_SIZE` beats of which at most :data:`MAX_V_SHARE` are called V,
the V calls become N: their QRS matches, at 0.9 correlation, beats the model itself calls non-ventricular many times
over. S, F and Q calls are left alone, as are V calls in small or mostly ventricular families and ungrouped beats.
For a patient with a stated pacemaker, a family more than half of whose beats the pacing rule found paced
(:mod:`models.pacing_rule`) is a paced family: its V calls become paced (Q), not N (a QA pass found 132 of record 217's
paced beats, V calls in its paced family, labelled normal).

Row U's setting (session 9, ``experiments/family_vote_study.py``), adopted as the V operating point on DS1 nested at
seeds 0-3 by V's F1 with the V events guarded (EXPERIMENTS.md row AS, ``experiments/family_vote_f1_study.py``). A
model's settings switch it on (``"family_rule": true``, from the training configuration's ``family_rule = true``); a
model saved without the key is used without it.

The rule needs the record's signal and every beat, so it runs where a record is analysed
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
    from pipeline.types import Record

SETTINGS_KEY = "family_rule"
MIN_FAMILY_SIZE = 5
"""Families smaller than this keep their V calls (row U's setting)."""
MAX_V_SHARE = 0.3
"""A family with at most this share of V calls is read as non-ventricular (row U's setting)."""
_N, _V, _Q = AAMI_CLASSES.index("N"), AAMI_CLASSES.index("V"), AAMI_CLASSES.index("Q")


def find_outvoted_v(class_indices: np.ndarray, families: np.ndarray) -> np.ndarray:
    """Boolean per beat: called V in a family of at least :data:`MIN_FAMILY_SIZE` beats with at most
    :data:`MAX_V_SHARE` of them called V (the beats the rule makes N); families are numbered, -1 ungrouped.

    Examples
    --------
    >>> classes = np.array([0, 0, 0, 0, 2, 2, 2, 2, 2, 0])
    >>> families = np.array([0, 0, 0, 0, 0, 1, 1, 1, 1, -1])
    >>> find_outvoted_v(classes, families).tolist()
    [False, False, False, False, True, False, False, False, False, False]
    """
    classes, families = np.asarray(class_indices), np.asarray(families)
    if families.shape != classes.shape:
        raise ValueError(f"Received {families.shape} family numbers for {classes.shape} classes; expected one per "
                         "beat.")
    grouped = families >= 0
    if not grouped.any():
        return np.zeros(len(classes), bool)
    size = np.bincount(families[grouped])
    v_count = np.bincount(families[grouped], weights=(classes[grouped] == _V).astype(float), minlength=len(size))
    outvoted = (size >= MIN_FAMILY_SIZE) & (v_count / np.maximum(size, 1) <= MAX_V_SHARE)
    return (classes == _V) & grouped & outvoted[np.where(grouped, families, 0)]


def find_paced_families(paced: np.ndarray, families: np.ndarray) -> np.ndarray:
    """Boolean per beat: in a family more than half of whose beats are ``paced`` (families numbered, -1 ungrouped).

    >>> find_paced_families(np.array([1, 1, 0, 0, 0, 1], bool), np.array([0, 0, 0, 1, 1, -1])).tolist()
    [True, True, True, False, False, False]
    """
    paced, families = np.asarray(paced, bool), np.asarray(families)
    grouped = families >= 0
    if not grouped.any():
        return np.zeros(len(paced), bool)
    size = np.bincount(families[grouped])
    share = np.bincount(families[grouped], weights=paced[grouped].astype(float), minlength=len(size)) / size.clip(1)
    return grouped & (share > 0.5)[np.where(grouped, families, 0)]


def apply_family_rule(predictions: BeatPredictions, families: np.ndarray) -> BeatPredictions:
    """``predictions`` with the V calls of non-ventricular families made N (``in_family`` marks them), or, in a
    paced family of a patient with a stated pacemaker, paced (Q; ``paced`` marks them); ``families``:
    :func:`pipeline.families.group_beat_families` of the same beats."""
    changed = find_outvoted_v(predictions.class_indices, families)
    if predictions.paced is None:
        return replace(predictions, decided=np.where(changed, _N, predictions.class_indices), in_family=changed)
    to_paced = changed & find_paced_families(predictions.paced, families)
    to_normal = changed & ~to_paced
    decided = np.where(to_normal, _N, np.where(to_paced, _Q, predictions.class_indices))
    return replace(predictions, decided=decided, in_family=to_normal, paced=predictions.paced | to_paced)


def apply_family_rule_to_record(record: Record, predictions: BeatPredictions) -> BeatPredictions:
    """:func:`apply_family_rule` with the families of these beats found on the record's signal."""
    from pipeline.families import group_beat_families

    if not (predictions.class_indices == _V).any():  # nothing to change: the families are not formed
        return replace(predictions, in_family=np.zeros(len(predictions), bool))
    return apply_family_rule(predictions, group_beat_families(record.signal_mv, predictions.samples, record.fs_hz))
