"""Ingest time and peak memory on long recordings: 3, 6, 12 and 24 hours of two-lead ECG.

The long records are the 48 MIT-BIH records' signals concatenated (primary lead first, the other
lead second; 24.07 h in all, cut to each length) and written once with
:func:`pipeline.records.write_record` (format 212, which holds MIT-BIH's 11-bit samples
exactly) to ``.cache/long/mitdb{H}h``; later runs reuse them. Each length is then ingested in a
fresh Python process (``read_record -> find_quality_spans`` when :mod:`pipeline.quality` exists
``-> clean_signal -> detect_r_peaks``). The parent measures the child's wall time and its user and
system CPU time (``os.wait4``); the child reports each stage's time and its peak resident memory
after each stage, from ``VmHWM`` in ``/proc/self/status``. (``ru_maxrss`` is not used for the peak:
on Linux a child's ``ru_maxrss`` starts from the parent's high-water mark, which it inherits
through fork and exec, so a parent that built the long record would inflate it.) Time should grow
in proportion to length (constant s per hour) and the 24 h peak should stay under 2 GB (2,000 MB).

``--profile-memory H`` ingests the H-hour record under :class:`benchmarks.memprofile.MemoryProfile`
and lists the functions whose calls raised traced memory the most (slow; use 3 h).

Usage::

    PYTHONPATH=. .venv/bin/python benchmarks/long_record.py                      # 3, 6, 12, 24 h
    PYTHONPATH=. .venv/bin/python benchmarks/long_record.py --hours 3,6
    PYTHONPATH=. .venv/bin/python benchmarks/long_record.py --profile-memory 3
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from benchmarks.common import CACHE_DIR, REPO_ROOT, default_data_dir, format_table, write_results
from pipeline import INTERNAL_FS_HZ
from pipeline.clean import clean_signal
from pipeline.detect import detect_r_peaks
from pipeline.records import read_record, write_record
from pipeline.splits import MITDB_RECORDS

LONG_DIR = CACHE_DIR / "long"
LEAD_NAMES = ("ECG1", "ECG2")
DEFAULT_HOURS = (3, 6, 12, 24)
MEMORY_LIMIT_MB = 2000.0
SUPERLINEAR_RATIO = 1.25
"""s/h at the longest length over s/h at the shortest above which scaling is flagged as super-linear."""
PROFILE_PREFIXES = ("/pipeline/", "/scipy/signal/", "/numpy/", "/wfdb/")


def long_record_path(hours: int) -> Path:
    return LONG_DIR / f"mitdb{hours}h"


def is_complete(path: Path, n_samples: int, n_leads: int = 2) -> bool:
    """True when the header and a format-212 signal file of the full size are present."""
    dat = path.with_suffix(".dat")
    return path.with_suffix(".hea").exists() and dat.exists() and dat.stat().st_size >= n_samples * n_leads * 3 // 2


def concatenate_mitdb(data_dir: Path) -> np.ndarray:
    """(n, 2) float32 mV: every MIT-BIH record's primary lead and other lead, one after another."""
    parts = []
    for name in MITDB_RECORDS:
        record = read_record(Path(data_dir) / name, annotator=None)
        others = [j for j in range(record.signal_mv.shape[1]) if j != record.primary_lead]
        parts.append(record.signal_mv[:, [record.primary_lead, others[0]]])
    return np.concatenate(parts)


def ensure_long_records(data_dir: Path, hours: tuple[int, ...], rebuild: bool = False) -> dict[int, Path]:
    """Write the long records that are missing (all of them with ``rebuild``); return their paths."""
    sizes = {h: int(round(h * 3600 * INTERNAL_FS_HZ)) for h in hours}
    missing = [h for h in hours if rebuild or not is_complete(long_record_path(h), sizes[h])]
    if missing:
        signal = concatenate_mitdb(data_dir)
        for h in missing:
            if sizes[h] > signal.shape[0]:
                raise ValueError(f"Received hours={h}; expected at most {signal.shape[0] / INTERNAL_FS_HZ / 3600:.2f} "
                                 "(the length of MIT-BIH concatenated).")
            print(f"writing {long_record_path(h)} ({h} h)", flush=True)
            write_record(LONG_DIR, long_record_path(h).name, signal[: sizes[h]], INTERNAL_FS_HZ, LEAD_NAMES)
    return {h: long_record_path(h) for h in hours}


# --- the child process -------------------------------------------------------------------------

def find_quality_function():
    """``pipeline.quality.find_quality_spans`` when that module exists, else None."""
    if importlib.util.find_spec("pipeline.quality") is None:
        return None
    from pipeline.quality import find_quality_spans

    return find_quality_spans


def peak_rss_mb() -> float:
    """Peak resident memory of this process's own address space so far (VmHWM), in MB.

    Falls back to ``ru_maxrss`` (KiB on Linux) where ``/proc`` is absent.
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024 / 1e6
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6


def ingest(path: Path) -> dict:
    """Read, assess quality, clean and detect one record; time and peak RSS after each stage."""
    stages = {"imports": {"s": 0.0, "peak_rss_mb_after": round(peak_rss_mb(), 1)}}

    def run_stage(name, function, *args, **kwargs):
        start = time.perf_counter()
        result = function(*args, **kwargs)
        stages[name] = {"s": round(time.perf_counter() - start, 3), "peak_rss_mb_after": round(peak_rss_mb(), 1)}
        return result

    record = run_stage("read", read_record, path)
    quality = find_quality_function()
    if quality is not None:
        run_stage("quality", quality, record.signal_mv, record.fs_hz)
    cleaned = run_stage("clean", clean_signal, record.signal_mv, record.fs_hz)
    detection = run_stage("detect", detect_r_peaks, cleaned, record.fs_hz, primary_lead=record.primary_lead)
    return {"hours": record.duration_s / 3600, "n_beats": len(detection), "stages": stages,
            "peak_rss_mb": round(peak_rss_mb(), 1)}


def ingest_profiled(path: Path, top: int) -> dict:
    """:func:`ingest` under the memory profiler; adds the top allocating functions (MB)."""
    from benchmarks.memprofile import MemoryProfile

    with MemoryProfile(PROFILE_PREFIXES) as profile:
        result = ingest(path)
    result["top_functions_mb"] = [[name, round(n / 1e6, 1)] for name, n in profile.top(top)]
    return result


# --- the parent process ------------------------------------------------------------------------

def run_child(path: Path, profile_top: int = 0) -> dict:
    """Ingest ``path`` in a fresh interpreter; add its wall time, CPU times and page faults (wait4)."""
    command = [sys.executable, str(Path(__file__).resolve()), "--ingest", str(path)]
    if profile_top:
        command += ["--top", str(profile_top)]
    python_path = os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "PYTHONPATH": python_path}
    start = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.PIPE, env=env, text=True)
    output = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    wall_s = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    child.stdout.close()
    if child.returncode != 0:
        raise RuntimeError(f"Ingest of {path} exited with {child.returncode}; see its stderr above.")
    result = json.loads(output.strip().splitlines()[-1])
    processing_s = sum(stage["s"] for stage in result["stages"].values())
    return {**result, "wall_s": round(wall_s, 2), "user_cpu_s": round(usage.ru_utime, 2),
            "system_cpu_s": round(usage.ru_stime, 2), "minor_page_faults": usage.ru_minflt,
            "processing_s": round(processing_s, 2),
            "s_per_hour": round(processing_s / result["hours"], 3)}


def summarise(runs: dict[int, dict]) -> dict:
    """Scaling (s/h longest over shortest) and the memory check at the longest length."""
    shortest, longest = runs[min(runs)], runs[max(runs)]
    ratio = longest["s_per_hour"] / shortest["s_per_hour"]
    return {"s_per_hour_ratio_longest_to_shortest": round(ratio, 2), "superlinear": ratio > SUPERLINEAR_RATIO,
            "peak_rss_mb_longest": longest["peak_rss_mb"], "memory_limit_mb": MEMORY_LIMIT_MB,
            "memory_ok": longest["peak_rss_mb"] < MEMORY_LIMIT_MB}


def report_table(runs: dict[int, dict]) -> str:
    """One row per length: wall and processing time, s per hour, stage times, peak RSS."""
    stage_names = [s for s in ("read", "quality", "clean", "detect") if any(s in r["stages"] for r in runs.values())]
    headers = ["hours", "wall s", "user s", "sys s", "page faults k", "processing s", "s per h",
               *[f"{s} s" for s in stage_names], "peak RSS MB"]
    rows = [[h, r["wall_s"], r["user_cpu_s"], r["system_cpu_s"], r["minor_page_faults"] // 1000, r["processing_s"],
             r["s_per_hour"],
             *[r["stages"].get(s, {}).get("s", "-") for s in stage_names], r["peak_rss_mb"]] for h, r in runs.items()]
    return format_table(headers, rows)


def memory_table(runs: dict[int, dict]) -> str:
    """Peak RSS after each stage (where the peak was reached)."""
    stage_names = list(next(iter(runs.values()))["stages"])
    rows = [[h, *[r["stages"][s]["peak_rss_mb_after"] for s in stage_names]] for h, r in runs.items()]
    return format_table(["hours", *[f"after {s} MB" for s in stage_names]], rows)


def parse_hours(text: str) -> tuple[int, ...]:
    hours = tuple(sorted({int(h) for h in text.split(",") if h.strip()}))
    if not hours or min(hours) <= 0:
        raise argparse.ArgumentTypeError(f"Received --hours {text!r}; expected positive whole hours such as 3,6,12.")
    return hours


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hours", type=parse_hours, default=DEFAULT_HOURS, help="lengths in h (default 3,6,12,24)")
    parser.add_argument("--profile-memory", type=int, metavar="H", help="profile memory on the H-hour record only")
    parser.add_argument("--top", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--ingest", type=Path, help=argparse.SUPPRESS)  # child mode
    parser.add_argument("--rebuild", action="store_true", help="rewrite the long records even if present")
    parser.add_argument("--data-dir", type=Path, default=default_data_dir(), help="MIT-BIH directory")
    parser.add_argument("--out-name", default="long_record", help="results file name (no extension)")
    return parser.parse_args(argv)


def main_profile(args: argparse.Namespace) -> int:
    path = ensure_long_records(args.data_dir, (args.profile_memory,), args.rebuild)[args.profile_memory]
    result = run_child(path, profile_top=20)
    print(f"{args.profile_memory} h under the memory profiler: peak RSS {result['peak_rss_mb']} MB")
    print(memory_table({args.profile_memory: result}))
    print(format_table(["function", "largest rise in traced memory in one call, MB"], result["top_functions_mb"]))
    out = write_results(f"{args.out_name}_memory_profile", {"hours": args.profile_memory, "result": result})
    print(f"results: {out}")
    return 0


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.ingest is not None:
        result = ingest_profiled(args.ingest, args.top) if args.top else ingest(args.ingest)
        print(json.dumps(result))
        return 0
    if args.profile_memory:
        return main_profile(args)
    paths = ensure_long_records(args.data_dir, args.hours, args.rebuild)
    runs = {h: run_child(paths[h]) for h in args.hours}
    summary = summarise(runs)
    print(report_table(runs))
    print(memory_table(runs))
    print(f"\ns per hour, longest / shortest: {summary['s_per_hour_ratio_longest_to_shortest']} "
          f"({'SUPER-LINEAR' if summary['superlinear'] else 'linear'}); peak RSS at {max(runs)} h: "
          f"{summary['peak_rss_mb_longest']} MB ({'OK' if summary['memory_ok'] else 'OVER'} the "
          f"{MEMORY_LIMIT_MB:.0f} MB limit)")
    path = write_results(args.out_name, {"quality_stage": find_quality_function() is not None,
                                         "runs": {str(h): r for h, r in runs.items()}, "summary": summary})
    print(f"results: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
