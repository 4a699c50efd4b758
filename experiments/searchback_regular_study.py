"""Study: the search-back's gap measured on the regular RR intervals only (Pan and Tompkins's RR AVERAGE2), DS1 only.

Row AL (session 28) shortened the search-back's gap from 1.66 to 1.4 times the mean of the 8 most recent RR intervals.
The noise stress test run after it (``benchmarks/detector_noise.py``, 10 default records, BENCHMARKS.md section 4)
showed the cost: extra detections at 0 dB white noise 2,436 -> 6,144, at 0 dB baseline wander 37 -> 100, at 6 dB white
29 -> 43 (no change at 12 dB and above). A likely mechanism: every false beat splits an interval in two, the plain
mean of recent intervals shortens, the search-back starts sooner and finds more noise. Pan and Tompkins (1985) measure
the search-back's gap on a second average, of the recent intervals within 92-116 % of it (RR AVERAGE2), which the
short intervals of a false or premature beat do not enter (:class:`pipeline.detect.RegularIntervals`; after 8
intervals in a row outside the limits it restarts from the last 8, as they fall back to the plain average).

Settings (``pipeline.detect.DetectorSettings``): ``current`` (1.4, plain mean: shipped since row AL); ``before``
(1.66, plain mean: shipped before row AL; noise stress only, its end-to-end figures are row AL's); candidates
``regular1.66`` (1.66 times the regular average: Pan and Tompkins's rule) and ``regular1.4``.

Measured on DS1 only: noise stress on DS1's clean records 101, 112, 116, 119, 122, 205, 215, 220, 230 (white, baseline
and muscle noise, 24-0 dB, the benchmark's seed); EC57 missed and extra beats from 5 minutes; end to end with the
nested networks of seeds 0 and 1 (``experiments/searchback_study.py``'s scoring: the product's context stage, every
rule, the AF rule; V runs, episodes and pauses). DS2 is not read.

Criterion, written before the run, for a candidate to replace ``current``:
(a) noise stress: total extra detections over all noise rows at most 1.1 times ``before``'s;
(b) DS1 missed plus extra beats at most ``current``'s + 10;
(c) end to end, seeds 0 and 1: selection score at least ``current``'s - 0.002 at each seed; no averaged V or S Se or +P
    more than 0.5 point lower; DS1 false pauses (averaged) not more than ``current``'s.
Of the candidates that meet (a)-(c), the one with the fewest DS1 missed plus extra beats is chosen. Confirmation,
written at the same time: at seed 2 its score is at least ``current``'s - 0.002. Adopted (the detector's defaults
change, every end-to-end figure is measured again) when chosen and confirmed; otherwise ``current`` stays and the noise
figures go to the planners.

Usage: PYTHONPATH=. .venv/bin/python experiments/searchback_regular_study.py [--config configs/bundled.toml]
(the nested inner ensembles cached by experiments/searchback_study.py; results:
experiments/results/searchback_regular_study.json)
"""

from __future__ import annotations

import dataclasses
import sys
from dataclasses import replace

from app.config import require_data_dir
from benchmarks.common import load_records
from benchmarks.detector_noise import DEFAULT_SNRS_DB, NOISE_GENERATORS, run_stress_test
from experiments.one_lead_training_study import nested_three_ways
from experiments.s_rule_study import load_one_lead_inputs, load_study_inputs, results_path, write_results
from experiments.searchback_study import (choose_fewest_errors, count_detector_errors, describe, detected_by_setting,
                                          end_to_end_guard, mean_beats, score_setting)
from pipeline.detect import DetectorSettings

CURRENT = DetectorSettings(searchback_rr_factor=1.4, searchback_regular_rr=False, searchback_noise_floor=0.0)
"""Row AL's detector (shipped since session 28), the search-back's noise floor of rows AP and AQ pinned off."""
SETTINGS = {"current": CURRENT, "regular1.66": replace(CURRENT, searchback_rr_factor=1.66, searchback_regular_rr=True),
            "regular1.4": replace(CURRENT, searchback_regular_rr=True)}
BEFORE = replace(CURRENT, searchback_rr_factor=1.66)
CANDIDATES = ("regular1.66", "regular1.4")
NOISE_RECORDS = ("101", "112", "116", "119", "122", "205", "215", "220", "230")
NOISE_SEED = 20240501
SEEDS = (0, 1)
CONFIRMATION_SEED = 2
BEAT_KEYS = ("S_se", "S_ppv", "V_se", "V_ppv")


def noise_stress(settings: DetectorSettings, records) -> dict:
    """Missed and extra detections per noise row (type, SNR) on DS1's clean records, and the totals."""
    results = run_stress_test(records, tuple(NOISE_GENERATORS), DEFAULT_SNRS_DB, NOISE_SEED, settings)
    rows = {f"{kind} {snr:g}": {"fn": sum(c.fn for c in by_record.values()),
                                "fp": sum(c.fp for c in by_record.values())}
            for (kind, snr), by_record in results.items() if kind != "none"}
    return {"rows": rows, "fp_total": sum(r["fp"] for r in rows.values()),
            "fn_total": sum(r["fn"] for r in rows.values())}


def score_seed(config, data, one_lead, settings: dict, cache_name: str) -> tuple[dict, dict]:
    """Figures of every detector setting (``settings``: name -> :class:`DetectorSettings`) at this seed, and the
    detected beats (cached as ``<nested stem>-<cache_name>.npz``)."""
    nested, _, _ = nested_three_ways(config, data, one_lead)
    detected, difference = detected_by_setting(config, data, one_lead, nested, settings, cache_name)
    out = {"retrain_check_max_abs_difference": difference}
    for setting in settings:
        out[setting] = score_setting(config, data, nested, detected[setting])
        print(f"seed {config.seed}, {setting}: {describe(out[setting])}", flush=True)
    return out, detected


def check_criterion(by_seed: dict, noise: dict, errors: dict, candidates: tuple[str, ...] = CANDIDATES,
                    seeds: tuple[int, ...] = SEEDS, extra_clause=None) -> dict:
    """The module docstring's criterion, candidate by candidate, and the choice; ``extra_clause(by_seed, candidate,
    seeds)``, when given, must hold too (a later study's own clause)."""
    verdicts = {}
    for c in candidates:
        a = noise[c]["fp_total"] <= 1.1 * noise["before"]["fp_total"]
        b = errors[c]["fn"] + errors[c]["fp"] <= errors["current"]["fn"] + errors["current"]["fp"] + 10
        cc = all(end_to_end_guard(by_seed, c, "current", seeds))
        d = True if extra_clause is None else bool(extra_clause(by_seed, c, seeds))
        verdicts[c] = {"a_noise": a, "b_ds1_detection": b, "c_end_to_end": cc, "met": a and b and cc and d,
                       "ds1_fn_plus_fp": errors[c]["fn"] + errors[c]["fp"]}
        if extra_clause is not None:
            verdicts[c]["d_extra"] = d
    return choose_fewest_errors(verdicts, {s: {k: mean_beats(by_seed, s, k, seeds) for k in BEAT_KEYS + ("score",)}
                                           for s in ("current",) + tuple(candidates)})


def run_study(settings: dict, candidates: tuple[str, ...], name: str, description: str, argv=None,
              seeds: tuple[int, ...] = SEEDS, confirmation_seed: int = CONFIRMATION_SEED, extra_clause=None) -> int:
    """Noise stress, DS1 detection errors and end-to-end figures of ``settings`` (with ``"current"`` among them), the
    criterion of this module's docstring for ``candidates`` (with ``extra_clause``, :func:`check_criterion`) at
    ``seeds``, the confirmation at ``confirmation_seed``; results in ``experiments/results/<name>_study.json``."""
    config, data, config_path = load_study_inputs(description, argv)
    one_lead = load_one_lead_inputs(config)
    records = load_records(NOISE_RECORDS, require_data_dir(None))
    noise = {n: noise_stress(s, records) for n, s in (settings | {"before": BEFORE}).items()}
    for n, figures in noise.items():
        print(f"noise stress, {n}: {figures['fp_total']} extra, {figures['fn_total']} missed; {figures['rows']}",
              flush=True)
    by_seed, errors = {}, None
    for seed in seeds:
        by_seed[seed], detected = score_seed(dataclasses.replace(config, seed=seed), data, one_lead, settings, name)
        errors = errors or count_detector_errors(detected)
    print("DS1 detector errors (FN / FP from 5 minutes):", errors)
    verdict = check_criterion(by_seed, noise, errors, candidates, seeds, extra_clause)
    print(verdict["candidates"], "chosen:", verdict["chosen"])
    if verdict["chosen"] is not None:
        c, s = verdict["chosen"], confirmation_seed
        by_seed[s], _ = score_seed(dataclasses.replace(config, seed=s), data, one_lead, settings, name)
        verdict["confirmed"] = by_seed[s][c]["beats"]["score"] >= by_seed[s]["current"]["beats"]["score"] - 0.002
        print("confirmation at seed", s, verdict["confirmed"])
    write_results(results_path(f"{name}_study", config_path),
                  {"config": str(config_path), "settings": {k: dataclasses.asdict(v) for k, v in settings.items()},
                   "before": dataclasses.asdict(BEFORE), "noise_records": list(NOISE_RECORDS), "noise": noise,
                   "detector_errors_ds1": errors, "by_seed": {str(s): v for s, v in by_seed.items()},
                   "verdict": verdict})
    return 0


def main(argv=None) -> int:
    return run_study(SETTINGS, CANDIDATES, "searchback_regular", __doc__.splitlines()[0], argv)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
