"""Study: the beat-context stage fitted on the fold networks' plain out-of-fold probabilities, DS1 only.

Row AH's stage is fitted on DS1's *nested* out-of-fold probabilities, which costs the nested scheme's inner networks:
with it, training the bundled configuration takes 11.5 min against the issue's 10 (BENCHMARKS.md section 5). The fold
networks that ``ecg train`` trains anyway give every DS1 patient an out-of-fold probability for free (each patient's
from the one network that did not train on them, early-stopped on them): if a stage fitted on those does as well on
the probabilities a new patient gets, the stage costs no training. This study only measures; it changes nothing in
the product.

For seeds 0, 1 and 2: the fold networks' plain out-of-fold probabilities (``experiments.s_rule_study.load_oof``, the
bundled configuration, trained once and cached); the nested probabilities of ``experiments/nested_oof.py`` (cached).
Cross-validation over the same 4 folds of whole patients: the stage for fold k is fitted (the product's
:func:`models.context_stage.fit_context_stage`) either on the other folds' **nested** probabilities (row AH, as
shipped) or on their **plain** out-of-fold probabilities, and scored on fold k's nested probabilities (reference
positions; the detected beats end to end), every decision rule after it.

Reading, fixed before the run: the plain fit could replace the nested one if, averaged over seeds 0-1, its selection
score is within 0.005 of the nested fit's both ways and it is at least 0.01 above the product both ways at each of the
three seeds. Seeing it met would be a reason to wire it in a later session, with its own adoption.

Usage: PYTHONPATH=. .venv/bin/python experiments/context_plain_fit_study.py [--config configs/bundled.toml]
(results: experiments/results/context_plain_fit_study.json)
"""

from __future__ import annotations

import dataclasses
import sys

import numpy as np

from experiments.context_stage_study import describe, score_variant
from experiments.nested_oof import nested_oof
from experiments.s_rule_study import load_oof, load_study_inputs, results_path, write_results
from models.context_stage import context_inputs_by_record, fit_context_stage, split_supraventricular
from models.folds import assign_patient_folds, compute_class_weights

SEEDS = (0, 1, 2)
FITS = ("nested", "plain")


def staged_probabilities(fit_on: np.ndarray, config, data, nested: np.ndarray, detected: dict,
                         also: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[np.ndarray, dict, np.ndarray | None]:
    """Fold by fold: a stage fitted on ``fit_on`` (one row of probabilities per DS1 beat) of the other folds' patients,
    applied to this fold's nested probabilities, at the reference positions and to its records' detected beats, and
    to ``also`` (nested probabilities and features of the same beats prepared another way, e.g. from one lead; None
    returned without it)."""
    names = data.inputs.feature_names
    fold_of = assign_patient_folds(data.record_names, data.labels, config.n_folds)
    outer = np.array([fold_of[n] for n in data.record_names])
    weights = compute_class_weights(data.labels, nested.shape[1], power=config.class_weight_power,
                                    max_ratio=config.max_class_weight_ratio)
    sets = [nested] + ([] if also is None else [also[0]])
    rows = [context_inputs_by_record(p, f, names, data.record_names)
            for p, f in zip(sets, [data.inputs.features] + ([] if also is None else [also[1]]))]
    staged = [np.array(p, copy=True) for p in sets]
    end_to_end = {}
    for fold in range(config.n_folds):
        train = outer != fold
        stage = fit_context_stage(fit_on[train], data.inputs.features[train], names, data.labels[train],
                                  data.record_names[train], weights, config.seed)
        for probabilities, x, out in zip(sets, rows, staged):
            out[~train] = split_supraventricular(probabilities[~train], stage.model.predict_proba(x[~train])[:, 1])
        for name, parts in detected.items():
            if fold_of[name] == fold:
                end_to_end[name] = dict(parts, probabilities=stage.split(parts["probabilities"], parts["features"],
                                                                          names))
    return staged[0], end_to_end, None if also is None else staged[1]


def score_seed(config, data) -> dict:
    names = data.inputs.feature_names
    nested, detected = nested_oof(config, data, end_to_end=True)
    plain = load_oof(dataclasses.replace(config, context_stage=False), data)
    out = {"product": score_variant(config, data, names, nested, detected)}
    print(f"seed {config.seed}, product: {describe(out['product'])}", flush=True)
    for fit, probabilities in (("nested", nested), ("plain", plain)):
        reference, e2e, _ = staged_probabilities(probabilities, config, data, nested, detected)
        out[fit] = score_variant(config, data, names, reference, e2e)
        print(f"seed {config.seed}, stage fitted on {fit}: {describe(out[fit])}", flush=True)
    return out


def main(argv=None) -> int:
    config, data, config_path = load_study_inputs(__doc__.splitlines()[0], argv)
    by_seed = {seed: score_seed(dataclasses.replace(config, seed=seed), data) for seed in SEEDS}
    score = {seed: {v: {w: by_seed[seed][v][w]["beats"]["score"] for w in ("reference", "end_to_end")}
                    for v in ("product",) + FITS} for seed in SEEDS}
    mean = {v: {w: float(np.mean([score[s][v][w] for s in SEEDS[:2]])) for w in ("reference", "end_to_end")}
            for v in ("product",) + FITS}
    close = all(mean["plain"][w] >= mean["nested"][w] - 0.005 for w in ("reference", "end_to_end"))
    ahead = all(score[s]["plain"][w] >= score[s]["product"][w] + 0.01 for s in SEEDS for w in ("reference", "end_to_end"))
    print(f"scores by seed: {score}")
    print(f"mean of seeds 0-1: {mean}; plain within 0.005 of nested: {close}; 0.01 above the product at every seed: "
          f"{ahead}")
    write_results(results_path("context_plain_fit_study", config_path),
                  {"config": str(config_path), "seeds": list(SEEDS), "by_seed": {str(s): v for s, v in by_seed.items()},
                   "scores": {str(s): v for s, v in score.items()}, "mean_seeds_0_1": mean,
                   "plain_within_0_005_of_nested": close, "plain_ahead_of_product_at_every_seed": ahead})
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
