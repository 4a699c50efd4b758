"""What a reader's edit costs once a record is analysed: an event threshold changed, a beat relabelled, a stretch
marked as artefact, a detection deleted, a missed beat added (``app.analysis.change_region_settings``,
``relabel_beats``, ``mark_artefacts``, ``edit_beats``, what the dashboard runs on each such click), each timed
with the ST and QT results kept from the last analysis (the product, ``pipeline.repolarisation``) and with them
measured again (``--forget``, the product before session 48; since session 64 the kept blocked P waves and
pacing-spike shares and flutter-like windows too, ``pipeline.region_eval.forget_kept_measures``).

Usage: PYTHONPATH=. .venv/bin/python benchmarks/edit_speed.py [RECORD ...] [--repeats N]
(default: the 24-hour record of ``benchmarks/long_record.py``, .cache/long/mitdb24h, built from MIT-BIH if missing;
results: benchmarks/results/edit_speed.json)
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

import numpy as np

import app.analysis
from app.analysis import analyse_record, change_region_settings, edit_beats, mark_artefacts, relabel_beats
from benchmarks.common import BUNDLED_MODEL, default_data_dir, format_table, write_results
from benchmarks.long_record import ensure_long_records
from models.loading import load_local
from models.predict import classify_record
from pipeline.records import read_record
from pipeline.region_eval import forget_kept_measures
from pipeline.repolarisation import forget_repolarisation


def without_kept_chunks(edit):
    """``edit()`` with :func:`models.predict.classify_record` given no chunks to keep: the cost of a beat edit had it
    classified the whole recording again (what ``kept`` saves)."""
    def classify_all(*args, kept=None, changed=None, **options):
        return classify_record(*args, **options)
    saved = app.analysis.classify_record
    app.analysis.classify_record = classify_all
    try:
        return edit()
    finally:
        app.analysis.classify_record = saved


def time_edits(analysis, model, repeats: int, forget: bool) -> dict:
    """Median seconds of each edit over ``repeats`` runs, each from the same analysis and each a different edit (a
    different value, beat or stretch: an edit made before is not what a reader's next click is)."""
    fs = analysis.record.fs_hz
    settings = analysis.region_settings
    flip = {"V": "N"}
    detected = analysis.predictions.detected_samples  # a beat deleted, or one added 0.3 s after a beat (its T wave)

    def pick(k: int) -> int:  # the beat numbered k of the 24-h record's, wrapped round on a shorter one
        return detected[k % len(detected)]
    edits = {
        "pause threshold": lambda k: change_region_settings(analysis, dataclasses.replace(
            settings, pause_s=settings.pause_s + 0.5 + 0.1 * k)),
        "bradycardia limit": lambda k: change_region_settings(analysis, dataclasses.replace(
            settings, bradycardia_bpm=settings.bradycardia_bpm - 5 - k)),
        "relabel one beat": lambda k: relabel_beats(analysis, {10 + k: flip.get(analysis.classes[10 + k], "V")}),
        "artefact mark": lambda k: mark_artefacts(analysis, [(int((60 + 100 * k) * fs), int((90 + 100 * k) * fs))]),
        "delete one beat": lambda k: edit_beats(analysis, model, [(int(pick(1000 + 7919 * k)), False)]),
        "add one beat": lambda k: edit_beats(analysis, model, [(int(pick(2000 + 7919 * k) + 0.3 * fs), True)]),
        "delete one beat, every hour classified again": lambda k: without_kept_chunks(
            lambda: edit_beats(analysis, model, [(int(pick(3000 + 7919 * k)), False)])),
    }
    timings = {}
    for name, edit in edits.items():
        seconds = []
        for k in range(repeats):
            if forget:
                forget_repolarisation()
                forget_kept_measures()
            started = time.perf_counter()
            edit(k)
            seconds.append(time.perf_counter() - started)
        timings[name] = round(float(np.median(seconds)), 3)
    return timings


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("records", nargs="*", type=Path)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    paths = args.records or [ensure_long_records(default_data_dir(), (24,))[24]]
    model = load_local(BUNDLED_MODEL)
    results, rows = {}, []
    for path in paths:
        started = time.perf_counter()
        analysis = analyse_record(read_record(path.with_suffix("") if path.suffix else path), model)
        analysed_s = time.perf_counter() - started
        kept = time_edits(analysis, model, args.repeats, forget=False)
        again = time_edits(analysis, model, args.repeats, forget=True)
        results[path.name] = {"analysis_s": round(analysed_s, 1), "n_beats": int(len(analysis.classes)),
                              "kept": kept, "measured_again": again}
        rows += [[path.name, name, again[name], kept[name]] for name in kept]
    print(format_table(["record", "edit", "ST and QT measured again (s)", "kept (s)"], rows))
    write_results("edit_speed", {"repeats": args.repeats, "records": results})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
