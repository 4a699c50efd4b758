"""Evaluate the R-peak detector against the MIT-BIH reference beats (AAMI EC57, as WFDB ``bxb``).

For each record: read it, run :func:`pipeline.detect.detect_r_peaks`, match the detections with
the reference beats (150 ms window, scoring from 5 minutes, ventricular flutter excluded;
:mod:`pipeline.scoring`) and count TP/FN/FP. Gross figures pool the counts over all records.
Outputs: ``detector_report.json``, ``detector_report.md`` and one WFDB annotation file per record
(``REC.<annotator>``, every detection labelled ``N``) that ``rdann`` and ``bxb`` read.

References
----------
ANSI/AAMI EC57:2012. Moody GB, "WFDB Applications Guide" (``bxb``).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import subprocess
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np
from tqdm import tqdm

from pipeline import detect
from pipeline.detect import detect_record_peaks
from pipeline.records import read_record, write_annotations
from pipeline.scoring import (MATCH_WINDOW_S, SCORE_START_S, DetectionCounts, compare_beats, count_detections,
                              require_reference_beats)
from pipeline.types import Annotations, Detection

logger = logging.getLogger(__name__)

REFERENCE_ANNOTATOR = "atr"
REPORT_JSON = "detector_report.json"
REPORT_MD = "detector_report.md"
PACKAGE_NAME = "ecg-arrhythmia"


@dataclass(frozen=True)
class RecordEvaluation:
    """Detector result on one record.

    Attributes
    ----------
    record : str
        Record name.
    counts : DetectionCounts
        TP/FN/FP in the scored interval.
    detection : Detection
        Detected R peaks of the whole record (not only the scored part).
    source_fs_hz : float
        Rate of the record file (annotation files are written at this rate).
    """

    record: str
    counts: DetectionCounts
    detection: Detection
    source_fs_hz: float


@dataclass(frozen=True)
class RecordFailure:
    """A record that could not be evaluated, with the reason."""

    record: str
    error: str


@dataclass(frozen=True)
class DetectorReport:
    """Per-record results, failures and the settings of one evaluation run."""

    evaluations: tuple[RecordEvaluation, ...]
    failures: tuple[RecordFailure, ...]
    settings: dict

    @property
    def gross(self) -> DetectionCounts:
        """Counts pooled over all evaluated records."""
        return sum((e.counts for e in self.evaluations), DetectionCounts(0, 0, 0))


def evaluate_record(path: str | Path) -> RecordEvaluation:
    """Detect R peaks in one annotated record and count them against its reference beats.

    Raises
    ------
    EcgInputError
        When the record cannot be read or has no reference beat annotations.
    """
    record = read_record(path, annotator=REFERENCE_ANNOTATOR)
    require_reference_beats(record, REFERENCE_ANNOTATOR)
    detection = detect_record_peaks(record)
    match = compare_beats(record.annotations, detection.samples, record.fs_hz, record.n_samples)
    return RecordEvaluation(record.name, count_detections(match), detection, record.source_fs_hz)


def evaluate_detector(data_dir: str | Path, record_names: tuple[str, ...] | list[str], *,
                      progress: bool = False) -> DetectorReport:
    """Evaluate the detector on ``record_names`` in ``data_dir``; a failing record does not stop the rest.

    Parameters
    ----------
    data_dir : str or Path
        Directory of WFDB records with reference ``.atr`` files.
    record_names : sequence of str
        Record names (``"100"``, ...).
    progress : bool
        Show a progress bar on stderr.

    Returns
    -------
    DetectorReport

    Examples
    --------
    >>> report = evaluate_detector("../shared/data/mitdb", ["100", "117"])  # doctest: +SKIP
    >>> report.gross.sensitivity > 0.99  # doctest: +SKIP
    True
    """
    evaluations, failures = [], []
    for name in tqdm(record_names, desc="evaluate detector", unit="record", disable=not progress):
        try:
            evaluations.append(evaluate_record(Path(data_dir) / name))
        except Exception as exc:  # batch boundary: report the record and go on with the others
            logger.debug("a record failed; the report lists it", exc_info=True)
            failures.append(RecordFailure(name, f"{type(exc).__name__}: {exc}"))
    return DetectorReport(tuple(evaluations), tuple(failures), describe_settings(data_dir))


def describe_settings(data_dir: str | Path) -> dict:
    """Scoring rules, detector settings and provenance recorded with every report."""
    return {
        "match_window_ms": MATCH_WINDOW_S * 1000.0,
        "score_start_s": SCORE_START_S,
        "vf_excluded": True,
        "reference_annotator": REFERENCE_ANNOTATOR,
        "detector": describe_detector(),
        "data_dir": str(data_dir),
        "package_version": find_package_version(),
        "git_commit": find_git_commit(),
    }


def describe_detector() -> dict:
    """Name and default settings of the detector."""
    settings = dataclasses.asdict(detect.DetectorSettings())
    return {"function": f"{detect.__name__}.{detect_record_peaks.__name__}", "settings": settings}


def find_package_version() -> str:
    """Installed version of the project, or ``"unknown"`` when it is not installed."""
    try:
        return metadata.version(PACKAGE_NAME)
    except metadata.PackageNotFoundError:
        return "unknown"


def find_git_commit() -> str | None:
    """Commit of the checkout this code runs from (``-dirty`` when it has changes), or None."""
    root = Path(__file__).resolve().parent.parent
    try:
        commit = _run_git(root, "rev-parse", "HEAD")
        dirty = _run_git(root, "status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{commit}-dirty" if dirty else commit


def _run_git(root: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=10, check=True)
    return done.stdout.strip()


def format_table(report: DetectorReport) -> str:
    """Plain-text table of per-record and gross TP/FN/FP/Se/+P, then the failures."""
    lines = [f"{'record':>8} {'TP':>7} {'FN':>6} {'FP':>6} {'Se %':>7} {'+P %':>7}"]
    for e in report.evaluations:
        lines.append(_format_row(e.record, e.counts))
    lines.append(_format_row("gross", report.gross))
    lines.extend(f"FAILED {f.record}: {f.error}" for f in report.failures)
    return "\n".join(lines)


def _format_row(label: str, c: DetectionCounts) -> str:
    return (f"{label:>8} {c.tp:>7} {c.fn:>6} {c.fp:>6} {_percent(c.sensitivity):>7} "
            f"{_percent(c.positive_predictivity):>7}")


def _percent(value: float) -> str:
    return "-" if math.isnan(value) else f"{100 * value:.2f}"


def report_to_dict(report: DetectorReport) -> dict:
    """JSON-ready content of the report (NaN rates become null)."""
    return {
        "settings": report.settings,
        "records": [{"record": e.record, **_counts_to_dict(e.counts), "n_detections": len(e.detection)}
                    for e in report.evaluations],
        "gross": _counts_to_dict(report.gross),
        "failures": [dataclasses.asdict(f) for f in report.failures],
    }


def _counts_to_dict(c: DetectionCounts) -> dict:
    return {"tp": c.tp, "fn": c.fn, "fp": c.fp, "sensitivity": _finite_or_none(c.sensitivity),
            "positive_predictivity": _finite_or_none(c.positive_predictivity)}


def _finite_or_none(value: float) -> float | None:
    return None if math.isnan(value) else round(value, 6)


def format_markdown(report: DetectorReport) -> str:
    """Markdown version of the report: settings, per-record table, gross line, failures."""
    s = report.settings
    lines = [
        "# R-peak detector evaluation (AAMI EC57, bxb rules)",
        "",
        f"Match window {s['match_window_ms']:g} ms; scoring from {s['score_start_s']:g} s; ventricular "
        f"flutter/fibrillation excluded. Detector `{s['detector']['function']}`; package "
        f"{s['package_version']}; commit {s['git_commit'] or 'unknown'}.",
        "",
        "| record | TP | FN | FP | Se % | +P % |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    lines += [_markdown_row(e.record, e.counts) for e in report.evaluations]
    lines.append(_markdown_row("**gross**", report.gross))
    if report.failures:
        lines += ["", "## Failed records", ""] + [f"- {f.record}: {f.error}" for f in report.failures]
    return "\n".join(lines) + "\n"


def _markdown_row(label: str, c: DetectionCounts) -> str:
    return (f"| {label} | {c.tp} | {c.fn} | {c.fp} | {_percent(c.sensitivity)} | "
            f"{_percent(c.positive_predictivity)} |")


def write_detection_annotations(out_dir: str | Path, record_name: str, annotator: str, detection: Detection,
                                file_fs_hz: float) -> Path:
    """Write detected beats as WFDB annotations ``out_dir/record_name.<annotator>`` (symbol ``N``).

    Samples are converted to the record file's own rate ``file_fs_hz`` so that ``bxb`` and
    ``rdann`` align them with the signal file.
    """
    samples = detection.samples
    if file_fs_hz != detection.fs_hz:
        samples = np.round(samples * (file_fs_hz / detection.fs_hz)).astype(np.int64)
    n = len(samples)
    annotations = Annotations(samples, np.full(n, "N", dtype="<U2"), np.full(n, "", dtype=object))
    return write_annotations(out_dir, record_name, annotator, annotations, fs_hz=file_fs_hz)


def write_report(report: DetectorReport, out_dir: str | Path, annotator: str) -> list[Path]:
    """Write the JSON and Markdown reports and each record's annotation file into ``out_dir``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    content = report_to_dict(report)
    content["settings"] = {**content["settings"], "output_annotator": annotator}
    json_path = out_dir / REPORT_JSON
    json_path.write_text(json.dumps(content, indent=2) + "\n", encoding="utf-8")
    md_path = out_dir / REPORT_MD
    md_path.write_text(format_markdown(report), encoding="utf-8")
    return [json_path, md_path] + [
        write_detection_annotations(out_dir, e.record, annotator, e.detection, e.source_fs_hz)
        for e in report.evaluations
    ]

