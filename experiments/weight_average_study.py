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
from pathlib import Path

from experiments.candidate_study import run_candidate_study
from experiments.s_rule_study import REPO_ROOT

CANDIDATE = REPO_ROOT / "configs" / "experiments" / "y_ema.toml"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--candidate", type=Path, default=CANDIDATE)
    args, rest = parser.parse_known_args(argv)
    name = "weight_average_study" + ("" if args.candidate.resolve() == CANDIDATE.resolve()
                                     else f"-{args.candidate.stem}")
    run_candidate_study(args.candidate, name, rest)
    return 0


if __name__ == "__main__":
    sys.exit(main())
