"""Study: more cross-validation folds, so that each delivered network sees more patients (EXPERIMENTS.md row S).

Each delivered network is a fold network: with 4 folds it trains on three quarters of DS1's patients
and early-stops on the rest. Row R showed that dropping the early stopping to train on every patient
loses; more folds keep it while each network sees more patients (4/5 with 5 folds). Nested on DS1 and
paired: the outer folds stay the configuration's; each outer fold is predicted by its inner ensemble
with the configuration's inner fold count (``experiments/nested_oof.py``, cached: the baseline) and by
an inner ensemble with one fold more, both averaging ``ensemble_members`` fold networks; every decision
rule of the configuration is applied at the reference beat positions.

Adoption criterion, written before the run: selection score at least 0.01 above the baseline's and no
V or S Se or +P more than 1.5 points lower; then the delivered configuration would get one more fold
(``n_folds``), retrained and tested once on DS2. DS2 is not read here.

Usage: PYTHONPATH=. .venv/bin/python experiments/fold_count_study.py [--config configs/bundled.toml]
(16 network trainings after the cached baseline: about 20 minutes on the 2-core machine)
"""

from __future__ import annotations

import sys
from dataclasses import replace

import numpy as np

from experiments.nested_oof import nested_oof, scores
from models.train import inner_configuration
from experiments.s_rule_study import load_study_inputs, results_path, write_results
from experiments.s_run_rule_study import classify_with_config
from models.folds import assign_patient_folds
from models.train import train_ensemble


def main(argv=None) -> int:
    config, data, config_path = load_study_inputs(__doc__.splitlines()[0], argv)
    baseline, _ = nested_oof(config, data)
    fold_of = assign_patient_folds(data.record_names, data.labels, config.n_folds)
    outer = np.array([fold_of[name] for name in data.record_names])
    inner = inner_configuration(config)
    more = replace(inner, n_folds=inner.n_folds + 1)
    candidate = np.zeros_like(baseline)
    for fold in range(config.n_folds):
        held_out = outer == fold
        result = train_ensemble(data.select(~held_out), more, progress=False)
        candidate[held_out] = result.ensemble.predict(data.select(held_out).inputs.as_dict(), batch_size=1024,
                                                      verbose=0)
        print(f"outer fold {fold} done", flush=True)
    rows = {}
    for variant, p in ((f"{inner.n_folds} inner folds", baseline), (f"{more.n_folds} inner folds", candidate)):
        classes = classify_with_config(p, data, config)
        rows[variant] = r = scores(data.labels, classes)
        print(f"{variant}: V {100 * r['V_se']:.1f} / {100 * r['V_ppv']:.1f}, S {100 * r['S_se']:.1f} / "
              f"{100 * r['S_ppv']:.1f}, score {r['score']:.4f}")
    base, cand = rows.values()
    adopted = (cand["score"] - base["score"] >= 0.01
               and all(cand[k] - base[k] >= -0.015 for k in ("V_se", "V_ppv", "S_se", "S_ppv")))
    print(f"criterion met: {adopted}")
    write_results(results_path("fold_count_study", config_path),
                  {"config": str(config_path), "rows": rows, "criterion_met": adopted})
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
