"""Scan: can a rule on the existing features tell DS1's fusion beats from the V calls? (chooses nothing)

Record 208's fusion beats (F, 373 of DS1's 415) are called V (251) or N (122) by the product at every seed; F calls V
cost V +P, and EC57 counts F beats inside ventricular runs, so an F called N breaks a couplet. Fusion is physiology: a
sinus-conducted beat on time (not premature, no compensatory pause) whose QRS is partly ventricular. This scan counts,
among the beats the product calls V, those that are on time (``rr_pre_local_ratio >= on_time_min``), have no long pause
after them (``rr_post_pre_ratio <= post_pre_max``) and a QRS still like the dominant one on some lead
(``max(qrs_corr_lead0, qrs_corr_lead1) >= qrs_min``), by reference class: what a "V -> F" rule on those conditions would
take from the V calls. DS1 nested out-of-fold ensemble probabilities of the configuration
(``experiments/nested_oof.py``, cached), every decision rule applied, reference beat positions. DS2 is not read.

Usage: PYTHONPATH=. .venv/bin/python experiments/fusion_rule_scan.py [--config configs/bundled.toml]
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

V = AAMI_CLASSES.index("V")
FEATURES = ("rr_pre_local_ratio", "rr_post_pre_ratio", "qrs_corr_lead0", "qrs_corr_lead1")
SETTINGS = [(on_time, post_pre, qrs) for on_time in (0.9, 0.95, 1.0) for post_pre in (1.0, 1.1, 1.2, None)
            for qrs in (0.0, 0.5, 0.7)]
"""(on_time_min, post_pre_max, qrs_min); None: no pause condition."""


def main(argv=None) -> int:
    config, data, config_path = load_study_inputs(__doc__.splitlines()[0], argv)
    oof, _ = nested_oof(config, data)
    classes = classify_with_config(oof, data, config)
    column = read_feature_columns(data.inputs.features, data.inputs.feature_names, FEATURES)
    called_v = classes == V
    rows = []
    for on_time, post_pre, qrs in SETTINGS:
        chosen = (called_v & (column("rr_pre_local_ratio") >= on_time)
                  & (column("rr_post_pre_ratio") <= (np.inf if post_pre is None else post_pre))
                  & (np.maximum(column("qrs_corr_lead0"), column("qrs_corr_lead1")) >= qrs))
        by_class = Counter(AAMI_CLASSES[label] for label in data.labels[chosen])
        rows.append({"on_time_min": on_time, "post_pre_max": post_pre, "qrs_min": qrs,
                     "V_calls_by_reference_class": dict(by_class)})
        print(f"on time >= {on_time}, post/pre <= {post_pre}, QRS corr >= {qrs}: {dict(by_class)}")
    totals = {"V_calls": int(called_v.sum()), "reference_F": int((data.labels == AAMI_CLASSES.index("F")).sum()),
              "reference_F_called_V": int((called_v & (data.labels == AAMI_CLASSES.index("F"))).sum())}
    print(totals)
    write_results(results_path("fusion_rule_scan", config_path), {"config": str(config_path), "rows": rows,
                                                                  "totals": totals})
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
