"""Nested cross-validation on DS1: out-of-fold probabilities of *ensembles*, as the product delivers them.

The plain CV of ``ecg train`` scores single fold networks on their held-out patients, while the
delivered model averages the fold networks. Here each outer fold's patients are predicted by an
ensemble trained (with its own inner patient-wise folds and early stopping) on the other outer folds
only, so thresholds chosen on these probabilities fit the ensemble's. Cached in ``.cache/oof/``.
Then the V-confidence threshold and the atrial-origin rule are scanned on them (and the configuration's
sinus-conduction rule, when it has one, is applied). DS2 is not read.

Usage: PYTHONPATH=. .venv/bin/python experiments/nested_oof.py [--config configs/bundled.toml]
(about 12 network trainings: 6-8 minutes on the 2-core machine)
"""

from __future__ import annotations

import dataclasses
import hashlib
import json

import numpy as np

from app.config import resolve_cache_dir
from experiments.s_rule_study import load_study_inputs, results_path, write_results
from models.atrial_rule import DECISION_RULE_KEYS, AtrialRule, decide_classes
from models.folds import assign_patient_folds
from models.train import TrainingConfig, train_ensemble
from pipeline.scoring import count_classes

V, S = 2, 1


def nested_oof(config: TrainingConfig, data) -> np.ndarray:
    values = {k: v for k, v in config.to_dict().items() if k not in DECISION_RULE_KEYS}
    key = "nested-" + hashlib.sha256(json.dumps(values, sort_keys=True).encode()).hexdigest()[:16]
    path = resolve_cache_dir() / "oof" / f"{key}.npy"
    if path.exists():
        return np.load(path)
    fold_of = assign_patient_folds(data.record_names, data.labels, config.n_folds)
    outer = np.array([fold_of[name] for name in data.record_names])
    inner_config = dataclasses.replace(config, n_folds=config.n_folds - 1)
    oof = np.zeros((len(data), config.network.n_classes), np.float32)
    for fold in range(config.n_folds):
        result = train_ensemble(data.select(outer != fold), inner_config, progress=False)
        held_out = outer == fold
        oof[held_out] = result.ensemble.predict(data.select(held_out).inputs.as_dict(), batch_size=1024, verbose=0)
        print(f"outer fold {fold} done", flush=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, oof)
    return oof


def scores(labels: np.ndarray, classes: np.ndarray) -> dict:
    c = count_classes(labels, classes)
    return {"V_se": c.sensitivity(V), "V_ppv": c.positive_predictivity(V), "V_f1": c.f1(V),
            "S_se": c.sensitivity(S), "S_ppv": c.positive_predictivity(S), "S_f1": c.f1(S),
            "score": (c.f1(V) + c.f1(S)) / 2}


def main(argv=None) -> int:
    config, data, config_path = load_study_inputs(__doc__.splitlines()[0], argv)
    oof = nested_oof(config, data)
    rule = config.atrial_rule or AtrialRule()
    features, names = data.inputs.features, data.inputs.feature_names
    rows = {"ensemble": scores(data.labels, np.argmax(oof, axis=1)),
            "ensemble + atrial rule": scores(data.labels, decide_classes(oof, features, names, rule).classes)}
    for t in (0.5, 0.6, 0.7, 0.8, 0.9):
        rows[f"ensemble + rule + V threshold {t}"] = scores(data.labels, decide_classes(oof, features, names, rule, t).classes)
    if config.conduction_rule is not None:  # the product's order: conduction rule, then atrial rule
        rows["ensemble + sinus-conduction rule + atrial rule"] = scores(
            data.labels, decide_classes(oof, features, names, rule, conduction=config.conduction_rule).classes)
    for name, r in rows.items():
        print(f"{name}: V {100 * r['V_se']:.1f} / {100 * r['V_ppv']:.1f}, S {100 * r['S_se']:.1f} / "
              f"{100 * r['S_ppv']:.1f}, score {r['score']:.3f}")
    path = results_path("nested_oof", config_path)
    write_results(path, {"config": str(config_path), "rows": rows})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
