"""Study: an atrial-origin rule for S beats, on DS1 out-of-fold predictions only (EXPERIMENTS.md row G).

Lesson 6 of CLASSIFIER-NOTES.md: a model trained on DS1 learns "S = premature", while atrial ectopy is
defined by an abnormal P wave. The rule tried here relabels as S a beat the classifier calls N when

- its P wave does not match the patient's own sinus P template (``p_corr_best <= corr_max``),
- that template is clear (``p_template_quality >= quality_min``: a sinus P wave exists in the record),
- the rhythm around it is not fibrillation-like (``rhythm_af_score_rel <= af_max``),
- its QRS matches the record's dominant QRS (``qrs_corr_lead0 >= qrs_min``: supraventricular conduction),
- it is not late (``rr_pre_local_ratio <= rr_max``: not an escape beat).

The classifier is the bundled configuration (``configs/bundled.toml``) trained by 4-fold patient-wise
cross-validation on DS1; its out-of-fold probabilities are cached in ``.cache/oof/``. Every rule setting of
the grid is scored on those DS1 predictions (gross S Se, +P, F1 and the selection score). DS2 is not read.

Usage: PYTHONPATH=. .venv/bin/python experiments/s_rule_study.py [--config configs/bundled.toml]
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import tomllib
from pathlib import Path

import numpy as np

from app.config import require_data_dir, resolve_cache_dir
from models.atrial_rule import DECISION_RULE_KEYS, STAGE_CONFIG_KEY
from models.train import TrainingConfig, compute_selection_score, train_ensemble
from models.training_data import load_labelled_inputs
from pipeline.scoring import count_classes
from pipeline.splits import DS1

REPO_ROOT = Path(__file__).resolve().parents[1]
BUNDLED_CONFIG = REPO_ROOT / "configs" / "bundled.toml"
RESULTS = REPO_ROOT / "experiments" / "results" / "s_rule_study.json"
GRID = {"corr_max": (0.1, 0.2, 0.3), "quality_min": (0.6, 0.75), "af_max": (0.03, 0.04, 0.05),
        "qrs_min": (0.9, 0.95), "rr_max": (1.05, 1.2)}
N, S = 0, 1


def load_oof(config: TrainingConfig, data) -> np.ndarray:
    """Out-of-fold DS1 probabilities of ``config`` (trained once, then cached)."""
    ignored = DECISION_RULE_KEYS + (STAGE_CONFIG_KEY,)  # what follows the networks
    values = {k: v for k, v in config.to_dict().items() if k not in ignored}
    key = hashlib.sha256(json.dumps(values, sort_keys=True).encode()).hexdigest()[:16]
    path = resolve_cache_dir() / "oof" / f"{key}.npy"
    if path.exists():
        return np.load(path)
    oof = train_ensemble(data, config).oof_probabilities
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, oof)
    return oof


def load_study_inputs(description: str, argv=None) -> tuple[TrainingConfig, object, Path]:
    """Parse ``--config`` (default: the bundled configuration) and load DS1's labelled inputs.

    Returns the configuration, the inputs and the configuration file's path.
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--config", type=Path, default=BUNDLED_CONFIG)
    args = parser.parse_args(argv)
    config = TrainingConfig.from_dict(tomllib.loads(args.config.read_text()))
    data = load_labelled_inputs(DS1, require_data_dir(None), resolve_cache_dir() / "model_inputs", config.inputs,
                                progress=False)
    return config, data, args.config


def load_one_lead_inputs(config: TrainingConfig):
    """DS1's labelled inputs prepared from each record cut to its primary lead (the one-lead copies), as
    :func:`load_study_inputs` loads the two-lead ones."""
    return load_labelled_inputs(DS1, require_data_dir(None), resolve_cache_dir() / "model_inputs", config.inputs,
                                progress=False, primary_lead_only=True)


def write_results(path: Path, data: dict) -> None:
    """Write a study's results as indented JSON (creating ``experiments/results/``) and say where."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n")
    print(f"results: {path}")


def run_variant_seeds(results: dict, seeds, variants_of, score, describe, check, out_path: Path) -> None:
    """A study's loop over ``seeds``: each seed's variants (``variants_of(seed)``: name -> configuration) scored
    (``score(configuration)``) into ``results["by_seed"]``, described, the criterion (``check(by_seed)``) read again
    and the results written after every seed, so that a stopped run keeps what it measured."""
    for seed in seeds:
        results["by_seed"][str(seed)] = {name: score(c) for name, c in variants_of(seed).items()}
        print(describe(seed, results["by_seed"][str(seed)]), flush=True)
        results["verdict"] = check(results["by_seed"])
        write_results(out_path, results)
    print(results["verdict"])


def recheck_saved(name: str, check, config_path: Path = BUNDLED_CONFIG) -> dict:
    """A study's criterion, ``check(by_seed)``, read again from its saved results (``--check``), which then hold the
    new verdict; nothing is trained or labelled."""
    path = results_path(name, config_path)
    results = json.loads(path.read_text())
    results["verdict"] = check(results["by_seed"])
    write_results(path, results)
    return results["verdict"]


def results_path(name: str, config_path: Path) -> Path:
    """``experiments/results/NAME.json`` for the bundled configuration, ``NAME-STEM.json`` for another one."""
    same = config_path.resolve() == BUNDLED_CONFIG.resolve()
    return REPO_ROOT / "experiments" / "results" / (f"{name}.json" if same else f"{name}-{config_path.stem}.json")


def apply_rule(predicted: np.ndarray, column, corr_max, quality_min, af_max, qrs_min, rr_max) -> np.ndarray:
    """Predicted classes with the rule's N -> S relabelling."""
    atrial = ((column("p_corr_best") <= corr_max) & (column("p_template_quality") >= quality_min)
              & (column("rhythm_af_score_rel") <= af_max) & (column("qrs_corr_lead0") >= qrs_min)
              & (column("rr_pre_local_ratio") <= rr_max))
    return np.where((predicted == N) & atrial, S, predicted)


def score(labels: np.ndarray, predicted: np.ndarray) -> dict:
    counts = count_classes(labels, predicted)
    return {"S_se": counts.sensitivity(S), "S_ppv": counts.positive_predictivity(S), "S_f1": counts.f1(S),
            "V_f1": counts.f1(2), "N_se": counts.sensitivity(N), "selection_score": compute_selection_score(counts)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=REPO_ROOT / "configs" / "bundled.toml")
    parser.add_argument("--data-dir", type=Path, default=None)
    args = parser.parse_args(argv)
    config = TrainingConfig.from_dict(tomllib.loads(args.config.read_text()))
    data = load_labelled_inputs(DS1, require_data_dir(args.data_dir), resolve_cache_dir() / "model_inputs",
                                config.inputs, progress=False)
    names = list(data.inputs.feature_names)
    column = lambda name: data.inputs.features[:, names.index(name)]  # noqa: E731
    predicted = np.argmax(load_oof(config, data), axis=1)
    baseline = score(data.labels, predicted)
    rows = []
    for values in itertools.product(*GRID.values()):
        setting = dict(zip(GRID, values))
        rows.append({**setting, **score(data.labels, apply_rule(predicted, column, **setting))})
    rows.sort(key=lambda r: -r["S_f1"])
    print(f"baseline (no rule): S Se {100 * baseline['S_se']:.1f} +P {100 * baseline['S_ppv']:.1f} "
          f"F1 {baseline['S_f1']:.3f} score {baseline['selection_score']:.3f}")
    for r in rows[:8]:
        print({k: round(v, 3) for k, v in r.items()})
    write_results(RESULTS, {"config": str(args.config), "baseline": baseline, "grid": GRID, "ranked": rows})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
