"""Peak memory and time of reading a 12-lead recording: the two leads analysed against every lead.

A 12-lead Holter file holds six times the samples the analysis uses (two leads: the primary and the one most like
V1, :func:`pipeline.records.choose_leads`). This script writes once, to ``.cache/multilead/twelve{H}h``, an H-hour
12-lead record at 1,000 Hz (format 16) whose leads are MIT-BIH records' primary leads (the 48 records' signals
concatenated, as ``benchmarks/long_record.py`` does, each lead a different gain of it: the content does not matter
for reading). It then reads it in a fresh process with ``read_record`` as the product does (``max_leads=2``) and
with every lead (``max_leads=None``), and reports wall time and peak resident memory (``VmHWM``) of each.

Usage::

    PYTHONPATH=. .venv/bin/python benchmarks/multilead_memory.py [--hours 1]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from benchmarks.common import CACHE_DIR, REPO_ROOT, default_data_dir, format_table, write_results
from benchmarks.long_record import concatenate_mitdb, peak_rss_mb
from pipeline.records import write_record

FS_HZ = 1000.0
LEADS = ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")


def twelve_lead_path(hours: int) -> Path:
    return CACHE_DIR / "multilead" / f"twelve{hours}h"


def ensure_record(data_dir: Path, hours: int) -> Path:
    """The H-hour 12-lead record, written on first use."""
    path = twelve_lead_path(hours)
    if not path.with_suffix(".hea").exists():
        lead = concatenate_mitdb(data_dir)[:, 0]
        n = int(hours * 3600 * FS_HZ)
        source = np.interp(np.arange(n) * 360.0 / FS_HZ, np.arange(len(lead)), lead).astype(np.float32)
        signal = np.stack([source * (0.4 + 0.1 * k) for k in range(len(LEADS))], axis=1)
        write_record(path.parent, path.name, signal, FS_HZ, LEADS, fmt="16", adc_gain=1000.0)
    return path


def read_in_child(path: Path, max_leads: int | None) -> dict:
    """Read ``path`` in a fresh process; its wall time, peak memory and the leads it kept."""
    code = ("import json, time; from pipeline.records import read_record; "
            "from benchmarks.long_record import peak_rss_mb; base = peak_rss_mb(); t = time.perf_counter(); "
            f"r = read_record({str(path)!r}, annotator=None, max_leads={max_leads!r}); "
            "print(json.dumps({'seconds': time.perf_counter() - t, 'peak_mb': peak_rss_mb(), "
            "'peak_above_start_mb': peak_rss_mb() - base, 'leads': list(r.lead_names)}))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=int, default=1)
    args = parser.parse_args()
    path = ensure_record(default_data_dir(), args.hours)
    started = time.perf_counter()
    runs = {"two leads (default)": read_in_child(path, 2), "every lead": read_in_child(path, None)}
    rows = [[name, len(run["leads"]), round(run["seconds"], 2), round(run["peak_mb"]),
             round(run["peak_above_start_mb"])] for name, run in runs.items()]
    print(f"{args.hours} h, 12 leads at {FS_HZ:g} Hz ({path.with_suffix('.dat').stat().st_size / 1e6:.0f} MB)")
    print(format_table(["read", "leads", "seconds", "peak MB", "peak above start MB"], rows))
    print(f"results: {write_results('multilead_memory', {'hours': args.hours, 'fs_hz': FS_HZ, 'runs': runs})}"
          f" ({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
