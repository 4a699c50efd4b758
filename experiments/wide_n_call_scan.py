"""Could wide, unlike beats the product calls N be made V? DS1 nested, reference positions (a scan that chooses
nothing).

Record 223's ventricular tachycardia alternates between two QRS shapes; end to end the networks call one of them N
(p(N) about 0.8), although it is 10-25 ms wider than the dominant beat and unlike it on the second lead (correlation
about -0.1). The wide-QRS rule (``models/wide_qrs_rule.py``) turns such S calls into V; this scan counts, among the
beats the product calls N (every per-beat rule and the AF rule, nested networks of one seed), those whose QRS is at
least W ms wider than the dominant one and whose smaller lead correlation with it is under C (W 15, 25, 35; C 0.3,
0.5, 0.7; with and without the AF-score guard of 0.05), by reference class and record.

Usage: PYTHONPATH=. .venv/bin/python experiments/wide_n_call_scan.py [--seed 12] (cached nested networks; results:
experiments/results/wide_n_call_scan-seed12.json)
"""

from __future__ import annotations

import collections
import math
import sys

import numpy as np

from experiments.detector_offset_errors import load_seed_probabilities
from experiments.s_rule_study import results_path, write_results
from experiments.s_run_rule_study import classify_with_config, configured_rules
from models.inputs import read_feature_columns
from pipeline.labels import AAMI_CLASSES

WIDTHS_MS = (15, 25, 35)
CORRELATIONS = (0.3, 0.5, 0.7)
AF_LIMITS = (0.05, math.inf)


def scan(classes: np.ndarray, data) -> list[dict]:
    column = read_feature_columns(data.inputs.features, data.inputs.feature_names,
                                  ("qrs_width_diff_ms", "qrs_corr_lead0", "qrs_corr_lead1", "rhythm_af_score_rel"))
    unlike = np.minimum(column("qrs_corr_lead0"), column("qrs_corr_lead1"))
    called_n = classes == AAMI_CLASSES.index("N")
    rows = []
    for width in WIDTHS_MS:
        for corr in CORRELATIONS:
            for af in AF_LIMITS:
                with np.errstate(invalid="ignore"):
                    chosen = (called_n & (column("qrs_width_diff_ms") >= width) & (unlike < corr)
                              & (column("rhythm_af_score_rel") <= af))
                by_class = {c: int(np.sum(chosen & (data.labels == i))) for i, c in enumerate(AAMI_CLASSES)}
                records = {c: dict(collections.Counter(data.record_names[chosen & (data.labels == i)].tolist())
                                   .most_common(5)) for i, c in enumerate(AAMI_CLASSES) if c in ("N", "V")}
                rows.append({"width_ms": width, "corr_max": corr, "af_max": af if math.isfinite(af) else None,
                             "by_reference_class": by_class, "top_records": records})
    return rows


def main(argv=None) -> int:
    config, data, config_path, seed, staged, _ = load_seed_probabilities(__doc__.splitlines()[0], argv)
    classes = classify_with_config(staged, data, config, configured_rules(config))
    called_n = classes == AAMI_CLASSES.index("N")
    counts = {c: int(np.sum(called_n & (data.labels == i))) for i, c in enumerate(AAMI_CLASSES)}
    rows = scan(classes, data)
    print("called N, by reference class:", counts)
    for row in rows:
        print(row["width_ms"], row["corr_max"], row["af_max"], row["by_reference_class"], row["top_records"])
    write_results(results_path(f"wide_n_call_scan-seed{seed}", config_path),
                  {"config": str(config_path), "seed": seed, "called_n": counts, "rows": rows})
    return 0


if __name__ == "__main__":
    sys.exit(main())
