"""Helpers shared by the benchmark scripts: record lists, run metadata, results files, tables.

Every results file carries the exact command, the date, the machine and the git commit, so
that BENCHMARKS.md can quote a figure together with how to reproduce it.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import math
import os
import platform
import shlex
import subprocess
import sys
from pathlib import Path

from pipeline.records import read_record
from pipeline.scoring import DetectionCounts, compare_beats, count_detections
from pipeline.splits import MITDB_RECORDS, SPLITS
from pipeline.types import Record

REPO_ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = REPO_ROOT / "benchmarks" / "results"
CACHE_DIR = REPO_ROOT / ".cache"
BUNDLED_MODEL = REPO_ROOT / "models" / "bundled" / "model.keras"
_DATA_DIR_CANDIDATES = (REPO_ROOT / "data" / "mitdb", REPO_ROOT.parent / "shared" / "data" / "mitdb")


def default_data_dir() -> Path:
    """MIT-BIH directory: ``$ECG_DATA_DIR``, else ``data/mitdb``, else ``../shared/data/mitdb``."""
    if os.environ.get("ECG_DATA_DIR"):
        return Path(os.environ["ECG_DATA_DIR"])
    for candidate in _DATA_DIR_CANDIDATES:
        if (candidate / "100.hea").exists():
            return candidate
    return _DATA_DIR_CANDIDATES[-1]


def compare_with_bundled_model(compare, description: str, argv=None) -> dict:
    """``{record: compare(name, data_dir, model)}`` for the records ``--records`` names (all 48 by default), with the
    bundled model loaded once: the loop of the scripts that set the product against the annotated beats."""
    from models.loading import load_local

    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--records", default="all")
    args = parser.parse_args(argv)
    data_dir, model = default_data_dir(), load_local(BUNDLED_MODEL)
    return {name: compare(name, data_dir, model) for name in parse_records(args.records)}


def parse_records(text: str) -> tuple[str, ...]:
    """Record names from ``"all"``, ``"ds1"``, ``"ds2"`` or a comma list such as ``"100,101"``.

    Examples
    --------
    >>> parse_records("100, 101")
    ('100', '101')
    >>> len(parse_records("all"))
    48
    """
    key = text.strip().lower()
    if key in SPLITS:
        return SPLITS[key]
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    unknown = [name for name in names if name not in MITDB_RECORDS]
    if not names or unknown:
        raise ValueError(f"Received records={text!r}; expected 'all', 'ds1', 'ds2' or MIT-BIH names "
                         f"such as '100,101' (unknown: {unknown}).")
    return names


def load_records(names: tuple[str, ...], data_dir: Path) -> list[Record]:
    """Read each named record (signal in mV at 360 Hz, reference annotations)."""
    return [read_record(Path(data_dir) / name) for name in names]


def read_record_args(description: str, argv=None) -> tuple[list[Record], bool]:
    """``--records`` (default all 48) and ``--no-write`` of a detector benchmark: the records read from the data
    directory, and whether to write the results file."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--records", default="all")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    return load_records(parse_records(args.records), default_data_dir()), not args.no_write


def score_detection(record: Record, test_samples) -> DetectionCounts:
    """EC57 QRS detection counts (150 ms window, from 5 min) of one record."""
    match = compare_beats(record.annotations, test_samples, record.fs_hz, record.n_samples)
    return count_detections(match)


def sum_counts(counts) -> DetectionCounts:
    """Pooled (gross) counts of several records."""
    total = DetectionCounts(0, 0, 0)
    for c in counts:
        total = total + c
    return total


def counts_dict(counts: DetectionCounts) -> dict:
    """JSON-ready counts with Se and +P in percent."""
    return {"tp": counts.tp, "fn": counts.fn, "fp": counts.fp,
            "se_pct": pct(counts.sensitivity), "ppv_pct": pct(counts.positive_predictivity)}


def machine_info() -> dict:
    """CPU model and count (from /proc/cpuinfo and os), load average, Python and library versions."""
    import numpy
    import scipy

    model = platform.processor() or "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    return {"cpu_model": model, "cores": os.cpu_count(), "load_avg_1_5_15": [round(x, 2) for x in load],
            "python": platform.python_version(), "numpy": numpy.__version__, "scipy": scipy.__version__}


def git_info() -> dict:
    """Commit, whether the tree has uncommitted changes, and a hash of the code actually run.

    ``pipeline_sha256`` hashes every ``pipeline/*.py`` file, so that two runs on a dirty tree
    can still be told apart (or matched) by the code they measured.
    """
    def git(*args: str) -> str:
        result = subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, check=False)
        return result.stdout.strip()

    digest = hashlib.sha256()
    for path in sorted((REPO_ROOT / "pipeline").glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return {"commit": git("rev-parse", "HEAD") or "unknown", "dirty": bool(git("status", "--porcelain")),
            "pipeline_sha256": digest.hexdigest()[:16]}


def command_line() -> str:
    """The command that is running, as one would type it from the repository root."""
    script = Path(sys.argv[0]).resolve()
    try:
        script_text = str(script.relative_to(REPO_ROOT))
    except ValueError:
        script_text = sys.argv[0]
    return " ".join(["PYTHONPATH=. .venv/bin/python", shlex.quote(script_text), *map(shlex.quote, sys.argv[1:])])


def run_metadata() -> dict:
    """Command, UTC date, machine and git commit of this run."""
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    return {"command": command_line(), "date_utc": now.isoformat(), "machine": machine_info(), "git": git_info()}


def write_results(name: str, payload: dict, out_dir: Path = RESULTS_DIR) -> Path:
    """Write ``{"run": metadata, **payload}`` to ``out_dir/name.json`` and return the path."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{name}.json"
    path.write_text(json.dumps({"run": run_metadata(), **payload}, indent=2) + "\n")
    return path


def format_table(headers: list[str], rows: list[list]) -> str:
    """Plain-text table (also valid Markdown) with right-aligned cells.

    Examples
    --------
    >>> print(format_table(["a", "b"], [[1, 22]]))
    | a |  b |
    |--:|---:|
    | 1 | 22 |
    """
    cells = [[str(h) for h in headers]] + [[_cell(v) for v in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["| " + " | ".join(c.rjust(w) for c, w in zip(row, widths)) + " |" for row in cells]
    rule = "|" + "|".join("-" * (w + 1) + ":" for w in widths) + "|"
    return "\n".join([lines[0], rule, *lines[1:]])


def _cell(value) -> str:
    return str(value)


def pct(fraction: float) -> float | None:
    """A fraction as a percentage rounded to 2 decimals (the EC57 reporting precision); None for NaN."""
    return None if math.isnan(fraction) else round(100 * fraction, 2)


def pct_text(fraction: float) -> str:
    """A fraction as a percentage for tables: ``"99.95"``, or ``"-"`` when undefined."""
    return "-" if math.isnan(fraction) else f"{100 * fraction:.2f}"
