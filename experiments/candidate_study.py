"""A candidate training configuration against the product on DS1 nested, both ways, with the usual criterion.

The candidate (``--candidate FILE``) must prepare its inputs as the bundled configuration does; its nested out-of-fold
ensembles (``experiments/nested_oof.py``, cached in ``.cache/oof/``) are scored with its decision rules at the
reference positions and end to end, beside the product's. Criterion (``family_vote_study.meets_criterion``): the
selection score (mean of the V and S F1) at least 0.01 higher both ways, no V or S Se or +P more than 1.5 points
lower. Each study using it states its candidate, and any further condition, before the run. DS2 is not read.

Usage: PYTHONPATH=. .venv/bin/python experiments/candidate_study.py --candidate configs/experiments/NAME.toml
(results: experiments/results/candidate_study-NAME.json)
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


def run_candidate_study(candidate_path: Path, results_name: str, argv=None) -> bool:
    """Score the candidate against the product, print the table, write ``experiments/results/RESULTS_NAME.json``;
    return whether the candidate meets the criterion."""
    config, data, _ = load_study_inputs(__doc__.splitlines()[0], argv)
    candidate = TrainingConfig.from_dict(tomllib.loads(candidate_path.read_text()))
    if candidate.inputs != config.inputs:
        raise ValueError("The candidate must prepare its inputs as the baseline does (only the networks differ).")
    rows = {"baseline": score_probabilities(*nested_oof(config, data, end_to_end=True), data, config),
            "candidate": score_probabilities(*nested_oof(candidate, data, end_to_end=True), data, candidate)}
    adopted, _, _ = choose_setting(rows)
    write_results(REPO_ROOT / "experiments" / "results" / f"{results_name}.json",
                  {"candidate": candidate_path.name, "training": {k: v for k, v in candidate.to_dict().items()
                                                                   if k not in ("inputs",)},
                   "criterion": {"gain_min": GAIN_MIN, "change_limit_pts": CHANGE_LIMIT_PTS},
                   "settings": rows, "meets_criterion": bool(adopted)})
    return bool(adopted)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--candidate", type=Path, required=True)
    args, rest = parser.parse_known_args(argv)
    run_candidate_study(args.candidate, f"candidate_study-{args.candidate.stem}", rest)
    return 0


if __name__ == "__main__":
    sys.exit(main())
