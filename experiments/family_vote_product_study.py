"""Row AJ: row U's morphology-family consensus again, after every stage of today's product, DS1 nested only.

Row U (session 9) put a family consensus after the decision rules: in a morphology family (:mod:`pipeline.families`,
the dashboard's review groups) of at least 5 beats of which at most 30 % are called V, the V calls become N. It was
the closest candidate of the log for V +P (+4 points on DS1) and missed the criterion by 0.001 end to end (+0.010 at the
reference positions, +0.009 end to end), on row P's product. The product has changed since (the AF rule, row AC; the
beat-context stage, row AH; one-lead copies in training, row AI), and its V +P is issue 3's unmet target closest to its
bar (DS2 91.97 against 92), with false V runs holding issue 4's V-run +P down. So the same rule, with row U's best
setting fixed before this run (``to_n``, at least 5 beats, at most 0.3 called V; no scan), is scored once more after
every stage of the shipped configuration (``configs/bundled.toml``): nested probabilities of its networks (cached by
``experiments/one_lead_training_study.py``), the context stage fitted fold by fold on the other folds' nested
probabilities (as the product fits it), the decision rules, the AF rule, then the consensus. Families are computed on
the record's signal as ``app.analysis`` computes them, at the reference positions and on the detected beats.
DS2 is not read.

Criterion, written before the run (the log's two-seed rule, and row AI's region check):
(a) the selection score averaged over seeds 0 and 1 at least 0.01 higher, at the reference positions and end to end;
(b) higher at each of seeds 0 and 1, both ways;
(c) no averaged V or S Se or +P more than 1.5 points lower, either way;
(d) end to end, averaged V couplet Se and +P not more than 2 points lower.
Confirmation, written at the same time: at seed 2 (cached too), the score is not lower either way. Adopted when (a)-(d)
and the confirmation hold; then the consensus becomes a product stage. Otherwise the row is logged as not adopted.

Usage: PYTHONPATH=. .venv/bin/python experiments/family_vote_product_study.py [--config configs/bundled.toml]
(about 10 minutes with the nested probabilities cached; results: experiments/results/family_vote_product_study.json)
"""

from __future__ import annotations

import dataclasses
import sys

import numpy as np

from app.config import require_data_dir
from experiments.context_plain_fit_study import staged_probabilities
from experiments.context_stage_study import figures_both_ways
from experiments.family_vote_study import apply_consensus
from experiments.nested_oof import decide_end_to_end
from experiments.one_lead_training_study import nested_three_ways
from experiments.s_rule_study import load_one_lead_inputs, load_study_inputs, results_path, write_results
from experiments.s_run_rule_study import classify_with_config, configured_rules
from pipeline.families import group_beat_families
from pipeline.records import read_record

SEEDS = (0, 1)
CONFIRMATION_SEED = 2
SETTING = (5, 0.3, 0.7, "to_n")  # row U's best: min_size, lo, hi (unused by to_n), direction
WAYS = ("reference", "end_to_end")
BEAT_KEYS = ("S_se", "S_ppv", "V_se", "V_ppv", "score")


def record_families(data, detected: dict) -> dict:
    """Per DS1 record: families of its reference-position beats and of its detected beats."""
    out = {}
    for name in sorted(detected):
        record = read_record(require_data_dir(None) / name)
        out[name] = (group_beat_families(record.signal_mv, data.samples[data.record_names == name], record.fs_hz),
                     group_beat_families(record.signal_mv, detected[name]["samples"], record.fs_hz))
    return out


def product_classes(config, data, one_lead) -> tuple[np.ndarray, dict, dict]:
    """The shipped product's classes of DS1 at the reference positions and per record end to end, nested, and the
    detected beats."""
    nested, detected, one = nested_three_ways(config, data, one_lead)
    reference, e2e, _ = staged_probabilities(nested, config, data, nested, detected)
    rules, names = configured_rules(config), data.inputs.feature_names
    classes = classify_with_config(reference, data, config)
    e2e_classes = {n: decide_end_to_end(n, p, rules, names, config.af_rule) for n, p in e2e.items()}
    return classes, e2e_classes, detected


def with_consensus(data, classes: np.ndarray, e2e_classes: dict, families: dict) -> tuple[np.ndarray, dict]:
    voted = classes.copy()
    for name, (at_reference, _) in families.items():
        rows = data.record_names == name
        voted[rows] = apply_consensus(classes[rows], at_reference, *SETTING)
    return voted, {n: apply_consensus(c, families[n][1], *SETTING) for n, c in e2e_classes.items()}


def score_seed(config, data, one_lead) -> dict:
    classes, e2e_classes, detected = product_classes(config, data, one_lead)
    families = record_families(data, detected)
    voted, e2e_voted = with_consensus(data, classes, e2e_classes, families)
    out = {"product": figures_both_ways(data, detected, classes, e2e_classes),
           "candidate": figures_both_ways(data, detected, voted, e2e_voted),
           "changed": {"reference": int(np.sum(voted != classes)),
                       "end_to_end": int(sum(np.sum(e2e_voted[n] != e2e_classes[n]) for n in e2e_classes))}}
    for variant in ("product", "candidate"):
        print(f"seed {config.seed}, {variant}: {describe(out[variant])}", flush=True)
    print(f"seed {config.seed}: beats changed {out['changed']}", flush=True)
    return out


def describe(variant: dict) -> str:
    parts = []
    for way in WAYS:
        b, r = variant[way]["beats"], variant[way]["regions"]
        parts.append(f"{way}: S {100 * b['S_se']:.1f}/{100 * b['S_ppv']:.1f} V {100 * b['V_se']:.1f}/"
                     f"{100 * b['V_ppv']:.1f} score {b['score']:.3f}; couplets {100 * r['V_couplet']['se']:.1f}/"
                     f"{100 * r['V_couplet']['ppv']:.1f}")
    return " | ".join(parts)


def check_criterion(by_seed: dict) -> dict:
    """The module docstring's criterion, part by part."""
    def beats(variant, way, key, seeds=SEEDS):
        return float(np.mean([by_seed[s][variant][way]["beats"][key] for s in seeds]))

    def couplet(variant, key):
        return float(np.mean([by_seed[s][variant]["end_to_end"]["regions"]["V_couplet"][key] for s in SEEDS]))

    a = all(beats("candidate", w, "score") >= beats("product", w, "score") + 0.01 for w in WAYS)
    b = all(beats("candidate", w, "score", (s,)) > beats("product", w, "score", (s,)) for w in WAYS for s in SEEDS)
    c = all(beats("candidate", w, k) >= beats("product", w, k) - 0.015
            for w in WAYS for k in ("S_se", "S_ppv", "V_se", "V_ppv"))
    d = all(couplet("candidate", k) >= couplet("product", k) - 0.02 for k in ("se", "ppv"))
    confirmed = all(beats("candidate", w, "score", (CONFIRMATION_SEED,)) >=
                    beats("product", w, "score", (CONFIRMATION_SEED,)) for w in WAYS)
    means = {v: {w: {k: beats(v, w, k) for k in BEAT_KEYS} for w in WAYS} for v in ("product", "candidate")}
    return {"a_score_gain": a, "b_each_seed": b, "c_se_ppv": c, "d_couplets": d, "confirmed_seed2": confirmed,
            "met": a and b and c and d and confirmed, "means_seeds_0_1": means}


def main(argv=None) -> int:
    config, data, config_path = load_study_inputs(__doc__.splitlines()[0], argv)
    one_lead = load_one_lead_inputs(config)
    by_seed = {}
    for seed in SEEDS + (CONFIRMATION_SEED,):
        by_seed[seed] = score_seed(dataclasses.replace(config, seed=seed), data, one_lead)
    verdict = check_criterion(by_seed)
    print({k: v for k, v in verdict.items() if k != "means_seeds_0_1"})
    for variant, ways in verdict["means_seeds_0_1"].items():
        print(variant, {w: {k: round(100 * x, 1) if k != "score" else round(x, 3) for k, x in m.items()}
                        for w, m in ways.items()})
    write_results(results_path("family_vote_product_study", config_path),
                  {"config": str(config_path), "setting": list(SETTING), "seeds": list(SEEDS),
                   "confirmation_seed": CONFIRMATION_SEED, "by_seed": {str(s): v for s, v in by_seed.items()},
                   "verdict": verdict})
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
