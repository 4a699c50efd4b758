"""Row AS: the morphology-family consensus as the product's V operating point, judged on V's F1, DS1 nested only.

The consensus (rows U and AJ; :func:`experiments.family_vote_study.apply_consensus` with row U's setting: in a
morphology family of at least 5 beats of which at most 30 % are called V, the V calls become N) raised DS1's V +P by
3-4 points for 1-3 points of V Se at every seed it was tried on. Row AJ judged it by the log's general rule (the
selection score, the mean of V's and S's F1, +0.01; no V or S Se or +P more than 1.5 points lower) and it failed on
the size of the gain (+0.004 / +0.006) and on the 1.5-point clause for V Se. That rule weighs V's sensitivity above
its positive predictivity; issue 3 asks for both at 92 %, and on DS1 nested the product is further from the bar on
+P (83-85 %) than on Se (88-92 %): it errs on the side of false V calls. Row AJ left the operating point (V Se against
V +P) to the maintainers, to be set on DS1 before any DS2 figure. This row sets it: V's sensitivity and positive
predictivity weigh alike, that is, V's F1; and the V events a clinician reviews (issue 4) must not pay for it.

This criterion is written after row AJ's figures (seeds 0-2, with row AI's detector) were read. Seed 3 has never been
scored with the consensus, and the end-to-end figures change with row AL's detector, so every seed is asked to agree.

Criterion, written before the run (the product: ``configs/bundled.toml`` with every stage, nested probabilities of
seeds 0-3, the context stage fitted fold by fold, every rule, the AF rule; the candidate: the same, then the consensus):
(a) V F1 higher with the consensus at each of seeds 0, 1, 2 and 3, at the reference positions and end to end;
(b) averaged over the four seeds, V F1 at least 0.005 higher, both ways;
(c) S Se and +P unchanged (the consensus moves V calls to N only; checked, not assumed);
(d) end to end, averaged over the four seeds, the F1 of Se and +P of five V events (V couplets, short runs, long runs,
    VT episodes, bigeminy episodes): their mean higher, and none more than 0.02 lower;
(e) averaged over the four seeds, V Se at most 3 points lower either way (an operating point is not bought with V
    sensitivity).
Adopted when (a)-(e) hold: the consensus then becomes a product stage after the AF rule. Otherwise the row is logged
as not adopted. DS2 is not read.

Usage: PYTHONPATH=. .venv/bin/python experiments/family_vote_f1_study.py [--config configs/bundled.toml]
(nested networks are trained for seeds whose probabilities are not cached, about 9 minutes a seed; results:
experiments/results/family_vote_f1_study.json)
"""

from __future__ import annotations

import dataclasses
import sys

import numpy as np

from experiments.context_stage_study import figures_both_ways
from experiments.family_vote_product_study import SETTING, product_classes, record_families, with_consensus
from experiments.s_rule_study import load_one_lead_inputs, load_study_inputs, results_path, write_results
from pipeline.labels import AAMI_CLASSES

SEEDS = (0, 1, 2, 3)
WAYS = ("reference", "end_to_end")
EVENTS = ("V_couplet", "V_short", "V_long", "vt", "bigeminy")
V = AAMI_CLASSES.index("V")


def harmonic(se: float, ppv: float) -> float:
    """F1 of a sensitivity and a positive predictivity (0 when both are 0).

    >>> round(harmonic(0.8, 0.9), 4)
    0.8471
    >>> harmonic(0.0, 0.0)
    0.0
    """
    return 0.0 if se + ppv == 0 else 2 * se * ppv / (se + ppv)


def event_f1(regions: dict, event: str) -> float:
    """F1 of one V event's Se and +P (runs: run by run; VT and bigeminy: episode by episode)."""
    figures = regions[event]
    if event.startswith("V_"):
        return harmonic(figures["se"], figures["ppv"])
    return harmonic(figures["episode_se"], figures["episode_ppv"])


def true_v_lost_by_record(data, classes: np.ndarray, voted: np.ndarray) -> dict:
    """Reference V beats the consensus turned to N, per record (reference positions), for the log."""
    lost = (classes == V) & (voted != V) & (data.labels == V)
    names, counts = np.unique(data.record_names[lost], return_counts=True)
    return {str(n): int(c) for n, c in zip(names, counts)}


def score_seed(config, data, one_lead, families: dict | None) -> tuple[dict, dict]:
    classes, e2e_classes, detected = product_classes(config, data, one_lead)
    families = families or record_families(data, detected)
    voted, e2e_voted = with_consensus(data, classes, e2e_classes, families)
    out = {"product": figures_both_ways(data, detected, classes, e2e_classes),
           "candidate": figures_both_ways(data, detected, voted, e2e_voted),
           "changed": {"reference": int(np.sum(voted != classes)),
                       "end_to_end": int(sum(np.sum(e2e_voted[n] != e2e_classes[n]) for n in e2e_classes))},
           "true_v_lost_by_record": true_v_lost_by_record(data, classes, voted)}
    for variant in ("product", "candidate"):
        print(f"seed {config.seed}, {variant}: {describe(out[variant])}", flush=True)
    print(f"seed {config.seed}: beats changed {out['changed']}, true V lost {out['true_v_lost_by_record']}",
          flush=True)
    return out, families


def describe(variant: dict) -> str:
    parts = []
    for way in WAYS:
        b, r = variant[way]["beats"], variant[way]["regions"]
        events = " ".join(f"{e} {event_f1(r, e):.3f}" for e in EVENTS)
        parts.append(f"{way}: V {100 * b['V_se']:.1f}/{100 * b['V_ppv']:.1f} F1 {b['V_f1']:.4f}, "
                     f"S {100 * b['S_se']:.1f}/{100 * b['S_ppv']:.1f}; event F1 {events}")
    return " | ".join(parts)


def check_criterion(by_seed: dict) -> dict:
    """The module docstring's criterion, part by part."""
    def beats(variant, way, key, seeds=SEEDS):
        return float(np.mean([by_seed[s][variant][way]["beats"][key] for s in seeds]))

    def events(variant, event):
        return float(np.mean([event_f1(by_seed[s][variant]["end_to_end"]["regions"], event) for s in SEEDS]))

    a = all(beats("candidate", w, "V_f1", (s,)) > beats("product", w, "V_f1", (s,)) for w in WAYS for s in SEEDS)
    b = all(beats("candidate", w, "V_f1") >= beats("product", w, "V_f1") + 0.005 for w in WAYS)
    c = all(by_seed[s]["candidate"][w]["beats"][k] == by_seed[s]["product"][w]["beats"][k]
            for s in SEEDS for w in WAYS for k in ("S_se", "S_ppv"))
    event_means = {v: {e: events(v, e) for e in EVENTS} for v in ("product", "candidate")}
    d = (np.mean(list(event_means["candidate"].values())) > np.mean(list(event_means["product"].values()))
         and all(event_means["candidate"][e] >= event_means["product"][e] - 0.02 for e in EVENTS))
    e = all(beats("candidate", w, "V_se") >= beats("product", w, "V_se") - 0.03 for w in WAYS)
    means = {v: {w: {k: beats(v, w, k) for k in ("V_se", "V_ppv", "V_f1", "S_se", "S_ppv", "score")} for w in WAYS}
             for v in ("product", "candidate")}
    return {"a_each_seed": a, "b_mean_gain": b, "c_s_unchanged": c, "d_events": bool(d), "e_v_se": e,
            "met": bool(a and b and c and d and e), "means": means, "event_f1_end_to_end": event_means}


def main(argv=None) -> int:
    config, data, config_path = load_study_inputs(__doc__.splitlines()[0], argv)
    one_lead = load_one_lead_inputs(config)
    by_seed, families = {}, None
    for seed in SEEDS:
        by_seed[seed], families = score_seed(dataclasses.replace(config, seed=seed), data, one_lead, families)
    verdict = check_criterion(by_seed)
    print({k: v for k, v in verdict.items() if k not in ("means", "event_f1_end_to_end")})
    for variant, ways in verdict["means"].items():
        print(variant, {w: {k: round(100 * x, 2) if k != "score" else round(x, 4) for k, x in m.items()}
                        for w, m in ways.items()})
    print("event F1 end to end:", {v: {e: round(x, 3) for e, x in m.items()}
                                   for v, m in verdict["event_f1_end_to_end"].items()})
    write_results(results_path("family_vote_f1_study", config_path),
                  {"config": str(config_path), "setting": list(SETTING), "seeds": list(SEEDS),
                   "by_seed": {str(s): v for s, v in by_seed.items()}, "verdict": verdict})
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
