"""Cut the bundled 5-minute MIT-BIH excerpts in ``data/excerpts/`` from a full copy of the database.

Each excerpt is the first 5 minutes of a record, written as a WFDB record (format 212, gain 200
adu/mV, baseline 1024 as in MIT-BIH, so the stored samples equal the original ones) with the
reference annotations (beats, rhythm changes with their aux notes, noise marks) that fall inside.
Header comments (patient age, sex, medication) are not copied.

Usage::

    PYTHONPATH=. .venv/bin/python data/make_excerpts.py [--source ../shared/data/mitdb] [--out data/excerpts]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from pipeline.records import read_record, write_annotations, write_record
from pipeline.types import Record

EXCERPT_RECORDS = ("100", "106", "119", "201", "208", "217", "232")
EXCERPT_DURATION_S = 300.0
REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE = REPO_ROOT.parent / "shared" / "data" / "mitdb"
DEFAULT_OUT = REPO_ROOT / "data" / "excerpts"


def cut_excerpt(record: Record, duration_s: float) -> Record:
    """First ``duration_s`` of ``record`` with the annotations that fall inside it."""
    n = int(round(duration_s * record.fs_hz))
    annotations = record.annotations.select(record.annotations.samples < n)
    return Record(record.name, record.signal_mv[:n], record.fs_hz, record.lead_names, record.primary_lead,
                  record.source_fs_hz, annotations)


def write_excerpt(excerpt: Record, out_dir: Path) -> None:
    """Write an excerpt as a format-212 WFDB record with its ``.atr`` annotations."""
    write_record(out_dir, excerpt.name, excerpt.signal_mv, excerpt.fs_hz, excerpt.lead_names, fmt="212")
    write_annotations(out_dir, excerpt.name, "atr", excerpt.annotations, fs_hz=excerpt.fs_hz)


def check_excerpt(excerpt: Record, out_dir: Path) -> None:
    """Read the written excerpt back and require samples and annotations equal to the original's."""
    back = read_record(out_dir / excerpt.name, annotator="atr")
    if not np.array_equal(back.signal_mv, excerpt.signal_mv, equal_nan=True):
        raise RuntimeError(f"excerpt {excerpt.name}: samples read back differ from the original")
    for field in ("samples", "symbols", "aux_notes"):
        if not np.array_equal(getattr(back.annotations, field), getattr(excerpt.annotations, field)):
            raise RuntimeError(f"excerpt {excerpt.name}: annotation {field} read back differ from the original")


def make_excerpts(source_dir: Path, out_dir: Path, names: tuple[str, ...] = EXCERPT_RECORDS,
                  duration_s: float = EXCERPT_DURATION_S) -> None:
    """Cut, write and check the excerpt of each record in ``names``."""
    for name in names:
        record = read_record(source_dir / name, annotator="atr")
        excerpt = cut_excerpt(record, duration_s)
        write_excerpt(excerpt, out_dir)
        check_excerpt(excerpt, out_dir)
        print(f"{name}: {excerpt.n_samples} samples x {len(excerpt.lead_names)} leads, "
              f"{len(excerpt.annotations)} annotations -> {out_dir}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE, help="full MIT-BIH directory")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where to write the excerpts")
    args = parser.parse_args()
    make_excerpts(args.source, args.out)


if __name__ == "__main__":
    main()
