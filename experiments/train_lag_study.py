"""Study: comparing successive QRS complexes with a small shift when sparing beat trains, on DS1 only (REGIONS.md,
session 8).

:func:`pipeline.quality.spare_beat_trains` gives trains of like beats back from the noise spans (a run of wide
ventricular beats raises the in-band floor as motion artefact does). With the reference beat positions it recovers
every DS1 ventricular run; end to end, with the detector's beats, it loses them again: inside wide, notched
ventricular complexes the detector's fiducial point wanders by up to about 90 ms from beat to beat (record 205's
ventricular tachycardia at 303-306 s: successive correlations 0.35, 0.68, -0.28 against 0.90, 0.99, 0.94 at the
annotated positions), so the fixed-alignment correlation reads one QRS shape as several. The candidate takes the
best correlation over shifts of the previous beat's segment by up to ``train_max_lag_s``.

Three labellers, all on the 22 DS1 records:

- ``reference``: reference beats and classes (the region rules alone);
- ``nested``: reference beat positions with the bundled configuration's DS1 nested out-of-fold classes (every
  decision rule; networks that never saw the patient; ``experiments/nested_oof.py``, cached);
- ``end to end``: the detector's beats with the nested ensembles' classes (what a user gets).

Criterion, written before the first run: a shift is adopted if, end to end, ventricular short- and long-run Se and
VT episode Se do not fall and at least one rises; no ventricular run +P (couplet, short, long) and no VT episode +P
falls by more than 2 points; bigeminy episode Se/+P fall by at most 1 point; AF+AFL duration Se/+P by at most
0.5 point; with reference labels no figure falls; and the unreadable time kept over DS1 falls by at most 5 %
(artefact must stay flagged). Among the shifts that pass, the smallest of those tied (within one run or episode)
at the best end-to-end ventricular figures is kept. DS2 is not read.

Usage: PYTHONPATH=. .venv/bin/python experiments/train_lag_study.py   (about 15 minutes)

The motivating figures (205's beats at 303-306.5 s, detected and annotated, and their successive QRS correlations):
PYTHONPATH=. .venv/bin/python -c "from experiments.train_lag_study import show_fiducial_wander; show_fiducial_wander()"
"""

from __future__ import annotations

import sys
from dataclasses import replace

import numpy as np

from app.config import require_data_dir
from experiments.nested_regions import nested_labelers
from experiments.noise_span_study import percent
from experiments.s_rule_study import load_study_inputs, results_path, write_results
from pipeline.detect import detect_record_peaks
from pipeline.labels import BEAT_SYMBOLS
from pipeline.quality import QualitySettings, successive_qrs_correlations
from pipeline.records import read_record
from pipeline.region_eval import RegionReport, evaluate_regions, label_with_reference

LAGS_S = (0.0, 0.02, 0.03, 0.04, 0.05)
EPISODES = ("vt", "bigeminy", "af")


def build_labelers(config, data) -> dict:
    """Labeller name -> (record -> beat samples, class symbols) for the DS1 records."""
    return {"reference": label_with_reference, **nested_labelers(config, data)}


def summarize(report: RegionReport) -> dict:
    """Ventricular run figures, VT/bigeminy/AF episode figures and the unreadable time kept."""
    runs, out = report.runs("ventricular"), {}
    for category in ("couplet", "short", "long"):
        tp, fn, tp_p, fp = runs.counts(category)
        out[f"V_{category}"] = {"se": runs.sensitivity_of(category), "ppv": runs.predictivity_of(category),
                                "found": tp, "reference": tp + fn, "false": fp}
    for name in EPISODES:
        c = report.episodes(name)
        out[name] = {"episode_se": c.episode_sensitivity, "episode_ppv": c.episode_predictivity,
                     "duration_se": c.duration_sensitivity, "duration_ppv": c.duration_predictivity,
                     "detected": c.detected, "missed": c.missed, "false": c.false}
    by_record = {e.record: sum((r.stop - r.start) / e.fs_hz for r in e.regions if r.kind == "unreadable")
                 for e in report.evaluations}
    out["unreadable_s"] = sum(by_record.values())
    out["unreadable_s_by_record"] = {name: round(seconds, 2) for name, seconds in by_record.items() if seconds}
    return out


def format_row(labels: str, lag_s: float, f: dict) -> str:
    runs = [f"{percent(f[k]['se'])}/{percent(f[k]['ppv'])}" for k in ("V_couplet", "V_short", "V_long")]
    episodes = [f"{percent(f[n]['episode_se'])}/{percent(f[n]['episode_ppv'])}" for n in ("vt", "bigeminy")]
    af = f"{percent(f['af']['duration_se'])}/{percent(f['af']['duration_ppv'])}"
    return f"| {labels} | {1000 * lag_s:.0f} ms | " + " | ".join(runs + episodes + [af]) + \
        f" | {f['unreadable_s']:.0f} |"


def show_fiducial_wander(name: str = "205", start_s: float = 303.0, stop_s: float = 306.5) -> None:
    """Print a stretch's detected and annotated beat times and their successive QRS correlations (lead 0, fixed
    alignment, as the sparing computes them)."""
    record = read_record(require_data_dir(None) / name)
    fs_hz, annotations = record.fs_hz, record.annotations
    reference = annotations.samples[np.isin(annotations.symbols, BEAT_SYMBOLS)]
    for label, beats in (("detected", detect_record_peaks(record).samples), ("annotated", reference)):
        inside = beats[(beats >= start_s * fs_hz) & (beats < stop_s * fs_hz)]
        corr = successive_qrs_correlations(record.signal_mv[:, 0], inside, int(round(0.06 * fs_hz)))
        print(f"{label} beats (s): {np.round(inside / fs_hz, 2).tolist()}")
        print(f"  successive QRS correlations: {np.round(corr, 2).tolist()}")


def main(argv=None) -> int:
    config, data, config_path = load_study_inputs(__doc__.splitlines()[0], argv)
    labelers, rows = build_labelers(config, data), []
    print("| labels | max shift | V couplet | V short | V long | VT episodes | bigeminy episodes | AF+AFL duration "
          "| unreadable s |\n|---|---|---|---|---|---|---|---|---|", flush=True)
    for labels, labeler in labelers.items():
        for lag_s in LAGS_S:
            quality = replace(QualitySettings(), train_max_lag_s=lag_s)
            report = evaluate_regions(require_data_dir(None), sorted(set(map(str, data.record_names))),
                                      labels=labels, labeler=labeler, quality=quality)
            figures = summarize(report)
            rows.append({"labels": labels, "max_lag_s": lag_s, **figures})
            print(format_row(labels, lag_s, figures), flush=True)
    write_results(results_path("train_lag_study", config_path), {"config": str(config_path), "rows": rows})
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
