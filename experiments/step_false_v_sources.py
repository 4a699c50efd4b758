"""Where the false V calls of a one-lead baseline step come from (DS1 records, measurement only; chooses nothing).

Baseline steps are noise since session 31 (``pipeline.quality.find_step_runs``), which removes the false V calls of
steps in every lead but not of steps in one lead (``experiments/baseline_step_study.py``, part A; reading those beats
from the other lead alone was not adopted, ``experiments/step_lead_study.py``). This splits the false V calls of the
same synthetic steps (2 mV, decaying with a 2-s time constant or held for 5 s, added to one lead of the first 300 s of
DS1 records 101, 112 and 122) into extra detections (no beat of the clean record's analysis within 150 ms: the
detector took a step's edge for a QRS complex) and beats of the clean record called V.

Usage: PYTHONPATH=. .venv/bin/python experiments/step_false_v_sources.py [--data-dir DIR]
(about 2 minutes; results: experiments/results/step_false_v_sources.json)
"""

from __future__ import annotations

import argparse
import math
from dataclasses import replace
from pathlib import Path

import numpy as np

from app.config import require_data_dir
from experiments.baseline_step_study import OFF, SYNTHETIC_RECORDS, add_steps, analyse_with, false_v_mask
from experiments.s_rule_study import write_results
from models.registry import load_model
from pipeline.quality import QualitySettings
from pipeline.records import read_record

REPO_ROOT = Path(__file__).resolve().parents[1]
RESULTS = REPO_ROOT / "experiments" / "results" / "step_false_v_sources.json"
SHAPES = {"decay 2 s": 2.0, "held 5 s": math.inf}


def split_false_v(analysis, clean) -> dict:
    """Readable V calls not V in ``clean``: how many are extra detections, how many are the clean record's beats."""
    false_v, matched = false_v_mask(analysis, clean)
    return {"false_v": int(false_v.sum()), "extra_detections": int(np.sum(false_v & ~matched)),
            "beats_detected": len(matched), "beats_clean": len(clean.predictions.samples)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=None)
    args = parser.parse_args(argv)
    data_dir = require_data_dir(args.data_dir)
    model = load_model(REPO_ROOT / "models" / "bundled" / "model.keras")
    rows, totals = {}, {"false_v": 0, "extra_detections": 0}
    for name in SYNTHETIC_RECORDS:
        record = read_record(data_dir / name)
        record = replace(record, signal_mv=record.signal_mv[:int(300 * record.fs_hz)].copy(), annotations=None)
        clean = analyse_with(record, model, OFF)
        for lead in (0, 1):
            for shape, tau in SHAPES.items():
                stepped = replace(record, signal_mv=add_steps(record.signal_mv, record.fs_hz, 2.0, tau, (lead,)))
                row = split_false_v(analyse_with(stepped, model, QualitySettings()), clean)
                rows[f"{name} / lead {lead} / {shape} / 2 mV"] = row
                for key in totals:
                    totals[key] += row[key]
                print(name, lead, shape, row, flush=True)
    print("total", totals)
    write_results(RESULTS, {"records": list(SYNTHETIC_RECORDS), "rows": rows, "total": totals})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
