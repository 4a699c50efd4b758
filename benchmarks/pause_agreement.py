"""Pauses the product flags against the reference beats' intervals (MIT-BIH, all 48 records).

A pause (``pipeline.regions``: an RR interval between readable beats longer than ``pause_s``, 2.0 s by default) is
one of the events a Holter reader checks first, and a false one, two intervals around a missed beat read as one, can
suggest a conduction problem that is not there. MIT-BIH has no pause annotation, so the reference pauses are the
intervals between consecutive reference beats longer than ``pause_s``, leaving out those over ventricular flutter
(between ``[`` and ``]``, or holding flutter waves ``!``, which are not beats) and those holding a signal-quality
change ``~`` (208's one interval over 2 s is noise in which the annotators marked no beats); a flagged pause over
such an interval is not scored (:func:`pipeline.region_eval.match_pauses`, which ``ecg evaluate-regions`` reports
from 5 minutes). For every record, with the bundled
model as ``ecg score`` runs it (:func:`app.analysis.analyse_record`, default event settings), each flagged pause is
confirmed when it overlaps a reference pause; a reference pause is found when a flagged one overlaps it. A flagged pause
that holds a reference beat is a missed beat; one that does not is a pause the detector placed differently or that
the reference leaves out. Whole records (pauses are not scored from 5 minutes in EC57). Chooses nothing.

Usage::

    PYTHONPATH=. .venv/bin/python benchmarks/pause_agreement.py [--records all|ds1|ds2|100,101]   (about 1 minute)
"""

from __future__ import annotations

import argparse
import dataclasses

import numpy as np

from app.analysis import analyse_record
from benchmarks.common import REPO_ROOT, default_data_dir, format_table, parse_records, write_results
from models.loading import load_local
from pipeline.labels import is_beat_symbol
from pipeline.records import read_record
from pipeline.region_eval import match_pauses, overlapping
from pipeline.regions import RegionSettings

MODEL = REPO_ROOT / "models" / "bundled" / "model.keras"


def score_record(name: str, data_dir, model) -> dict:
    """A record's pauses (:func:`pipeline.region_eval.match_pauses`, whole record) and its false ones, split into
    those holding a reference beat the detector missed and the others."""
    record = read_record(data_dir / name)
    settings = RegionSettings()
    analysis = analyse_record(record, model, settings)
    match = match_pauses(record.annotations, analysis.regions, record.fs_hz, settings.pause_s, start_s=0.0)
    false = match.flagged[~overlapping(match.flagged, match.reference)]
    beats = record.annotations.samples[is_beat_symbol(record.annotations.symbols)]
    margin = int(0.15 * record.fs_hz)  # a beat more than 150 ms inside the pause: the detector missed it
    missed_beat = np.array([np.any((beats > a + margin) & (beats < b - margin)) for a, b in false], bool)
    return {**dataclasses.asdict(match.counts()), "false_with_missed_beat": int(missed_beat.sum()),
            "false_other": int(np.sum(~missed_beat)),
            "false_at_s": [round(a / record.fs_hz, 1) for a, _ in false],
            "missed_at_s": [round(a / record.fs_hz, 1) for a, _ in
                            match.reference[~overlapping(match.reference, match.flagged)]]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", default="all")
    args = parser.parse_args(argv)
    data_dir, model = default_data_dir(), load_local(MODEL)
    records = {name: score_record(name, data_dir, model) for name in parse_records(args.records)}
    keys = ("reference", "found", "flagged", "confirmed", "false_with_missed_beat", "false_other", "not_scored")
    total = {k: sum(r[k] for r in records.values()) for k in keys}
    total["se_pct"] = round(100 * total["found"] / total["reference"], 1) if total["reference"] else None
    total["ppv_pct"] = round(100 * total["confirmed"] / total["flagged"], 1) if total["flagged"] else None
    rows = [[name] + [r[k] for k in keys] for name, r in records.items() if r["reference"] or r["flagged"]]
    rows.append(["all"] + [total[k] for k in keys])
    print(format_table(["record", "reference pauses", "found", "flagged", "confirmed", "false: missed beat",
                        "false: other", "over flutter or noise"], rows))
    print(f"Se {total['se_pct']} %, +P {total['ppv_pct']} %")
    write_results("pause_agreement", {"model": str(MODEL.relative_to(REPO_ROOT)), "pause_s": RegionSettings().pause_s,
                                      "total": total, "records": records})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
