"""Study: training on one-lead copies of DS1's beats as well (``one_lead_fraction``), DS1 nested only.

A one-lead recording (a Holter or patch channel, a monitor lead) is classified by the two-lead networks with its lead
read as both (:func:`models.prepare.fill_missing_leads`). The networks never saw such input in training: on DS1 cut to
its first lead the bundled model finds 82.8 % of the V beats against 99.3 % from two leads, and that in-sample
(``experiments/one_lead_study.py``). Training on one-lead copies too (the same beats prepared from the record cut to its
primary lead, following their patient's fold, never validating) should teach the networks to read one lead. MIT-BIH's
second lead also differs between patients (V1 mostly, V2, V4 or V5 in some records), so leaning less on it might help
the two-lead figures of new patients as well, or cost them; this study measures both.

Candidate: the bundled configuration with ``one_lead_fraction = 0.5`` (half of each training patient's beats also as
one-lead copies, drawn from the seed; value fixed before the run, not scanned). Baseline: the bundled configuration.
For seeds 0 and 1, each outer fold of the nested scheme is predicted by its inner ensemble (:func:`models.train.
nested_oof_probabilities`), at the reference positions (two leads), on the detected beats (two leads, end to end),
and at the reference positions of the same records cut to their primary lead (one lead). The beat-context stage is
fitted fold by fold on the other folds' two-lead nested probabilities (as the product fits it) and applied to all
three; every decision rule after it. DS2 is not read.

Criterion, written before the run (mean of seeds 0 and 1 unless said):
(a) two leads, both ways: score at least the baseline's - 0.005, and at least the baseline's - 0.015 at each seed
    (the aim is robustness to one lead, not a two-lead gain; a loss beyond the seed noise is not accepted);
(b) two leads, both ways: no V or S Se or +P more than 1.5 points lower;
(c) two leads, end to end: V couplet Se and +P at most 2 points lower;
(d) one lead: score at least 0.03 above the baseline's, higher at each seed, and V Se higher.
Adopted (``one_lead_fraction = 0.5`` in ``configs/bundled.toml``, the bundle retrained) when (a)-(d) hold and training
the bundled configuration stays within issue 3's 10 minutes. A two-lead gain is reported as one only if it also meets
the log's two-seed rule (+0.01 both ways on average, ahead at each seed).

Second value, fixed after the first run's result (0.5 failed (b) and (c) on V +P: the copies make the networks call
V more readily) and announced as the last: ``--fraction 0.2``, judged by the same criterion, to see whether fewer
copies keep the one-lead gain at a smaller V +P cost.

Confirmation at a third seed (session 25; written before its run, after 0.2 was shipped, as row AH was confirmed at
seed 2): ``--fraction 0.2 --seeds 2``. Row AI counts as confirmed when, at seed 2, (a') the two-lead score both ways is
at least the baseline's - 0.015 (the per-seed part of (a)) and (d') the one-lead score is higher than the baseline's.
(b) and (c) at that seed are reported beside it. If it is not confirmed, the figures go to the planners: two seeds met
the criterion, and a third that disagrees would say the one-lead gain is not yet established, not that DS2 decides.
The baseline is always the configuration without one-lead copies (``one_lead_fraction = 0``, whatever the
configuration file holds), so its seeds 0-1 caches are read again.

Usage: PYTHONPATH=. .venv/bin/python experiments/one_lead_training_study.py [--config configs/bundled.toml]
[--fraction 0.2] [--seeds 2]
(32 network trainings, about 20 minutes on the 2-core machine; cached in ``.cache/oof/``;
results: experiments/results/one_lead_training_study.json)
"""

from __future__ import annotations

import dataclasses
import sys

import numpy as np

from experiments.context_plain_fit_study import staged_probabilities
from experiments.context_stage_study import describe, score_variant
from experiments.nested_oof import detected_cache_path, oof_cache_path, predict_detected, read_detected, scores
from experiments.s_rule_study import load_one_lead_inputs, load_study_inputs, results_path, write_results
from experiments.s_run_rule_study import classify_with_config
from models.folds import assign_patient_folds
from models.loading import read_keras_file
from models.train import nested_oof_probabilities
from models.training_workers import WorkerTrainer, count_usable_cores

SEEDS = (0, 1)
CANDIDATE_FRACTION = 0.5
WAYS = ("reference", "end_to_end")


def nested_three_ways(config, data, one_lead) -> tuple[np.ndarray, dict, np.ndarray]:
    """Nested probabilities at the reference positions (two leads), of the detected beats (two leads) and at the
    reference positions of the one-lead copies; cached, with the outer folds' inner ensembles
    (:func:`fold_ensemble_paths`)."""
    path = oof_cache_path("nested2t-onelead", config)
    e2e_path, one_path = detected_cache_path(path), path.with_name(f"{path.stem}-one.npy")
    if path.exists() and e2e_path.exists() and one_path.exists():
        return np.load(path), read_detected(e2e_path), np.load(one_path)
    fold_of = assign_patient_folds(data.record_names, data.labels, config.n_folds)
    outer = np.array([fold_of[n] for n in data.record_names])
    detected, one = {}, np.zeros((len(data), config.network.n_classes), np.float32)
    ensemble_paths = fold_ensemble_paths(config)

    def predict_fold(fold: int, ensemble) -> None:
        ensemble.save(ensemble_paths[fold])
        held_out = outer == fold
        one[held_out] = ensemble.predict(one_lead.select(held_out).inputs.as_dict(), batch_size=1024, verbose=0)
        for name in sorted({n for n, f in fold_of.items() if f == fold}):
            detected[name] = predict_detected(ensemble, name, config)
        print(f"seed {config.seed}, fraction {config.one_lead_fraction}: outer fold {fold} done", flush=True)

    path.parent.mkdir(parents=True, exist_ok=True)
    with WorkerTrainer(count_usable_cores()) as trainer:
        oof = nested_oof_probabilities(data, config, on_fold=predict_fold, trainer=trainer,
                                       one_lead=one_lead if config.one_lead_fraction else None)
    np.save(path, oof)
    np.save(one_path, one)
    np.savez(e2e_path, **{f"{n}/{part}": a for n, parts in detected.items() for part, a in parts.items()})
    return oof, detected, one


def fold_ensemble_paths(config) -> list:
    """``.cache/oof/<nested stem>-fold<k>.keras``: the outer folds' inner ensembles of :func:`nested_three_ways`, kept
    so that a study of what comes before the networks (the detector, the beats' preparation) need not retrain them."""
    path = oof_cache_path("nested2t-onelead", config)
    return [path.with_name(f"{path.stem}-fold{k}.keras") for k in range(config.n_folds)]


def fold_ensembles(config, data, one_lead) -> list:
    """The outer folds' inner ensembles of :func:`nested_three_ways`: read from the cache, else retrained and kept
    (CPU training on one machine reproduces them: :func:`check_fold_ensembles` says how closely)."""
    paths = fold_ensemble_paths(config)
    if not all(p.exists() for p in paths):
        def keep(fold: int, ensemble) -> None:
            paths[fold].parent.mkdir(parents=True, exist_ok=True)
            ensemble.save(paths[fold])
            print(f"seed {config.seed}: outer fold {fold} trained", flush=True)

        with WorkerTrainer(count_usable_cores()) as trainer:
            nested_oof_probabilities(data, config, on_fold=keep, trainer=trainer,
                                     one_lead=one_lead if config.one_lead_fraction else None)
    return [read_keras_file(p) for p in paths]


def check_fold_ensembles(ensembles: list, config, data, cached: np.ndarray) -> float:
    """The largest difference between the ensembles' probabilities of their held-out patients' beats and the cached
    nested probabilities ``cached``: the ensembles must be those of the cache."""
    fold_of = assign_patient_folds(data.record_names, data.labels, config.n_folds)
    outer = np.array([fold_of[n] for n in data.record_names])
    largest = 0.0
    for fold, ensemble in enumerate(ensembles):
        held_out = outer == fold
        p = ensemble.predict(data.select(held_out).inputs.as_dict(), batch_size=1024, verbose=0)
        largest = max(largest, float(np.max(np.abs(p - cached[held_out]))))
    return largest


def score_candidate(config, data, one_lead) -> dict:
    nested, detected, one = nested_three_ways(config, data, one_lead)
    reference, e2e, one_staged = staged_probabilities(nested, config, data, nested, detected,
                                                      also=(one, one_lead.inputs.features))
    out = score_variant(config, data, data.inputs.feature_names, reference, e2e)
    one_scores = scores(data.labels, classify_with_config(one_staged, one_lead, config))
    out["one_lead"] = {"beats": {k: v for k, v in one_scores.items() if k != "matrix"},
                       "matrix": one_scores["matrix"]}
    b = out["one_lead"]["beats"]
    print(f"seed {config.seed}, fraction {config.one_lead_fraction}: {describe(out)} | one lead: S "
          f"{100 * b['S_se']:.1f}/{100 * b['S_ppv']:.1f} V {100 * b['V_se']:.1f}/{100 * b['V_ppv']:.1f} "
          f"score {b['score']:.3f}", flush=True)
    return out


def check_criterion(by_seed: dict, seeds: tuple[int, ...] = SEEDS) -> dict:
    """The module docstring's criterion, part by part, over ``seeds``; with other seeds than (0, 1), also the
    confirmation (a') and (d')."""
    def beats(variant, way, key, seed=None):
        chosen = seeds if seed is None else (seed,)
        return float(np.mean([by_seed[s][variant][way]["beats"][key] for s in chosen]))

    def region(variant, key):
        return float(np.mean([by_seed[s][variant]["end_to_end"]["regions"]["V_couplet"][key] for s in seeds]))

    a = all(beats("candidate", w, "score") >= beats("baseline", w, "score") - 0.005 and
            all(beats("candidate", w, "score", s) >= beats("baseline", w, "score", s) - 0.015 for s in seeds)
            for w in WAYS)
    b = all(beats("candidate", w, k) >= beats("baseline", w, k) - 0.015
            for w in WAYS for k in ("S_se", "S_ppv", "V_se", "V_ppv"))
    c = all(region("candidate", k) >= region("baseline", k) - 0.02 for k in ("se", "ppv"))
    d = (beats("candidate", "one_lead", "score") >= beats("baseline", "one_lead", "score") + 0.03 and
         all(beats("candidate", "one_lead", "score", s) > beats("baseline", "one_lead", "score", s) for s in seeds) and
         beats("candidate", "one_lead", "V_se") > beats("baseline", "one_lead", "V_se"))
    two_lead_gain = all(beats("candidate", w, "score") >= beats("baseline", w, "score") + 0.01 and
                        all(beats("candidate", w, "score", s) > beats("baseline", w, "score", s) for s in seeds)
                        for w in WAYS)
    means = {v: {w: {k: beats(v, w, k) for k in ("S_se", "S_ppv", "V_se", "V_ppv", "score")}
                 for w in WAYS + ("one_lead",)} for v in ("baseline", "candidate")}
    verdict = {"a_two_lead_score": a, "b_two_lead_se_ppv": b, "c_couplets": c, "d_one_lead": d,
               "met": a and b and c and d, "two_lead_gain": two_lead_gain, "means": means}
    if tuple(seeds) != SEEDS:
        a_seed = all(beats("candidate", w, "score", s) >= beats("baseline", w, "score", s) - 0.015
                     for w in WAYS for s in seeds)
        d_seed = all(beats("candidate", "one_lead", "score", s) > beats("baseline", "one_lead", "score", s)
                     for s in seeds)
        verdict["confirmation"] = {"a_prime": a_seed, "d_prime": d_seed, "confirmed": a_seed and d_seed}
    return verdict


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    fraction = CANDIDATE_FRACTION
    if "--fraction" in argv:
        at = argv.index("--fraction")
        fraction = float(argv[at + 1])
        del argv[at:at + 2]
    seeds = SEEDS
    if "--seeds" in argv:
        at = argv.index("--seeds")
        following = argv[at + 1:]
        count = next((i for i, a in enumerate(following) if a.startswith("--")), len(following))
        seeds = tuple(int(a) for a in following[:count])
        del argv[at:at + 1 + count]
    config, data, config_path = load_study_inputs(__doc__.splitlines()[0], argv)
    config = dataclasses.replace(config, one_lead_fraction=0.0)  # the baseline has no one-lead copies
    one_lead = load_one_lead_inputs(config)
    by_seed = {}
    for seed in seeds:
        base = dataclasses.replace(config, seed=seed)
        by_seed[seed] = {"baseline": score_candidate(base, data, one_lead),
                         "candidate": score_candidate(dataclasses.replace(base, one_lead_fraction=fraction),
                                                      data, one_lead)}
    verdict = check_criterion(by_seed, seeds)
    print({k: v for k, v in verdict.items() if k != "means"})
    for variant, ways in verdict["means"].items():
        print(variant, {w: {k: round(100 * x, 1) if k != "score" else round(x, 3) for k, x in m.items()}
                        for w, m in ways.items()})
    name = "one_lead_training_study" + ("" if fraction == CANDIDATE_FRACTION else f"-fraction{fraction:g}")
    name += "" if seeds == SEEDS else "-seeds" + "-".join(str(s) for s in seeds)
    write_results(results_path(name, config_path),
                  {"config": str(config_path), "candidate_fraction": fraction, "seeds": list(seeds),
                   "by_seed": {str(s): v for s, v in by_seed.items()}, "verdict": verdict})
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
