"""What region finding adds to the analysis of a record (issue 4's target: under 5 %).

For each record, :func:`app.analysis.analyse_record` with the bundled model (what ``ecg score`` and the dashboard
run) reports its stage times. "regions" is what turns classified beats into events: the P-wave similarity, the
ventricular flutter/fibrillation detector and the region rules; "summary" is the record summary, heart-rate
variability included (its Lomb-Scargle spectra are most of it). Until session 9 REGIONS.md counted the summary in
region finding; both shares are given, with and without it. The flutter detector is also timed alone. Figures:
per-record medians, and shares of the whole analysis (all stages summed) per record (median) and pooled over the
records. Wall clock on whatever machine runs it; the results file names it.

Usage::

    PYTHONPATH=. .venv/bin/python benchmarks/region_cost.py [--records all|ds1|ds2|100,101]   (about 2 minutes)
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from app.analysis import analyse_record
from benchmarks.common import REPO_ROOT, default_data_dir, format_table, parse_records, write_results
from models.loading import load_local
from pipeline.fibrillation import find_fibrillation_intervals, forget_kept_windows
from pipeline.records import read_record

MODEL = REPO_ROOT / "models" / "bundled" / "model.keras"


def time_record(name: str, data_dir, model) -> dict:
    """Stage times (ms) of one record's analysis, and of the flutter detector alone."""
    record = read_record(data_dir / name)
    analysis = analyse_record(record, model)
    forget_kept_windows()  # the analysis's own windows are kept for its signal (pipeline.kept_results): timed afresh
    started = time.perf_counter()
    find_fibrillation_intervals(record.signal_mv, record.fs_hz, list(analysis.quality_spans),
                                beat_samples=(analysis.predictions.samples if analysis.waves is None
                                              else analysis.waves))  # what the analysis hands the flutter finder
    flutter_ms = 1000 * (time.perf_counter() - started)
    stages = {stage: round(1000 * seconds, 2) for stage, seconds in analysis.timings_s.items()}
    total = sum(stages.values())
    return {"stages_ms": stages, "analysis_ms": round(total, 1), "regions_ms": stages["regions"],
            "summary_ms": stages["summary"], "flutter_ms": round(flutter_ms, 2),
            "regions_share_pct": round(100 * stages["regions"] / total, 2),
            "regions_and_summary_share_pct": round(100 * (stages["regions"] + stages["summary"]) / total, 2)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", default="all")
    args = parser.parse_args(argv)
    data_dir, model = default_data_dir(), load_local(MODEL)
    names = parse_records(args.records)
    time_record(names[0], data_dir, model)  # warm-up: the first prediction builds the network's graph
    records = {name: time_record(name, data_dir, model) for name in names}
    column = {key: np.array([r[key] for r in records.values()]) for key in
              ("analysis_ms", "regions_ms", "summary_ms", "flutter_ms", "regions_share_pct",
               "regions_and_summary_share_pct")}
    summary = {"records": len(records), **{f"{key}_median": round(float(np.median(values)), 2)
                                          for key, values in column.items()},
               "regions_ms_max": round(float(column["regions_ms"].max()), 1),
               "regions_share_pct_pooled": round(100 * float(column["regions_ms"].sum() / column["analysis_ms"].sum()),
                                                 2),
               "regions_and_summary_share_pct_pooled": round(
                   100 * float((column["regions_ms"] + column["summary_ms"]).sum() / column["analysis_ms"].sum()), 2)}
    print(format_table(["record", "analysis ms", "regions ms", "flutter detector ms", "summary ms", "regions %",
                        "regions + summary %"],
                       [[n, r["analysis_ms"], r["regions_ms"], r["flutter_ms"], r["summary_ms"],
                         r["regions_share_pct"], r["regions_and_summary_share_pct"]] for n, r in records.items()]))
    print(f"median over {summary['records']} records: analysis {summary['analysis_ms_median']} ms, regions "
          f"{summary['regions_ms_median']} ms (flutter detector {summary['flutter_ms_median']} ms), summary "
          f"{summary['summary_ms_median']} ms; regions share {summary['regions_share_pct_median']} % (pooled "
          f"{summary['regions_share_pct_pooled']} %), with the summary "
          f"{summary['regions_and_summary_share_pct_median']} % "
          f"(pooled {summary['regions_and_summary_share_pct_pooled']} %)")
    write_results("region_cost", {"model": str(MODEL.relative_to(REPO_ROOT)), "summary": summary,
                                  "records": records})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
