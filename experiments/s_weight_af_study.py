"""Row AD: with the atrial-fibrillation rule in place, does a larger weight on p(S) now pay? DS1 nested, three seeds.

Row J (session 4) multiplied p(S) by a weight before the argmax and found the selection score falling with every
weight above 1: S sensitivity rose slowly while S +P halved. Much of that +P loss was in DS1's atrial fibrillation
records (201, 203), whose irregular beats a larger S prior turns into false S calls, and those are exactly the calls
the atrial-fibrillation rule (row AC) now takes back. DS1's S +P went from about 36 % to 50-61 % with the rule, so the
trade row J measured may have moved. Each weight is applied to the nested ensemble probabilities before every
decision rule of the product (V threshold, sinus-conduction, atrial-origin and run rules, then the AF rule), at the
reference positions and end to end.

Adoption criterion, written before the first run: the weight with the highest selection score end to end, averaged
over seeds 0 and 1, is adopted if its averaged score is at least 0.01 above weight 1 (the product) both at the
reference positions and end to end, it is ahead of weight 1 at each of the two seeds both ways, and its averaged
V Se and V +P are at most 1.5 points lower. S Se and S +P are what a prior trades against each other; the S F1 in the
score judges that trade, so they carry no separate limit here (unlike rows whose candidates should not move them).
Seed 2 is scored for information. DS2 is not read.

Usage: PYTHONPATH=. .venv/bin/python experiments/s_weight_af_study.py
(nested probabilities cached in .cache/oof/; results: experiments/results/s_weight_af_study.json)
"""

from __future__ import annotations

import dataclasses
import sys

import numpy as np

from experiments.af_s_rule_study import format_row
from experiments.candidate_study import average_rows
from experiments.family_vote_study import CHANGE_LIMIT_PTS, GAIN_MIN
from experiments.nested_oof import nested_oof
from experiments.s_rule_study import load_study_inputs, results_path, write_results
from experiments.seed_ensemble_study import score_probabilities

WEIGHTS = (1.0, 1.25, 1.5, 2.0, 3.0)
JUDGED_SEEDS = (0, 1)
ALL_SEEDS = (0, 1, 2)
S = 1
WAYS = ("reference", "end_to_end")


def weighted(probabilities: np.ndarray, detected: dict, weight: float) -> tuple[np.ndarray, dict]:
    """Nested probabilities (reference positions and detected beats) with p(S) multiplied by ``weight``."""
    def scale(p):
        out = np.array(p, dtype=np.float64)
        out[:, S] *= weight
        return out

    return scale(probabilities), {name: {**parts, "probabilities": scale(parts["probabilities"])}
                                  for name, parts in detected.items()}


def averaged(rows: dict, weight: float, seeds) -> dict:
    """One weight's rows averaged over ``seeds``."""
    return average_rows([rows[s][weight] for s in seeds])


def meets_criterion(rows: dict, weight: float) -> bool:
    """The module docstring's criterion for ``weight`` against weight 1."""
    base, cand = averaged(rows, 1.0, JUDGED_SEEDS), averaged(rows, weight, JUDGED_SEEDS)
    for way in WAYS:
        if cand[way]["score"] - base[way]["score"] < GAIN_MIN:
            return False
        if any(rows[s][weight][way]["score"] <= rows[s][1.0][way]["score"] for s in JUDGED_SEEDS):
            return False
        if any(100 * (base[way][k] - cand[way][k]) > CHANGE_LIMIT_PTS for k in ("V_se", "V_ppv")):
            return False
    return True


def main(argv=None) -> int:
    config, data, config_path = load_study_inputs(__doc__.splitlines()[0], argv)
    if not config.af_rule:
        raise SystemExit("The configuration has no af_rule; this study is about the product with it.")
    rows: dict[int, dict[float, dict]] = {}
    for seed in ALL_SEEDS:
        seeded = dataclasses.replace(config, seed=seed)
        probabilities, detected = nested_oof(seeded, data, end_to_end=True)
        rows[seed] = {}
        print(f"seed {seed}:")
        for weight in WEIGHTS:
            rows[seed][weight] = score_probabilities(*weighted(probabilities, detected, weight), data, seeded)
            print(format_row(f"w {weight}", rows[seed][weight]))
    print("averaged over seeds 0 and 1:")
    for weight in WEIGHTS:
        print(format_row(f"w {weight}", averaged(rows, weight, JUDGED_SEEDS)))
    passing = [w for w in WEIGHTS[1:] if meets_criterion(rows, w)]
    best = max(WEIGHTS, key=lambda w: averaged(rows, w, JUDGED_SEEDS)["end_to_end"]["score"])
    adopted = best if best in passing else None
    print(f"meeting the criterion: {passing}; highest end-to-end score: {best}; adopted: {adopted}")
    write_results(results_path("s_weight_af_study", config_path),
                  {"criterion": {"gain_min": GAIN_MIN, "v_change_limit_pts": CHANGE_LIMIT_PTS,
                                 "seeds_judged": list(JUDGED_SEEDS)},
                   "by_seed": {str(s): {str(w): r for w, r in by_weight.items()} for s, by_weight in rows.items()},
                   "meeting_criterion": passing, "highest_end_to_end": best, "adopted": adopted})
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
