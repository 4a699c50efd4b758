"""Study: a beat called N or S between two V calls in a fast rhythm becomes V (ventricular gap rule), DS1 nested only.

Ventricular tachycardia and runs are scored run by run (EC57) and as episodes, so one beat of a run that the classifier
misses splits it: a five-beat run becomes a couplet and an isolated beat, a VT episode two short ones or none. On DS1
nested (seed 0, every rule), record 223's VT alternates two morphologies, one nearly the patient's normal QRS, and
207's runs have single beats called N or S between V calls (EXPERIMENTS.md, session 19-20 observations). Physiology:
inside a fast ventricular run a beat between two ventricular beats is ventricular unless it is a capture beat (a
conducted sinus beat, rare and usually narrow and early). The candidate rule, applied after every other rule (the
AF rule included): a beat called N or S becomes V when

- the beats before and after it (same record) are called V,
- and its RR is fast for the record (``rr_pre_record_ratio <= rate_ratio_max``: at most that fraction of the
  record's median RR; the supraventricular run rule's measure).

Settings ``rate_ratio_max`` 0.7 (the run rule's value) and 0.8. Scored on DS1 nested out-of-fold ensemble
probabilities (``experiments/nested_oof.py``, cached) of the product's configuration at seeds 0 and 1, both ways
(reference beat positions; the detector's beats, end to end): beat figures and the region pipeline's V-run, VT and
bigeminy figures. DS2 is not read.

Criterion, fixed before the first run, on the figures averaged over seeds 0 and 1, each way:

(a) V long-run Se or VT episode Se higher (at least one of the two), both ways;
(b) no V couplet, short-run or long-run Se or +P lower by more than 1 point, nor VT episode +P;
(c) beat V +P not lower by more than 0.3 point, and the selection score not lower by more than 0.002.

If both settings meet it, the one with the higher averaged end-to-end VT episode Se; on a tie, 0.7 (fewer beats
changed).

Usage: PYTHONPATH=. .venv/bin/python experiments/v_gap_rule_study.py [--config configs/bundled.toml]
(results: experiments/results/v_gap_rule_study.json)
"""

from __future__ import annotations

import dataclasses
import sys

import numpy as np

from experiments.context_stage_study import figures_both_ways
from experiments.nested_oof import decide_end_to_end, nested_oof
from experiments.s_rule_study import load_study_inputs, results_path, write_results
from experiments.s_run_rule_study import classify_with_config, configured_rules
from models.inputs import read_feature_columns
from pipeline.labels import AAMI_CLASSES

N, S, V = (AAMI_CLASSES.index(c) for c in "NSV")
SETTINGS = (None, 0.7, 0.8)
"""``rate_ratio_max``; None: the product's rules unchanged."""
SEEDS = (0, 1)
RUNS = ("V_couplet", "V_short", "V_long")


def fill_ventricular_gaps(classes: np.ndarray, rate_ratio: np.ndarray, rate_ratio_max: float | None) -> np.ndarray:
    """One record's class indices (time order) with each N/S call between two V calls at a fast rate made V.

    >>> fill_ventricular_gaps(np.array([2, 0, 2, 0, 0, 2]), np.array([1, .6, .6, .6, .6, .6]), 0.7).tolist()
    [2, 2, 2, 0, 0, 2]
    """
    classes = np.asarray(classes)
    if rate_ratio_max is None or len(classes) < 3:
        return classes
    between = np.zeros(len(classes), bool)
    between[1:-1] = (classes[:-2] == V) & (classes[2:] == V)
    return np.where(between & np.isin(classes, (N, S)) & (rate_ratio <= rate_ratio_max), V, classes)


def fill_by_record(classes: np.ndarray, features: np.ndarray, names, record_names: np.ndarray,
                   setting: float | None) -> np.ndarray:
    """:func:`fill_ventricular_gaps` record by record over a DS1 beat table (records contiguous, beats in order)."""
    rate = read_feature_columns(features, names, ("rr_pre_record_ratio",))("rr_pre_record_ratio")
    out = np.array(classes, copy=True)
    for name in np.unique(record_names):
        mine = np.flatnonzero(record_names == name)
        out[mine] = fill_ventricular_gaps(out[mine], rate[mine], setting)
    return out


def score_seed(config, data, names) -> list[dict]:
    """Every setting's beat and region figures at the configuration's seed, both ways."""
    oof, detected = nested_oof(config, data, end_to_end=True)
    reference = classify_with_config(oof, data, config)
    rules = configured_rules(config)
    end_to_end = {n: decide_end_to_end(n, p, rules, names, config.af_rule) for n, p in detected.items()}
    rows = []
    for setting in SETTINGS:
        ref_classes = fill_by_record(reference, data.inputs.features, names, data.record_names, setting)
        e2e_classes = {n: fill_by_record(c, detected[n]["features"], names, np.full(len(c), n), setting)
                       for n, c in end_to_end.items()}
        row = {"rate_ratio_max": setting, "changed": {
                   "reference": int((ref_classes != reference).sum()),
                   "end_to_end": int(sum((e2e_classes[n] != end_to_end[n]).sum() for n in end_to_end))},
               **figures_both_ways(data, detected, ref_classes, e2e_classes)}
        rows.append(row)
        print(f"seed {config.seed}, {setting}: changed {row['changed']} | " + " | ".join(
            f"{way}: {describe(row[way])}" for way in ("reference", "end_to_end")), flush=True)
    return rows


def describe(figures: dict) -> str:
    b, r = figures["beats"], figures["regions"]
    runs = " ".join(f"{c[2:]} {100 * r[c]['se']:.1f}/{100 * r[c]['ppv']:.1f}" for c in RUNS)
    return (f"V {100 * b['V_se']:.1f}/{100 * b['V_ppv']:.1f} score {b['score']:.3f}; {runs}; VT "
            f"{100 * r['vt']['episode_se']:.1f}/{100 * r['vt']['episode_ppv']:.1f}")


def average(rows_by_seed: list[list[dict]], index: int, way: str) -> dict:
    """The figures the criterion reads, averaged over the seeds."""
    parts = [rows[index][way] for rows in rows_by_seed]
    out = {"V_ppv": np.mean([p["beats"]["V_ppv"] for p in parts]), "score": np.mean([p["beats"]["score"] for p in parts]),
           "vt_se": np.mean([p["regions"]["vt"]["episode_se"] for p in parts]),
           "vt_ppv": np.mean([p["regions"]["vt"]["episode_ppv"] for p in parts])}
    for c in RUNS:
        out[f"{c}_se"] = np.mean([p["regions"][c]["se"] for p in parts])
        out[f"{c}_ppv"] = np.mean([p["regions"][c]["ppv"] for p in parts])
    return {k: float(v) for k, v in out.items()}


def meets_criterion(candidate: dict, base: dict) -> bool:
    """The module docstring's criterion, for one way's averaged figures."""
    gain = candidate["V_long_se"] > base["V_long_se"] or candidate["vt_se"] > base["vt_se"]
    keeps = all(candidate[k] >= base[k] - 0.01 for k in [f"{c}_{m}" for c in RUNS for m in ("se", "ppv")] + ["vt_ppv"])
    return bool(gain and keeps and candidate["V_ppv"] >= base["V_ppv"] - 0.003
                and candidate["score"] >= base["score"] - 0.002)


def main(argv=None) -> int:
    config, data, config_path = load_study_inputs(__doc__.splitlines()[0], argv)
    names = data.inputs.feature_names
    rows_by_seed = [score_seed(dataclasses.replace(config, seed=seed), data, names) for seed in SEEDS]
    summary = []
    for index, setting in enumerate(SETTINGS):
        means = {way: average(rows_by_seed, index, way) for way in ("reference", "end_to_end")}
        met = index > 0 and all(meets_criterion(means[way], average(rows_by_seed, 0, way)) for way in means)
        summary.append({"rate_ratio_max": setting, "mean": means, "criterion_met": met})
        print(f"mean of seeds {SEEDS}, {setting}: " + " | ".join(
            f"{way}: V +P {100 * m['V_ppv']:.1f} score {m['score']:.3f} " + " ".join(
                f"{c[2:]} {100 * m[c + '_se']:.1f}/{100 * m[c + '_ppv']:.1f}" for c in RUNS)
            + f" VT {100 * m['vt_se']:.1f}/{100 * m['vt_ppv']:.1f}" for way, m in means.items())
            + f" | criterion met: {met}")
    passing = [s for s in summary if s["criterion_met"]]
    chosen = None if not passing else max(passing, key=lambda s: (s["mean"]["end_to_end"]["vt_se"],
                                                                   -s["rate_ratio_max"]))["rate_ratio_max"]
    print(f"adopted: {chosen}")
    write_results(results_path("v_gap_rule_study", config_path),
                  {"config": str(config_path), "seeds": list(SEEDS), "by_seed": rows_by_seed, "summary": summary,
                   "adopted": chosen})
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
