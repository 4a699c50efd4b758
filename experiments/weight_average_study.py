"""Row Y: training with a moving average of the weights (Polyak averaging), on DS1 nested; inference cost unchanged.

Row W found that averaging two seeds of every network raises the DS1 nested selection score by about 0.01, at twice
the inference cost, and row X that cheaper networks lose that gain. An exponential moving average of the weights
during training (Keras's optimizer option ``use_ema``; Polyak and Juditsky 1992) smooths each network's own training
noise at no inference cost. Candidate: the bundled configuration with ``ema_momentum = 0.99`` (Keras's default,
about one epoch of an inner fold's ~100 steps; one setting, fixed before the run, not scanned), every epoch scored
and the best kept with the averaged weights (``models.train.ValidationMonitor``); baseline: the product.

Adoption criterion, written before the run: the selection score (mean of the V and S F1) at least 0.01 higher than
the product's both at the reference positions and end to end, with no V or S Se or +P more than 1.5 points lower
(``family_vote_study.meets_criterion``). DS2 is not read.

Usage: PYTHONPATH=. .venv/bin/python experiments/weight_average_study.py [--candidate configs/experiments/y_ema.toml]
(12 nested trainings, about 9 minutes on the Intel 2-core machine; the product's are usually cached in .cache/oof/)
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from pathlib import Path

from experiments.family_vote_study import CHANGE_LIMIT_PTS, GAIN_MIN, choose_setting
from experiments.nested_oof import nested_oof
from experiments.s_rule_study import REPO_ROOT, load_study_inputs, write_results
from experiments.seed_ensemble_study import score_probabilities
from models.train import TrainingConfig

CANDIDATE = REPO_ROOT / "configs" / "experiments" / "y_ema.toml"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--candidate", type=Path, default=CANDIDATE)
    args, rest = parser.parse_known_args(argv)
    config, data, _ = load_study_inputs(__doc__.splitlines()[0], rest)
    candidate = TrainingConfig.from_dict(tomllib.loads(args.candidate.read_text()))
    if candidate.inputs != config.inputs:
        raise ValueError("The candidate must prepare its inputs as the baseline does (only the training differs).")
    rows = {"baseline": score_probabilities(*nested_oof(config, data, end_to_end=True), data, config),
            "candidate": score_probabilities(*nested_oof(candidate, data, end_to_end=True), data, candidate)}
    adopted, _, _ = choose_setting(rows)
    name = "weight_average_study" + ("" if args.candidate.resolve() == CANDIDATE.resolve()
                                     else f"-{args.candidate.stem}")
    write_results(REPO_ROOT / "experiments" / "results" / f"{name}.json",
                  {"candidate": args.candidate.name, "ema_momentum": candidate.ema_momentum,
                   "criterion": {"gain_min": GAIN_MIN, "change_limit_pts": CHANGE_LIMIT_PTS},
                   "settings": rows, "meets_criterion": bool(adopted)})
    return 0


if __name__ == "__main__":
    sys.exit(main())
