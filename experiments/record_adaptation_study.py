"""Row V: per-record adaptation of the S decision, on DS1 nested (reference positions and end to end).

CLASSIFIER-NOTES lesson 6 and this log's misses (``experiments/s_miss_table.py``): about 60 of DS1's missed S beats are
premature beats with a half-matching P wave (209, 220, 114, 223) that the network scores just under S, while the
same records hold many S beats it calls confidently. EVALUATION.md allows using a record's own unlabelled content
when scoring it (a Holter analyser sees the whole recording). Candidate, applied per record after every decision rule
of the configuration:

1. seeds: beats called S with p(S) >= ``seed_min``, and beats called N with p(N) >= 0.9;
2. when the record has at least ``min_seeds`` S seeds, a linear discriminant (scikit-learn, shrinkage) is fitted on
   the seeds' atrial evidence (:data:`EVIDENCE`: prematurity, compensation, P-wave match and shape) to tell this
   record's S beats from its N beats;
3. ``to_s``: a beat called N becomes S when the discriminant's p(S) >= ``threshold``, its QRS matches the dominant one
   (``qrs_corr_lead0`` >= 0.9) and the rhythm is not AF-like (``rhythm_af_score_rel`` <= 0.03), the limits of the run
   rule; ``both``: in addition a beat called S becomes N when the discriminant's p(S) <= 1 - ``threshold``.

Grid: min_seeds 10 or 30, seed_min 0.5 or 0.8, threshold 0.5, 0.7 or 0.9, the two directions. Classes come from the
nested ensembles of ``experiments/nested_oof.py`` (networks that never saw the patient). DS2 is not read.

Adoption criterion, written before the run: a setting is adopted only if the selection score (mean of the V and S
F1) rises by at least 0.01 both at the reference positions and end to end, and no V or S Se or +P falls by more
than 1.5 points either way; among such settings, the highest end-to-end score.

Usage: PYTHONPATH=. .venv/bin/python experiments/record_adaptation_study.py   (about 1 minute with the nested
probabilities cached; about 15 minutes of training without)
"""

from __future__ import annotations

import itertools
import sys

import numpy as np
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

from experiments.family_vote_study import CHANGE_LIMIT_PTS, GAIN_MIN, changes_by_record, choose_setting
from experiments.nested_oof import nested_oof, read_reference, summarise
from experiments.s_rule_study import load_study_inputs, results_path, write_results
from experiments.s_run_rule_study import classify_with_config, configured_rules
from models.evaluate import reference_classes
from pipeline.labels import AAMI_CLASSES
from pipeline.scoring import ClassificationCounts, compare_beats, compare_classes, count_classes

N, S = AAMI_CLASSES.index("N"), AAMI_CLASSES.index("S")
EVIDENCE = ("rr_pre_local_ratio", "rr_post_pre_ratio", "p_corr_best", "p_lag_ms", "p_corr_lead0", "p_corr_lead1",
            "p_amp_rel_lead0", "p_amp_rel_lead1", "p_energy_log2_ratio_lead0", "p_energy_log2_ratio_lead1")
QRS_MIN, AF_MAX, N_SEED_MIN = 0.9, 0.03, 0.9
SETTINGS = {f"{direction} seeds>={k} p>={s} t={t}": (k, s, t, direction)
            for k, s, t, direction in itertools.product((10, 30), (0.5, 0.8), (0.5, 0.7, 0.9), ("to_s", "both"))}


def adapt_record(classes: np.ndarray, probabilities: np.ndarray, features: np.ndarray, names: list[str],
                 min_seeds: int, seed_min: float, threshold: float, direction: str) -> np.ndarray:
    """One record's classes after the per-record discriminant (see the module docstring)."""
    column = {name: features[:, names.index(name)].astype(np.float64) for name in (*EVIDENCE, "qrs_corr_lead0",
                                                                                    "rhythm_af_score_rel")}
    s_seeds = (classes == S) & (probabilities[:, S] >= seed_min)
    n_seeds = (classes == N) & (probabilities[:, N] >= N_SEED_MIN)
    if s_seeds.sum() < min_seeds or n_seeds.sum() < min_seeds:
        return classes
    x = np.stack([column[name] for name in EVIDENCE], axis=1)
    seeds = s_seeds | n_seeds
    model = LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto", priors=[0.5, 0.5])
    model.fit(x[seeds], s_seeds[seeds].astype(int))
    p_s = model.predict_proba(x)[:, 1]
    out = classes.copy()
    supraventricular_like = (column["qrs_corr_lead0"] >= QRS_MIN) & (column["rhythm_af_score_rel"] <= AF_MAX)
    out[(classes == N) & (p_s >= threshold) & supraventricular_like] = S
    if direction == "both":
        out[(classes == S) & (p_s <= 1 - threshold)] = N
    return out


def adaptation_inputs(config, data) -> dict:
    """Per DS1 record: reference-position labels, classes, probabilities and features; the same for the detected
    beats with their match to the reference."""
    oof, detected = nested_oof(config, data, end_to_end=True)
    classes = classify_with_config(oof, data, config)
    rules, names = configured_rules(config), data.inputs.feature_names
    inputs = {}
    for name in sorted(detected):
        at_reference = data.record_names == name
        parts = detected[name]
        annotations, fs_hz, n_samples = read_reference(name)
        inputs[name] = {
            "labels": data.labels[at_reference], "classes": classes[at_reference],
            "probabilities": oof[at_reference], "features": data.inputs.features[at_reference],
            "e2e_classes": rules.decide(parts["probabilities"], parts["features"], names).classes,
            "e2e_probabilities": parts["probabilities"], "e2e_features": parts["features"],
            "match": compare_beats(annotations, parts["samples"], fs_hz, n_samples, start_s=0.0),
            "reference_classes": reference_classes(annotations),
        }
    return inputs


def score_setting(inputs: dict, names: list[str], setting: tuple | None) -> dict:
    """Nested DS1 figures at the reference positions and end to end, with ``setting`` (None: off)."""
    reference, end_to_end = ClassificationCounts.empty(), ClassificationCounts.empty()
    for r in inputs.values():
        classes, e2e = r["classes"], r["e2e_classes"]
        if setting is not None:
            classes = adapt_record(classes, r["probabilities"], r["features"], names, *setting)
            e2e = adapt_record(e2e, r["e2e_probabilities"], r["e2e_features"], names, *setting)
        reference = reference + count_classes(r["labels"], classes)
        end_to_end = end_to_end + compare_classes(r["match"], r["reference_classes"], e2e)
    return {"reference": summarise(reference), "end_to_end": summarise(end_to_end)}


def main(argv=None) -> int:
    config, data, config_path = load_study_inputs(__doc__.splitlines()[0], argv)
    names = list(data.inputs.feature_names)
    inputs = adaptation_inputs(config, data)
    rows = {"baseline": score_setting(inputs, names, None)}
    for key, setting in SETTINGS.items():
        rows[key] = score_setting(inputs, names, setting)
    adopted, best, strongest = choose_setting(rows)
    changes = changes_by_record(inputs, lambda r: adapt_record(r["classes"], r["probabilities"], r["features"], names,
                                                               *SETTINGS[strongest]))
    print(f"highest end-to-end score: {strongest}; beats changed at the reference positions, by record:")
    for name, counts in changes.items():
        print(f"  {name}: {counts}")
    write_results(results_path("record_adaptation_study", config_path),
                  {"criterion": {"gain_min": GAIN_MIN, "change_limit_pts": CHANGE_LIMIT_PTS},
                   "evidence": list(EVIDENCE), "settings": rows, "meets_criterion": adopted, "adopted": best,
                   "highest_end_to_end": strongest, "changes_by_record": changes})
    return 0


if __name__ == "__main__":
    sys.exit(main())
