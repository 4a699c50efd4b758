"""Atrial-origin rule: a beat the network calls N is relabelled S when its P wave says atrial ectopy.

A network trained on DS1 learns "S = premature" (almost every DS1 S beat is), while atrial ectopy is
defined by the atrium: an abnormal P wave. The rule applies that definition directly, with the
patient's own sinus P wave as reference (:func:`pipeline.features.compute_p_wave_features`): a beat
classified N becomes S when

- its P wave does not match the sinus P template (``p_corr_best <= corr_max``),
- that template is clear (``p_template_quality >= quality_min``: the record has sinus P waves),
- the surrounding rhythm is not fibrillation-like (``rhythm_af_score_rel <= af_max``),
- its QRS matches the record's dominant QRS (``qrs_corr_lead0 >= qrs_min``: conducted normally),
- it does not come late (``rr_pre_local_ratio <= rr_max``: not an escape beat).

The thresholds were chosen on DS1 out-of-fold predictions only (``experiments/s_rule_study.py``,
EXPERIMENTS.md row G) and travel with the model (``atrial_rule`` in its settings); a model saved
without them is used without the rule. The network's probabilities are left as they are; the
relabelled beats are flagged.

Reference: CLASSIFIER-NOTES.md lesson 6; de Chazal et al. 2004 (P-wave features for S beats).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from pipeline.labels import AAMI_CLASSES

SETTINGS_KEY = "atrial_rule"
FEATURES = ("p_corr_best", "p_template_quality", "rhythm_af_score_rel", "qrs_corr_lead0", "rr_pre_local_ratio")
_N, _S = AAMI_CLASSES.index("N"), AAMI_CLASSES.index("S")


@dataclass(frozen=True)
class AtrialRule:
    """Thresholds of the rule (module docstring); defaults: the DS1 choice of row G."""

    corr_max: float = 0.2
    quality_min: float = 0.6
    af_max: float = 0.03
    qrs_min: float = 0.95
    rr_max: float = 1.05

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_settings(cls, settings: dict) -> "AtrialRule | None":
        """The rule saved with a model, or None when the model has none."""
        values = settings.get(SETTINGS_KEY)
        return None if not values else cls(**values)


def find_atrial_beats(features: np.ndarray, feature_names: tuple[str, ...] | list[str], rule: AtrialRule
                      ) -> np.ndarray:
    """Boolean per beat: the P wave, rhythm, QRS and timing conditions of the rule all hold."""
    names = list(feature_names)
    missing = [name for name in FEATURES if name not in names]
    if missing:
        raise ValueError(f"Received features without {missing}; expected the model's input features.")
    column = lambda name: np.asarray(features[:, names.index(name)], dtype=np.float64)  # noqa: E731
    return ((column("p_corr_best") <= rule.corr_max) & (column("p_template_quality") >= rule.quality_min)
            & (column("rhythm_af_score_rel") <= rule.af_max) & (column("qrs_corr_lead0") >= rule.qrs_min)
            & (column("rr_pre_local_ratio") <= rule.rr_max))


def relabel_atrial_beats(probabilities: np.ndarray, features: np.ndarray, feature_names, rule: AtrialRule | None
                         ) -> np.ndarray:
    """Boolean per beat: the network's top class is N and the rule makes it S (all False without a rule)."""
    if rule is None or len(probabilities) == 0:
        return np.zeros(len(probabilities), bool)
    return (np.argmax(probabilities, axis=1) == _N) & find_atrial_beats(features, feature_names, rule)


def final_classes(probabilities: np.ndarray, relabelled: np.ndarray | None) -> np.ndarray:
    """Class indices: the network's top class, S where the rule relabelled the beat."""
    classes = np.argmax(probabilities, axis=1) if len(probabilities) else np.empty(0, np.int64)
    if relabelled is not None and len(classes):
        classes = np.where(relabelled, _S, classes)
    return classes
