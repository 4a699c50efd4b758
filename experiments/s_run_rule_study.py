"""Study: a supraventricular run rule for the N calls inside S runs, on DS1 nested out-of-fold predictions only
(EXPERIMENTS.md row P).

DS1 nested out of fold (row K's networks, with the atrial-origin and sinus-conduction rules;
``experiments/s_miss_table.py --config configs/experiments/n_baseline.toml``), 369 of the 944 S beats are
missed; record 209 holds 106 of them, most inside its supraventricular tachycardia runs, which the
network calls as stretches of S broken by N: those beats come at the run's fast rate (median RR 0.6 of
the record's median) but on time against their neighbours, with the P wave hidden. The rule
(:mod:`models.run_rule`) carries an S call forward while the RR stays the same, the rate stays fast for
the record, the QRS stays normal and the rhythm is not AF-like.

Every setting of the grid is scored at the reference beat positions (the rule applied record by
record, beats in time order) on the DS1 nested out-of-fold ensemble probabilities
(``experiments/nested_oof.py``, the configuration's inner ensembles, cached), with the configuration's
atrial-origin and sinus-conduction rules before it as in the product. The module's default setting was
fixed before the end-to-end and region checks, from the grid's plateau; the adoption criterion, set
before those checks: on DS1 nested, at the reference positions and end to end, S Se up by at least 2
points, S +P not lower by more than 0.5 point (V and F cannot change: the rule only turns N into S).
For the default setting the script reports the end-to-end figures (detected beats), the per-record
relabelling and the EC57 S-run and SVTA-episode figures of the region pipeline. DS2 is not read.

Usage: PYTHONPATH=. .venv/bin/python experiments/s_run_rule_study.py [--config configs/bundled.toml]
(trains the nested networks on first use, with the end-to-end predictions: 15-25 minutes on the 2-core machine)
"""

from __future__ import annotations

import dataclasses
import itertools
import sys

import numpy as np

from app.config import require_data_dir
from experiments.nested_oof import apply_record_af_rule, labels_by_record, nested_oof, score_end_to_end, scores
from experiments.s_rule_study import load_study_inputs, results_path, write_results
from models.atrial_rule import AtrialRule, DecisionRules
from models.run_rule import SupraventricularRunRule
from models.train import TrainingConfig
from pipeline.labels import AAMI_CLASSES
from pipeline.region_eval import evaluate_regions

GRID = {"rr_change_max": (0.1, 0.15, 0.2), "rate_ratio_max": (0.7, 0.8, 0.9), "qrs_min": (0.8, 0.9, 0.95),
        "af_max": (0.03, 0.05, float("inf"))}


def classify_by_record(probabilities: np.ndarray, data, decide) -> np.ndarray:
    """Final classes of every beat, ``decide(probabilities, features)`` applied to each record's beats in order."""
    classes = np.empty(len(data), np.int64)
    for name in dict.fromkeys(data.record_names):
        rows = np.flatnonzero(data.record_names == name)
        if np.any(np.diff(data.samples[rows]) <= 0):
            raise ValueError(f"Record {name}'s beats are not in time order.")
        classes[rows] = decide(probabilities[rows], data.inputs.features[rows])
    return classes


def configured_rules(config: TrainingConfig) -> DecisionRules:
    """The configuration's decision rules as the studies apply them (the default atrial rule when it has none)."""
    return DecisionRules(config.atrial_rule or AtrialRule(), config.v_min_probability, config.conduction_rule,
                         config.supraventricular_run_rule, wide_rule=config.wide_qrs_rule,
                         fusion_rule=config.fusion_rule)


def classify_with_config(probabilities: np.ndarray, data, config: TrainingConfig,
                         rules: DecisionRules | None = None) -> np.ndarray:
    """Final classes of every beat with the configuration's decision rules (or ``rules``), record by record (the
    record-level atrial-fibrillation rule last, when the configuration has it)."""
    rules, names = rules or configured_rules(config), data.inputs.feature_names
    classes = classify_by_record(probabilities, data, lambda p, f: rules.decide(p, f, names).classes)
    if config.af_rule:
        for name in dict.fromkeys(data.record_names):
            rows = data.record_names == name
            classes[rows] = apply_record_af_rule(str(name), data.samples[rows], classes[rows])
    return classes


def s_region_figures(data, classes: np.ndarray) -> dict:
    """EC57 supraventricular-run and SVTA-episode figures of the region pipeline with these classes."""
    by_record = labels_by_record(data, classes)
    report = evaluate_regions(require_data_dir(None), sorted(by_record), labels="ds1-nested-oof",
                              labeler=lambda record: by_record[record.name])
    runs = report.runs("supraventricular")
    out = {}
    for category in ("couplet", "short", "long"):
        out[f"S_{category}"] = {"se": runs.sensitivity_of(category), "ppv": runs.predictivity_of(category)}
    svta = report.episodes("svta")
    out["svta"] = {"episode_se": svta.episode_sensitivity, "episode_ppv": svta.episode_predictivity,
                   "duration_se": svta.duration_sensitivity, "duration_ppv": svta.duration_predictivity}
    return out


def per_record_changes(data, before: np.ndarray, after: np.ndarray) -> dict:
    """Per record: beats the rule relabelled and their reference classes."""
    out = {}
    for name in np.unique(data.record_names):
        changed = (data.record_names == name) & (before != after)
        if changed.any():
            counts = np.bincount(data.labels[changed], minlength=len(AAMI_CLASSES))
            out[str(name)] = {c: int(k) for c, k in zip(AAMI_CLASSES, counts) if k}
    return out


def describe(row: dict) -> str:
    return (f"S {100 * row['S_se']:.1f} / {100 * row['S_ppv']:.1f}, V {100 * row['V_se']:.1f} / "
            f"{100 * row['V_ppv']:.1f}, score {row['score']:.4f}")


def main(argv=None) -> int:
    config, data, config_path = load_study_inputs(__doc__.splitlines()[0], argv)
    oof, detected = nested_oof(config, data, end_to_end=True)
    names = data.inputs.feature_names
    rules = configured_rules(config)

    def decider(run_rule):
        chosen = dataclasses.replace(rules, run_rule=run_rule)
        return lambda p, f: chosen.decide(p, f, names).classes

    base_classes = classify_by_record(oof, data, decider(None))
    base = scores(data.labels, base_classes)
    print(f"without the rule: {describe(base)}")
    grid = []
    for values in itertools.product(*GRID.values()):
        rule = SupraventricularRunRule(**dict(zip(GRID, values)))
        row = scores(data.labels, classify_by_record(oof, data, decider(rule)))
        setting = {k: None if v == float("inf") else v for k, v in rule.to_dict().items()}  # None: no limit
        grid.append({"setting": setting, **{k: v for k, v in row.items() if k != "matrix"}})
    grid.sort(key=lambda r: -r["score"])
    for row in grid[:5]:
        print(f"  {row['setting']}: {describe(row)}")
    chosen = SupraventricularRunRule()
    classes = classify_by_record(oof, data, decider(chosen))
    reference = scores(data.labels, classes)
    end_to_end = {"without": score_end_to_end(detected, decider(None)),
                  "with": score_end_to_end(detected, decider(chosen))}
    regions = {"without": s_region_figures(data, base_classes), "with": s_region_figures(data, classes)}
    adopted = all(with_["S_se"] - without["S_se"] >= 0.02 and with_["S_ppv"] - without["S_ppv"] >= -0.005
                  for without, with_ in ((base, reference), (end_to_end["without"], end_to_end["with"])))
    print(f"default setting {chosen.to_dict()}:\n  reference positions: {describe(reference)}\n"
          f"  end to end: {describe(end_to_end['without'])} -> {describe(end_to_end['with'])}\n"
          f"  relabelled per record: {per_record_changes(data, base_classes, classes)}\n"
          f"  S runs and SVTA: {regions['without']} -> {regions['with']}\n  criterion met: {adopted}")
    write_results(results_path("s_run_rule_study", config_path), {
        "config": str(config_path), "grid": dict(GRID) | {"af_max": [0.03, 0.05, None]},
        "without_rule": base, "settings": grid, "chosen": dataclasses.asdict(chosen),
        "chosen_reference_positions": reference, "chosen_end_to_end": end_to_end,
        "relabelled_per_record": per_record_changes(data, base_classes, classes), "s_regions": regions,
        "criterion_met": adopted})
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
