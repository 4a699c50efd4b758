"""Atrial-origin rule: a beat the network calls N is relabelled S when its P wave says atrial ectopy.

A network trained on DS1 learns "S = premature" (almost every DS1 S beat is), while atrial ectopy is
defined by the atrium: an abnormal P wave. The rule applies that definition directly, with the
patient's own sinus P wave as reference (:func:`pipeline.features.compute_p_wave_features`): a beat
classified N becomes S when

- its P wave does not match the sinus P template (``p_corr_best <= corr_max``),
- that template is clear (``p_template_quality >= quality_min``: the record has sinus P waves),
- the surrounding rhythm is not fibrillation-like (``rhythm_af_score_rel <= af_max``),
- its QRS matches the record's dominant QRS (``qrs_corr_lead0 >= qrs_min``: conducted normally),
- it comes early enough (``rr_pre_local_ratio <= rr_max``, its RR interval against the local median: 1.05, "not
  late", in row G; 0.9, premature, in the bundled configuration since row BL, which, measured against the local median
  rather than the sinus cycle, misses atrial beats that are themselves the rhythm, as in MIT-BIH 232).

The thresholds were chosen on DS1 out-of-fold predictions only (``experiments/s_rule_study.py``,
EXPERIMENTS.md row G) and travel with the model (``atrial_rule`` in its settings); a model saved
without them is used without the rule. The network's probabilities are left as they are; the
relabelled beats are flagged.

:class:`DecisionRules` gathers everything a model applies after its networks, in this order: the
minimum V probability (:func:`network_classes`), the sinus-conduction rule
(:mod:`models.conduction_rule`, V -> N), this rule (N -> S) and the supraventricular run rule
(:mod:`models.run_rule`, N -> S for the beats that continue a run started by an S beat), then the wide-QRS rule
(:mod:`models.wide_qrs_rule`, S -> V for the S calls whose QRS is wide and unlike the patient's), then the fusion rule
(:mod:`models.fusion_rule`, F -> N for the F calls with no V call near them); once the classes are decided, the
model's temperature (:func:`apply_temperature`) makes the reported probabilities mean what they say.

Reference: CLASSIFIER-NOTES.md lesson 6; de Chazal et al. 2004 (P-wave features for S beats).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace

import numpy as np

from models.af_rule import SETTINGS_KEY as AF_RULE_KEY
from models.context_stage import ContextStage
from models.conduction_rule import ConductionRule, find_conducted_beats
from models.family_rule import SETTINGS_KEY as FAMILY_RULE_KEY
from models.fusion_rule import SETTINGS_KEY as FUSION_RULE_KEY, find_lone_fusion_calls
from models.inputs import read_feature_columns
from models.run_rule import SupraventricularRunRule, extend_supraventricular_runs
from models.wide_qrs_rule import WideQrsRule, find_wide_beats
from pipeline.labels import AAMI_CLASSES
from pipeline.types import check_number_ranges

SETTINGS_KEY = "atrial_rule"
DECISION_RULE_KEYS = ("atrial_rule", "v_min_probability", "conduction_rule", "supraventricular_run_rule",
                      "wide_qrs_rule", "fusion_rule", "af_rule", "family_rule", "temperature")
"""Settings (and training-configuration keys) applied after the networks, read by :class:`DecisionRules`."""
STAGE_CONFIG_KEY = "context_stage"
"""Training-configuration switch of the beat-context stage (:mod:`models.context_stage`); like the rules, it changes
what follows the networks, not the networks, but it is fitted (on nested probabilities) rather than set, and the
settings keep the fitted stage under the same key."""
V_MIN_KEY = "v_min_probability"
"""Settings key of the minimum probability for a V call (see :func:`network_classes`)."""
TEMPERATURE_KEY = "temperature"
"""Settings key of the temperature applied to the reported probabilities (see :func:`apply_temperature`)."""
FEATURES = ("p_corr_best", "p_template_quality", "rhythm_af_score_rel", "qrs_corr_lead0", "rr_pre_local_ratio")
_N, _S, _V = AAMI_CLASSES.index("N"), AAMI_CLASSES.index("S"), AAMI_CLASSES.index("V")


@dataclass(frozen=True)
class AtrialRule:
    """Thresholds of the rule (module docstring); defaults: the DS1 choice of row G."""

    corr_max: float = 0.2
    quality_min: float = 0.6
    af_max: float = 0.03
    qrs_min: float = 0.95
    rr_max: float = 1.05

    def __post_init__(self) -> None:
        check_number_ranges(self, {"corr_max": (-1.0, 1.0), "quality_min": (0.0, 1.0), "af_max": (0.0, math.inf),
                                   "qrs_min": (-1.0, 1.0), "rr_max": (0.0, math.inf)})

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
    column = read_feature_columns(features, feature_names, FEATURES)
    return ((column("p_corr_best") <= rule.corr_max) & (column("p_template_quality") >= rule.quality_min)
            & (column("rhythm_af_score_rel") <= rule.af_max) & (column("qrs_corr_lead0") >= rule.qrs_min)
            & (column("rr_pre_local_ratio") <= rule.rr_max))


def read_switch(settings: dict, key: str) -> bool:
    """Whether a model's settings switch a rule on (``af_rule``, ``family_rule``, ``fusion_rule``; absent: off, so
    models saved before the rule keep their classes)."""
    value = settings.get(key, False)
    if not isinstance(value, bool):
        raise ValueError(f"Received {key}={value!r} in the model settings; expected true or false.")
    return value


def read_optional_number(settings: dict, key: str) -> float | None:
    """A number saved with a model under ``key`` (:data:`V_MIN_KEY`, :data:`TEMPERATURE_KEY`), or None when the model
    has none (then the minimum V probability is not applied, and the probabilities are reported as decided from)."""
    value = settings.get(key)
    return None if value is None else float(value)


def apply_temperature(probabilities: np.ndarray, temperature: float) -> np.ndarray:
    """Each row raised to the power 1 / ``temperature`` and renormalised (Guo et al. 2017, "On calibration of modern
    neural networks"): a temperature above 1 tempers overconfident probabilities, and every row keeps its class order,
    so no class changes. Rows with a missing value (a beat in a signal gap) stay missing; the dtype is kept.

    >>> p = np.array([[0.98, 0.01, 0.01, 0.0, 0.0], [0.5, 0.5, 0.0, 0.0, 0.0]], np.float32)
    >>> q = apply_temperature(p, 1.5)
    >>> q.dtype, bool(np.all(q.argmax(axis=1) == p.argmax(axis=1))), round(float(q[0, 0]), 3), q[1, :2].tolist()
    (dtype('float32'), True, 0.914, [0.5, 0.5])
    """
    values = np.asarray(probabilities, dtype=np.float64)
    logits = np.log(np.clip(values, 1e-12, 1.0)) / temperature
    logits -= np.max(logits, axis=1, keepdims=True) if len(logits) else 0.0
    scaled = np.exp(logits)
    scaled /= scaled.sum(axis=1, keepdims=True)
    return scaled.astype(np.asarray(probabilities).dtype, copy=False)


def network_classes(probabilities: np.ndarray, v_min_probability: float | None = None) -> np.ndarray:
    """Top class of each beat; with ``v_min_probability``, a V call below it gives way to the next class.

    The threshold was chosen on DS1 by nested cross-validation of the ensemble (EXPERIMENTS.md):
    low-confidence V calls are mostly wrong, and a false V call is what turns into false couplets
    and runs.
    """
    if len(probabilities) == 0:
        return np.empty(0, np.int64)
    classes = np.argmax(probabilities, axis=1)
    if v_min_probability is None:
        return classes
    weak = (classes == _V) & (probabilities[:, _V] < v_min_probability)
    if weak.any():
        others = np.array(probabilities[weak], dtype=np.float64)
        others[:, _V] = -np.inf
        classes[weak] = np.argmax(others, axis=1)
    return classes


@dataclass(frozen=True)
class Decision:
    """Final classes of a set of beats and which rule changed which beat (rows aligned)."""

    classes: np.ndarray
    """Class indices into :data:`AAMI_CLASSES`."""
    atrial: np.ndarray
    """True where the atrial-origin rule turned the network's N into S."""
    conducted: np.ndarray
    """True where the sinus-conduction rule (:mod:`models.conduction_rule`) turned the network's V into N."""
    run: np.ndarray
    """True where the supraventricular run rule (:mod:`models.run_rule`) turned an N call into S."""
    wide: np.ndarray
    """True where the wide-QRS rule (:mod:`models.wide_qrs_rule`) turned an S call into V."""
    fusion: np.ndarray | None = None
    """True where the fusion rule (:mod:`models.fusion_rule`) turned an F call into N."""
    probabilities: np.ndarray | None = None
    """The reported probabilities (:meth:`DecisionRules.decide`): those the classes were decided from (the network's,
    with the beat-context stage's division of p(N) + p(S) when the model has one), then tempered by the model's
    temperature when it has one."""


def decide_classes(probabilities: np.ndarray, features: np.ndarray, feature_names, rule: AtrialRule | None,
                   v_min_probability: float | None = None, conduction: ConductionRule | None = None,
                   run_rule: SupraventricularRunRule | None = None, wide_rule: WideQrsRule | None = None,
                   fusion_rule: bool = False) -> Decision:
    """Final classes and rule flags: V threshold, then the sinus-conduction rule (V -> N), then the
    atrial-origin rule (N -> S), then the supraventricular run rule (N -> S; it needs the beats of one
    recording in time order), then the wide-QRS rule (S -> V), then the fusion rule (F -> N, also in time order). A
    beat the conduction rule made N is not then made S (with the default thresholds the atrial rule and the
    conduction rule cannot meet: one needs a P wave like the sinus P, the other one unlike it)."""
    classes = network_classes(probabilities, v_min_probability)
    conducted = np.zeros(len(classes), bool)
    if conduction is not None and len(classes):
        conducted = (classes == _V) & find_conducted_beats(features, feature_names, probabilities[:, _V], conduction)
        classes = np.where(conducted, _N, classes)
    relabelled = np.zeros(len(classes), bool)
    if rule is not None and len(classes):
        relabelled = (classes == _N) & ~conducted & find_atrial_beats(features, feature_names, rule)
    classes = np.where(relabelled, _S, classes)
    run = np.zeros(len(classes), bool)
    if run_rule is not None and len(classes):
        run = extend_supraventricular_runs(classes, features, feature_names, run_rule, eligible=~conducted)
    classes = np.where(run, _S, classes)
    wide = np.zeros(len(classes), bool)
    if wide_rule is not None and len(classes):
        wide = (classes == _S) & find_wide_beats(features, feature_names, wide_rule)
    classes = np.where(wide, _V, classes)
    fusion = find_lone_fusion_calls(classes) if fusion_rule and len(classes) else np.zeros(len(classes), bool)
    return Decision(np.where(fusion, _N, classes), relabelled, conducted, run, wide, fusion)


@dataclass(frozen=True)
class DecisionRules:
    """What turns the network's probabilities into the delivered classes, as saved with a model."""

    atrial_rule: AtrialRule | None = None
    v_min_probability: float | None = None
    conduction_rule: ConductionRule | None = None
    run_rule: SupraventricularRunRule | None = None
    af_rule: bool = False
    """Whether the record-level atrial-fibrillation rule follows (:mod:`models.af_rule`); :meth:`decide` covers the
    per-beat rules only, since that rule needs the record's signal."""
    family_rule: bool = False
    """Whether the record-level morphology-family rule follows the atrial-fibrillation rule (:mod:`models.family_rule`);
    like it, outside :meth:`decide`."""
    context_stage: ContextStage | None = None
    """Divides the network's N + S probability from the beats around before the rules (:mod:`models.context_stage`)."""
    temperature: float | None = None
    """Applied to the reported probabilities once the classes are decided (:func:`apply_temperature`); chosen on DS1
    nested cross-validation (EXPERIMENTS.md row AR). None: the probabilities as decided from."""
    wide_rule: WideQrsRule | None = None
    """S -> V for the S calls whose QRS is wide and unlike the patient's dominant one (:mod:`models.wide_qrs_rule`)."""
    fusion_rule: bool = False
    """F -> N for the F calls with no V call within two beats (:mod:`models.fusion_rule`), after the wide-QRS rule."""

    @classmethod
    def from_settings(cls, settings: dict) -> "DecisionRules":
        return cls(AtrialRule.from_settings(settings), read_optional_number(settings, V_MIN_KEY),
                   ConductionRule.from_settings(settings), SupraventricularRunRule.from_settings(settings),
                   af_rule=read_switch(settings, AF_RULE_KEY), family_rule=read_switch(settings, FAMILY_RULE_KEY),
                   context_stage=ContextStage.from_settings(settings),
                   temperature=read_optional_number(settings, TEMPERATURE_KEY),
                   wide_rule=WideQrsRule.from_settings(settings),
                   fusion_rule=read_switch(settings, FUSION_RULE_KEY))

    def decide(self, probabilities: np.ndarray, features: np.ndarray, feature_names) -> Decision:
        """Final class indices and rule flags (:func:`decide_classes`; one recording's beats in time order), after the
        beat-context stage when the model has one; ``probabilities`` of the result are those decided from, tempered
        by the model's temperature when it has one (the classes do not depend on it)."""
        if self.context_stage is not None and len(probabilities):
            probabilities = self.context_stage.split(probabilities, features, feature_names)
        decision = decide_classes(probabilities, features, feature_names, self.atrial_rule, self.v_min_probability,
                                  self.conduction_rule, self.run_rule, self.wide_rule, self.fusion_rule)
        if self.temperature is not None:
            probabilities = apply_temperature(probabilities, self.temperature)
        return replace(decision, probabilities=probabilities)
