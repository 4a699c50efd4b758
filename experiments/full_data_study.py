"""Study: deliver networks trained on every DS1 patient instead of fold networks (EXPERIMENTS.md row R).

The delivered ensemble averages fold networks, each trained on three quarters of DS1's patients and
early-stopped on the rest. Inter-patient accuracy grows with the number of patients seen, so networks
trained on all of them, for a fixed number of epochs chosen by the cross-validation, might generalise
better. Nested on DS1, paired: for each outer fold, the inner cross-validation on the other outer folds
gives (a) the product's ensemble (the first ``ensemble_members`` inner fold networks) and (b) the epoch
count (median of the inner folds' best epochs), with which ``ensemble_members`` networks (seeds 0, 1, ...)
are trained on all the inner patients and averaged. Both predict the outer fold's patients and are
scored with every decision rule of the configuration, at the reference beat positions.

Adoption criterion, written before the run: selection score at least 0.01 above the paired fold
ensemble's, and no V or S Se or +P more than 1.5 points lower. DS2 is not read.

Usage: PYTHONPATH=. .venv/bin/python experiments/full_data_study.py [--config configs/bundled.toml]
(about 20 network trainings: 25-30 minutes on the 2-core machine)
"""

from __future__ import annotations

import sys

import keras
import numpy as np

from experiments.nested_oof import scores
from models.train import inner_configuration
from experiments.s_rule_study import load_study_inputs, results_path, write_results
from experiments.s_run_rule_study import classify_with_config
from models.folds import assign_patient_folds
from models.train import TrainingConfig, build_ensemble, build_training_model, train_ensemble


def train_full(data, config: TrainingConfig, epochs: int, seed: int) -> keras.Model:
    """One network trained on every beat of ``data`` for ``epochs`` epochs (no early stopping)."""
    keras.utils.set_random_seed(config.seed * 100 + 50 + seed)
    model, sample_weight = build_training_model(data, config)
    model.fit(data.inputs.as_dict(), data.labels, sample_weight=sample_weight,
              batch_size=config.batch_size, epochs=epochs, shuffle=True, verbose=0)
    return model


def main(argv=None) -> int:
    config, data, config_path = load_study_inputs(__doc__.splitlines()[0], argv)
    fold_of = assign_patient_folds(data.record_names, data.labels, config.n_folds)
    outer = np.array([fold_of[name] for name in data.record_names])
    inner_config = inner_configuration(config)
    probabilities = {"fold ensemble": np.zeros((len(data), config.network.n_classes), np.float32),
                     "full-data ensemble": np.zeros((len(data), config.network.n_classes), np.float32)}
    epochs_used = []
    for fold in range(config.n_folds):
        train, held_out = data.select(outer != fold), outer == fold
        inputs = data.select(held_out).inputs.as_dict()
        result = train_ensemble(train, inner_config, progress=False)
        epochs = int(np.median([r.best_epoch for r in result.folds]))
        epochs_used.append(epochs)
        full = build_ensemble([train_full(train, config, epochs, seed) for seed in range(inner_config.n_members)])
        probabilities["fold ensemble"][held_out] = result.ensemble.predict(inputs, batch_size=1024, verbose=0)
        probabilities["full-data ensemble"][held_out] = full.predict(inputs, batch_size=1024, verbose=0)
        print(f"outer fold {fold} done ({epochs} epochs)", flush=True)
    rows = {}
    for variant, p in probabilities.items():
        classes = classify_with_config(p, data, config)
        rows[variant] = scores(data.labels, classes)
        r = rows[variant]
        print(f"{variant}: V {100 * r['V_se']:.1f} / {100 * r['V_ppv']:.1f}, S {100 * r['S_se']:.1f} / "
              f"{100 * r['S_ppv']:.1f}, score {r['score']:.4f}")
    base, full = rows["fold ensemble"], rows["full-data ensemble"]
    adopted = (full["score"] - base["score"] >= 0.01
               and all(full[k] - base[k] >= -0.015 for k in ("V_se", "V_ppv", "S_se", "S_ppv")))
    print(f"criterion met: {adopted}")
    write_results(results_path("full_data_study", config_path), {
        "config": str(config_path), "epochs_per_outer_fold": epochs_used, "rows": rows, "criterion_met": adopted})
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
