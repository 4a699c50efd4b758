"""A look, choosing nothing: DS1's ventricular runs flagged in noise on one lead, true against false, and how the clean
lead's QRS of their V beats compares with the record's dominant beat.

Why: DS1's false ventricular runs of 3 beats or more come mostly from record 108, in noise the quality module flags on
one lead (session 61, EXPERIMENTS.md row BP's rows). A V beat is unlike the dominant beat on every lead, as a rule; if
the clean lead of such runs showed the dominant QRS, a rule could give their beats back N. This script measures whether
it does, before any rule is written.

Set-up (DS1 only; DS2 not read): the shipped configuration's nested ensembles of one seed, end to end, every rule, as
``experiments/run_confidence_study.py`` labels them (:func:`experiments.run_confidence_study.label_seed`'s steps);
each ventricular couplet and run of 3 or more after the first 5 minutes, true or false as ``rxr``'s +P counts it; the
leads flagged noisy over it (:func:`pipeline.regions.find_noisy_leads`); the median, over its V beats, of the QRS
correlation with the dominant beat on each lead (``qrs_corr_lead0``, ``qrs_corr_lead1``) and of the QRS width
difference (``qrs_width_diff_ms``).

Usage: PYTHONPATH=. .venv/bin/python experiments/noisy_run_morphology.py [--config FILE] [--seed 18]
(about 4 minutes not cached; results: experiments/results/noisy_run_morphology.json)
"""

from __future__ import annotations

import argparse
import dataclasses
import sys

import numpy as np

from app.config import require_data_dir
from experiments.context_plain_fit_study import staged_probabilities
from experiments.event_timing_study import label_record
from experiments.one_lead_training_study import nested_three_ways
from experiments.run_confidence_study import RUN_KINDS, SYMBOLS
from experiments.s_rule_study import load_one_lead_inputs, load_study_inputs, results_path, write_results
from experiments.s_run_rule_study import configured_rules
from pipeline.detect import detect_record_peaks
from pipeline.quality import find_record_quality_spans
from pipeline.records import read_record
from pipeline.region_eval import (REFERENCE_ANNOTATOR, find_episode_spans, flag_record_regions, longest_run_in_window,
                                  map_run_codes)
from pipeline.regions import RegionSettings, find_noisy_leads
from pipeline.scoring import MATCH_WINDOW_S, SCORE_START_S

COLUMNS = ("qrs_corr_lead0", "qrs_corr_lead1", "qrs_width_diff_ms")


def describe_runs(name: str, parts: dict, rules, names: list[str], config) -> list[dict]:
    """One row per ventricular couplet or run of one held-out record: truth, noisy leads and its V beats' QRS."""
    positions, classes, in_family = label_record(name, parts, rules, names, config, "candidate")
    features = np.asarray(parts["features"])
    column = {c: names.index(c) for c in COLUMNS}
    record = read_record(require_data_dir(None) / name, annotator=REFERENCE_ANNOTATOR)
    detection = detect_record_peaks(record)
    spans = find_record_quality_spans(record.signal_mv, record.fs_hz, positions, detection.noise_only)
    regions = flag_record_regions(record, positions, SYMBOLS[classes], spans, RegionSettings(),
                                  detected_samples=detection.wave_samples, af_excluded_beats=in_family)
    noisy = find_noisy_leads(regions, spans, record.signal_mv.shape[1], record.fs_hz)
    times, codes = record.annotations.samples, map_run_codes(record.annotations)
    episodes = find_episode_spans(times, codes, "ventricular")
    window, start = int(round(MATCH_WINDOW_S * record.fs_hz)), int(round(SCORE_START_S * record.fs_hz))
    rows = []
    for region, leads in zip(regions, noisy):
        if region.kind not in RUN_KINDS or region.start < start:
            continue
        beats = np.arange(region.first_beat, region.first_beat + region.n_beats)
        least = 2 if region.n_beats == 2 else 3 if region.n_beats < 6 else 6
        found = longest_run_in_window(times, codes, episodes, "ventricular", int(positions[beats][0]) - window,
                                      int(positions[beats][-1]) + window)
        v_beats = beats[SYMBOLS[classes[beats]] == "V"]
        rows.append({"record": name, "start_s": round(region.start / record.fs_hz, 1), "n_beats": region.n_beats,
                     "true": bool(found >= least), "noisy_leads": list(leads),
                     **{c: round(float(np.median(features[v_beats, column[c]])), 3) if len(v_beats) else None
                        for c in COLUMNS}})
    return rows


def summarise(rows: list[dict]) -> dict:
    """Per group (couplets, runs of 3 or more) and noise (one lead flagged, or none): true and false counts; for the
    flagged ones, the median clean-lead correlation and width difference of true and false runs."""
    out = {}
    for group, members in (("couplets", [r for r in rows if r["n_beats"] == 2]),
                           ("three_or_more", [r for r in rows if r["n_beats"] >= 3])):
        flagged = [r for r in members if len(r["noisy_leads"]) == 1]
        clean = [r for r in members if not r["noisy_leads"]]
        out[group] = {"one_lead_noisy": {"true": sum(r["true"] for r in flagged),
                                         "false": sum(not r["true"] for r in flagged)},
                      "no_noise": {"true": sum(r["true"] for r in clean), "false": sum(not r["true"] for r in clean)}}
        for truth in (True, False):
            chosen = [r for r in flagged if r["true"] == truth and r["qrs_width_diff_ms"] is not None]
            corr = [r["qrs_corr_lead1"] if r["noisy_leads"] == [0] else r["qrs_corr_lead0"] for r in chosen]
            out[group]["one_lead_noisy"]["true_clean_corr" if truth else "false_clean_corr"] = (
                round(float(np.median(corr)), 3) if corr else None)
            out[group]["one_lead_noisy"]["true_width_diff" if truth else "false_width_diff"] = (
                round(float(np.median([r["qrs_width_diff_ms"] for r in chosen])), 1) if chosen else None)
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=18)
    known, rest = parser.parse_known_args(argv)
    config, data, config_path = load_study_inputs(__doc__.splitlines()[0], rest)
    config = dataclasses.replace(config, seed=known.seed)
    one_lead = load_one_lead_inputs(config)
    nested, two_leads, _ = nested_three_ways(config, data, one_lead)
    _, e2e, _ = staged_probabilities(nested, config, data, nested, two_leads)
    rules, names = configured_rules(config), data.inputs.feature_names
    rows = [row for name, parts in sorted(e2e.items()) for row in describe_runs(name, parts, rules, names, config)]
    summary = summarise(rows)
    print(summary)
    write_results(results_path("noisy_run_morphology", config_path),
                  {"config": str(config_path), "seed": known.seed, "summary": summary,
                   "flagged_runs": [r for r in rows if r["noisy_leads"]]})
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
