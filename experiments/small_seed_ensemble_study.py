"""Row X: row W's seed ensemble per fold, made of cheaper networks that keep issue 3's speed target, on DS1 nested.

Row W (``experiments/seed_ensemble_study.py``) found that averaging two seeds of each delivered fold network raises
the DS1 nested selection score by 0.011 / 0.012, but 4 networks of the delivered size run at 16,733 beats/s on the
Intel 2-core machine, under the 20,000 target. The GRU's time steps dominate the cost (EXPERIMENTS.md row F); the
candidate size was chosen from a throw-away timing of 4-network ensembles on random inputs, which put strides (4, 6)
over the target. After the run the same sizes were timed on the DS2 beats by a repository command,
``benchmarks/classifier_speed.py --member-copies 2 --network JSON``
(``benchmarks/results/classifier_speed-network.json``): 4 networks with strides (4, 6) ran at 15,757 and 18,002
beats/s, under the target, so the speed condition below would probably have failed too. The candidate is strides (4,
6) (the candidate configuration, ``--candidate``), trained from seeds 0 and 1 with the rest of the bundled
configuration unchanged; the baseline is the product (bundled configuration, seed 0, 2 networks).
Every outer fold is predicted by each seed's inner ensemble, the two averaged; every decision rule after.

Adoption criterion, written before the run: the candidate's averaged seeds must raise the selection score (mean of
the V and S F1) over the product by at least 0.01 at the reference positions and end to end, with no V or S Se or +P
more than 1.5 points lower (``family_vote_study.meets_criterion``), **and** the bundle trained with it must run at
20,000 beats/s or more in ``benchmarks/classifier_speed.py`` (median of 3 runs on this machine). The candidate's
single seeds are scored too: what the smaller network costs alone, and the seed noise. DS2 is not read.

Usage: PYTHONPATH=. .venv/bin/python experiments/small_seed_ensemble_study.py
       [--candidate configs/experiments/x_strides46_seeds.toml]
(24 nested trainings, about 20 minutes on the Intel 2-core machine; the product's are usually cached in .cache/oof/)
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tomllib
from pathlib import Path

from experiments.family_vote_study import CHANGE_LIMIT_PTS, GAIN_MIN, choose_setting
from experiments.nested_oof import nested_oof
from experiments.s_rule_study import REPO_ROOT, load_study_inputs, write_results
from experiments.seed_ensemble_study import average_detected, score_probabilities
from models.train import TrainingConfig

CANDIDATE = REPO_ROOT / "configs" / "experiments" / "x_strides46_seeds.toml"
SEEDS = (0, 1)


def read_candidate(path: Path) -> TrainingConfig:
    """The candidate configuration as single-seed runs: its seeds are trained one nested run each."""
    config = TrainingConfig.from_dict(tomllib.loads(path.read_text()))
    return dataclasses.replace(config, seeds_per_fold=1)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--candidate", type=Path, default=CANDIDATE)
    args, rest = parser.parse_known_args(argv)
    config, data, _ = load_study_inputs(__doc__.splitlines()[0], rest)
    candidate = read_candidate(args.candidate)
    if candidate.inputs != config.inputs:
        raise ValueError("The candidate must prepare its inputs as the baseline does (only the networks differ).")
    baseline_oof, baseline_detected = nested_oof(config, data, end_to_end=True)
    runs = {seed: nested_oof(dataclasses.replace(candidate, seed=seed), data, end_to_end=True) for seed in SEEDS}
    rows = {"baseline": score_probabilities(baseline_oof, baseline_detected, data, config)}
    for seed, (oof, detected) in runs.items():
        rows[f"candidate seed {seed} alone"] = score_probabilities(oof, detected, data, candidate)
    (oof0, detected0), (oof1, detected1) = runs[SEEDS[0]], runs[SEEDS[1]]
    rows["candidate seeds averaged"] = score_probabilities((oof0 + oof1) / 2, average_detected(detected0, detected1),
                                                           data, candidate)
    adopted, _, strongest = choose_setting(rows)
    meets = "candidate seeds averaged" in adopted
    print(f"the averaged seeds {'meet' if meets else 'do not meet'} the score criterion; the speed condition is "
          "checked on the trained bundle with benchmarks/classifier_speed.py")
    name = "small_seed_ensemble_study" + ("" if args.candidate.resolve() == CANDIDATE.resolve()
                                          else f"-{args.candidate.stem}")
    write_results(REPO_ROOT / "experiments" / "results" / f"{name}.json",
                  {"candidate": str(args.candidate.relative_to(REPO_ROOT) if args.candidate.is_absolute()
                                    else args.candidate),
                   "criterion": {"gain_min": GAIN_MIN, "change_limit_pts": CHANGE_LIMIT_PTS,
                                 "inference_beats_per_s_min": 20000},
                   "settings": rows, "meets_score_criterion": meets, "highest_end_to_end": strongest})
    return 0


if __name__ == "__main__":
    sys.exit(main())
