"""Study: a second, beat-context stage over the network's probabilities (stacking), DS1 nested only.

The network classifies each beat from its own window and features. Its errors come in patterns the beat's neighbours
reveal (EXPERIMENTS.md observations): a ventricular run with one beat called N splits into a couplet and an isolated
beat; a supraventricular run that no S call starts stays N (207); a false V call in noise sits among beats the network
is unsure of. The decision rules (rows G, K, P, AC) each mend one such pattern by hand, and two more hand rules (rows
I and AG) lost as much as they mended. CLASSIFIER-NOTES lesson 4 found beat context inside the network worth about
0.03, noisily. A learned second stage sees the network's *out-of-patient* errors instead: trained on nested
out-of-fold probabilities (networks that never saw the patient, the probabilities the delivered model produces on a
new patient), it learns how far to trust a call given the calls and rhythm around it.

Stage-2 inputs, per beat (:func:`models.context_stage.context_inputs`, the product's since the adoption of row AH;
this study ran with an identical copy): the log-probabilities of the beat and of the beats at offsets
-2, -1, +1, +2 in the same record (zeros and an edge flag past the record's ends), the beat's 43 features, and for each
neighbour its relative RR, QRS correlation with the dominant beat on both leads and QRS width difference; standardised
with the training rows' mean and deviation. Two stage-2 models:

- ``logistic``: multinomial logistic regression (scikit-learn, L2, C = 1): deployable as a weight matrix in the model's
  settings, the only one this study can adopt;
- ``boosting``: histogram gradient boosting (scikit-learn defaults), for information only (it could not ship without
  pickling a Python object into the model), to tell whether a non-linear stage would have more to give.

Both weight the classes by frequency^-0.3 capped at 10x, as the network's training (``class_weight_power``,
``max_class_weight_ratio``). The product's decision rules (conduction, atrial, supraventricular run, AF) are then
applied to the stage-2 probabilities exactly as to the network's.

Cross-validation: the nested scheme's own 4 outer folds of whole patients. The stage for outer fold k is fitted on the
other folds' rows (reference beat positions, nested OOF probabilities) and predicts fold k's reference beats and its
records' detected beats (end to end). No patient's labels reach the stage that predicts it. DS2 is not read.

Criterion, fixed before the first run (the two-seed rule of EXPERIMENTS.md, seeds 0 and 1 of the nested
probabilities), for ``logistic`` against the product (network + rules):

(a) the selection score averaged over the seeds at least 0.01 higher, at the reference positions and end to end;
(b) higher at each seed, both ways;
(c) no averaged V or S Se or +P more than 1.5 points lower, either way;
(d) end to end, averaged V couplet Se and +P not more than 2 points lower (the region figure with enough runs to
    read: 150+ reference couplets on DS1).

Usage: PYTHONPATH=. .venv/bin/python experiments/context_stage_study.py [--config configs/bundled.toml]
(results: experiments/results/context_stage_study.json)
"""

from __future__ import annotations

import dataclasses
import sys

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression

from app.config import require_data_dir
from experiments.nested_oof import decide_end_to_end, nested_oof, score_detected_classes, scores
from experiments.s_rule_study import load_study_inputs, results_path, write_results
from experiments.s_run_rule_study import classify_with_config, configured_rules
from experiments.v_run_study import region_figures
from models.context_stage import NEIGHBOUR_FEATURES, OFFSETS, context_inputs
from models.context_stage import context_inputs_by_record as rows_by_record
from models.folds import assign_patient_folds, compute_class_weights

SEEDS = (0, 1)
MODELS = ("logistic", "boosting")
RUNS = ("V_couplet", "V_short", "V_long")


def fit_stage(kind: str, x: np.ndarray, labels: np.ndarray, weights: np.ndarray):
    """A fitted stage-2 model and its standardisation (mean, deviation)."""
    mean, std = x.mean(axis=0), x.std(axis=0)
    std[std == 0] = 1.0
    model = (LogisticRegression(C=1.0, max_iter=3000) if kind == "logistic"
             else HistGradientBoostingClassifier(random_state=0))
    model.fit((x - mean) / std, labels, sample_weight=weights)
    return model, mean, std


def predict_stage(fitted, x: np.ndarray, n_classes: int) -> np.ndarray:
    """Stage-2 probabilities over every class (a class absent from the training rows gets 0)."""
    model, mean, std = fitted
    out = np.zeros((len(x), n_classes))
    out[:, model.classes_] = model.predict_proba((x - mean) / std)
    return out


def stage_probabilities(kind: str, config, data, oof: np.ndarray, detected: dict, names) -> tuple[np.ndarray, dict]:
    """Stage-2 probabilities by patient-wise cross-validation over the nested scheme's outer folds: at the reference
    positions (one row per DS1 beat) and per record for its detected beats."""
    fold_of = assign_patient_folds(data.record_names, data.labels, config.n_folds)
    outer = np.array([fold_of[n] for n in data.record_names])
    x = rows_by_record(oof, data.inputs.features, names, data.record_names)
    n_classes = oof.shape[1]
    weights = compute_class_weights(data.labels, n_classes, power=config.class_weight_power,
                                    max_ratio=config.max_class_weight_ratio)[data.labels]
    reference = np.zeros_like(oof, dtype=float)
    end_to_end = {}
    for fold in range(config.n_folds):
        train = outer != fold
        fitted = fit_stage(kind, x[train], data.labels[train], weights[train])
        reference[~train] = predict_stage(fitted, x[~train], n_classes)
        for name, parts in detected.items():
            if fold_of[name] == fold:
                rows = context_inputs(parts["probabilities"], parts["features"], names)
                end_to_end[name] = dict(parts, probabilities=predict_stage(fitted, rows, n_classes))
    return reference, end_to_end


def score_variant(config, data, names, reference_probabilities: np.ndarray, detected: dict) -> dict:
    """Beat and region figures of the product's rules applied to these probabilities, both ways."""
    rules = configured_rules(config)
    reference = classify_with_config(reference_probabilities, data, config)
    e2e = {n: decide_end_to_end(n, p, rules, names, config.af_rule) for n, p in detected.items()}
    return figures_both_ways(data, detected, reference, e2e)


def figures_both_ways(data, detected: dict, reference: np.ndarray, e2e: dict) -> dict:
    """Beat and V-region figures of these classes at the reference positions (``reference``, one per DS1 beat) and
    end to end (``e2e[name]``, one per detected beat of ``detected[name]``)."""
    order = sorted(detected)
    data_dir = require_data_dir(None)
    return {"reference": {"beats": strip(scores(data.labels, reference)),
                          "regions": region_figures(data_dir, data.samples, reference, data.record_names)},
            "end_to_end": {"beats": strip(score_detected_classes(detected, e2e)),
                           "regions": region_figures(
                               data_dir, np.concatenate([detected[n]["samples"] for n in order]),
                               np.concatenate([e2e[n] for n in order]),
                               np.concatenate([np.full(len(e2e[n]), n) for n in order]))}}


def score_seed(config, data, names) -> dict:
    """The product and each stage-2 model at the configuration's seed."""
    oof, detected = nested_oof(config, data, end_to_end=True)
    out = {"product": score_variant(config, data, names, oof, detected)}
    print(f"seed {config.seed}, product: {describe(out['product'])}", flush=True)
    for kind in MODELS:
        reference, e2e = stage_probabilities(kind, config, data, oof, detected, names)
        out[kind] = score_variant(config, data, names, reference, e2e)
        print(f"seed {config.seed}, {kind}: {describe(out[kind])}", flush=True)
    return out


def strip(figures: dict) -> dict:
    return {k: v for k, v in figures.items() if k != "matrix"}


def describe(variant: dict) -> str:
    parts = []
    for way in ("reference", "end_to_end"):
        b, r = variant[way]["beats"], variant[way]["regions"]
        runs = " ".join(f"{c[2:]} {100 * r[c]['se']:.1f}/{100 * r[c]['ppv']:.1f}" for c in RUNS)
        parts.append(f"{way}: S {100 * b['S_se']:.1f}/{100 * b['S_ppv']:.1f} V {100 * b['V_se']:.1f}/"
                     f"{100 * b['V_ppv']:.1f} score {b['score']:.3f}; {runs}; VT {100 * r['vt']['episode_se']:.1f}/"
                     f"{100 * r['vt']['episode_ppv']:.1f}")
    return " | ".join(parts)


BEAT_KEYS = ("S_se", "S_ppv", "V_se", "V_ppv", "score")


def average(by_seed: list[dict], variant: str, way: str) -> dict:
    """The figures the criterion reads, averaged over the seeds."""
    parts = [seed[variant][way] for seed in by_seed]
    out = {k: np.mean([p["beats"][k] for p in parts]) for k in BEAT_KEYS}
    for c in RUNS:
        out[f"{c}_se"] = np.mean([p["regions"][c]["se"] for p in parts])
        out[f"{c}_ppv"] = np.mean([p["regions"][c]["ppv"] for p in parts])
    out["vt_se"] = np.mean([p["regions"]["vt"]["episode_se"] for p in parts])
    out["vt_ppv"] = np.mean([p["regions"]["vt"]["episode_ppv"] for p in parts])
    return {k: float(v) for k, v in out.items()}


def meets_criterion(by_seed: list[dict], variant: str) -> bool:
    """The module docstring's criterion."""
    for way in ("reference", "end_to_end"):
        mean, base = average(by_seed, variant, way), average(by_seed, "product", way)
        if mean["score"] < base["score"] + 0.01:
            return False
        if any(s[variant][way]["beats"]["score"] <= s["product"][way]["beats"]["score"] for s in by_seed):
            return False
        if any(mean[k] < base[k] - 0.015 for k in ("S_se", "S_ppv", "V_se", "V_ppv")):
            return False
        if way == "end_to_end" and any(mean[f"V_couplet_{m}"] < base[f"V_couplet_{m}"] - 0.02 for m in ("se", "ppv")):
            return False
    return True


def summarize(by_seed: list[dict], variants, qualifies) -> dict:
    """Each variant's figures averaged over the seeds, both ways, and whether it meets the criterion
    (``qualifies(variant)``), printed as they are summarised."""
    summary = {}
    for variant in variants:
        means = {way: average(by_seed, variant, way) for way in ("reference", "end_to_end")}
        summary[variant] = {"mean": means, "criterion_met": bool(qualifies(variant))}
        print(f"mean of seeds {SEEDS}, {variant}: " + " | ".join(
            f"{way}: S {100 * m['S_se']:.1f}/{100 * m['S_ppv']:.1f} V {100 * m['V_se']:.1f}/{100 * m['V_ppv']:.1f} "
            f"score {m['score']:.3f} " + " ".join(f"{c[2:]} {100 * m[c + '_se']:.1f}/{100 * m[c + '_ppv']:.1f}"
                                                  for c in RUNS)
            + f" VT {100 * m['vt_se']:.1f}/{100 * m['vt_ppv']:.1f}" for way, m in means.items())
            + f" | criterion met: {summary[variant]['criterion_met']}", flush=True)
    return summary


def main(argv=None) -> int:
    config, data, config_path = load_study_inputs(__doc__.splitlines()[0], argv)
    names = data.inputs.feature_names
    by_seed = [score_seed(dataclasses.replace(config, seed=seed), data, names) for seed in SEEDS]
    summary = summarize(by_seed, ("product",) + MODELS, lambda v: v == "logistic" and meets_criterion(by_seed, v))
    adopted = "logistic" if summary["logistic"]["criterion_met"] else None
    print(f"adopted: {adopted}")
    write_results(results_path("context_stage_study", config_path),
                  {"config": str(config_path), "seeds": list(SEEDS), "offsets": list(OFFSETS),
                   "neighbour_features": list(NEIGHBOUR_FEATURES), "by_seed": by_seed, "summary": summary,
                   "adopted": adopted})
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
