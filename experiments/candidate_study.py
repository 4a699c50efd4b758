"""A candidate training configuration against the product on DS1 nested, both ways, with the usual criterion.

The candidate (``--candidate FILE``) must prepare its inputs as the bundled configuration does; its nested out-of-fold
ensembles (``experiments/nested_oof.py``, cached in ``.cache/oof/``) are scored with its decision rules at the
reference positions and end to end, beside the product's. Criterion (``family_vote_study.meets_criterion``): the
selection score (mean of the V and S F1) at least 0.01 higher both ways, no V or S Se or +P more than 1.5 points
lower. Each study using it states its candidate, and any further condition, before the run. DS2 is not read.

With ``--extra-data-dir DIR`` (repeatable) the candidate's networks also train on another annotated database
(``ecg train --extra-data-dir``; its beats join every inner fold's training set, never a validation fold), while the
baseline stays DS1-only: the candidate file may then be the bundled configuration itself. Results go to
``...-extra.json``.

With ``--seeds N`` (N >= 2) both are trained from N seeds (the configurations' own seed, then the next ones) and the
criterion applies to the figures averaged over the seeds, with one more condition: the candidate's score is higher
than the baseline's at every seed, both ways. One seed is not enough to decide: row AA of EXPERIMENTS.md gained
0.038 / 0.027 at seed 0 and lost 0.032 / 0.048 at seed 1 (the log's noise level for single seeds is about 0.05).

Usage: PYTHONPATH=. .venv/bin/python experiments/candidate_study.py --candidate configs/experiments/NAME.toml
[--seeds N] [--extra-data-dir DIR ...] (results: experiments/results/candidate_study-NAME.json, or
candidate_study-NAME-seedsN.json; each seed's nested trainings are cached in .cache/oof/, so seeds already run are
scored in seconds)
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tomllib
from pathlib import Path

from experiments.family_vote_study import CHANGE_LIMIT_PTS, GAIN_MIN, choose_setting, meets_criterion, print_rows
from experiments.nested_oof import nested_oof
from experiments.s_rule_study import REPO_ROOT, load_study_inputs, write_results
from experiments.seed_ensemble_study import score_probabilities
from app.config import resolve_cache_dir
from models.train import TrainingConfig
from models.training_data import load_extra_inputs


def load_candidate(candidate_path: Path, argv=None) -> tuple[TrainingConfig, TrainingConfig, object]:
    """The baseline configuration (``--config`` in ``argv``), the candidate's and DS1's labelled inputs; the candidate
    must prepare its inputs as the baseline does."""
    config, data, _ = load_study_inputs(__doc__.splitlines()[0], argv)
    candidate = TrainingConfig.from_dict(tomllib.loads(candidate_path.read_text()))
    if candidate.inputs != config.inputs:
        raise ValueError("The candidate must prepare its inputs as the baseline does (only the networks differ).")
    return config, candidate, data


def load_extra(directories: list[Path], candidate: TrainingConfig):
    """The other databases' labelled beats for the candidate (None without ``--extra-data-dir``)."""
    if not directories:
        return None
    return load_extra_inputs(tuple(directories), resolve_cache_dir() / "model_inputs", candidate.inputs)


def describe_training(candidate: TrainingConfig) -> dict:
    """The candidate's training configuration for the results file (its input settings are the baseline's)."""
    return {k: v for k, v in candidate.to_dict().items() if k != "inputs"}


def run_candidate_study(candidate_path: Path, results_name: str, argv=None, extra_dirs: list[Path] = ()) -> bool:
    """Score the candidate against the product, print the table, write ``experiments/results/RESULTS_NAME.json``;
    return whether the candidate meets the criterion."""
    config, candidate, data = load_candidate(candidate_path, argv)
    extra = load_extra(list(extra_dirs), candidate)
    rows = {"baseline": score_probabilities(*nested_oof(config, data, end_to_end=True), data, config),
            "candidate": score_probabilities(*nested_oof(candidate, data, end_to_end=True, extra=extra), data,
                                             candidate)}
    adopted, _, _ = choose_setting(rows)
    write_results(REPO_ROOT / "experiments" / "results" / f"{results_name}.json",
                  {"candidate": candidate_path.name, "training": describe_training(candidate),
                   "extra_training_data": None if extra is None else extra.describe(),
                   "criterion": {"gain_min": GAIN_MIN, "change_limit_pts": CHANGE_LIMIT_PTS},
                   "settings": rows, "meets_criterion": bool(adopted)})
    return bool(adopted)


def run_seeded_study(candidate_path: Path, n_seeds: int, results_name: str, argv=None,
                     extra_dirs: list[Path] = ()) -> bool:
    """The candidate against the product from ``n_seeds`` seeds each (module docstring): print every seed's rows and
    the averages, write ``experiments/results/RESULTS_NAME.json``; return whether the candidate meets the criterion
    on the averages and leads at every seed."""
    config, candidate, data = load_candidate(candidate_path, argv)
    extra = load_extra(list(extra_dirs), candidate)
    rows, pairs = {}, []
    for k in range(n_seeds):
        pair = []
        for label, chosen in (("baseline", config), ("candidate", candidate)):
            seeded = dataclasses.replace(chosen, seed=chosen.seed + k)
            key = f"{label} seed {seeded.seed}"
            joined = extra if label == "candidate" else None
            rows[key] = score_probabilities(*nested_oof(seeded, data, end_to_end=True, extra=joined), data, seeded)
            pair.append(rows[key])
        pairs.append(pair)
    mean, leads, adopted = judge_seeds(pairs)
    print("every seed:")
    print_rows(rows)
    print(f"averaged over {n_seeds} seeds:")
    choose_setting(mean)
    print(f"candidate ahead at every seed, both ways: {leads}; criterion on the averages and at every seed: "
          f"{'met' if adopted else 'not met'}")
    write_results(REPO_ROOT / "experiments" / "results" / f"{results_name}.json",
                  {"candidate": candidate_path.name, "seeds": n_seeds,
                   "training": describe_training(candidate),
                   "extra_training_data": None if extra is None else extra.describe(),
                   "criterion": {"gain_min": GAIN_MIN, "change_limit_pts": CHANGE_LIMIT_PTS,
                                 "ahead_at_every_seed": True},
                   "settings": rows, "mean": mean, "ahead_at_every_seed": leads, "meets_criterion": adopted})
    return adopted


def judge_seeds(pairs: list) -> tuple[dict, bool, bool]:
    """The two-seed rule over (baseline, candidate) rows, one pair per seed: the averaged rows (``"baseline"``,
    ``"candidate"``), whether the candidate's score is higher at every seed both ways, and whether that holds and the
    averages meet the criterion."""
    mean = {"baseline": average_rows([b for b, _ in pairs]), "candidate": average_rows([c for _, c in pairs])}
    leads = all(c[way]["score"] > b[way]["score"] for b, c in pairs for way in ("reference", "end_to_end"))
    return mean, leads, meets_criterion(mean["candidate"], mean["baseline"]) and leads


def average_rows(rows: list[dict]) -> dict:
    """The figures of several seeds' rows averaged, way by way (confusion matrices left out)."""
    return {way: {key: float(sum(r[way][key] for r in rows) / len(rows)) for key in rows[0][way] if key != "matrix"}
            for way in rows[0]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--candidate", type=Path, required=True)
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--extra-data-dir", type=Path, action="append", default=[])
    args, rest = parser.parse_known_args(argv)
    if args.seeds < 1:
        parser.error("--seeds must be 1 or more")
    suffix = "-extra" if args.extra_data_dir else ""
    if args.seeds == 1:
        run_candidate_study(args.candidate, f"candidate_study-{args.candidate.stem}{suffix}", rest, args.extra_data_dir)
    else:
        run_seeded_study(args.candidate, args.seeds, f"candidate_study-{args.candidate.stem}-seeds{args.seeds}{suffix}",
                         rest, args.extra_data_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
