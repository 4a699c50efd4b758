"""``ecg score`` end to end against wfdb's XQRS detector, side by side; and a 24-hour record.

1. All 48 MIT-BIH records scored by ``ecg score --format csv,json,wfdb --force`` (read, detect,
   classify, regions, every output except the PDF) in a fresh process, wall time including the
   start-up (Python, TensorFlow, model loading), once with ``--jobs 1`` and ``--repeats`` times
   (default 3) with ``--jobs 2``; then, in this process, wfdb's ``processing.xqrs_detect`` on the
   primary lead of the same records (records read beforehand, detection only). Target: scoring
   time (median of the ``--jobs 2`` runs) <= 0.2 x XQRS time.
2. The 24-hour two-lead record (the 48 records concatenated, built by
   ``benchmarks/long_record.py`` into ``.cache/long/mitdb24h``) scored in a fresh process
   (``--jobs 1``): wall time and peak resident memory (``ru_maxrss`` of the child from
   ``os.wait4``; it starts from this process's own high-water mark, so it can only overstate).
   Targets: <= 60 s and <= 2 GB.

Usage::

    PYTHONPATH=. .venv/bin/python benchmarks/score_speed.py            # both parts (about 7 minutes on the 2-core machine)
    PYTHONPATH=. .venv/bin/python benchmarks/score_speed.py --skip-xqrs
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import REPO_ROOT, default_data_dir, format_table, write_results
from benchmarks.detector_speed import detect_xqrs
from pipeline.records import read_record
from pipeline.splits import MITDB_RECORDS

MODEL = REPO_ROOT / "models" / "bundled" / "model.keras"
RATIO_TARGET = 0.2
LONG_TIME_TARGET_S = 60.0
LONG_MEMORY_TARGET_MB = 2000.0


def run_score(paths: list[str], out_dir: Path, jobs: int, formats: str = "csv,json,wfdb") -> dict:
    """Run ``ecg score --format FORMATS`` in a fresh process; wall time, exit code and the child's peak RSS."""
    command = [sys.executable, "-m", "app.cli", "score", "-q", "--force", "--model", str(MODEL),
               "--format", formats, "--jobs", str(jobs), "--out", str(out_dir), *paths]
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    _, status, usage = os.wait4(process.pid, 0)
    wall_s = time.perf_counter() - started
    output = process.stdout.read().decode(errors="replace")
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise RuntimeError(f"ecg score failed ({code}):\n{output[-2000:]}")
    return {"jobs": jobs, "wall_s": round(wall_s, 2), "peak_rss_mb": round(usage.ru_maxrss * 1024 / 1e6, 1),
            "summary_line": output.strip().splitlines()[-1]}


def time_xqrs(data_dir: Path) -> dict:
    """XQRS detection time over the 48 records (reading excluded)."""
    total_s = 0.0
    for name in MITDB_RECORDS:
        record = read_record(data_dir / name, annotator=None)
        started = time.perf_counter()
        detect_xqrs(record)
        total_s += time.perf_counter() - started
    return {"detect_s": round(total_s, 2), "records": len(MITDB_RECORDS)}


def ensure_long_record() -> Path:
    """Build the 24 h record in a separate process (this process's memory stays small)."""
    path = REPO_ROOT / ".cache" / "long" / "mitdb24h"
    if not path.with_suffix(".hea").exists():
        subprocess.run([sys.executable, "-c", "from benchmarks.long_record import ensure_long_records, "
                        "default_data_dir; ensure_long_records(default_data_dir(), (24,))"],
                       cwd=REPO_ROOT, env={**os.environ, "PYTHONPATH": str(REPO_ROOT)}, check=True)
    return path


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--skip-xqrs", action="store_true", help="do not time XQRS (about 2 minutes)")
    parser.add_argument("--skip-long", action="store_true", help="do not score the 24 h record")
    parser.add_argument("--repeats", type=int, default=3,
                        help="runs of --jobs 2 (the ratio uses their median; single runs vary by 1-2 s)")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    data_dir = args.data_dir or default_data_dir()
    paths = [str(data_dir / name) for name in MITDB_RECORDS]
    results: dict = {"targets": {"score_over_xqrs": RATIO_TARGET, "long_wall_s": LONG_TIME_TARGET_S,
                                 "long_peak_rss_mb": LONG_MEMORY_TARGET_MB}}
    with tempfile.TemporaryDirectory(prefix="score-bench-") as tmp:
        long_path = None if args.skip_long else ensure_long_record()
        runs = [run_score(paths, Path(tmp) / "jobs1", 1)]
        runs += [run_score(paths, Path(tmp) / f"jobs2-{k}", 2) for k in range(args.repeats)]
        results["mitdb48"] = runs
        results["jobs2_median_wall_s"] = statistics.median(r["wall_s"] for r in runs if r["jobs"] == 2)
        if long_path is not None:
            results["long_24h"] = run_score([str(long_path)], Path(tmp) / "long", 1)
    if not args.skip_xqrs:
        results["xqrs"] = time_xqrs(data_dir)
        results["score_over_xqrs"] = round(results["jobs2_median_wall_s"] / results["xqrs"]["detect_s"], 3)
    rows = [[f"ecg score, 48 records, --jobs {r['jobs']}", r["wall_s"], r["peak_rss_mb"]] for r in runs]
    rows.append(["ecg score, 48 records, --jobs 2, median", results["jobs2_median_wall_s"], "-"])
    if "long_24h" in results:
        rows.append(["ecg score, 24 h record, --jobs 1", results["long_24h"]["wall_s"],
                     results["long_24h"]["peak_rss_mb"]])
    if "xqrs" in results:
        rows.append(["wfdb xqrs_detect, 48 records (detection only)", results["xqrs"]["detect_s"], "-"])
    print(format_table(["run", "wall s", "peak RSS MB"], rows))
    if "score_over_xqrs" in results:
        print(f"score / xqrs = {results['score_over_xqrs']:.3f} (target <= {RATIO_TARGET})")
    path = write_results("score_speed", results)
    print(f"results written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
