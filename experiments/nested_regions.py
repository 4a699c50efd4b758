"""DS1 region figures with classifiers that never saw the patient: the DS1 counterpart of ``--labels model``.

``ecg evaluate-regions --split ds2 --labels model`` measures the delivered system on DS2, which must not be used to
choose anything. Region rules are chosen on DS1, where the delivered networks were trained, so their figures there
say nothing. This script gives DS1's region figures with the nested ensembles of ``experiments/nested_oof.py``, or of
``experiments/one_lead_training_study.py`` for a configuration trained with one-lead copies (the shipped one), and the
beat-context stage fitted fold by fold when the configuration has one (cached; every decision rule of the configuration
applied), two ways:

- ``nested``: the reference beat positions with the nested classes;
- ``end to end``: the detector's beats with the nested classes (what a user gets).

Studies of region rules import :func:`nested_labelers`; run alone, the script prints both reports (REGIONS.md,
session 8), with VT episodes and duration by record. DS2 is not read.

Usage: PYTHONPATH=. .venv/bin/python experiments/nested_regions.py [--config configs/bundled.toml]   (about 2 minutes
with the nested probabilities cached)
"""

from __future__ import annotations

import sys

import numpy as np

from app.config import require_data_dir
from experiments.context_plain_fit_study import staged_probabilities
from experiments.nested_oof import decide_end_to_end, labels_by_record, nested_oof
from experiments.one_lead_training_study import nested_three_ways
from experiments.s_rule_study import load_one_lead_inputs, load_study_inputs
from experiments.s_run_rule_study import classify_with_config, configured_rules
from pipeline.labels import AAMI_CLASSES
from pipeline.region_eval import evaluate_regions, format_markdown, percent


def nested_labelers(config, data) -> dict:
    """``{"nested": labeller, "end to end": labeller}``: record -> (beat samples, class symbols), DS1 records."""
    oof, detected = nested_product_probabilities(config, data)
    nested = labels_by_record(data, classify_with_config(oof, data, config))
    symbols, rules, names = np.asarray(AAMI_CLASSES), configured_rules(config), data.inputs.feature_names
    end_to_end = {n: (p["samples"], symbols[decide_end_to_end(n, p, rules, names, config.af_rule)])
                  for n, p in detected.items()}
    return {"nested": lambda record: nested[record.name], "end to end": lambda record: end_to_end[record.name]}


def nested_product_probabilities(config, data) -> tuple[np.ndarray, dict]:
    """DS1 nested probabilities at the reference positions and of each record's detected beats, prepared as
    ``config`` trains and decides: with one-lead copies in training (the cache of
    :func:`experiments.one_lead_training_study.nested_three_ways`) and the beat-context stage fitted fold by fold
    (:func:`experiments.context_plain_fit_study.staged_probabilities`) when the configuration has them."""
    if config.one_lead_fraction:
        one_lead = load_one_lead_inputs(config)
        oof, detected, _ = nested_three_ways(config, data, one_lead)
    else:
        oof, detected = nested_oof(config, data, end_to_end=True)
    if config.context_stage:
        oof, detected, _ = staged_probabilities(oof, config, data, oof, detected)
    return oof, detected


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
                         f"{c.detected} / {c.missed}, {c.confirmed} / {c.false}; VT duration Se / +P "
                         f"{percent(c.duration_sensitivity)} / {percent(c.duration_predictivity)}")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
