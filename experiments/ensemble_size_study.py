"""How much the delivered ensemble's size matters, on DS1 nested cross-validation (EXPERIMENTS.md row O).

Inference cost grows with the number of member networks (BENCHMARKS.md section 5: the 4-member ensemble
runs at 10,800-11,500 beats/s on the AMD 2-core machine, a single member at about 4x that). As in
``experiments/nested_oof.py``, each outer DS1 fold is predicted by a 3-member inner ensemble trained on
the other outer folds; here every member's probabilities are kept, so that ensembles of 1, 2 and 3
members (every subset, averaged) are scored with the configuration's decision rules. Cached in
``.cache/oof/``. DS2 is not read.

Usage: PYTHONPATH=. .venv/bin/python experiments/ensemble_size_study.py [--config configs/bundled.toml]
(12 network trainings, about 13 minutes on the AMD 2-core machine)
"""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np

from experiments.nested_oof import NETWORK_NEUTRAL_KEYS, oof_cache_path, scores
from models.train import inner_configuration
from experiments.s_rule_study import load_study_inputs, results_path, write_results
from models.atrial_rule import AtrialRule, decide_classes
from models.folds import assign_patient_folds
from models.train import TrainingConfig, train_ensemble


def member_oof(config: TrainingConfig, data) -> np.ndarray:
    """(n_beats, n_folds - 1, n_classes): each inner member's probabilities for its outer fold's beats."""
    path = oof_cache_path("members", config, NETWORK_NEUTRAL_KEYS + ("ensemble_members",))
    if path.exists():
        return np.load(path)
    fold_of = assign_patient_folds(data.record_names, data.labels, config.n_folds)
    outer = np.array([fold_of[name] for name in data.record_names])
    inner_config = dataclasses.replace(inner_configuration(config), ensemble_members=None)
    members = np.zeros((len(data), inner_config.n_folds, config.network.n_classes), np.float32)
    for fold in range(config.n_folds):
        result = train_ensemble(data.select(outer != fold), inner_config, progress=False)
        held_out = data.select(outer == fold).inputs.as_dict()
        for k, member in enumerate(result.folds):
            members[outer == fold, k] = member.model.predict(held_out, batch_size=1024, verbose=0)
        print(f"outer fold {fold} done", flush=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, members)
    return members


def main(argv=None) -> int:
    config, data, config_path = load_study_inputs(__doc__.splitlines()[0], argv)
    members = member_oof(config, data)
    rule = config.atrial_rule or AtrialRule()
    features, names = data.inputs.features, data.inputs.feature_names
    rows = {}
    for size in range(1, members.shape[1] + 1):
        subsets = list(itertools.combinations(range(members.shape[1]), size))
        per_subset = [scores(data.labels, decide_classes(members[:, list(s)].mean(axis=1), features, names, rule,
                                                         conduction=config.conduction_rule).classes)
                      for s in subsets]
        rows[f"{size} member(s)"] = {key: float(np.mean([r[key] for r in per_subset])) for key in per_subset[0]
                                     if key != "matrix"} | {
            "score_per_subset": [r["score"] for r in per_subset]}
    for name, r in rows.items():
        print(f"{name} (mean over subsets, with the decision rules): V {100 * r['V_se']:.1f} / {100 * r['V_ppv']:.1f}, "
              f"S {100 * r['S_se']:.1f} / {100 * r['S_ppv']:.1f}, score {r['score']:.3f} "
              f"(subsets: {', '.join(f'{s:.3f}' for s in r['score_per_subset'])})")
    write_results(results_path("ensemble_size_study", config_path), {"config": str(config_path), "rows": rows})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
