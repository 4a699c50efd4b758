"""Sinus-conduction rule: a beat the network calls V is relabelled N when the sinus node conducted it.

A ventricular ectopic beat starts in the ventricles: it is not preceded by the patient's own sinus
P wave at the usual coupling, and it is usually early and followed by a compensatory pause. A
network trained on DS1 calls V any beat whose QRS differs from the record's dominant beat, so a
sinus beat with a QRS changed by an axis shift, a lead artefact or intermittent aberration becomes
a false V (DS1 record 108: more than 500 of them, out of fold). The rule applies the physiology
directly, with the patient's own sinus P wave as reference (:func:`pipeline.features.compute_p_wave_features`):
a beat classified V becomes N when

- a P wave like the sinus P template precedes it (``p_corr_best >= p_corr_min``),
- that template is clear (``p_template_quality >= quality_min``: the record has sinus P waves),
- it is not early (``rr_pre_local_ratio >= rr_min``),
- no compensatory pause follows (``rr_post_pre_ratio <= post_pre_max``),
- its QRS is not much wider than the dominant beat's (``qrs_width_diff_ms <= width_diff_max_ms``),
- and the network is not sure of the V call (``p(V) < v_probability_max``).

Late-coupled (end-diastolic) PVCs can meet the P-wave and timing conditions; the width and confidence
conditions keep most of them. The width condition also guards against the detector's fiducial point:
on a wide PVC it can fall up to ~90 ms after the annotated one (DS1 record 208), which makes the beat
look on time and puts its own QRS onset in the P-wave window; without the condition, 208's V
sensitivity end to end fell from 91.6 to 76.6 %. Its 40 ms is set from physiology (a ventricular QRS
lasts 120 ms or more, a conducted one about 80-100 ms), not tuned. Fusion beats called V are
relabelled too (they are conducted beats).

The thresholds were chosen on DS1 nested out-of-fold ensemble probabilities only
(``experiments/conduction_rule_study.py``, EXPERIMENTS.md row K) and travel with the model
(``conduction_rule`` in its settings); a model saved without them is used without the rule.
The network's probabilities are kept; the relabelled beats are flagged.

Reference: the AAMI/MIT-BIH definition of a ventricular ectopic beat; CLASSIFIER-NOTES.md lesson 6
(the patient's own sinus P wave as the reference, the same measurement as the atrial-origin rule).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from models.inputs import read_feature_columns
from pipeline.types import check_number_ranges

SETTINGS_KEY = "conduction_rule"
FEATURES = ("p_corr_best", "p_template_quality", "rr_pre_local_ratio", "rr_post_pre_ratio", "qrs_width_diff_ms")


@dataclass(frozen=True)
class ConductionRule:
    """Thresholds of the rule (module docstring); defaults: the DS1 choice of row K."""

    p_corr_min: float = 0.4
    quality_min: float = 0.5
    rr_min: float = 0.9
    post_pre_max: float = 1.1
    v_probability_max: float = 0.9
    width_diff_max_ms: float = 40.0

    def __post_init__(self) -> None:
        check_number_ranges(self, {"p_corr_min": (-1.0, 1.0), "quality_min": (0.0, 1.0), "rr_min": (0.0, math.inf),
                                   "post_pre_max": (0.0, math.inf), "v_probability_max": (0.0, 1.0),
                                   "width_diff_max_ms": (-math.inf, math.inf)})

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_settings(cls, settings: dict) -> "ConductionRule | None":
        """The rule saved with a model, or None when the model has none."""
        values = settings.get(SETTINGS_KEY)
        return None if not values else cls(**values)


def find_conducted_beats(features: np.ndarray, feature_names: tuple[str, ...] | list[str], v_probability: np.ndarray,
                         rule: ConductionRule) -> np.ndarray:
    """Boolean per beat: the P wave, timing, width and confidence conditions of the rule all hold."""
    column = read_feature_columns(features, feature_names, FEATURES)
    return ((column("p_corr_best") >= rule.p_corr_min) & (column("p_template_quality") >= rule.quality_min)
            & (column("rr_pre_local_ratio") >= rule.rr_min) & (column("rr_post_pre_ratio") <= rule.post_pre_max)
            & (column("qrs_width_diff_ms") <= rule.width_diff_max_ms)
            & (np.asarray(v_probability, dtype=np.float64) < rule.v_probability_max))
