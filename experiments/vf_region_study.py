"""Study: how ventricular flutter/fibrillation stretches and the beat rules share a record, on DS1 only (REGIONS.md,
session 10).

The detector of :mod:`pipeline.fibrillation` (settings from ``experiments/vf_study.py``) finds 207's flutter and,
as the VF filter does in the literature, record 205's fast sinusoidal ventricular tachycardia (about 190 bpm). Its
stretches are taken out of the unreadable ones (the quality rule calls much of 207's flutter noise). What the beats
inside a stretch do is the choice:

- ``none``: no detector (the product before this study);
- ``exclusive``: the beats inside take part in no other event: the stretch is reported as flutter/fibrillation only
  (207's flutter is no longer a string of VT episodes; 205's VT inside a stretch is no longer VT);
- ``runs kept``: the beats inside still make ventricular runs, and a VT run's rhythm is written over ``(VFL``
  (``RegionSettings.ventricular_runs_in_fibrillation``).

Three labellers on the 22 DS1 records, as in ``experiments/train_lag_study.py``: reference beats and classes, the
reference positions with the nested out-of-fold classes, and end to end (the detector's beats, nested classes).

Criterion, written before the first run: between ``exclusive`` and ``runs kept``, the one with the higher VT
episode F1 (2 Se +P / (Se + +P)) end to end; ties (within 0.01) go to ``exclusive``, whose report is the simpler
to read. The ``none`` rows are the reference point. DS2 is not read.

Usage: PYTHONPATH=. .venv/bin/python experiments/vf_region_study.py   (about 8 minutes with the nested
probabilities cached)
"""

from __future__ import annotations

import sys
from dataclasses import replace

from app.config import require_data_dir
from experiments.noise_span_study import percent
from experiments.s_rule_study import load_study_inputs, results_path, write_results
from experiments.train_lag_study import build_labelers, summarize
from pipeline.region_eval import evaluate_regions
from pipeline.regions import RegionSettings

DESIGNS = {
    "none": replace(RegionSettings(), fibrillation=replace(RegionSettings().fibrillation, enabled=False)),
    "exclusive": replace(RegionSettings(), ventricular_runs_in_fibrillation=False),
    "runs kept": replace(RegionSettings(), ventricular_runs_in_fibrillation=True),
}


def f1(se: float, ppv: float) -> float:
    """Harmonic mean of two proportions (0 when both are 0 or undefined)."""
    return 2 * se * ppv / (se + ppv) if se == se and ppv == ppv and se + ppv > 0 else 0.0


def add_vf(report, figures: dict) -> dict:
    """The summary figures plus the VF/VFL episode comparison (whole DS1, from 5 minutes)."""
    c = report.episodes("vf")
    figures["vf"] = {"episode_se": c.episode_sensitivity, "episode_ppv": c.episode_predictivity,
                     "duration_se": c.duration_sensitivity, "duration_ppv": c.duration_predictivity,
                     "detected": c.detected, "missed": c.missed, "false": c.false, "test_s": c.test_s}
    figures["vt_f1"] = f1(figures["vt"]["episode_se"], figures["vt"]["episode_ppv"])
    return figures


def format_row(labels: str, design: str, f: dict) -> str:
    runs = [f"{percent(f[k]['se'])}/{percent(f[k]['ppv'])}" for k in ("V_couplet", "V_short", "V_long")]
    episodes = [f"{percent(f[n]['episode_se'])}/{percent(f[n]['episode_ppv'])}" for n in ("vt", "bigeminy")]
    af = f"{percent(f['af']['duration_se'])}/{percent(f['af']['duration_ppv'])}"
    vf = f"{percent(f['vf']['duration_se'])}/{percent(f['vf']['duration_ppv'])}"
    return (f"| {labels} | {design} | " + " | ".join(runs + episodes + [af, vf]) +
            f" | {f['vt_f1']:.3f} | {f['unreadable_s']:.0f} |")


def main(argv=None) -> int:
    config, data, config_path = load_study_inputs(__doc__.splitlines()[0], argv)
    labelers, rows = build_labelers(config, data), []
    print("| labels | design | V couplet | V short | V long | VT episodes | bigeminy episodes | AF+AFL duration "
          "| VF duration | VT F1 | unreadable s |\n|---|---|---|---|---|---|---|---|---|---|---|", flush=True)
    for labels, labeler in labelers.items():
        for design, settings in DESIGNS.items():
            report = evaluate_regions(require_data_dir(None), sorted(set(map(str, data.record_names))),
                                      labels=labels, labeler=labeler, settings=settings)
            figures = add_vf(report, summarize(report))
            rows.append({"labels": labels, "design": design, **figures})
            print(format_row(labels, design, figures), flush=True)
    e2e = {r["design"]: r["vt_f1"] for r in rows if r["labels"] == "end to end"}
    chosen = "runs kept" if e2e["runs kept"] > e2e["exclusive"] + 0.01 else "exclusive"
    print(f"chosen: {chosen} (end-to-end VT episode F1: exclusive {e2e['exclusive']:.3f}, "
          f"runs kept {e2e['runs kept']:.3f})")
    write_results(results_path("vf_region_study", config_path),
                  {"config": str(config_path), "rows": rows, "chosen": chosen})
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
