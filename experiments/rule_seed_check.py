"""Do the product's decision rules still help with networks trained from another seed? DS1 nested, both ways.

The atrial-origin rule (row G), the sinus-conduction rule (row K) and the supraventricular run rule (row P) were each
chosen on the nested probabilities of networks trained from seed 0. Row AA showed how far one seed's networks can
mislead (+0.038 at seed 0, -0.032 at seed 1), so each rule is taken out in turn and the product scored without it,
on seed 0's and on seed 1's nested probabilities (both cached in ``.cache/oof/`` by ``experiments/nested_oof.py``
and ``experiments/seed_ensemble_study.py``; nothing is trained when they are). A rule that helps at both seeds was
not chosen on one seed's noise. Nothing is chosen here; DS2 is not read.

Since session 19 the product also has the record-level atrial-fibrillation rule (row AC): every variant keeps it
but the one without it, and the results go to a file named ``...-af-rule.json``.

Usage: PYTHONPATH=. .venv/bin/python experiments/rule_seed_check.py [--seeds 0 1 2]
(default seeds 0 and 1; a seed not yet cached costs 12 nested trainings, about 11 minutes; results:
experiments/results/rule_seed_check.json, or rule_seed_check-seeds0-1-2.json for other seeds)
"""

from __future__ import annotations

import argparse
import dataclasses
import sys

from experiments.family_vote_study import print_rows
from experiments.nested_oof import nested_oof
from experiments.s_rule_study import load_study_inputs, results_path, write_results
from experiments.seed_ensemble_study import SECOND_SEED, score_probabilities
from models.atrial_rule import AtrialRule

NEVER_ATRIAL = AtrialRule(corr_max=-1.0, rr_max=0.0)
"""An atrial rule that never fires: a P-wave correlation of exactly -1 and an RR ratio of 0 at once (the smallest
ratio over MIT-BIH's reference beats is 0.021). Its first form, a correlation threshold of -2, is refused since the
rule's thresholds are range-checked."""

WITHOUT = {"without the atrial rule (G)": {"atrial_rule": NEVER_ATRIAL},
           "without the conduction rule (K)": {"conduction_rule": None},
           "without the run rule (P)": {"supraventricular_run_rule": None},
           "without the AF rule (AC)": {"af_rule": False}}
"""Each variant: the product's configuration with one rule taken out (the AF rule's variant is the product itself
for a configuration without it)."""


def check_seed(config, data) -> dict:
    """The product and each variant scored on the nested probabilities of ``config``'s seed."""
    probabilities, detected = nested_oof(config, data, end_to_end=True)
    rows = {"product": score_probabilities(probabilities, detected, data, config)}
    for name, change in WITHOUT.items():
        rows[name] = score_probabilities(probabilities, detected, data, dataclasses.replace(config, **change))
    return rows


def rule_gains(rows: dict) -> dict:
    """What each rule adds to the score (product minus the variant without it), both ways."""
    return {name.removeprefix("without the "): {way: rows["product"][way]["score"] - rows[name][way]["score"]
                                                for way in ("reference", "end_to_end")} for name in WITHOUT}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--seeds", type=int, nargs="+", default=None)
    args, rest = parser.parse_known_args(argv)
    config, data, config_path = load_study_inputs(__doc__.splitlines()[0], rest)
    seeds = args.seeds or [config.seed, SECOND_SEED]
    results = {}
    for seed in seeds:
        rows = check_seed(dataclasses.replace(config, seed=seed), data)
        print(f"seed {seed}:")
        print_rows(rows)
        results[f"seed {seed}"] = {"settings": rows, "rule_gains": rule_gains(rows)}
    print("score the rule adds (reference / end to end):")
    for rule in next(iter(results.values()))["rule_gains"]:
        gains = [results[key]["rule_gains"][rule] for key in results]
        print(f"  {rule}: " + "; ".join(f"{key} {g['reference']:+.3f} / {g['end_to_end']:+.3f}"
                                        for key, g in zip(results, gains)))
    scores = {way: [results[key]["settings"]["product"][way]["score"] for key in results]
              for way in ("reference", "end_to_end")}
    print("the product's score at each seed: " + "; ".join(f"{way} " + ", ".join(f"{v:.3f}" for v in values)
                                                          for way, values in scores.items()))
    name = "rule_seed_check" if args.seeds is None else "rule_seed_check-seeds" + "-".join(map(str, seeds))
    if config.af_rule:  # since session 19: the files of the earlier product (without the AF rule) are kept
        name += "-af-rule"
    write_results(results_path(name, config_path), results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
