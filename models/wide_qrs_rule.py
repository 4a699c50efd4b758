"""Wide-QRS rule: a beat the network calls S is relabelled V when its QRS is wide and unlike the patient's own.

A supraventricular beat reaches the ventricles through the His-Purkinje system, as a sinus beat does, so its QRS looks
like the patient's dominant (conducted) QRS; a ventricular ectopic beat spreads from muscle cell to muscle cell and
comes out wider and differently shaped. A network trained on DS1 learns "S = premature with a normal-looking QRS on the
first lead", and calls S the premature beats of a ventricular rhythm whose QRS on that lead stays near the dominant one
(DS1 record 223's ventricular tachycardia, whose beats alternate between two shapes: out of fold, about 220 of its V
beats called S per seed, each breaking a couplet or a run). The rule applies the physiology directly, against the
record's own dominant beat (:func:`pipeline.features.compute_morphology_features`): a beat classified S becomes V when

- its QRS is wider than the dominant one by at least ``width_diff_min_ms`` (``qrs_width_diff_ms``),
- its first-lead QRS is unlike the dominant one (``qrs_corr_lead0 < qrs_corr_max``),
- and the rhythm around it is not fibrillation-like (``rhythm_af_score_rel <= af_max``, the measure the atrial-origin
  and supraventricular run rules use): in atrial fibrillation a wide beat is often a conducted one with aberration
  (the Ashman phenomenon), and the atrial-fibrillation rule decides the S calls there (:mod:`models.af_rule`).

A supraventricular beat conducted with aberration (rate-dependent bundle branch block: MIT-BIH symbol ``a``) meets both
conditions too and is then called V; DS1 has 100 such beats (97 in record 201, most inside its atrial fibrillation),
too few to weigh that cost (EXPERIMENTS.md rows BA-BC). Beats whose width or shape could not be measured keep
their call. Row BA, without the rhythm condition, turned record 203's conducted beats in atrial fibrillation into V
(false ventricular runs and VT, shorter AF episodes); the condition's 0.05 is the upper end of the plateau the
supraventricular run rule's limit was chosen from (EXPERIMENTS.md row P). Adopted on DS1 nested cross-validation at
seeds never trained (row BC: V Se end to end +6.2 and +4.8 points, S +P +15 points, couplets found 906 -> 945 with
false ones unchanged); the shipped model has it (``configs/bundled.toml``).

The thresholds travel with the model (``wide_qrs_rule`` in its settings); a model saved without them is used without
the rule. The network's probabilities are kept; the relabelled beats are flagged.

Reference: the AAMI/MIT-BIH definitions of supraventricular and ventricular ectopic beats (a ventricular QRS lasts
120 ms or more, a conducted one about 80-100 ms); CLASSIFIER-NOTES.md lesson 6 (the patient's own beats as the
reference).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from models.inputs import read_feature_columns
from pipeline.types import check_number_ranges

SETTINGS_KEY = "wide_qrs_rule"
FEATURES = ("qrs_width_diff_ms", "qrs_corr_lead0", "rhythm_af_score_rel")


@dataclass(frozen=True)
class WideQrsRule:
    """Thresholds of the rule (module docstring)."""

    width_diff_min_ms: float = 15.0
    qrs_corr_max: float = 0.9
    af_max: float = 0.05

    def __post_init__(self) -> None:
        check_number_ranges(self, {"width_diff_min_ms": (0.0, math.inf), "qrs_corr_max": (-1.0, 1.0),
                                   "af_max": (0.0, math.inf)})

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_settings(cls, settings: dict) -> "WideQrsRule | None":
        """The rule saved with a model, or None when the model has none."""
        values = settings.get(SETTINGS_KEY)
        return None if not values else cls(**values)


def find_wide_beats(features: np.ndarray, feature_names: tuple[str, ...] | list[str], rule: WideQrsRule) -> np.ndarray:
    """Boolean per beat: its QRS is wider than the dominant one by the rule's margin and unlike it on the first lead,
    outside fibrillation-like rhythm (False where any of these is not measured)."""
    column = read_feature_columns(features, feature_names, FEATURES)
    with np.errstate(invalid="ignore"):
        return ((column("qrs_width_diff_ms") >= rule.width_diff_min_ms) & (column("qrs_corr_lead0") < rule.qrs_corr_max)
                & (column("rhythm_af_score_rel") <= rule.af_max))
