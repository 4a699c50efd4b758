"""Study: keep V a beat the conduction rule would make N when a premature V call follows it (EXPERIMENTS.md row Q).

The sinus-conduction rule (:mod:`models.conduction_rule`) turns V calls on on-time beats preceded by
the sinus P wave into N. Fusion beats are such beats, so a ventricular couplet whose first beat fused
with a sinus beat (F then V) loses its first beat and becomes an isolated V: one way V couplets are
missed (REGIONS.md; the candidate was noted after DS2's region figures had been read, so it is judged
on DS1 only). The variant restores the network's V call on a conducted beat when the next beat is a V
call with ``rr_pre_local_ratio <= premature_max`` (premature); ``premature_max`` is scanned.

Scored on the DS1 nested out-of-fold ensemble probabilities of the configuration (cached by
``experiments/nested_oof.py``), with every decision rule of the configuration, record by record:
beat figures and the EC57 V-run, VT and bigeminy figures of the region pipeline. Adoption criterion,
fixed before the run: V couplet Se up by at least 2 points with couplet +P not lower, and beat V +P
not lower by more than 0.5 point. DS2 is not read.

Usage: PYTHONPATH=. .venv/bin/python experiments/fusion_couplet_study.py [--config configs/bundled.toml]
"""

from __future__ import annotations

import sys

import numpy as np

from app.config import require_data_dir
from experiments.nested_oof import nested_oof, scores
from experiments.s_rule_study import load_study_inputs, results_path, write_results
from experiments.s_run_rule_study import classify_by_record, configured_rules
from experiments.v_run_study import fmt_regions, region_figures
from models.inputs import read_feature_columns

V = 2
SETTINGS = (None, 0.8, 0.9, 1.0, float("inf"))
"""``premature_max`` values; None: the product's rules unchanged; inf: any next V call."""


def keep_fusion_couplets(probabilities, features, names, config, premature_max: float | None) -> np.ndarray:
    """The configuration's classes, with conducted beats followed by a premature V call set back to V."""
    decision = configured_rules(config).decide(probabilities, features, names)
    if premature_max is None or len(decision.classes) < 2:
        return decision.classes
    premature = read_feature_columns(features, names, ("rr_pre_local_ratio",))("rr_pre_local_ratio") <= premature_max
    followed = np.r_[(decision.classes[1:] == V) & premature[1:], False]
    return np.where(decision.conducted & followed, V, decision.classes)


def main(argv=None) -> int:
    config, data, config_path = load_study_inputs(__doc__.splitlines()[0], argv)
    oof, _ = nested_oof(config, data)
    names = data.inputs.feature_names
    rows = []
    for setting in SETTINGS:
        classes = classify_by_record(oof, data, lambda p, f: keep_fusion_couplets(p, f, names, config, setting))
        beats = {k: v for k, v in scores(data.labels, classes).items() if k != "matrix"}
        regions = region_figures(require_data_dir(None), data.samples, classes, data.record_names)
        label = "product rules" if setting is None else "any next V call" if setting == float("inf") else setting
        rows.append({"premature_max": label, "beats": beats, "regions": regions})
        print(f"{setting}: V {100 * beats['V_se']:.1f} / {100 * beats['V_ppv']:.1f}, score {beats['score']:.4f} | "
              f"{fmt_regions(regions)}")
    base = rows[0]
    for row in rows[1:]:
        row["criterion_met"] = bool(
            row["regions"]["V_couplet"]["se"] - base["regions"]["V_couplet"]["se"] >= 0.02
            and row["regions"]["V_couplet"]["ppv"] >= base["regions"]["V_couplet"]["ppv"]
            and row["beats"]["V_ppv"] - base["beats"]["V_ppv"] >= -0.005)
    print("criterion met: " + ", ".join(f"{s}: {r['criterion_met']}" for s, r in zip(SETTINGS[1:], rows[1:])))
    write_results(results_path("fusion_couplet_study", config_path), {"config": str(config_path), "rows": rows})
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
