"""Row BP: how a ventricular run's beat confidences make the run's confidence (the weakest beat, or another summary).

Why: a clinical read of session 60 found DS1 record 223's 96-beat ventricular tachycardia at confidence 0.35, from one
beat (its beats' median 0.91): page 1 marked the longest VT "low confidence" and the report's first strip went to the
other VT. A region's confidence is the share of clean leads times the beat-label confidence of each of its beats, then
the smallest over its beats (:func:`pipeline.regions.group_confidence`). For a couplet that is the chance both beats
are right; for a long run the weakest of 96 beats says little about whether there is a ventricular run there (one
wrong beat splits it, it does not make it false). The reader uses the confidence to doubt an event: under 0.5
(``app.analysis.CONFIDENT_EVENT_MIN``) page 1 and the strips mark it "low confidence". So the question is which
summary makes that mark land on the runs the reference does not have, and not on those it has.

Set-up (DS1 only; DS2 not read): the shipped configuration's nested ensembles of each seed (one-lead copies, the
context stage fitted fold by fold), every per-beat rule, the AF rule and the morphology-family rule, beats at their
timed positions (``experiments/fusion_call_study.py``'s labelling, what ``ecg evaluate-regions --labels model``
scores); the regions as the scorer finds them, with each beat's confidence as the product gives it for a ventricular
beat (the network's probability of the beat's class times its share of clean leads). Each ventricular couplet and run
of 3 beats or more (ventricular tachycardia, idioventricular rhythm) starting after EC57's first 5 minutes is *true*
when the reference has a ventricular run at least as long as its category's least (2 couplets, 3 short runs, 6 long
runs) within 150 ms of its beats, as ``rxr``'s positive predictivity counts it
(:func:`pipeline.region_eval.compare_runs`), else *false*.

Summaries of the run's per-beat confidences (fixed before the run):
- ``min``: the weakest beat (the product);
- ``mean``; ``median``;
- ``strongest3``: the weakest beat of the run's most confident 3 consecutive beats (for a run of 3 the same as
  ``min``): how sure the product is that there is a ventricular run of 3 beats there at all.

Figures per summary, runs of 3 beats or more and couplets apart, pooled over the seeds: the share of true runs under
0.5 (``true_low``), of false runs under 0.5 (``false_low``), ``J = false_low - true_low`` (how much more often the
mark lands on a false run than on a true one), and the AUC of the confidence for true against false.

Criterion, written before the run: a summary replaces ``min`` when, pooled over study seeds 18-20, for runs of 3 beats
or more, its J is at least ``min``'s + 0.05 and its AUC at least ``min``'s - 0.01, and for couplets its J at least
``min``'s - 0.02; of those meeting it, the one with the highest J for runs of 3 or more. Confirmation at seed 21 (its
nested networks never trained before): the chosen summary's J for runs of 3 or more at least ``min``'s there.
Otherwise ``min`` stays, with the figures logged (EXPERIMENTS.md row BP).

Usage: PYTHONPATH=. .venv/bin/python experiments/run_confidence_study.py [--config configs/bundled.toml]
(about 4 minutes a seed not cached; results: experiments/results/run_confidence_study.json)
"""

from __future__ import annotations

import dataclasses
import sys

import numpy as np

from app.config import require_data_dir
from experiments.context_plain_fit_study import staged_probabilities
from experiments.event_timing_study import label_record
from experiments.one_lead_training_study import nested_three_ways
from experiments.s_rule_study import load_one_lead_inputs, load_study_inputs, results_path, write_results
from experiments.s_run_rule_study import configured_rules
from pipeline.detect import detect_record_peaks
from pipeline.labels import AAMI_CLASSES
from pipeline.quality import find_record_quality_spans
from pipeline.records import read_record
from pipeline.region_eval import (REFERENCE_ANNOTATOR, find_episode_spans, flag_record_regions, longest_run_in_window,
                                  map_run_codes)
from pipeline.regions import RegionSettings, clean_lead_fraction
from pipeline.scoring import MATCH_WINDOW_S, SCORE_START_S

STUDY_SEEDS = (18, 19, 20)
CONFIRMATION_SEEDS = (21,)
RUN_KINDS = ("ventricular_couplet", "ventricular_tachycardia", "idioventricular_rhythm")
LOW = 0.5
SUMMARIES = ("min", "mean", "median", "strongest3")
SYMBOLS = np.asarray(AAMI_CLASSES)


def summarise_confidence(values: np.ndarray, how: str) -> float:
    """One run's confidence from its beats' ``values`` by the summary ``how`` (:data:`SUMMARIES`).

    >>> v = np.array([0.9, 0.2, 0.95, 0.9, 0.8])
    >>> [round(summarise_confidence(v, h), 2) for h in SUMMARIES]
    [0.2, 0.75, 0.9, 0.8]
    """
    if how == "min":
        return float(values.min())
    if how == "mean":
        return float(values.mean())
    if how == "median":
        return float(np.median(values))
    if len(values) <= 3:
        return float(values.min())
    windows = np.lib.stride_tricks.sliding_window_view(values, 3)
    return float(windows.min(axis=1).max())


def label_seed(config, data, one_lead) -> dict:
    """``{record: (positions, class indices, family-rule beats, per-beat label confidence)}`` of one seed."""
    nested, two_leads, _ = nested_three_ways(config, data, one_lead)
    _, e2e, _ = staged_probabilities(nested, config, data, nested, two_leads)
    rules, names = configured_rules(config), data.inputs.feature_names
    out = {}
    for name, parts in sorted(e2e.items()):
        positions, classes, in_family = label_record(name, parts, rules, names, config, "candidate")
        probabilities = np.asarray(parts["probabilities"], np.float64)
        label = probabilities[np.arange(len(classes)), classes]
        out[name] = (positions, classes, in_family, np.where(np.isfinite(label), label, 1.0))
    return out


def score_runs(name: str, labelled: tuple) -> list[dict]:
    """Each ventricular couplet and run of one record: its category, size, truth and per-beat confidences (the regions
    and quality spans as :func:`pipeline.region_eval.evaluate_record` makes them)."""
    positions, classes, in_family, label = labelled
    record = read_record(require_data_dir(None) / name, annotator=REFERENCE_ANNOTATOR)
    detection = detect_record_peaks(record)
    n_leads = record.signal_mv.shape[1]
    spans = find_record_quality_spans(record.signal_mv, record.fs_hz, positions, detection.noise_only)
    regions = flag_record_regions(record, positions, SYMBOLS[classes], spans, RegionSettings(),
                                  detected_samples=detection.wave_samples, af_excluded_beats=in_family)
    clean = clean_lead_fraction(positions, spans, n_leads)
    beat_values = clean * label
    times, codes = record.annotations.samples, map_run_codes(record.annotations)
    episodes = find_episode_spans(times, codes, "ventricular")
    window, start = int(round(MATCH_WINDOW_S * record.fs_hz)), int(round(SCORE_START_S * record.fs_hz))
    rows = []
    for region in regions:
        if region.kind not in RUN_KINDS or region.start < start:
            continue
        beats = slice(region.first_beat, region.first_beat + region.n_beats)
        assert abs(clean[beats].min() - region.confidence) < 1e-9, (name, region)  # the scorer's spans, reproduced
        least = 2 if region.n_beats == 2 else 3 if region.n_beats < 6 else 6
        found = longest_run_in_window(times, codes, episodes, "ventricular", int(positions[beats][0]) - window,
                                      int(positions[beats][-1]) + window)
        rows.append({"record": name, "start_s": round(region.start / record.fs_hz, 2), "n_beats": region.n_beats,
                     "category": "couplet" if region.n_beats == 2 else "short" if region.n_beats < 6 else "long",
                     "true": bool(found >= least),
                     **{h: round(summarise_confidence(beat_values[beats], h), 4) for h in SUMMARIES}})
    return rows


def auc(true_values: list[float], false_values: list[float]) -> float:
    """Probability that a true run's confidence exceeds a false run's (ties count half): Mann-Whitney's AUC."""
    if not true_values or not false_values:
        return float("nan")
    t, f = np.asarray(true_values)[:, None], np.asarray(false_values)[None, :]
    return float(((t > f).sum() + 0.5 * (t == f).sum()) / (t.size * f.size))


def summarise_rows(rows: list[dict]) -> dict:
    """Per group (``couplets``, ``three_or_more``, ``long``) and summary: counts, true_low, false_low, J, AUC."""
    groups = {"couplets": [r for r in rows if r["category"] == "couplet"],
              "three_or_more": [r for r in rows if r["category"] != "couplet"],
              "long": [r for r in rows if r["category"] == "long"]}
    out = {}
    for group, members in groups.items():
        true_rows = [r for r in members if r["true"]]
        false_rows = [r for r in members if not r["true"]]
        out[group] = {"n_true": len(true_rows), "n_false": len(false_rows)}
        for how in SUMMARIES:
            t, f = [r[how] for r in true_rows], [r[how] for r in false_rows]
            true_low = float(np.mean(np.asarray(t) < LOW)) if t else float("nan")
            false_low = float(np.mean(np.asarray(f) < LOW)) if f else float("nan")
            out[group][how] = {"true_low": round(true_low, 4), "false_low": round(false_low, 4),
                               "J": round(false_low - true_low, 4), "AUC": round(auc(t, f), 4)}
    return out


def check_criterion(study: dict, confirmation: dict) -> dict:
    """The docstring's criterion on the pooled study figures, then the confirmation."""
    base3, base2 = study["three_or_more"]["min"], study["couplets"]["min"]
    meeting = [h for h in SUMMARIES[1:]
               if study["three_or_more"][h]["J"] >= base3["J"] + 0.05
               and study["three_or_more"][h]["AUC"] >= base3["AUC"] - 0.01
               and study["couplets"][h]["J"] >= base2["J"] - 0.02]
    chosen = max(meeting, key=lambda h: study["three_or_more"][h]["J"]) if meeting else None
    confirmed = (chosen is not None
                 and confirmation["three_or_more"][chosen]["J"] >= confirmation["three_or_more"]["min"]["J"])
    return {"meeting": meeting, "chosen": chosen, "confirmed": confirmed,
            "adopted": chosen if confirmed else "min"}


def main(argv=None) -> int:
    config, data, config_path = load_study_inputs(__doc__.splitlines()[0], argv)
    one_lead = load_one_lead_inputs(config)
    rows_by_seed = {}
    for seed in STUDY_SEEDS + CONFIRMATION_SEEDS:
        labelled = label_seed(dataclasses.replace(config, seed=seed), data, one_lead)
        rows_by_seed[str(seed)] = [row for name, parts in labelled.items() for row in score_runs(name, parts)]
        print(f"seed {seed}: {summarise_rows(rows_by_seed[str(seed)])}", flush=True)
    study = summarise_rows([r for s in STUDY_SEEDS for r in rows_by_seed[str(s)]])
    confirmation = summarise_rows([r for s in CONFIRMATION_SEEDS for r in rows_by_seed[str(s)]])
    verdict = check_criterion(study, confirmation)
    print(f"study seeds {STUDY_SEEDS}: {study}\nconfirmation {CONFIRMATION_SEEDS}: {confirmation}\nverdict: {verdict}")
    write_results(results_path("run_confidence_study", config_path),
                  {"config": str(config_path), "study_seeds": list(STUDY_SEEDS),
                   "confirmation_seeds": list(CONFIRMATION_SEEDS), "study": study, "confirmation": confirmation,
                   "verdict": verdict,  # the runs of 3 beats or more (the couplets' rows made the file 0.5 MB)
                   "rows_by_seed": {s: [r for r in rows if r["category"] != "couplet"]
                                    for s, rows in rows_by_seed.items()}})
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
