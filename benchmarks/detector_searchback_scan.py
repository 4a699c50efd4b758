"""The detector's search-back settings against the beats it misses (MIT-BIH, EC57 from 5 minutes, all 48 records).

Record 201 holds 50 of the detector's 119 missed beats over the 48 records, and 49 of them are its aberrated atrial
premature beats (`a`): low, wide, notched complexes of about a third of the normal R wave's height, often in pairs,
which stay under the adaptive threshold (``benchmarks/results/detector_accuracy.json``; found in session 27 looking at
the record's false pauses). Pan-Tompkins's search-back looks again, with a lower threshold, over an RR gap longer than
``searchback_rr_factor`` (1.66) times the recent mean, for a candidate above ``searchback_fraction`` (0.6) of the
threshold. This script scores a small grid of the two against the shipped values, per record and pooled over DS1,
DS2 and all 48, with the detector otherwise unchanged. It chooses nothing: the figures are for the planners (a
search-back change trades missed beats for extra detections, and extra detections in noise become false V calls end
to end, issue 3's unmet V +P; a change would move every end-to-end figure of the model card and REGIONS.md).

Usage::

    PYTHONPATH=. .venv/bin/python benchmarks/detector_searchback_scan.py   (about 3 minutes)
"""

from __future__ import annotations

from dataclasses import replace

from benchmarks.common import default_data_dir, format_table, parse_records, pct_text, write_results
from pipeline.detect import DetectorSettings, detect_record_peaks
from pipeline.records import read_record
from pipeline.scoring import compare_beats
from pipeline.splits import DS1, DS2

GRID = ((1.66, 0.6), (1.5, 0.6), (1.4, 0.6), (1.3, 0.6), (1.2, 0.6), (1.66, 0.5), (1.66, 0.4), (1.4, 0.5),
        (1.3, 0.5))
"""(searchback_rr_factor, searchback_fraction); the first pair is the shipped one."""


def count_errors(records, settings: DetectorSettings) -> dict:
    """Per record: beats found, missed and extra (EC57 matching from 5 minutes)."""
    out = {}
    for record in records:
        match = compare_beats(record.annotations, detect_record_peaks(record, settings).samples, record.fs_hz,
                              record.n_samples, start_s=300.0)
        out[record.name] = {"tp": len(match.ref_index), "fn": len(match.missed), "fp": len(match.extra)}
    return out


def pool(per_record: dict, names) -> dict:
    tp, fn, fp = (sum(per_record[n][k] for n in names) for k in ("tp", "fn", "fp"))
    return {"tp": tp, "fn": fn, "fp": fp, "se": tp / (tp + fn), "ppv": tp / (tp + fp)}


def main() -> int:
    data_dir = default_data_dir()
    records = [read_record(data_dir / name) for name in parse_records("all")]
    scopes = {"DS1": DS1, "DS2": DS2, "all": tuple(r.name for r in records)}
    results, rows = [], []
    for rr_factor, fraction in GRID:
        per_record = count_errors(records, replace(DetectorSettings(), searchback_rr_factor=rr_factor,
                                                   searchback_fraction=fraction))
        pooled = {scope: pool(per_record, names) for scope, names in scopes.items()}
        results.append({"searchback_rr_factor": rr_factor, "searchback_fraction": fraction, "pooled": pooled,
                        "per_record": per_record})
        rows.append([rr_factor, fraction] + [f"{pooled[s]['fn']} / {pooled[s]['fp']}" for s in scopes] +
                    [pct_text(pooled["all"]["se"]), pct_text(pooled["all"]["ppv"]),
                     f"{per_record['201']['fn']} / {per_record['201']['fp']}",
                     f"{per_record['105']['fn']} / {per_record['105']['fp']}"])
        print(rows[-1], flush=True)
    print(format_table(["rr factor", "fraction", "DS1 FN / FP", "DS2 FN / FP", "all FN / FP", "all Se", "all +P",
                        "201 FN / FP", "105 FN / FP"], rows))
    write_results("detector_searchback_scan", {"grid": results})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
