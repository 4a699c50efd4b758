"""Row AC: no supraventricular ectopic beat inside atrial fibrillation or flutter, on DS1 nested, at three seeds.

Why. On DS1 nested (seed 0, every decision rule applied, reference positions), 728 of the product's false S calls
fall in records 201 and 203, and 693 of them inside the atrial fibrillation/flutter episodes that the product's own
region finder reports (``find_regions``'s ``atrial_fibrillation`` regions); only 6 true S beats lie there (a throw-away
count made while looking for the sources of DS1's low S +P, 36.7 %). The physiology agrees: in AF there is no
organised atrial activity, so no beat is an atrial premature beat; MIT-BIH and AAMI EC57 label the conducted beats of
AF and flutter N (EVALUATION.md's mapping), and Holter analysers do not count supraventricular ectopy during AF.

Candidate. After every decision rule, the record's regions are found from the beats and their classes as the
product finds them (quality spans with beat-train sparing, P-wave similarity, flutter detector, default event
settings); each beat called S that lies inside an ``atrial_fibrillation`` region becomes N. The AF regions do not
depend on the S labels (the AF evidence leaves out intervals next to V, F and Q beats only), so one pass is enough.
No threshold is chosen: the rule uses the AF detector exactly as shipped (thresholds chosen on DS1 in session 1).

Adoption criterion, written before the first run: with the networks of seeds 0 and 1 (the two-seed rule of
EXPERIMENTS.md), the candidate's selection score averaged over the seeds is at least 0.01 above the product's both
at the reference positions and end to end, the candidate is ahead at each seed both ways, and no averaged V or S Se
or +P is more than 1.5 points lower. Seed 2's networks (cached by ``experiments/rule_seed_check.py``) are scored too,
for information. DS2 is not read.

Usage: PYTHONPATH=. .venv/bin/python experiments/af_s_rule_study.py [--seeds 0 1 2]
(nested probabilities cached in .cache/oof/; results: experiments/results/af_s_rule_study.json)
"""

from __future__ import annotations

import argparse
import dataclasses
import sys

import numpy as np

from experiments.candidate_study import judge_seeds
from experiments.family_vote_study import CHANGE_LIMIT_PTS, GAIN_MIN
from experiments.nested_oof import nested_oof, score_end_to_end, summarise
from experiments.s_rule_study import load_study_inputs, results_path, write_results
from experiments.s_run_rule_study import classify_with_config, configured_rules
from pipeline.labels import AAMI_CLASSES
from pipeline.scoring import count_classes

S = AAMI_CLASSES.index("S")


def score_seed(config, data) -> dict:
    """The product without and with the rule on one seed's nested probabilities, both ways, and the beats changed."""
    probabilities, detected = nested_oof(config, data, end_to_end=True)
    without = dataclasses.replace(config, af_rule=False)
    product = classify_with_config(probabilities, data, without)
    candidate = classify_with_config(probabilities, data, dataclasses.replace(config, af_rule=True))
    rules, names = configured_rules(without), data.inputs.feature_names

    def decide(p, f):
        return rules.decide(p, f, names).classes

    changed = {str(n): {"S_to_N": int(((product != candidate) & (data.record_names == n)).sum()),
                        "of_them_reference_S": int(((product != candidate) & (data.record_names == n)
                                                    & (data.labels == S)).sum())}
               for n in np.unique(data.record_names) if ((product != candidate) & (data.record_names == n)).any()}
    return {"product": {"reference": summarise(count_classes(data.labels, product)),
                        "end_to_end": score_end_to_end(detected, decide)},
            "candidate": {"reference": summarise(count_classes(data.labels, candidate)),
                          "end_to_end": score_end_to_end(detected, decide, af_rule=True)},
            "changed_at_reference_positions": changed}


def format_row(label: str, row: dict) -> str:
    return "  " + label.ljust(10) + "  ".join(
        f"{way}: S {100 * row[way]['S_se']:.1f}/{100 * row[way]['S_ppv']:.1f} V {100 * row[way]['V_se']:.1f}/"
        f"{100 * row[way]['V_ppv']:.1f} score {row[way]['score']:.3f}" for way in ("reference", "end_to_end"))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args, rest = parser.parse_known_args(argv)
    config, data, config_path = load_study_inputs(__doc__.splitlines()[0], rest)
    by_seed = {}
    for seed in args.seeds:
        by_seed[seed] = score_seed(dataclasses.replace(config, seed=seed), data)
        print(f"seed {seed}:")
        for label in ("product", "candidate"):
            print(format_row(label, by_seed[seed][label]))
        print("  beats changed (reference positions):", by_seed[seed]["changed_at_reference_positions"])
    judged = [s for s in args.seeds if s in (0, 1)]
    mean, _, met = judge_seeds([(by_seed[s]["product"], by_seed[s]["candidate"]) for s in judged])
    adopted = len(judged) == 2 and met
    print("averaged over seeds 0 and 1:")
    print(format_row("product", mean["baseline"]))
    print(format_row("candidate", mean["candidate"]))
    print(f"criterion met: {adopted}")
    write_results(results_path("af_s_rule_study", config_path),
                  {"criterion": {"gain_min": GAIN_MIN, "change_limit_pts": CHANGE_LIMIT_PTS, "seeds_judged": judged},
                   "by_seed": {str(k): v for k, v in by_seed.items()}, "meets_criterion": adopted})
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
