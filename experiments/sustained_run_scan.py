"""Scan: would a sustained fast run of narrow beats find DS1's missed supraventricular tachycardia? (chooses nothing)

Record 207's SVT (1,750-1,805 s, 107 S beats) is called N beat after beat: its beats are on time against their fast
neighbours, their P wave is close to the sinus one, and no beat of its stuttering onset is called S, so the
supraventricular run rule (``models/run_rule.py``), which only continues a run an S call starts, never starts
(EXPERIMENTS.md, session 20 observations). This scan counts what a run rule *without* a starting S call would relabel:
every maximal stretch of at least ``min_beats`` consecutive beats called N or S whose RR is at most ``rate_ratio_max``
of the record's median (``rr_pre_record_ratio``), with a QRS like the dominant one (``qrs_corr_lead0 >= 0.9``) and
outside fibrillation-like rhythm (``rhythm_af_score_rel <= 0.03``), the run rule's own conditions, optionally with an
abrupt onset (the first beat's ``rr_prematurity_ratio <= onset_max``). Its N calls are counted by reference class and
record. DS1 nested out-of-fold ensemble probabilities of the configuration (``experiments/nested_oof.py``, cached),
every decision rule applied, reference beat positions. DS2 is not read.

Usage: PYTHONPATH=. .venv/bin/python experiments/sustained_run_scan.py [--config configs/bundled.toml]
"""

from __future__ import annotations

import sys
from collections import Counter

import numpy as np

from experiments.nested_oof import nested_oof
from experiments.s_rule_study import load_study_inputs, results_path, write_results
from experiments.s_run_rule_study import classify_with_config
from models.inputs import read_feature_columns
from pipeline.labels import AAMI_CLASSES
from pipeline.regions import find_true_runs

N, S = AAMI_CLASSES.index("N"), AAMI_CLASSES.index("S")
FEATURES = ("rr_pre_record_ratio", "qrs_corr_lead0", "rhythm_af_score_rel", "rr_prematurity_ratio")
SETTINGS = [(beats, rate, onset) for beats in (3, 5, 8) for rate in (0.6, 0.7) for onset in (0.8, None)]
"""(min_beats, rate_ratio_max, onset_max); None: no onset condition."""


def find_sustained_runs(classes: np.ndarray, column, min_beats: int, rate_ratio_max: float,
                        onset_max: float | None) -> np.ndarray:
    """Boolean per beat of one record (time order): inside a stretch meeting the scan's conditions."""
    fits = ((column("rr_pre_record_ratio") <= rate_ratio_max) & (column("qrs_corr_lead0") >= 0.9)
            & (column("rhythm_af_score_rel") <= 0.03) & np.isin(classes, (N, S)))
    inside = np.zeros(len(classes), bool)
    for start, length in zip(*find_true_runs(fits)):
        stop = start + length
        onset = onset_max is None or column("rr_prematurity_ratio")[start] <= onset_max
        inside[start:stop] = stop - start >= min_beats and onset
    return inside


def main(argv=None) -> int:
    config, data, config_path = load_study_inputs(__doc__.splitlines()[0], argv)
    oof, _ = nested_oof(config, data)
    classes = classify_with_config(oof, data, config)
    rows = []
    for min_beats, rate, onset in SETTINGS:
        by_class, by_record = Counter(), Counter()
        for name in sorted(set(data.record_names)):
            mine = np.flatnonzero(data.record_names == name)
            column = read_feature_columns(data.inputs.features[mine], data.inputs.feature_names, FEATURES)
            changed = mine[find_sustained_runs(classes[mine], column, min_beats, rate, onset) & (classes[mine] == N)]
            for label in data.labels[changed]:
                by_class[AAMI_CLASSES[label]] += 1
                by_record[f"{name} {AAMI_CLASSES[label]}"] += 1
        rows.append({"min_beats": min_beats, "rate_ratio_max": rate, "onset_max": onset,
                     "N_calls_relabelled_by_reference_class": dict(by_class), "by_record": dict(by_record)})
        print(f"min beats {min_beats}, RR <= {rate} x record median, onset "
              f"{'any' if onset is None else f'prematurity <= {onset}'}: {dict(by_class)} {dict(by_record)}")
    write_results(results_path("sustained_run_scan", config_path), {"config": str(config_path), "rows": rows})
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
