"""Study: beats on a baseline step in one lead only, read from the other lead alone (DS1 only).

``experiments/baseline_step_study.py`` made baseline steps noise. Noise in one lead leaves a beat readable and read
from both leads, and its part A showed that steps in the first lead alone make as many false V calls as steps in
both (e.g. 101 with 2-mV steps held for 5 s: 47). Session 26 reads a beat from one lead when the other lead's samples
are missing over its window (``models.prepare.read_lead_gaps_from_one_lead``); session 27
(``experiments/lead_noise_study.py``) found that doing the same for every noise span of one lead loses on DS1 (most
noise still carries QRS shape). A step is different: the classifier's baseline filter rings on it, so the lead's
waveform around it is not the beat's. Candidate: the stretches of one lead found by
:func:`pipeline.quality.find_step_runs` where the other lead has none are read as missing by the classifier, so the
beats there are read from the other lead alone.

Two parts, DS2 not read, the bundled model:

A. **Steps added to one lead of DS1 records** (the records, amplitudes and shapes of
   ``baseline_step_study.py``'s part A, steps added to the first or to the second lead): false V calls (readable V
   calls on beats that are not V in the clean record's analysis) as the product reads them now and with the candidate.
B. **DS1 as recorded, at the reference beat positions**: the beats whose inputs the candidate changes (their window
   meets a one-lead step stretch), classified both ways (every decision rule; the AF rule is left out both ways), and
   the whole of DS1. The bundled networks trained on DS1 from both leads, so this part is in-sample and favours the
   present reading: a conservative test of the candidate, not a measure of its size.

Criterion, written before the run (``--step-min-mv`` the quality rule's adopted threshold):
(a) part A: the false V calls summed over records, leads, amplitudes and shapes fall by at least 50 %;
(b) part B, affected beats: agreement of the classes with the reference not lower, and the V F1 over them not lower;
(c) part B, whole DS1: V and S Se and +P each not lower by more than 0.2 point.
Adopted (the product reads such beats from the other lead) when (a)-(c) hold; otherwise logged as not adopted.

Usage: PYTHONPATH=. .venv/bin/python experiments/step_lead_study.py --step-min-mv MV [--data-dir DIR]
(results: experiments/results/step_lead_study.json)
"""

from __future__ import annotations

import argparse
import math
from dataclasses import replace
from pathlib import Path

import numpy as np

from app.config import require_data_dir
from experiments.baseline_step_study import analyse_with, synthetic_false_v
from experiments.s_rule_study import write_results
from models.atrial_rule import DecisionRules
from models.prepare import InputSettings
from models.predict import classify_record
from models.registry import load_model
from pipeline.quality import QualitySettings, find_step_runs, mask_runs
from pipeline.records import read_record
from pipeline.region_eval import label_with_reference
from pipeline.splits import DS1

REPO_ROOT = Path(__file__).resolve().parents[1]
RESULTS = REPO_ROOT / "experiments" / "results" / "step_lead_study.json"
LEADS = {"first lead": (0,), "second lead": (1,)}
CLASSES = "NSVFQ"


def one_lead_step_runs(signal_mv: np.ndarray, fs_hz: float, quality: QualitySettings) -> list[np.ndarray]:
    """Per lead: the step stretches of that lead where the other lead has none."""
    runs = [find_step_runs(signal_mv[:, lead], fs_hz, quality) for lead in range(signal_mv.shape[1])]
    if signal_mv.shape[1] != 2:
        return [np.empty((0, 2), np.int64) for _ in runs]
    out = []
    for lead in (0, 1):
        mask = np.zeros(signal_mv.shape[0], bool)
        for a, b in runs[lead]:
            mask[a:b] = True
        for a, b in runs[1 - lead]:
            mask[a:b] = False
        out.append(mask_runs(mask))
    return out


def blank_step_leads(record, quality: QualitySettings):
    """``record`` with each one-lead step stretch set missing in that lead (None when there is none)."""
    runs = one_lead_step_runs(record.signal_mv, record.fs_hz, quality)
    if not any(r.size for r in runs):
        return None
    signal = record.signal_mv.copy()
    for lead, lead_runs in enumerate(runs):
        for a, b in lead_runs:
            signal[a:b, lead] = np.nan
    return replace(record, signal_mv=signal)


def analyse_candidate(record, model, quality: QualitySettings):
    """The product's analysis, but classified from the record with its one-lead step stretches missing."""
    import app.analysis

    blanked = blank_step_leads(record, quality)
    if blanked is None:
        return analyse_with(record, model, quality)
    original = app.analysis.classify_record

    def classify_blanked(net, settings, rec, r_peaks=None, **kwargs):
        return original(net, settings, blanked, r_peaks, **kwargs)

    app.analysis.classify_record = classify_blanked
    try:
        return analyse_with(record, model, quality)
    finally:
        app.analysis.classify_record = original


def run_synthetic(data_dir: Path, model, quality: QualitySettings) -> dict:
    return synthetic_false_v(data_dir, model, LEADS, {
        "now": lambda net, record: analyse_with(record, net, quality),
        "candidate": lambda net, record: analyse_candidate(record, net, quality)})


def confusion(reference: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    matrix = np.zeros((5, 5), np.int64)
    for i, r in enumerate(CLASSES):
        for j, p in enumerate(CLASSES):
            matrix[i, j] = int(np.sum((reference == r) & (predicted == p)))
    return matrix


def class_figures(matrix: np.ndarray) -> dict:
    out = {}
    for k, c in enumerate("SV", start=1):
        tp, fn, fp = matrix[k, k], matrix[k].sum() - matrix[k, k], matrix[:, k].sum() - matrix[k, k]
        se = tp / (tp + fn) if tp + fn else math.nan
        pp = tp / (tp + fp) if tp + fp else math.nan
        f1 = 2 * tp / (2 * tp + fn + fp) if tp + fn + fp else math.nan
        out[c] = {"se": float(se), "pp": float(pp), "f1": float(f1)}
    out["agreement"] = float(np.trace(matrix) / matrix.sum()) if matrix.sum() else math.nan
    return out


def run_ds1(data_dir: Path, model, quality: QualitySettings) -> dict:
    settings = InputSettings.from_dict(model.settings["inputs"])
    decisions = DecisionRules.from_settings(model.settings)
    whole = {"now": np.zeros((5, 5), np.int64), "candidate": np.zeros((5, 5), np.int64)}
    affected = {"now": np.zeros((5, 5), np.int64), "candidate": np.zeros((5, 5), np.int64)}
    by_record = {}
    for name in DS1:
        record = read_record(data_dir / name)
        samples, reference = label_with_reference(record)
        now = classify_record(model.model, settings, record, samples, decisions=decisions).classes
        blanked = blank_step_leads(record, quality)
        candidate, changed_inputs = now, np.zeros(len(samples), bool)
        if blanked is not None:
            predicted = classify_record(model.model, settings, blanked, samples, decisions=decisions)
            candidate, changed_inputs = predicted.classes, predicted.one_lead_mask
        whole["now"] += confusion(reference, now)
        whole["candidate"] += confusion(reference, candidate)
        affected["now"] += confusion(reference[changed_inputs], now[changed_inputs])
        affected["candidate"] += confusion(reference[changed_inputs], candidate[changed_inputs])
        by_record[name] = {"affected": int(changed_inputs.sum()),
                           "changed_classes": int(np.sum(now != candidate))}
        print(name, by_record[name], flush=True)
    return {"whole": {k: v.tolist() for k, v in whole.items()},
            "affected": {k: v.tolist() for k, v in affected.items()},
            "whole_figures": {k: class_figures(v) for k, v in whole.items()},
            "affected_figures": {k: class_figures(v) for k, v in affected.items()},
            "by_record": by_record}


def judge(synthetic: dict, ds1: dict) -> dict:
    now, cand = sum(r["now"] for r in synthetic.values()), sum(r["candidate"] for r in synthetic.values())
    a_now, a_cand = ds1["affected_figures"]["now"], ds1["affected_figures"]["candidate"]
    w_now, w_cand = ds1["whole_figures"]["now"], ds1["whole_figures"]["candidate"]
    drops = [100 * (w_now[c][k] - w_cand[c][k]) for c in "SV" for k in ("se", "pp")]
    return {"a_false_v": [now, cand], "a_met": bool(cand <= 0.5 * now),
            "b_agreement": [float(a_now["agreement"]), float(a_cand["agreement"])],
            "b_v_f1": [float(a_now["V"]["f1"]), float(a_cand["V"]["f1"])],
            "b_met": bool(a_cand["agreement"] >= a_now["agreement"] and not a_cand["V"]["f1"] < a_now["V"]["f1"]),
            "c_largest_drop_points": float(max(drops)), "c_met": bool(max(drops) <= 0.2)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--step-min-mv", type=float, required=True)
    args = parser.parse_args(argv)
    data_dir = require_data_dir(args.data_dir)
    quality = replace(QualitySettings(), step_min_mv=args.step_min_mv)
    model = load_model(REPO_ROOT / "models" / "bundled" / "model.keras")
    ds1 = run_ds1(data_dir, model, quality)
    print(ds1["affected_figures"], ds1["whole_figures"], flush=True)
    synthetic = run_synthetic(data_dir, model, quality)
    verdict = judge(synthetic, ds1)
    print(verdict, flush=True)
    write_results(RESULTS, {"records": list(DS1), "step_min_mv": args.step_min_mv, "synthetic": synthetic,
                            "ds1_reference_positions": ds1, "verdict": verdict,
                            "adopted": verdict["a_met"] and verdict["b_met"] and verdict["c_met"]})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
