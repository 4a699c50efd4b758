"""Study: one distilled network instead of the 4-member ensemble, by nested cross-validation on DS1 (EXPERIMENTS.md row M).

The bundled classifier averages four fold networks, so inference costs four passes (BENCHMARKS.md section 5:
10,800-11,500 beats/s on the 2-core AMD machine against the 20,000 target; one member runs about 4x faster).
Here each outer DS1 fold's patients are predicted by

- the *teacher*: an ensemble trained with its own inner patient-wise folds on the other outer folds (as in
  ``experiments/nested_oof.py``), and
- a *student*: one network of the same architecture trained on the same beats, with the teacher's
  probabilities (mixed with the one-hot labels by ``--label-weight``) as targets, the configuration's
  class weights and a fixed number of epochs (the median best epoch of the teacher's members; no held-out
  patients are left for early stopping),

and both are scored with the configuration's decision rules (sinus-conduction, atrial-origin). The
teacher's predictions cached by ``experiments/nested_oof.py`` are reproduced here only up to CPU
non-determinism, so both are recomputed. DS2 is not read.

Usage: PYTHONPATH=. .venv/bin/python experiments/distill_study.py [--config configs/bundled.toml]
       [--label-weight W ...] [--student-epochs N]
(12 teacher and 4 x len(label weights) student trainings: about 25 minutes on the 2-core machine)
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

import keras
import numpy as np

from models.train import inner_configuration
from experiments.s_rule_study import BUNDLED_CONFIG, load_study_inputs, results_path, write_results
from experiments.v_run_study import score_beats
from models.atrial_rule import decide_classes
from models.folds import assign_patient_folds, compute_class_weights
from models.network import adapt_feature_scaling, build_classifier
from models.train import TrainingConfig, train_ensemble

LABEL_WEIGHTS = (0.0, 0.5)


def train_student(train, teacher_probabilities: np.ndarray, config: TrainingConfig, epochs: int,
                  label_weight: float, seed: int) -> keras.Model:
    """One network fitted to ``label_weight`` x one-hot labels + (1 - ``label_weight``) x teacher probabilities."""
    keras.utils.set_random_seed(seed)
    network = dataclasses.replace(config.network, n_features=train.inputs.features.shape[1],
                                  window_samples=train.inputs.waveform.shape[1],
                                  n_channels=train.inputs.waveform.shape[2])
    model = build_classifier(network)
    model.compile(optimizer=keras.optimizers.Adam(network.learning_rate),
                  loss=keras.losses.CategoricalCrossentropy(),
                  metrics=[keras.metrics.CategoricalAccuracy(name="accuracy")])  # replaces the sparse one
    adapt_feature_scaling(model, train.inputs.features)
    onehot = np.eye(network.n_classes, dtype=np.float32)[train.labels]
    targets = label_weight * onehot + (1.0 - label_weight) * teacher_probabilities.astype(np.float32)
    weights = compute_class_weights(train.labels, power=config.class_weight_power,
                                    max_ratio=config.max_class_weight_ratio)
    model.fit(train.inputs.as_dict(), targets, sample_weight=weights[train.labels].astype(np.float32),
              batch_size=config.batch_size, epochs=epochs, shuffle=True, verbose=0)
    return model


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=BUNDLED_CONFIG)
    parser.add_argument("--label-weight", type=float, action="append", default=None,
                        help=f"weight of the one-hot labels in the student's targets (repeatable; default "
                             f"{LABEL_WEIGHTS})")
    parser.add_argument("--student-epochs", type=int, default=None,
                        help="fixed student epochs instead of the teacher members' median best epoch")
    args = parser.parse_args(argv)
    config, data, config_path = load_study_inputs(__doc__.splitlines()[0], ["--config", str(args.config)])
    label_weights = tuple(args.label_weight or LABEL_WEIGHTS)
    fold_of = assign_patient_folds(data.record_names, data.labels, config.n_folds)
    outer = np.array([fold_of[name] for name in data.record_names])
    inner_config = inner_configuration(config)
    n_classes = config.network.n_classes
    teacher = np.zeros((len(data), n_classes), np.float32)
    students = {w: np.zeros((len(data), n_classes), np.float32) for w in label_weights}
    epochs_used, timings = [], {"teacher_s": 0.0, "student_s": 0.0}
    for fold in range(config.n_folds):
        train, held_out = data.select(outer != fold), outer == fold
        start = time.perf_counter()
        result = train_ensemble(train, inner_config, progress=False)
        timings["teacher_s"] += time.perf_counter() - start
        teacher[held_out] = result.ensemble.predict(data.select(held_out).inputs.as_dict(), batch_size=1024,
                                                    verbose=0)
        targets = result.ensemble.predict(train.inputs.as_dict(), batch_size=1024, verbose=0)
        epochs = args.student_epochs or int(np.median([f.best_epoch for f in result.folds]))
        epochs_used.append(epochs)
        for w in label_weights:
            start = time.perf_counter()
            student = train_student(train, targets, config, epochs, w, seed=config.seed * 100 + 50 + fold)
            timings["student_s"] += time.perf_counter() - start
            students[w][held_out] = student.predict(data.select(held_out).inputs.as_dict(), batch_size=1024,
                                                    verbose=0)
        print(f"outer fold {fold} done (student epochs {epochs})", flush=True)
    features, names = data.inputs.features, data.inputs.feature_names

    def scored(probabilities: np.ndarray) -> dict:
        plain = score_beats(data.labels, np.argmax(probabilities, axis=1))
        ruled = decide_classes(probabilities, features, names, config.atrial_rule, config.v_min_probability,
                               config.conduction_rule).classes
        return {"network": plain, "with_rules": score_beats(data.labels, ruled)}

    rows = {"teacher (ensemble)": scored(teacher)} | {
        f"student, label weight {w}": scored(p) for w, p in students.items()}
    for name, row in rows.items():
        for kind, r in row.items():
            print(f"{name}, {kind}: score {r['selection_score']:.3f} V {100 * r['V_se']:.1f}/{100 * r['V_ppv']:.1f} "
                  f"S {100 * r['S_se']:.1f}/{100 * r['S_ppv']:.1f} N Se {100 * r['N_se']:.1f}")
    name = "distill_study" if args.student_epochs is None else f"distill_study-epochs{args.student_epochs}"
    path = results_path(name, config_path)
    write_results(path, {"config": str(config_path), "student_epochs": epochs_used, "timings": timings,
                         "rows": rows})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
