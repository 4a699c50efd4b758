"""Study: the detector's search-back settings end to end, with networks that never saw the patient (DS1 nested only).

Session 27 scanned the detector's search-back (``benchmarks/detector_searchback_scan.py``, BENCHMARKS.md section 16)
and changed nothing: a shorter RR gap before searching again (``searchback_rr_factor``) and a lower threshold there
(``searchback_fraction``) find most of MIT-BIH 201's missed aberrated atrial premature beats, at a few more extra
detections, and extra detections in noise can become false V calls end to end (issue 3's unmet V +P). Missed beats
also make false pauses (DS1 pause +P 75 %, 15/20, the 5 false ones in 201). The scan's DS1 figures (EC57 from 5
minutes, FN / FP): shipped (1.66, 0.6) 82 / 44; (1.4, 0.6) 64 / 46; (1.4, 0.5) 37 / 49; (1.3, 0.5) 31 / 50. This study
asks what those detections do to the classes users get.

For seeds 0 and 1 of the shipped configuration (``configs/bundled.toml``), each outer fold of the nested scheme is
predicted by its inner ensemble (the trainings of ``experiments/one_lead_training_study.py --fraction 0.2``,
retrained: CPU training on this machine reproduces them, which the study checks against the cache; the inner
ensembles are kept in ``.cache/oof/`` so that later detector studies need not retrain). Each held-out DS1 record's
beats are detected with each setting below, prepared and predicted as the product does; then, as in the product,
the context stage (fitted fold by fold on the other folds' nested probabilities at the reference positions,
unchanged by the detector) and every decision rule, the AF rule last. Scored end to end against the reference
annotations (EC57 beat matching within 150 ms from the record's start, as the other nested studies; V runs and
rhythm episodes and pauses by the region evaluation, from 5 minutes). DS2 is not read.

Candidates (the scan's rows whose DS1 columns miss fewer beats than the shipped setting's for at most 6 more extra
detections): (1.4, 0.6), (1.4, 0.5), (1.3, 0.5).

Criterion, written before the run, for each candidate against the shipped setting (seeds 0 and 1, end to end):
(a) selection score at least the shipped setting's - 0.002 at each seed;
(b) no averaged V or S Se or +P more than 0.5 point lower;
(c) averaged V couplet and short-run Se and +P, and bigeminy and VT episode Se, not more than 2 points lower;
(d) DS1 false pauses (flagged, not confirmed) not more than the shipped setting's (averaged over the seeds).
Of the candidates that meet (a)-(d), the one with the fewest DS1 missed plus extra beats (EC57 from 5 minutes,
computed here) is chosen. Confirmation, written at the same time: at seed 2, (a) holds for it. Adopted (the
detector's defaults in ``pipeline.detect.DetectorSettings`` change, and every end-to-end figure is measured again)
when a candidate is chosen and confirmed; otherwise logged as not adopted.

Usage: PYTHONPATH=. .venv/bin/python experiments/searchback_study.py [--config configs/bundled.toml]
(8 nested trainings per seed where the inner ensembles are not cached yet, about 6 minutes each on the 2-core
machine, two at a time; detections and predictions cached in ``.cache/oof/``; results:
experiments/results/searchback_study.json)
"""

from __future__ import annotations

import dataclasses
import sys
from dataclasses import replace

import numpy as np

from app.config import require_data_dir
from experiments.context_plain_fit_study import staged_probabilities
from experiments.context_stage_study import strip
from experiments.nested_oof import decide_end_to_end, oof_cache_path, score_detected_classes
from experiments.one_lead_training_study import check_fold_ensembles, fold_ensembles, nested_three_ways
from experiments.s_rule_study import load_one_lead_inputs, load_study_inputs, results_path, write_results
from experiments.s_run_rule_study import configured_rules
from experiments.v_run_study import fmt_regions, region_figures
from models.folds import assign_patient_folds
from models.prepare import prepare_beats
from pipeline.detect import DetectorSettings, detect_record_peaks
from pipeline.records import read_record
from pipeline.scoring import compare_beats

SETTINGS = {"shipped": (1.66, 0.6), "rr1.4": (1.4, 0.6), "rr1.4-f0.5": (1.4, 0.5), "rr1.3-f0.5": (1.3, 0.5)}
"""name: (searchback_rr_factor, searchback_fraction); the first was the shipped detector's when the study ran
(Pan and Tompkins's values); since the study the detector ships ``rr1.4``."""
CANDIDATES = tuple(SETTINGS)[1:]
SEEDS = (0, 1)
CONFIRMATION_SEED = 2
BEAT_KEYS = ("S_se", "S_ppv", "V_se", "V_ppv")


def detector_settings(name: str) -> DetectorSettings:
    rr_factor, fraction = SETTINGS[name]
    return replace(DetectorSettings(), searchback_rr_factor=rr_factor, searchback_fraction=fraction)


def detected_by_setting(config, data, one_lead, cached: np.ndarray, settings: dict | None = None,
                        cache_name: str = "searchback") -> tuple[dict, float]:
    """Per detector setting (``settings``: name -> :class:`DetectorSettings`, default this study's), per DS1 record:
    detected beats, their nested probabilities and features (cached as ``<nested stem>-<cache_name>.npz``), and the
    check of :func:`experiments.one_lead_training_study.check_fold_ensembles`."""
    settings = settings or {name: detector_settings(name) for name in SETTINGS}
    path = oof_cache_path("nested2t-onelead", config)
    out_path = path.with_name(f"{path.stem}-{cache_name}.npz")
    if out_path.exists():
        with np.load(out_path) as z:
            stored = {k: z[k] for k in z.files}
    else:
        ensembles = fold_ensembles(config, data, one_lead)
        stored = {"check/max_abs_difference": np.array(check_fold_ensembles(ensembles, config, data, cached))}
        print(f"seed {config.seed}: the inner ensembles' probabilities differ from the cached nested ones by at most "
              f"{float(stored['check/max_abs_difference']):.2e}", flush=True)
        fold_of = assign_patient_folds(data.record_names, data.labels, config.n_folds)
        for name in sorted(fold_of):
            record = read_record(require_data_dir(None) / name)
            for setting, detector in settings.items():
                samples = detect_record_peaks(record, detector).samples
                prepared = prepare_beats(record, samples, config.inputs)
                stored[f"{setting}/{name}/samples"] = samples
                stored[f"{setting}/{name}/probabilities"] = ensembles[fold_of[name]].predict(
                    prepared.inputs.as_dict(), batch_size=1024, verbose=0)
                stored[f"{setting}/{name}/features"] = prepared.inputs.features
        np.savez(out_path, **stored)
    difference = float(stored.pop("check/max_abs_difference"))
    detected: dict = {}
    for key, array in stored.items():
        setting, name, part = key.split("/")
        detected.setdefault(setting, {}).setdefault(name, {})[part] = array
    return detected, difference


def check_against_cache(detected: dict, cached: dict) -> float:
    """The detections of the setting that is the detector's default now must be the cached end-to-end ones (cached
    under that detector's settings, :func:`experiments.nested_oof.detected_cache_path`); the largest probability
    difference."""
    current = next(s for s in SETTINGS if detector_settings(s) == DetectorSettings())
    largest = 0.0
    for name, parts in cached.items():
        if not np.array_equal(detected[current][name]["samples"], parts["samples"]):
            raise ValueError(f"Record {name}: the detector's beats differ from the cached end-to-end ones.")
        largest = max(largest, float(np.max(np.abs(detected[current][name]["probabilities"] -
                                                   parts["probabilities"]))))
    return largest


def count_detector_errors(detected: dict) -> dict:
    """DS1 missed and extra beats of each setting (EC57 matching from 5 minutes, as the detector benchmarks)."""
    out = {}
    for setting, records in detected.items():
        fn = fp = 0
        for name, parts in records.items():
            record = read_record(require_data_dir(None) / name)
            match = compare_beats(record.annotations, parts["samples"], record.fs_hz, record.n_samples, start_s=300.0)
            fn, fp = fn + len(match.missed), fp + len(match.extra)
        out[setting] = {"fn": fn, "fp": fp}
    return out


def score_setting(config, data, nested: np.ndarray, detected: dict) -> dict:
    """End-to-end beat and region figures of the product's stage and rules on these detected beats."""
    _, staged, _ = staged_probabilities(nested, config, data, nested, detected)
    rules, names = configured_rules(config), data.inputs.feature_names
    classes = {n: decide_end_to_end(n, p, rules, names, config.af_rule) for n, p in staged.items()}
    order = sorted(detected)
    return {"beats": strip(score_detected_classes(detected, classes)),
            "regions": region_figures(require_data_dir(None), np.concatenate([detected[n]["samples"] for n in order]),
                                      np.concatenate([classes[n] for n in order]),
                                      np.concatenate([np.full(len(classes[n]), n) for n in order]))}


def score_seed(config, data, one_lead) -> dict:
    nested, cached_e2e, _ = nested_three_ways(config, data, one_lead)
    detected, retrain_difference = detected_by_setting(config, data, one_lead, nested)
    out = {"retrain_check_max_abs_difference": retrain_difference,
           "default_detector_e2e_max_abs_difference": check_against_cache(detected, cached_e2e)}
    for setting in SETTINGS:
        out[setting] = score_setting(config, data, nested, detected[setting])
        print(f"seed {config.seed}, {setting}: {describe(out[setting])}", flush=True)
    return out


def describe(figures: dict) -> str:
    b, p = figures["beats"], figures["regions"]["pauses"]
    return (f"S {100 * b['S_se']:.1f}/{100 * b['S_ppv']:.1f} V {100 * b['V_se']:.1f}/{100 * b['V_ppv']:.1f} "
            f"score {b['score']:.3f} [{fmt_regions(figures['regions'])}] pauses {p['confirmed']}/{p['flagged']} "
            f"confirmed, {p['found']}/{p['reference']} found")


def mean_beats(by_seed: dict, setting: str, key: str, seeds=SEEDS) -> float:
    """A setting's end-to-end beat figure ``key`` averaged over ``seeds``."""
    return float(np.mean([by_seed[s][setting]["beats"][key] for s in seeds]))


def end_to_end_guard(by_seed: dict, candidate: str, baseline: str, seeds=SEEDS) -> tuple[bool, bool, bool]:
    """The end-to-end part of the criteria of this study and of ``experiments/searchback_regular_study.py``: the
    candidate's selection score at least the baseline's - 0.002 at each seed; no averaged V or S Se or +P more than 0.5
    point lower; DS1 false pauses (flagged, not confirmed; averaged) not more."""
    def false_pauses(setting):
        return float(np.mean([by_seed[s][setting]["regions"]["pauses"]["flagged"] -
                              by_seed[s][setting]["regions"]["pauses"]["confirmed"] for s in seeds]))

    score = all(mean_beats(by_seed, candidate, "score", (s,)) >= mean_beats(by_seed, baseline, "score", (s,)) - 0.002
                for s in seeds)
    se_ppv = all(mean_beats(by_seed, candidate, k, seeds) >= mean_beats(by_seed, baseline, k, seeds) - 0.005
                 for k in BEAT_KEYS)
    return score, se_ppv, false_pauses(candidate) <= false_pauses(baseline)


def choose_fewest_errors(verdicts: dict, settings) -> dict:
    """The verdicts, the candidate meeting its criterion with the fewest DS1 missed plus extra beats (None when none
    does), and every setting's averaged end-to-end figures: a study's results."""
    passing = [c for c, v in verdicts.items() if v["met"]]
    return {"candidates": verdicts,
            "chosen": min(passing, key=lambda c: verdicts[c]["ds1_fn_plus_fp"]) if passing else None,
            "means": settings}


def check_criterion(by_seed: dict, errors: dict) -> dict:
    """The module docstring's criterion, candidate by candidate, and the choice."""
    def region(setting, name, key):
        return float(np.mean([by_seed[s][setting]["regions"][name][key] for s in SEEDS]))

    verdicts = {}
    for c in CANDIDATES:
        a, b, d = end_to_end_guard(by_seed, c, "shipped")
        cc = (all(region(c, f"V_{run}", k) >= region("shipped", f"V_{run}", k) - 0.02
                  for run in ("couplet", "short") for k in ("se", "ppv")) and
              all(region(c, n, "episode_se") >= region("shipped", n, "episode_se") - 0.02 for n in ("bigeminy", "vt")))
        verdicts[c] = {"a_score": a, "b_se_ppv": b, "c_regions": cc, "d_pauses": d, "met": a and b and cc and d,
                       "ds1_fn_plus_fp": errors[c]["fn"] + errors[c]["fp"]}
    return choose_fewest_errors(verdicts, {s: {k: mean_beats(by_seed, s, k) for k in BEAT_KEYS + ("score",)}
                                           for s in SETTINGS})


def main(argv=None) -> int:
    config, data, config_path = load_study_inputs(__doc__.splitlines()[0], argv)
    one_lead = load_one_lead_inputs(config)
    by_seed = {s: score_seed(dataclasses.replace(config, seed=s), data, one_lead) for s in SEEDS}
    first = dataclasses.replace(config, seed=SEEDS[0])
    errors = count_detector_errors(detected_by_setting(first, data, one_lead,
                                                       nested_three_ways(first, data, one_lead)[0])[0])
    print("DS1 detector errors (FN / FP from 5 minutes):", errors)
    verdict = check_criterion(by_seed, errors)
    print({c: v for c, v in verdict["candidates"].items()}, "chosen:", verdict["chosen"])
    if verdict["chosen"] is not None:
        by_seed[CONFIRMATION_SEED] = score_seed(dataclasses.replace(config, seed=CONFIRMATION_SEED), data, one_lead)
        c, s = verdict["chosen"], CONFIRMATION_SEED
        verdict["confirmed"] = (by_seed[s][c]["beats"]["score"] >= by_seed[s]["shipped"]["beats"]["score"] - 0.002)
        print("confirmation at seed", s, verdict["confirmed"])
    write_results(results_path("searchback_study", config_path),
                  {"config": str(config_path), "settings": SETTINGS, "seeds": list(SEEDS),
                   "confirmation_seed": CONFIRMATION_SEED, "detector_errors_ds1": errors,
                   "by_seed": {str(s): v for s, v in by_seed.items()}, "verdict": verdict})
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
