"""DS1 region figures with classifiers that never saw the patient: the DS1 counterpart of ``--labels model``.

``ecg evaluate-regions --split ds2 --labels model`` measures the delivered system on DS2, which must not be used to
choose anything. Region rules are chosen on DS1, where the delivered networks were trained, so their figures there
say nothing. This script gives DS1's region figures with the nested ensembles of ``experiments/nested_oof.py``
(cached; every decision rule of the configuration applied), two ways:

- ``nested``: the reference beat positions with the nested classes;
- ``end to end``: the detector's beats with the nested classes (what a user gets).

Studies of region rules import :func:`nested_labelers`; run alone, the script prints both reports (REGIONS.md,
session 8). DS2 is not read.

Usage: PYTHONPATH=. .venv/bin/python experiments/nested_regions.py [--config configs/bundled.toml]   (about 2 minutes
with the nested probabilities cached)
"""

from __future__ import annotations

import sys

import numpy as np

from app.config import require_data_dir
from experiments.nested_oof import apply_record_af_rule, labels_by_record, nested_oof
from experiments.s_rule_study import load_study_inputs
from experiments.s_run_rule_study import classify_with_config, configured_rules
from pipeline.labels import AAMI_CLASSES
from pipeline.region_eval import evaluate_regions, format_markdown


def nested_labelers(config, data) -> dict:
    """``{"nested": labeller, "end to end": labeller}``: record -> (beat samples, class symbols), DS1 records."""
    oof, detected = nested_oof(config, data, end_to_end=True)
    nested = labels_by_record(data, classify_with_config(oof, data, config))
    symbols, rules, names = np.asarray(AAMI_CLASSES), configured_rules(config), data.inputs.feature_names
    end_to_end = {n: (p["samples"], symbols[decide_end_to_end(n, p, rules, names, config.af_rule)])
                  for n, p in detected.items()}
    return {"nested": lambda record: nested[record.name], "end to end": lambda record: end_to_end[record.name]}


def decide_end_to_end(name: str, parts: dict, rules, names, af_rule: bool) -> np.ndarray:
    """Class indices of a record's detected beats: the decision rules, then the atrial-fibrillation rule if on."""
    classes = rules.decide(parts["probabilities"], parts["features"], names).classes
    return apply_record_af_rule(name, parts["samples"], classes) if af_rule else classes


def main(argv=None) -> int:
    config, data, _ = load_study_inputs(__doc__.splitlines()[0], argv)
    names = sorted(set(map(str, data.record_names)))
    for labels, labeler in nested_labelers(config, data).items():
        report = evaluate_regions(require_data_dir(None), names, labels=f"DS1 {labels}", labeler=labeler)
        print(format_markdown(report, title=f"DS1, {labels} (nested classes)"))
        print(format_vt_by_record(report))
    return 0


def format_vt_by_record(report) -> str:
    """One line per record with ventricular runs or VT episodes: long runs found of the reference's and false,
    VT episodes detected / missed and confirmed / false."""
    lines = ["By record: V long runs found / reference, false; VT episodes detected / missed, confirmed / false"]
    for e in report.evaluations:
        found, missed, _, false_runs = e.ventricular_runs.counts("long")
        c = e.episode("vt")
        if found + missed + false_runs + c.detected + c.missed + c.confirmed + c.false:
            lines.append(f"  {e.record}: long runs {found} / {found + missed}, {false_runs} false; VT episodes "
                         f"{c.detected} / {c.missed}, {c.confirmed} / {c.false}")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
