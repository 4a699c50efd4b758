"""Study: a wider beat context for the context stage (neighbours at +-3 or +-4 instead of +-2), DS1 nested only.

The beat-context stage (``models/context_stage.py``, EXPERIMENTS.md row AH) divides the network's p(N) + p(S) between
N and S from the beat's features and the calls and RR/QRS measures of the beats at offsets -2, -1, +1, +2. Row AH took
+-2 from CLASSIFIER-NOTES lesson 4 (a +-4-beat sequence inside the network gained ~0.03) without trying wider. A wider
window sees a whole supraventricular triplet or trigeminy cycle on each side (three beats), and more of the underlying
rhythm around a premature beat; a boosted stage can ignore what does not help, but it has DS1's 944 S beats to learn
from, so more inputs can also overfit. The stage costs no network training: it is fitted fold by fold on the cached
nested probabilities of the shipped configuration (``experiments/one_lead_training_study.py --fraction 0.2``,
``.cache/oof/nested2t-onelead-*``, end to end with the detector as shipped since session 28), as the product fits it;
then every decision rule and the AF rule. DS2 is not read.

Candidates: ``OFFSETS`` (-3, -2, -1, 1, 2, 3) and (-4, -3, -2, -1, 1, 2, 3, 4) in ``models.context_stage``; the
product is (-2, -1, 1, 2).

Criterion, written before the run (the two-seed rule of rows AH and AK; seeds 0 and 1):
(a) selection score averaged over the seeds at least 0.01 higher, at the reference positions and end to end;
(b) higher at each seed, both ways;
(c) no averaged V or S Se or +P more than 1.5 points lower, either way;
(d) end to end, averaged V couplet Se and +P not more than 2 points lower;
(e) end to end, averaged bigeminy and VT episode Se not more than 2 points lower;
(f) one lead (reference positions of the one-lead copies), averaged score not more than 0.01 lower.
Of the candidates meeting (a)-(f), the one with the higher averaged end-to-end score is chosen; confirmation, written
at the same time: at seed 2 its score is not lower than the product's, either way. Adopted (``OFFSETS`` changes, the
shipped stage is refitted by ``ecg bundle-model --config configs/bundled.toml --rules-only``) when chosen and
confirmed; otherwise logged as not adopted.

Usage: PYTHONPATH=. .venv/bin/python experiments/context_width_study.py [--config configs/bundled.toml]
(cached nested probabilities; results: experiments/results/context_width_study.json)
"""

from __future__ import annotations

import dataclasses
import sys

import numpy as np

import models.context_stage
from experiments.one_lead_training_study import nested_three_ways
from experiments.s_rule_study import load_one_lead_inputs, load_study_inputs, results_path, write_results
from experiments.seed_pair_study import describe, score_staged, two_seed_rule

VARIANTS = {"product": (-2, -1, 1, 2), "offsets3": (-3, -2, -1, 1, 2, 3), "offsets4": (-4, -3, -2, -1, 1, 2, 3, 4)}
CANDIDATES = tuple(VARIANTS)[1:]
SEEDS = (0, 1)
CONFIRMATION_SEED = 2
WAYS = ("reference", "end_to_end")


def score_with_offsets(offsets: tuple[int, ...], config, data, one_lead) -> dict:
    """The product's figures with the stage reading neighbours at ``offsets`` (the module constant set for the fit
    and its application, then restored)."""
    nested, detected, one = nested_three_ways(config, data, one_lead)
    saved = models.context_stage.OFFSETS
    models.context_stage.OFFSETS = offsets
    try:
        return score_staged(config, data, one_lead, nested, nested, detected, one)
    finally:
        models.context_stage.OFFSETS = saved


def score_seed(config, data, one_lead) -> dict:
    out = {}
    for variant, offsets in VARIANTS.items():
        out[variant] = score_with_offsets(offsets, config, data, one_lead)
        print(f"seed {config.seed}, {variant}: {describe(out[variant])}", flush=True)
    return out


def check_criterion(by_seed: dict) -> dict:
    """The module docstring's criterion, candidate by candidate, and the choice."""
    def beats(v, way, key, seeds=SEEDS):
        return float(np.mean([by_seed[s][v][way]["beats"][key] for s in seeds]))

    verdicts = {}
    for c in CANDIDATES:
        a, b, cc, d, e, f = two_seed_rule(by_seed, SEEDS, c)
        verdicts[c] = {"a_score_gain": a, "b_each_seed": b, "c_se_ppv": cc, "d_couplets": d, "e_bigeminy_vt": e,
                       "f_one_lead": f, "met": a and b and cc and d and e and f,
                       "mean_scores": {w: beats(c, w, "score") for w in WAYS + ("one_lead",)}}
    passing = [c for c in CANDIDATES if verdicts[c]["met"]]
    chosen = max(passing, key=lambda c: verdicts[c]["mean_scores"]["end_to_end"]) if passing else None
    return {"candidates": verdicts, "chosen": chosen,
            "product_mean_scores": {w: beats("product", w, "score") for w in WAYS + ("one_lead",)}}


def main(argv=None) -> int:
    config, data, config_path = load_study_inputs(__doc__.splitlines()[0], argv)
    one_lead = load_one_lead_inputs(config)
    by_seed = {s: score_seed(dataclasses.replace(config, seed=s), data, one_lead) for s in SEEDS}
    verdict = check_criterion(by_seed)
    print(verdict)
    if verdict["chosen"] is not None:
        s, c = CONFIRMATION_SEED, verdict["chosen"]
        seeded = dataclasses.replace(config, seed=s)
        by_seed[s] = {v: score_with_offsets(VARIANTS[v], seeded, data, one_lead) for v in ("product", c)}
        verdict["confirmed"] = all(by_seed[s][c][w]["beats"]["score"] >= by_seed[s]["product"][w]["beats"]["score"]
                                   for w in WAYS)
        print("confirmation at seed", s, verdict["confirmed"])
    write_results(results_path("context_width_study", config_path),
                  {"config": str(config_path), "variants": {k: list(v) for k, v in VARIANTS.items()},
                   "seeds": list(SEEDS), "confirmation_seed": CONFIRMATION_SEED,
                   "by_seed": {str(s): v for s, v in by_seed.items()}, "verdict": verdict})
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
