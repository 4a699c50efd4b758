"""Row AK: row W's seed ensemble (each delivered network from two seeds) on today's product, DS1 nested only.

Row W (session 16) averaged two seeds' inner ensembles on row P's product and met its score criterion (+0.011 /
+0.012, V +P and S +P +2 points both ways), but was not adopted because 4 networks ran at 16,733 beats/s, under issue
3's 20,000. On this session's 2-core machine (2026-12-03, ``benchmarks/classifier_speed.py --member-copies 2
--no-write``, run twice, beside ``--member-copies 1`` twice): the shipped 2 networks and context stage run at 47,255
and 48,921 beats/s, 4 networks (each delivered network twice) and the stage at 28,301, 27,851 and 27,423, over the
target. The product has changed since row W (the AF rule, row AC; the beat-context stage, row AH; one-lead copies in
training, row AI), so row W's gain must be measured again before the speed question matters.

Candidate: the shipped configuration (``configs/bundled.toml``) with ``seeds_per_fold = 2``. Nested on DS1 from the
cached nested probabilities of the shipped configuration at seeds 0, 1 and 2 (``experiments/one_lead_training_study.py
--fraction 0.2``, ``.cache/oof/nested2t-onelead-*``): the candidate at pair (s, t) is the average of seed s's and seed
t's inner-ensemble probabilities (4 networks per outer fold, as the delivered model would have 4), at the reference
positions, on the detected beats and at the reference positions of the one-lead copies; the baseline is seed s
alone (the product). The context stage is fitted fold by fold on the other folds' nested probabilities, then every
decision rule and the AF rule, as the product does. Two ways of fitting the stage, both scored:
- ``stage_on_pair``: fitted on the averaged pair's probabilities (what ``seeds_per_fold = 2`` trains: the nested
  inner ensembles with both seeds too, 24 networks where the product trains 12, about twice its 7-minute training,
  over issue 3's 10 minutes);
- ``stage_on_first``: fitted on seed s's probabilities alone and applied to the pair's (what a cheaper training would
  do: the nested inner ensembles from one seed; 16 networks, about 9.5 minutes).
One difference from a real ``seeds_per_fold = 2`` training, said here: there both seeds of a fold share seed s's
draw of one-lead copies, while the cached seeds each drew their own.

Criterion, written before the run, for each variant (pairs (0, 1) against seed 0 and (1, 2) against seed 1):
(a) selection score averaged over the two pairs at least 0.01 higher, at the reference positions and end to end;
(b) higher at each pair, both ways;
(c) no averaged V or S Se or +P more than 1.5 points lower, either way;
(d) end to end, averaged V couplet Se and +P not more than 2 points lower;
(e) end to end, averaged bigeminy and VT episode Se not more than 2 points lower (session 24's note: the next study
    carries them);
(f) one lead (reference positions of the one-lead copies), averaged score not more than 0.01 lower.
Confirmation, written at the same time: at pair (2, 0) against seed 2, the score is not lower either way.
Adoption: ``stage_on_first`` is preferred (it keeps the training time); it is adopted when it meets (a)-(f) and the
confirmation, the bundle trained with it runs at >= 20,000 beats/s (``benchmarks/classifier_speed.py``) and trains
in <= 10 minutes (``time ecg bundle-model``). If only ``stage_on_pair`` meets the criterion, it is not adopted (its
training would miss issue 3's 10 minutes) and goes to the planners as a trade of two of issue 3's targets. DS2 is not
read.

Usage: PYTHONPATH=. .venv/bin/python experiments/seed_pair_study.py [--config configs/bundled.toml]
(cached nested probabilities: about 20 minutes; results: experiments/results/seed_pair_study.json)
"""

from __future__ import annotations

import dataclasses
import sys

import numpy as np

from experiments.context_plain_fit_study import staged_probabilities
from experiments.context_stage_study import score_variant
from experiments.nested_oof import scores
from experiments.one_lead_training_study import nested_three_ways
from experiments.s_rule_study import load_one_lead_inputs, load_study_inputs, results_path, write_results
from experiments.s_run_rule_study import classify_with_config
from experiments.seed_ensemble_study import average_detected
from experiments.v_run_study import fmt_regions

PAIRS = ((0, 1), (1, 2))
CONFIRMATION_PAIR = (2, 0)
VARIANTS = ("stage_on_pair", "stage_on_first")
WAYS = ("reference", "end_to_end")
BEAT_KEYS = ("S_se", "S_ppv", "V_se", "V_ppv", "score")


def score_staged(config, data, one_lead, fit_on: np.ndarray, nested: np.ndarray, detected: dict,
                 one: np.ndarray) -> dict:
    """Beat and region figures both ways, and one-lead beat figures, of the product's stage (fitted on ``fit_on``) and
    rules applied to these nested probabilities."""
    reference, e2e, one_staged = staged_probabilities(fit_on, config, data, nested, detected,
                                                      also=(one, one_lead.inputs.features))
    out = score_variant(config, data, data.inputs.feature_names, reference, e2e)
    one_scores = scores(data.labels, classify_with_config(one_staged, one_lead, config))
    out["one_lead"] = {"beats": {k: v for k, v in one_scores.items() if k != "matrix"}}
    return out


def score_pair(config, data, one_lead, pair: tuple[int, int]) -> dict:
    """The product at seed ``pair[0]`` and the two seed-pair variants."""
    first, second = (nested_three_ways(dataclasses.replace(config, seed=s), data, one_lead) for s in pair)
    base = dataclasses.replace(config, seed=pair[0])
    averaged = ((first[0] + second[0]) / 2, average_detected(first[1], second[1]), (first[2] + second[2]) / 2)
    out = {"product": score_staged(base, data, one_lead, first[0], *first),
           "stage_on_pair": score_staged(base, data, one_lead, averaged[0], *averaged),
           "stage_on_first": score_staged(base, data, one_lead, first[0], *averaged)}
    for variant, figures in out.items():
        print(f"pair {pair}, {variant}: {describe(figures)}", flush=True)
    return out


def describe(variant: dict) -> str:
    parts = []
    for way in WAYS + ("one_lead",):
        b = variant[way]["beats"]
        text = (f"{way}: S {100 * b['S_se']:.1f}/{100 * b['S_ppv']:.1f} V {100 * b['V_se']:.1f}/"
                f"{100 * b['V_ppv']:.1f} score {b['score']:.3f}")
        if way == "end_to_end":
            text += f" [{fmt_regions(variant[way]['regions'])}]"
        parts.append(text)
    return " | ".join(parts)


def two_seed_rule(by_run: dict, runs: tuple, variant: str) -> tuple[bool, bool, bool, bool, bool, bool]:
    """The two-seed rule of rows AH, AK and AM, parts (a)-(f), for ``variant`` against ``"product"`` over the runs
    ``runs`` (keys of ``by_run``, each ``{variant: score_staged(...)}``): (a) selection score averaged over the runs
    0.01 higher both ways; (b) higher at each run both ways; (c) no averaged V or S Se or +P more than 1.5 points
    lower; (d) end-to-end V couplet Se and +P at most 2 points lower; (e) end-to-end bigeminy and VT episode Se at
    most 2 lower; (f) one-lead score at most 0.01 lower."""
    def beats(v, way, key, chosen=runs):
        return float(np.mean([by_run[r][v][way]["beats"][key] for r in chosen]))

    def region(v, name, key):
        return float(np.mean([by_run[r][v]["end_to_end"]["regions"][name][key] for r in runs]))

    a = all(beats(variant, w, "score") >= beats("product", w, "score") + 0.01 for w in WAYS)
    b = all(beats(variant, w, "score", (r,)) > beats("product", w, "score", (r,)) for w in WAYS for r in runs)
    c = all(beats(variant, w, k) >= beats("product", w, k) - 0.015
            for w in WAYS for k in ("S_se", "S_ppv", "V_se", "V_ppv"))
    d = all(region(variant, "V_couplet", k) >= region("product", "V_couplet", k) - 0.02 for k in ("se", "ppv"))
    e = all(region(variant, n, "episode_se") >= region("product", n, "episode_se") - 0.02 for n in ("bigeminy", "vt"))
    f = beats(variant, "one_lead", "score") >= beats("product", "one_lead", "score") - 0.01
    return a, b, c, d, e, f


def check_criterion(by_pair: dict, variant: str) -> dict:
    """The module docstring's criterion, part by part, for one variant."""
    def beats(v, way, key, pairs=PAIRS):
        return float(np.mean([by_pair[p][v][way]["beats"][key] for p in pairs]))

    a, b, c, d, e, f = two_seed_rule(by_pair, PAIRS, variant)
    confirmed = all(beats(variant, w, "score", (CONFIRMATION_PAIR,)) >=
                    beats("product", w, "score", (CONFIRMATION_PAIR,)) for w in WAYS)
    means = {v: {w: {k: beats(v, w, k) for k in BEAT_KEYS} for w in WAYS + ("one_lead",)}
             for v in ("product", variant)}
    return {"a_score_gain": a, "b_each_pair": b, "c_se_ppv": c, "d_couplets": d, "e_bigeminy_vt": e,
            "f_one_lead": f, "confirmed": confirmed, "met": a and b and c and d and e and f and confirmed,
            "means_of_pairs": means}


def main(argv=None) -> int:
    config, data, config_path = load_study_inputs(__doc__.splitlines()[0], argv)
    one_lead = load_one_lead_inputs(config)
    by_pair = {pair: score_pair(config, data, one_lead, pair) for pair in PAIRS + (CONFIRMATION_PAIR,)}
    verdicts = {variant: check_criterion(by_pair, variant) for variant in VARIANTS}
    for variant, verdict in verdicts.items():
        print(variant, {k: v for k, v in verdict.items() if k != "means_of_pairs"})
        for v, ways in verdict["means_of_pairs"].items():
            print(" ", v, {w: {k: round(100 * x, 1) if k != "score" else round(x, 3) for k, x in m.items()}
                           for w, m in ways.items()})
    write_results(results_path("seed_pair_study", config_path),
                  {"config": str(config_path), "pairs": [list(p) for p in PAIRS],
                   "confirmation_pair": list(CONFIRMATION_PAIR),
                   "by_pair": {f"{p[0]}-{p[1]}": v for p, v in by_pair.items()}, "verdicts": verdicts})
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
