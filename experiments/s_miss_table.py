"""Where DS1's S beats are missed: per record, nested out of fold, with every decision rule of the configuration.

For each DS1 record with S beats or S calls: the reference S beats, how many are called S, N or V,
the false S calls, and the median prematurity (``rr_pre_local_ratio``), P-wave match
(``p_corr_best``) and network S probability of the missed S beats. The DS1 nested out-of-fold
ensemble probabilities come from ``experiments/nested_oof.py`` (cached). DS2 is not read.

Usage: PYTHONPATH=. .venv/bin/python experiments/s_miss_table.py [--config configs/bundled.toml]
"""

from __future__ import annotations

import sys

import numpy as np

from experiments.nested_oof import nested_oof
from experiments.s_rule_study import load_study_inputs, results_path, write_results
from experiments.s_run_rule_study import classify_with_config
from models.inputs import read_feature_columns
from pipeline.labels import AAMI_CLASSES

N, S, V = (AAMI_CLASSES.index(c) for c in "NSV")


def main(argv=None) -> int:
    config, data, config_path = load_study_inputs(__doc__.splitlines()[0], argv)
    oof, _ = nested_oof(config, data)
    names = data.inputs.feature_names
    classes = classify_with_config(oof, data, config)
    column = read_feature_columns(data.inputs.features, names, ("rr_pre_local_ratio", "p_corr_best"))
    rows = {}
    for name in sorted(set(data.record_names)):
        mine = data.record_names == name
        is_s, called_s = mine & (data.labels == S), mine & (classes == S)
        if not (is_s.any() or called_s.any()):
            continue
        missed = is_s & (classes != S)
        rows[str(name)] = {
            "S_beats": int(is_s.sum()), "called_S": int((is_s & called_s).sum()),
            "missed_as_N": int((is_s & (classes == N)).sum()), "missed_as_V": int((is_s & (classes == V)).sum()),
            "false_S": int((called_s & ~is_s).sum()),
            "missed_median": None if not missed.any() else {
                "rr_pre_local_ratio": float(np.median(column("rr_pre_local_ratio")[missed])),
                "p_corr_best": float(np.median(column("p_corr_best")[missed])),
                "p_S": float(np.median(oof[missed, S]))}}
    print("record | S beats | called S | missed as N | missed as V | false S | missed: prematurity, P match, p(S)")
    for name, r in rows.items():
        m = r["missed_median"]
        medians = "-" if m is None else f"{m['rr_pre_local_ratio']:.2f}, {m['p_corr_best']:.2f}, {m['p_S']:.2f}"
        print(f"{name} | {r['S_beats']} | {r['called_S']} | {r['missed_as_N']} | {r['missed_as_V']} | "
              f"{r['false_S']} | {medians}")
    total = {k: sum(r[k] for r in rows.values()) for k in ("S_beats", "called_S", "missed_as_N", "missed_as_V",
                                                          "false_S")}
    print(f"DS1: {total}")
    write_results(results_path("s_miss_table", config_path), {"config": str(config_path), "records": rows,
                                                              "total": total})
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
