"""Study: abrupt baseline steps as noise (the quality rule ``pipeline.quality.find_step_runs``), DS1 only.

Found by session 30's bad-input QA pass: a baseline step of a few millivolts (an electrode pop, a lead pulled) in
otherwise clean signal is not marked by any quality rule, the classifier's baseline filter rings on it, and the beats
around it come out V: in MIT-BIH 100 (first 300 s) 18 steps of 1-3 mV in both leads gave 11-51 V calls where the
clean record has none, with couplets and a "ventricular tachycardia". The new rule marks as noise the points where
the 10th, 50th and 90th percentiles of the signal over 0.5 s all shift by at least ``step_min_mv`` in one direction
from the 0.5 s before, padded by 0.5 s; noise in every lead makes a stretch unreadable, so its beats take part in no
event and no count.

Two parts, DS2 not read:

A. **Steps added to DS1 records.** The first 300 s of DS1 records 101, 112 and 122 (few ectopic beats), with 18
   steps every 15.3 s, alternately up and down, of 1, 2 and 3 mV, either decaying back (time constant 0.5 s or 2 s,
   an AC-coupled recorder) or held for 5 s, added to both leads or to the first lead only. Each is analysed as the
   product does (``app.analysis.analyse_record``, the bundled model) with the rule off and on. Counted: readable
   V calls on beats that are not V in the clean record's analysis (a detected beat matched to the clean analysis's
   nearest beat within 150 ms; an unmatched one counts as not V), i.e. false ventricular calls the steps made.
B. **DS1 as recorded** (electrode pops exist in it: 108, 118, 203, 207, 208, 223). Counted: reference beats that the
   rule makes unreadable (inside a stretch unreadable in every lead with the rule and not without it), by AAMI class;
   and ``pipeline.region_eval.evaluate_regions`` on the 22 DS1 records with reference labels (the region rules
   alone), rule off and on.

Criterion, written before the run:
(a) part A, steps in both leads: the false V calls summed over records, amplitudes and shapes fall by at least 80 %;
(b) part B: the beats made unreadable are at most 0.3 % of DS1's reference beats, and the V beats among them at most
    0.5 % of DS1's V beats;
(c) part B: no row of issue 4's targets (V couplets, short and long runs, VT and bigeminy episodes, AF duration) has
    its Se or +P lower by more than 0.5 point.
Candidates in this order, the first that meets (a)-(c) adopted: ``step_min_mv`` 1.0, then 1.5. Steps in the first
lead only are reported, not judged: noise in one lead lowers the beats' confidence only, and session 27
(``experiments/lead_noise_study.py``) found that reading such beats from the other lead alone loses on DS1.

Round 2, written after round 1 and before running it. Round 1 (``step_min_mv`` 1.0 and 1.5, results in
``experiments/results/baseline_step_study.json``) failed (a) at 1.0 (false V calls 561 -> 227, -60 %) while meeting
(b) (16 beats made unreadable, 1 of them V) and (c) (no row lower): the 1-mV steps, a third of part A, make as many
false V calls as the larger ones and a rule whose threshold is 1 mV cannot find them. Round 2 runs the same
criterion, unchanged, on the candidates 0.7 then 0.5 (``--candidates 0.7 0.5 --round 2``), the first that meets
(a)-(c) adopted; if neither does, the rule stays at 1.0 only if that is decided as a trade and said so, else off.

Round 3, written after round 2 and before running it. Round 2 met (a)-(c) at 0.7 (false V 561 -> 64, 39 beats made
unreadable, 4 of them V, no row lower by more than 0.2 point), but the unit tests written after it showed what the
criterion did not measure: the rule as it was (the jump between two stretches) marks 1 mV of respiratory wander at
0.3 Hz as noise over 52 of 60 s, a steady slope of 1.4 mV/s being a 0.7-mV jump between stretches 0.5 s apart; and
MIT-BIH 119 (DS1) got more than 10 s of noise. The rule now takes from the jump the mean change between the stretches
on either side (a steady slope cancels) and asks the median's jump to be at least the largest spread (90th less 10th
percentile) of the four stretches (a bigeminal rhythm's tall ventricular beats moved the detrended levels of 119 by
more than 0.7 mV). Round 3 runs the same criterion on ``step_min_mv`` 0.7 (``--candidates 0.7 --round 3``), with one
more clause:
(d) the noise the rule adds in one lead or both on DS1 (beyond the spans without it) is at most 1 % of DS1's
    lead-time (2 leads x 22 records).
Adopted when (a)-(d) hold; otherwise the rule ships off (``step_min_mv`` infinite), said so.

Round 4, written after round 3 and before running it. Round 3 met (a) (561 -> 55), (c) and (d) (0.45 % of DS1's
lead-time) but not (b): 22 V beats made unreadable (0.58 % of DS1's V beats, more than 0.5 %), 11 of them a sustained
ventricular rhythm of 223 (610-615 s) whose two alternating shapes, 1.1 s a pair, the detrending amplifies. By that
round's own words the rule would ship off. Round 2's rule cannot ship either: it marks the 1 mV of respiratory wander
of an existing test (``test_steady_baseline_wander_is_not_noise``) as noise. So the statistic changed once more,
to the one the first look at the data used: the baseline taken by median filters of 200 and 600 ms in turn (de Chazal
et al. 2004), which keep a step's edge, and its change within 100 ms; 1 mV of wander at 0.3 Hz moves it by 0.2 mV, and
on 223's sustained ventricular rhythm it finds only the lead-1 step at 614.8 s (both found while choosing the
statistic, with 119 and synthetic steps; no other DS1 figure was looked at). Round 4 runs criterion (a)-(d) on
``step_min_mv`` 0.7 (``--candidates 0.7 --round 4``); adopted when (a)-(d) hold, otherwise the rule ships off.

Usage: PYTHONPATH=. .venv/bin/python experiments/baseline_step_study.py [--data-dir DIR] [--candidates MV ...]
[--round N] (about 10 minutes per candidate on the 2-core machine; results:
experiments/results/baseline_step_study.json, round 2 in baseline_step_study-round2.json)
"""

from __future__ import annotations

import argparse
import functools
import math
from dataclasses import replace
from pathlib import Path

import numpy as np

import app.analysis
from app.config import require_data_dir
from experiments.noise_span_study import summarize
from experiments.s_rule_study import write_results
from models.registry import load_model
from pipeline.quality import QualitySettings, find_record_quality_spans
from pipeline.records import read_record
from pipeline.region_eval import evaluate_regions, label_with_reference
from pipeline.regions import beats_in_kind, find_unreadable_intervals, inside_intervals
from pipeline.splits import DS1

REPO_ROOT = Path(__file__).resolve().parents[1]
RESULTS = REPO_ROOT / "experiments" / "results" / "baseline_step_study.json"
SYNTHETIC_RECORDS = ("101", "112", "122")
AMPLITUDES_MV = (1.0, 2.0, 3.0)
SHAPES = {"decay 0.5 s": 0.5, "decay 2 s": 2.0, "held 5 s": math.inf}
LEAD_SETS = {"both leads": (0, 1), "first lead": (0,)}
CANDIDATES = (1.0, 1.5)
OFF = replace(QualitySettings(), step_min_mv=math.inf)
MATCH_S = 0.15


def add_steps(signal_mv: np.ndarray, fs_hz: float, amplitude_mv: float, time_constant_s: float,
              leads: tuple[int, ...]) -> np.ndarray:
    """``signal_mv`` with a step every 15.3 s from 20 s, alternately up and down."""
    out = signal_mv.copy()
    t = np.arange(out.shape[0]) / fs_hz
    for k, onset_s in enumerate(np.arange(20.0, t[-1] - 10.0, 15.3)):
        dt = t - onset_s
        if math.isinf(time_constant_s):
            shape = ((dt >= 0) & (dt < 5.0)).astype(float)
        else:
            shape = np.where(dt >= 0, np.exp(-np.clip(dt, 0, None) / time_constant_s), 0.0)
        for lead in leads:
            out[:, lead] += ((-1) ** k * amplitude_mv * shape).astype(out.dtype)
    return out


def analyse_with(record, model, quality: QualitySettings):
    """``app.analysis.analyse_record`` with the quality rules of ``quality``."""
    original = app.analysis.find_record_quality_spans
    app.analysis.find_record_quality_spans = functools.partial(find_record_quality_spans, settings=quality)
    try:
        return app.analysis.analyse_record(record, model)
    finally:
        app.analysis.find_record_quality_spans = original


def false_v_mask(analysis, clean) -> tuple[np.ndarray, np.ndarray]:
    """Per beat of ``analysis``: a readable V call on a beat that is not V in ``clean`` (a beat with no beat of
    ``clean`` within 150 ms counts as not V), and whether it has such a nearest beat."""
    samples, classes = analysis.predictions.samples, analysis.classes
    readable = ~beats_in_kind(analysis.regions, "unreadable", len(samples))
    ref_samples, ref_classes = clean.predictions.samples, clean.classes
    index = np.clip(np.searchsorted(ref_samples, samples), 1, len(ref_samples) - 1)
    nearest = np.where(np.abs(ref_samples[index - 1] - samples) <= np.abs(ref_samples[index] - samples),
                       index - 1, index)
    matched = np.abs(ref_samples[nearest] - samples) <= MATCH_S * analysis.record.fs_hz
    was_v = matched & (ref_classes[nearest] == "V")
    return (classes == "V") & ~was_v & readable, matched


def false_v_calls(analysis, clean) -> int:
    """How many :func:`false_v_mask` finds."""
    return int(false_v_mask(analysis, clean)[0].sum())


def synthetic_false_v(data_dir: Path, model, lead_sets: dict, analysers: dict) -> dict:
    """False V calls of each analyser (name -> function of the model and a record, giving its analysis) on the
    synthetic records of part A with steps added to each set of leads in ``lead_sets``."""
    out = {}
    for name in SYNTHETIC_RECORDS:
        record = read_record(data_dir / name)
        n = int(300 * record.fs_hz)
        record = replace(record, signal_mv=record.signal_mv[:n].copy(), annotations=None)
        clean = analyse_with(record, model, OFF)
        for leads_name, leads in lead_sets.items():
            for shape_name, tau in SHAPES.items():
                for amplitude in AMPLITUDES_MV:
                    stepped = replace(record, signal_mv=add_steps(record.signal_mv, record.fs_hz, amplitude, tau,
                                                                  leads))
                    row = {setting: false_v_calls(analyse(model, stepped), clean)
                           for setting, analyse in analysers.items()}
                    out[f"{name} / {leads_name} / {shape_name} / {amplitude:g} mV"] = row
                    print(name, leads_name, shape_name, amplitude, row, flush=True)
    return out


def run_synthetic(data_dir: Path, quality_on: QualitySettings) -> dict:
    model = load_model(REPO_ROOT / "models" / "bundled" / "model.keras")
    return synthetic_false_v(data_dir, model, LEAD_SETS, {
        "off": lambda net, record: analyse_with(record, net, OFF),
        "on": lambda net, record: analyse_with(record, net, quality_on)})


def count_new_unreadable(data_dir: Path, quality_on: QualitySettings) -> dict:
    """Reference beats unreadable with the rule and not without it, by class, over DS1."""
    totals = {"beats": 0, "V": 0, "new": {c: 0 for c in "NSVFQ"}, "by_record": {}, "lead_s": 0.0,
              "new_noise_lead_s": 0.0}
    for name in DS1:
        record = read_record(data_dir / name)
        samples, classes = label_with_reference(record)
        n_leads = record.signal_mv.shape[1]
        inside, covered = [], []
        for quality in (OFF, quality_on):
            spans = find_record_quality_spans(record.signal_mv, record.fs_hz, samples, settings=quality)
            inside.append(inside_intervals(samples, find_unreadable_intervals(spans, n_leads)))
            mask = np.zeros((record.signal_mv.shape[0], n_leads), bool)
            for span in spans:
                mask[span.start:span.stop, span.lead] = True
            covered.append(mask)
        totals["lead_s"] += record.signal_mv.size / record.fs_hz
        totals["new_noise_lead_s"] += float(np.sum(covered[1] & ~covered[0]) / record.fs_hz)
        new = inside[1] & ~inside[0]
        totals["beats"] += len(samples)
        totals["V"] += int(np.sum(classes == "V"))
        for c in "NSVFQ":
            totals["new"][c] += int(np.sum(new & (classes == c)))
        if new.any():
            totals["by_record"][name] = int(new.sum())
    return totals


def judge(synthetic: dict, unreadable: dict, regions: dict) -> dict:
    both = [row for key, row in synthetic.items() if "/ both leads /" in key]
    off, on = sum(r["off"] for r in both), sum(r["on"] for r in both)
    new_total = sum(unreadable["new"].values())
    drops = {}
    for key in ("V_couplet", "V_short", "V_long"):
        drops[key] = [regions["off"][key][i] - regions["on"][key][i] for i in (0, 1)]
    for key, index in (("vt", (0, 1)), ("bigeminy", (0, 1)), ("af", (2, 3))):
        drops[key] = [regions["off"][key][i] - regions["on"][key][i] for i in index]
    worst = max((d for pair in drops.values() for d in pair if not math.isnan(d)), default=0.0)
    return {
        "a_false_v_both_leads": [off, on], "a_met": on <= 0.2 * off,
        "b_new_unreadable": [new_total, unreadable["beats"], unreadable["new"]["V"], unreadable["V"]],
        "b_met": new_total <= 0.003 * unreadable["beats"] and unreadable["new"]["V"] <= 0.005 * unreadable["V"],
        "c_largest_drop_points": 100 * worst, "c_met": worst <= 0.005,
        "d_new_noise_fraction": unreadable["new_noise_lead_s"] / unreadable["lead_s"],
        "d_met": unreadable["new_noise_lead_s"] <= 0.01 * unreadable["lead_s"],
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--candidates", type=float, nargs="+", default=list(CANDIDATES))
    parser.add_argument("--round", type=int, default=1)
    args = parser.parse_args(argv)
    out = RESULTS if args.round == 1 else RESULTS.with_name(f"{RESULTS.stem}-round{args.round}.json")
    data_dir = require_data_dir(args.data_dir)
    results = {"records": list(DS1), "synthetic_records": list(SYNTHETIC_RECORDS), "candidates": {}}
    regions = {"off": summarize(evaluate_regions(data_dir, list(DS1), quality=OFF))}
    for step_min_mv in args.candidates:
        quality_on = replace(QualitySettings(), step_min_mv=step_min_mv)
        regions["on"] = summarize(evaluate_regions(data_dir, list(DS1), quality=quality_on))
        unreadable = count_new_unreadable(data_dir, quality_on)
        print("unreadable", unreadable, flush=True)
        synthetic = run_synthetic(data_dir, quality_on)
        verdict = judge(synthetic, unreadable, regions)
        print(step_min_mv, verdict, flush=True)
        results["candidates"][f"{step_min_mv:g}"] = {"synthetic": synthetic, "new_unreadable": unreadable,
                                                     "regions_reference_labels": dict(regions), "verdict": verdict}
        write_results(out, results)
        if verdict["a_met"] and verdict["b_met"] and verdict["c_met"] and (args.round < 3 or verdict["d_met"]):
            results["adopted"] = step_min_mv
            break
    write_results(out, results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
