"""ST and QT analysis on the 48 MIT-BIH records: the measurement points, what is assessed, the episodes and the QT.

MIT-BIH has no reference ST or QT annotations, so this scores nothing; it shows what :mod:`pipeline.st` and
:mod:`pipeline.qt` do on real records, on their reference beat positions and classes (the measurement, not the
classifier, is under study):

- the dominant QRS width against each record's most common beat label: the records of mostly bundle branch block
  beats (L, R) should come out wider than ``max_qrs_ms`` (not assessed), the others narrower;
- the episodes found, with the change of the QRS complex at their peak (a conduction change, such as record 230's
  intermittent pre-excitation, marked by its ``(PREX`` rhythm labels, moves the ST segment too);
- the QT and QTc (Fridericia) of each record, their spread over its windows, and the longest QTc: on records
  without reference QT annotations, only their plausibility (a QTc of 350-470 ms is the usual range) can be read.

Usage: PYTHONPATH=. .venv/bin/python experiments/repolarisation.py. Writes
``experiments/results/repolarisation.json``.
"""

from __future__ import annotations

import time
from collections import Counter

import numpy as np

from app.config import require_data_dir
from experiments.s_rule_study import REPO_ROOT, write_results
from pipeline.labels import is_beat_symbol
from pipeline.quality import find_quality_spans
from pipeline.records import read_record
from pipeline.region_eval import annotated_beats
from pipeline.splits import records_for_split
from pipeline.qt import analyse_qt
from pipeline.st import StSettings, analyse_st


def study_record(path) -> dict:
    """One record's ST analysis on its reference beats."""
    record = read_record(path, annotator="atr")
    samples, classes = annotated_beats(record.annotations)
    labels = Counter(s for s in record.annotations.symbols if is_beat_symbol(s))
    started = time.perf_counter()
    spans = find_quality_spans(record.signal_mv, record.fs_hz)
    st = analyse_st(record.signal_mv, record.fs_hz, samples, classes, spans, record.lead_names)
    qt = analyse_qt(record.signal_mv, record.fs_hz, samples, classes, st, spans)
    spread = [round(float(f(qt.qt_ms)), 0) for f in (np.nanmin, np.nanmax)] if qt.assessed else None
    return {"record": record.name, "most_common_beat": labels.most_common(1)[0][0],
            "seconds": round(time.perf_counter() - started, 2), **st.to_dict(),
            "qt": {**qt.to_dict(), "qt_range_ms": spread}}


def main() -> None:
    data_dir = require_data_dir(None)
    rows = [study_record(data_dir / name) for name in records_for_split("all")]
    settings = StSettings()
    bundle_branch = [r for r in rows if r["most_common_beat"] in ("L", "R")]
    others = [r for r in rows if r["most_common_beat"] not in ("L", "R", "/")]
    summary = {
        "settings": vars(settings),
        "bundle_branch_block_records_not_assessed": [r["record"] for r in bundle_branch if not r["assessed"]],
        "bundle_branch_block_records_assessed": [r["record"] for r in bundle_branch if r["assessed"]],
        "other_records_not_assessed": {r["record"]: r["note"] for r in others if not r["assessed"]},
        "records_with_episodes": {r["record"]: len(r["episodes"]) for r in rows if r["episodes"]},
        "episodes_with_qrs_change": sum(e["qrs_changed"] for r in rows for e in r["episodes"]),
        "episodes": sum(len(r["episodes"]) for r in rows),
        "qt_assessed": sum(r["qt"]["assessed"] for r in rows),
        "qtc_fridericia_ms_by_record": {r["record"]: r["qt"]["qtc_fridericia_ms"] for r in rows if r["qt"]["assessed"]},
        "qtc_fridericia_outside_350_470_ms": [r["record"] for r in rows if r["qt"]["assessed"]
                                              and not 350 <= r["qt"]["qtc_fridericia_ms"] <= 470],
        "qt_not_assessed": {r["record"]: r["qt"]["note"] for r in rows if not r["qt"]["assessed"]},
    }
    for key, value in summary.items():
        if key != "settings":
            print(f"{key}: {value}")
    write_results(REPO_ROOT / "experiments" / "results" / "repolarisation.json", {"summary": summary, "records": rows})


if __name__ == "__main__":
    main()
