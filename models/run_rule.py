"""Supraventricular run rule: the beats of a supraventricular run after its first S beat are S too.

A supraventricular tachycardia run (SVTA in MIT-BIH) starts with a premature atrial or junctional
beat, which the network and the atrial-origin rule recognise by its prematurity and its P wave. The
beats that follow it at the same fast rate are S as well (they come from the same ectopic focus),
but each of them looks on time against its neighbours and its P wave is often hidden in the
preceding T wave, so the network calls many of them N: on DS1 nested cross-validation, record 209's
runs came out as stretches of S broken by N calls. The rule follows the run instead of each beat:
walking through one recording's beats in time order, a beat called N becomes S when

- the beat before it is S (as called, or as made S by this rule: runs are followed beat by beat),
- its RR interval continues that beat's (``|RR / previous RR - 1| <= rr_change_max``),
- the rate is fast for the record (``rr_pre_record_ratio <= rate_ratio_max``: RR at most that fraction
  of the record's median RR),
- its QRS matches the record's dominant QRS (``qrs_corr_lead0 >= qrs_min``: conducted normally),
- and the surrounding rhythm is not fibrillation-like (``rhythm_af_score_rel <= af_max``), where
  irregular fast beats after a false S call would otherwise be carried along.

A run ends at the first beat that breaks any condition, typically the return to the sinus rate.
The thresholds were chosen on DS1 nested out-of-fold ensemble probabilities only
(``experiments/s_run_rule_study.py``, EXPERIMENTS.md row P) and travel with the model
(``supraventricular_run_rule`` in its settings); a model saved without them is used without the rule.
The network's probabilities are kept; the relabelled beats are flagged.

The beats given must be consecutive beats of one recording, in time order (as ``ecg score``, the
dashboard and ``ecg evaluate`` classify them, record by record).

Reference: the MIT-BIH and AAMI EC57 definitions (an SVTA run is a run of S beats; EC57 scores S runs).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from models.inputs import read_feature_columns
from pipeline.labels import AAMI_CLASSES
from pipeline.types import check_number_ranges

SETTINGS_KEY = "supraventricular_run_rule"
FEATURES = ("rr_pre_record_ratio", "qrs_corr_lead0", "rhythm_af_score_rel")
_N, _S = AAMI_CLASSES.index("N"), AAMI_CLASSES.index("S")


@dataclass(frozen=True)
class SupraventricularRunRule:
    """Thresholds of the rule (module docstring); defaults: the DS1 choice of row P."""

    rr_change_max: float = 0.15
    rate_ratio_max: float = 0.7
    qrs_min: float = 0.9
    af_max: float = 0.03

    def __post_init__(self) -> None:
        check_number_ranges(self, {"rr_change_max": (0.0, math.inf), "rate_ratio_max": (0.0, math.inf),
                                   "qrs_min": (-1.0, 1.0), "af_max": (0.0, math.inf)})

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_settings(cls, settings: dict) -> "SupraventricularRunRule | None":
        """The rule saved with a model, or None when the model has none."""
        values = settings.get(SETTINGS_KEY)
        return None if not values else cls(**values)


def find_run_continuations(features: np.ndarray, feature_names: tuple[str, ...] | list[str],
                           rule: SupraventricularRunRule) -> np.ndarray:
    """Boolean per beat: every condition of the rule but the previous beat's class holds."""
    column = read_feature_columns(features, feature_names, FEATURES)
    rr = column("rr_pre_record_ratio")
    continues = np.zeros(len(rr), bool)
    if len(rr) > 1:
        with np.errstate(divide="ignore", invalid="ignore"):
            continues[1:] = np.abs(rr[1:] / rr[:-1] - 1.0) <= rule.rr_change_max
    return (continues & (rr <= rule.rate_ratio_max) & (column("qrs_corr_lead0") >= rule.qrs_min)
            & (column("rhythm_af_score_rel") <= rule.af_max))


def extend_supraventricular_runs(classes: np.ndarray, features: np.ndarray, feature_names,
                                 rule: SupraventricularRunRule, eligible: np.ndarray | None = None) -> np.ndarray:
    """Boolean per beat: an N call the rule makes S (the beats are one recording's, in time order).

    ``eligible`` (boolean per beat, default all) limits which N calls may change; an N call that may
    not (a beat another rule decided) ends the run like any other N.
    """
    classes = np.asarray(classes)
    extended = np.zeros(len(classes), bool)
    candidates = find_run_continuations(features, feature_names, rule) & (classes == _N)
    if eligible is not None:
        candidates &= eligible
    for i in np.flatnonzero(candidates):
        extended[i] = classes[i - 1] == _S or extended[i - 1]  # in order: a run is followed beat by beat
    return extended
