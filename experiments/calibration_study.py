"""Row AO: temperature scaling of the delivered probabilities, DS1 nested only.

Issue 3 asks that "90 % sure" mean about 90 %. The card reports a top-label expected calibration error (ECE, 15
equal-width bins, correctness of the top class of the probabilities the classes are decided from: the networks', with
the context stage's division of p(N) + p(S)) of 4.28 % on DS2. DS2 cannot be used to fit a correction. This study asks
whether the probabilities are miscalibrated on patients the networks never saw in a way DS1 can correct: the product's
DS1 nested probabilities at the reference positions (``experiments.nested_regions.nested_product_probabilities``: the
shipped configuration's nested ensembles, trained with one-lead copies, the context stage fitted fold by fold; cached),
and one temperature T (Guo et al. 2017, "On calibration of modern neural networks": q proportional to p ** (1 / T),
which keeps every beat's class order, so no class, rule or region changes) fitted by the negative log-likelihood of
the reference class, cross-fitted over the nested scheme's outer folds: T fitted on the other folds' beats, applied to
the held-out fold's. DS2 is not read.

Criterion, written before the run: adopted (one temperature, fitted on all DS1 nested beats, saved with the model
and applied to the reported probabilities after the classes are decided) when at seeds 0 and 1 each the cross-fitted
ECE is at least 0.5 point lower than without (e.g. 1.6 % -> 1.1 %) and the negative log-likelihood is lower, and at
seed 2 (confirmation) the ECE is lower; otherwise not adopted, and the figures say how calibrated the delivered
probabilities are on DS1.

Usage: PYTHONPATH=. .venv/bin/python experiments/calibration_study.py [--config configs/bundled.toml]
(cached nested probabilities: about 3 minutes; results: experiments/results/calibration_study.json)
"""

from __future__ import annotations

import dataclasses
import sys

import numpy as np
from scipy.optimize import minimize_scalar

from experiments.nested_regions import nested_product_probabilities
from experiments.s_rule_study import load_study_inputs, results_path, write_results
from models.atrial_rule import apply_temperature
from models.evaluate import expected_calibration_error, reliability_table
from models.folds import assign_patient_folds

SEEDS = (0, 1)
CONFIRMATION_SEED = 2
ECE_GAIN_MIN = 0.005
LOG_T_BOUNDS = (np.log(0.25), np.log(4.0))


def negative_log_likelihood(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """Mean -log p(reference class)."""
    return float(-np.mean(np.log(np.clip(probabilities[np.arange(len(labels)), labels], 1e-12, 1.0))))


def fit_temperature(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """The temperature minimising the negative log-likelihood of ``labels`` (searched on log T in [1/4, 4])."""
    result = minimize_scalar(lambda log_t: negative_log_likelihood(apply_temperature(probabilities, np.exp(log_t)),
                                                                   labels), bounds=LOG_T_BOUNDS, method="bounded")
    return float(np.exp(result.x))


def calibration_figures(probabilities: np.ndarray, labels: np.ndarray) -> dict:
    """Top-label ECE (15 bins, as the card), NLL and the reliability rows of these probabilities."""
    confidence, correct = probabilities.max(axis=1), probabilities.argmax(axis=1) == labels
    return {"ece": expected_calibration_error(confidence, correct), "nll": negative_log_likelihood(probabilities, labels),
            "reliability": reliability_table(confidence, correct)}


def score_seed(config, data) -> dict:
    """Calibration without and with a cross-fitted temperature, and the temperature fitted on every beat."""
    staged, _ = nested_product_probabilities(config, data)
    staged = staged.astype(np.float64)  # scaled in double precision, as when this study ran (row AO)
    labels = data.labels
    fold_of = assign_patient_folds(data.record_names, labels, config.n_folds)
    outer = np.array([fold_of[n] for n in data.record_names])
    scaled, temperatures = np.zeros_like(staged, dtype=np.float64), []
    for fold in range(config.n_folds):
        held_out = outer == fold
        temperatures.append(fit_temperature(staged[~held_out], labels[~held_out]))
        scaled[held_out] = apply_temperature(staged[held_out], temperatures[-1])
    out = {"product": calibration_figures(staged, labels), "temperature": calibration_figures(scaled, labels),
           "fold_temperatures": temperatures, "temperature_all_beats": fit_temperature(staged, labels)}
    print(f"seed {config.seed}: ECE {100 * out['product']['ece']:.2f} % -> {100 * out['temperature']['ece']:.2f} %, "
          f"NLL {out['product']['nll']:.4f} -> {out['temperature']['nll']:.4f}, fold temperatures "
          f"{', '.join(f'{t:.3f}' for t in temperatures)}", flush=True)
    return out


def check_criterion(by_seed: dict) -> dict:
    """The module docstring's criterion at seeds 0 and 1."""
    per_seed = {s: {"ece_gain": by_seed[s]["product"]["ece"] - by_seed[s]["temperature"]["ece"],
                    "nll_lower": by_seed[s]["temperature"]["nll"] < by_seed[s]["product"]["nll"]} for s in SEEDS}
    met = all(v["ece_gain"] >= ECE_GAIN_MIN and v["nll_lower"] for v in per_seed.values())
    return {"per_seed": per_seed, "met": met}


def main(argv=None) -> int:
    config, data, config_path = load_study_inputs(__doc__.splitlines()[0], argv)
    by_seed = {s: score_seed(dataclasses.replace(config, seed=s), data) for s in SEEDS}
    verdict = check_criterion(by_seed)
    if verdict["met"]:
        s = CONFIRMATION_SEED
        by_seed[s] = score_seed(dataclasses.replace(config, seed=s), data)
        verdict["confirmed"] = by_seed[s]["temperature"]["ece"] < by_seed[s]["product"]["ece"]
    verdict["adopted"] = bool(verdict["met"] and verdict.get("confirmed", False))
    print(verdict)
    write_results(results_path("calibration_study", config_path),
                  {"config": str(config_path), "seeds": list(SEEDS), "confirmation_seed": CONFIRMATION_SEED,
                   "by_seed": {str(s): v for s, v in by_seed.items()}, "verdict": verdict})
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
