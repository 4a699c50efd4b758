"""Row BL: the atrial-origin rule (row G) asks for a premature beat (``AtrialRule.rr_max`` 1.05 -> ``RR_MAX``).

Why: the rule turns a beat the networks call N into S on its P wave alone, and "not late" (pre-RR at most 1.05 of
the local median) is its only timing condition. Session 54 found 142 of its 252 calls right on DS1 nested (seeds 0-2,
before the context stage; ``experiments/rule_precision.py``), and a clinical read found a normal record's report with
52 S calls from the rule on beats that came on time (ratio 0.99), shown as supraventricular couplets and a "run" at
65 bpm. An atrial premature beat is, by its name, early. ``RR_MAX`` = 0.90 asks for a pre-RR at least 10 % shorter
than the local median RR, the smallest prematurity Holter systems commonly let a user set (10-30 %); it is fixed
before the run, not scanned. The P-wave, QRS and rhythm conditions are unchanged.

The product as it was (``configs/bundled.toml`` with row G's ``rr_max``, ``PRODUCT_RR_MAX``) and the candidate (the
same with ``rr_max = RR_MAX``), end to end on DS1: the
product's nested ensembles (one-lead copies, context stage fitted fold by fold), every per-beat rule, the AF rule,
the morphology-family rule, beats at their timed positions, regions as ``ecg evaluate-regions --labels model`` finds
them (``experiments.vt_fusion_study.label_seed``). The two variants share their networks (a decision rule is not
part of a network's cache key), so each seed trains once. Study seeds 18 and 19, confirmation seed 20.

Criterion, written before the run (DS1 only; DS2 not read):
(a) every seed: S F1 end to end (whole records) not lower than the product's;
(b) every seed: S Se not lower by more than 3 points; V Se, V +P and N Se not lower by more than 0.3 point;
(c) study seeds, summed: supraventricular runs (couplets, short and long runs together) found not fewer by more than
    2 % of the reference runs, and false runs not more.
Adopted when (a)-(c) hold: ``rr_max`` in ``configs/bundled.toml`` becomes ``RR_MAX`` and the bundled model's rules are
saved again (``ecg bundle-model --config configs/bundled.toml --rules-only``; networks unchanged), its card's DS2
figures evaluated after the decision. Otherwise the rule stays as it is, with the figures logged.

Also written, for the log and no clause: per record, the S calls on reference N beats of both variants.

After the adoption (session 55), ``--precision`` labels the same seeds with the configuration's rule and without any,
and reads the rule's calls off the S column (the beats it adds, by reference class, end to end, whole records): how
often a beat the rule makes S is a reference S beat, the confidence the product gives such a beat
(:data:`app.analysis.ATRIAL_RULE_PRECISION`). Chooses nothing.

Usage: PYTHONPATH=. .venv/bin/python experiments/atrial_prematurity_study.py [--config configs/bundled.toml]
(a seed not cached trains the product's nested networks, about 10-12 minutes on 2 cores, then labels both variants,
about 3 minutes each; results: experiments/results/atrial_prematurity_study.json, written after every seed;
``--check`` reads the criterion again from that file; ``--precision`` adds the rule's precision to it)
"""

from __future__ import annotations

import dataclasses
import json
import sys

from experiments.event_timing_study import count_labelled_beats
from experiments.fusion_call_study import labelled_matrix, score_labels
from experiments.rule_precision import measure_precision, sum_s_column_gains
from experiments.rule_seed_check import NEVER_ATRIAL
from experiments.s_rule_study import (load_one_lead_inputs, load_study_inputs, recheck_saved, results_path,
                                      run_variant_seeds, write_results)
from experiments.v_run_weight_study import beat_figures, run_sums
from experiments.vf_region_study import f1
from experiments.vt_fusion_study import label_seed
from models.atrial_rule import AtrialRule
from pipeline.labels import AAMI_CLASSES

RR_MAX = 0.90
PRODUCT_RR_MAX = 1.05
"""The product's value when the study ran (row G's): it is the product variant's, so that the study reproduces once
``configs/bundled.toml`` holds ``RR_MAX`` (session 55)."""
STUDY_SEEDS = (18, 19)
CONFIRMATION_SEEDS = (20,)
CATEGORIES = ("couplet", "short", "long")
VARIANTS = ("product", "candidate")
_N, _S = AAMI_CLASSES.index("N"), AAMI_CLASSES.index("S")


def s_f1(matrix) -> float:
    """S F1 (%) from a 5 x 5 matrix (rows reference, columns calls)."""
    return f1(*beat_figures(matrix)["S"])


def score_variant(labelled: dict) -> dict:
    """A variant's regions and beat matrix (:func:`experiments.fusion_call_study.score_labels`) and its reference N
    beats called S, record by record (each record's beats counted once for both)."""
    by_record = count_labelled_beats(labelled)
    out = score_labels(labelled, by_record)
    out["false_s_by_record"] = {name: int(counts.matrix[_N][_S]) for name, counts in by_record.items()}
    return out


def sv_run_sums(by_seed: dict, seeds, variant: str) -> list[int]:
    """[found, missed, confirmed, false] of the supraventricular runs, all categories, summed over ``seeds``."""
    per_category = run_sums(by_seed, seeds, variant, "supraventricular")
    return [sum(counts[k] for counts in per_category.values()) for k in range(4)]


def check_criterion(by_seed: dict) -> dict:
    """The docstring's clauses (a)-(c) over the seeds in ``by_seed`` (seed -> variant -> figures)."""
    seeds = [s for s in STUDY_SEEDS + CONFIRMATION_SEEDS if str(s) in by_seed]
    study = [s for s in STUDY_SEEDS if str(s) in by_seed]
    a = b = bool(seeds)
    for s in seeds:
        p, q = (by_seed[str(s)][v]["matrix"] for v in VARIANTS)
        a &= s_f1(q) >= s_f1(p)
        p, q = beat_figures(p), beat_figures(q)
        b &= (q["S"][0] >= p["S"][0] - 3 and q["V"][0] >= p["V"][0] - 0.3 and q["V"][1] >= p["V"][1] - 0.3
              and q["N"][0] >= p["N"][0] - 0.3)
    before, after = (sv_run_sums(by_seed, study, v) for v in VARIANTS)
    c = bool(study) and after[0] >= before[0] - 0.02 * (before[0] + before[1]) and after[3] <= before[3]
    return {"a_s_f1": bool(a), "b_beats": bool(b), "c_sv_runs": bool(c), "met": bool(a and b and c),
            "seeds": seeds}


def describe_seed(seed: int, figures: dict) -> str:
    lines = []
    for v in VARIANTS:
        beats, runs = beat_figures(figures[v]["matrix"]), figures[v]["runs"]["supraventricular"]
        false_s = {n: c for n, c in figures[v]["false_s_by_record"].items() if c}
        lines.append(f"seed {seed} {v}: S {beats['S'][0]:.1f}/{beats['S'][1]:.1f} (F1 {s_f1(figures[v]['matrix']):.1f})"
                     f" V {beats['V'][0]:.1f}/{beats['V'][1]:.1f} N Se {beats['N'][0]:.2f}; SV runs "
                     f"[found, missed, confirmed, false] {dict((c, runs[c]) for c in CATEGORIES)}; "
                     f"false S by record {false_s}")
    return "\n".join(lines)


def measure_rule_precision(config, data, one_lead, seeds) -> dict:
    """The configuration's atrial rule at ``seeds``: labelled with and without it, the beats it adds to the S column by
    reference class (:func:`experiments.rule_precision.sum_s_column_gains`) and their precision."""
    def matrix_of(variant) -> list[list[int]]:
        return labelled_matrix(label_seed(variant, data, one_lead))

    pairs = []
    for seed in seeds:
        seeded = dataclasses.replace(config, seed=seed)
        pairs.append((matrix_of(seeded), matrix_of(dataclasses.replace(seeded, atrial_rule=NEVER_ATRIAL))))
    calls = sum_s_column_gains(pairs)
    precision = measure_precision(calls)
    return {"rule": dataclasses.asdict(config.atrial_rule), "seeds": list(seeds), "calls_by_reference_class": calls,
            "precision": None if precision is None else round(precision, 3)}


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--check" in argv:
        print(recheck_saved("atrial_prematurity_study", check_criterion))
        return 0
    if "--precision" in argv:
        argv.remove("--precision")
        config, data, config_path = load_study_inputs(__doc__.splitlines()[0], argv)
        out_path = results_path("atrial_prematurity_study", config_path)
        if not out_path.is_file():
            raise SystemExit(f"Received no {out_path}; expected the study's results (run the study first).")
        if config.atrial_rule is None:
            raise SystemExit(f"Received {config_path} without an atrial rule; expected one to measure.")
        results = json.loads(out_path.read_text())
        results["rule_precision_end_to_end"] = measure_rule_precision(config, data, load_one_lead_inputs(config),
                                                                      STUDY_SEEDS + CONFIRMATION_SEEDS)
        print(results["rule_precision_end_to_end"])
        write_results(out_path, results)
        return 0
    config, data, config_path = load_study_inputs(__doc__.splitlines()[0], argv)
    one_lead = load_one_lead_inputs(config)
    out_path = results_path("atrial_prematurity_study", config_path)
    rule = config.atrial_rule or AtrialRule()
    results = {"config": str(config_path), "rr_max": RR_MAX, "study_seeds": list(STUDY_SEEDS),
               "confirmation_seeds": list(CONFIRMATION_SEEDS), "by_seed": {}}

    def variants_of(seed: int) -> dict:
        seeded = dataclasses.replace(config, seed=seed)
        return {"product": dataclasses.replace(seeded, atrial_rule=dataclasses.replace(rule, rr_max=PRODUCT_RR_MAX)),
                "candidate": dataclasses.replace(seeded, atrial_rule=dataclasses.replace(rule, rr_max=RR_MAX))}

    run_variant_seeds(results, STUDY_SEEDS + CONFIRMATION_SEEDS, variants_of,
                      lambda c: score_variant(label_seed(c, data, one_lead)), describe_seed, check_criterion, out_path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
