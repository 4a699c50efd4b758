"""Ingest recordings for the command line: read, clean, detect beats, assess quality, summarise.

Each record goes through the pipeline stages (:func:`pipeline.records.read_record`,
:func:`pipeline.clean.clean_signal`, :func:`pipeline.detect.detect_r_peaks` and, when the module
exists, :func:`pipeline.quality.find_quality_spans`) and comes out as a :class:`RecordSummary`.
"""

from __future__ import annotations

import datetime
import importlib
import logging
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import numpy as np

from pipeline.clean import clean_signal
from pipeline.detect import detect_record_peaks
from pipeline.detector_eval import write_detection_annotations
from pipeline.records import describe_leads, describe_outsized_qrs, read_record
from pipeline.types import Detection, QualitySpan, Record

logger = logging.getLogger(__name__)

QUALITY_MODULE = "pipeline.quality"
DETECTIONS_ANNOTATOR = "qrs"
_MAX_SPANS_SHOWN = 5


@dataclass(frozen=True)
class RecordSummary:
    """What ``ecg ingest`` reports about one record.

    Attributes
    ----------
    name : str
        Record name (file stem).
    duration_s : float
        Length of the recording.
    lead_names : tuple of str
        ECG leads analysed (two at most: :func:`pipeline.records.choose_leads`).
    unused_leads : tuple of str
        The file's other ECG leads.
    primary_lead : str
        Lead used as the main one.
    fs_hz, source_fs_hz : float
        Internal rate and the rate of the file.
    detection : Detection
        Detected R peaks at ``fs_hz``.
    mean_heart_rate_bpm : float or None
        60 / mean RR interval; None with fewer than two beats.
    median_qrs_amplitude_mv : float or None
        Median of the cleaned primary lead at the detected peaks (sign kept).
    quality_spans : tuple of QualitySpan or None
        Problem stretches; None when quality assessment is not available.
    start_time : datetime.time or None
        Clock time of the first sample, from the header; None when it gives none.
    scale_note : str
        A lead's QRS too large for a human heart: the header's gain or units likely wrong
        (:func:`pipeline.records.describe_outsized_qrs`); "" otherwise.
    """

    name: str
    duration_s: float
    lead_names: tuple[str, ...]
    primary_lead: str
    fs_hz: float
    source_fs_hz: float
    detection: Detection
    mean_heart_rate_bpm: float | None
    median_qrs_amplitude_mv: float | None
    quality_spans: tuple[QualitySpan, ...] | None
    unused_leads: tuple[str, ...] = ()
    start_time: datetime.time | None = None
    scale_note: str = ""


def summarize_record(path: str | Path, *, lead: str | None = None) -> RecordSummary:
    """Run the pipeline stages on one record and summarise the result.

    Raises
    ------
    pipeline.errors.EcgInputError
        When the record cannot be read (missing, truncated, no ECG lead, ...).
    """
    record = read_record(path, lead=lead, annotator=None)
    cleaned = clean_signal(record.signal_mv, record.fs_hz)
    detection = detect_record_peaks(record)
    quality_spans = assess_quality(record, detection)
    return RecordSummary(
        name=record.name,
        duration_s=record.duration_s,
        lead_names=record.lead_names,
        primary_lead=record.primary_lead_name,
        fs_hz=record.fs_hz,
        source_fs_hz=record.source_fs_hz,
        detection=detection,
        mean_heart_rate_bpm=compute_mean_heart_rate(detection, quality_spans, record.signal_mv.shape[1]),
        median_qrs_amplitude_mv=compute_median_amplitude(cleaned[:, record.primary_lead], detection.samples),
        quality_spans=quality_spans,
        unused_leads=record.unused_leads,
        start_time=record.start_time,
        scale_note=describe_outsized_qrs(record.signal_mv, record.fs_hz, detection.samples, record.lead_names),
    )


def compute_mean_heart_rate(detection: Detection, quality_spans: tuple[QualitySpan, ...] | None = None,
                            n_leads: int = 1) -> float | None:
    """60 / mean RR interval in beats per minute, over the intervals that touch no unreadable stretch (every lead
    marked by ``quality_spans``: an interval across 30 s held at the rail is no heart rate); None when none is left.

    >>> detection = Detection(np.arange(0, 3600 * 10, 360), 360.0)
    >>> compute_mean_heart_rate(detection), compute_mean_heart_rate(detection, (QualitySpan("flat", 0, 700, 1500),))
    (60.0, 60.0)
    """
    samples = np.asarray(detection.samples)
    if len(samples) < 2:
        return None
    keep = np.ones(len(samples) - 1, bool)
    if not quality_spans:
        return float(60.0 * detection.fs_hz / np.mean(np.diff(samples)))
    from pipeline.regions import find_unreadable_intervals  # imports pipeline.quality, which spans come from

    for start, stop in find_unreadable_intervals(list(quality_spans), n_leads):
        keep &= ~((samples[1:] > start) & (samples[:-1] < stop))
    if not keep.any():
        return None
    return float(60.0 * detection.fs_hz / np.mean(np.diff(samples)[keep]))


def compute_median_amplitude(lead_mv: np.ndarray, samples: np.ndarray) -> float | None:
    """Median of ``lead_mv`` at ``samples`` ignoring NaN, or None when there is no valid value."""
    values = lead_mv[samples]
    values = values[~np.isnan(values)]
    return float(np.median(values)) if values.size else None


def assess_quality(record: Record, detection: Detection) -> tuple[QualitySpan, ...] | None:
    """Quality spans of the record (noise over trains of like beats given back, and the stretches where the
    detector found only noise added, as in ``ecg score``), or None when :mod:`pipeline.quality` is not part of this
    build."""
    quality = load_quality_module()
    if quality is None:
        return None
    return tuple(quality.find_record_quality_spans(record.signal_mv, record.fs_hz, detection.samples,
                                                   detection.noise_only))


def load_quality_module() -> ModuleType | None:
    """:mod:`pipeline.quality`, or None when that module does not exist."""
    try:
        return importlib.import_module(QUALITY_MODULE)
    except ModuleNotFoundError as exc:
        if exc.name != QUALITY_MODULE:
            raise
        logger.info("%s is not available; quality spans are not assessed", QUALITY_MODULE)
        return None


def format_summary(summary: RecordSummary) -> str:
    """A few human-readable lines about one record."""
    leads = describe_leads(tuple(f"{n}*" if n == summary.primary_lead else n for n in summary.lead_names),
                           summary.unused_leads)
    rate = "-" if summary.mean_heart_rate_bpm is None else f"{summary.mean_heart_rate_bpm:.1f} bpm"
    amplitude = "-" if summary.median_qrs_amplitude_mv is None else f"{summary.median_qrs_amplitude_mv:.2f} mV"
    beats = f"{len(summary.detection)}" + (f" ({summary.detection.reason})" if summary.detection.reason else "")
    return "\n".join([
        f"{summary.name}: {summary.duration_s:.1f} s"
        f"{'' if summary.start_time is None else f' from {summary.start_time:%H:%M:%S}'}, leads {leads} "
        f"(* primary), {summary.fs_hz:g} Hz (file {summary.source_fs_hz:g} Hz)",
        f"  beats detected: {beats}; mean heart rate: {rate}; median QRS amplitude ({summary.primary_lead}): "
        f"{amplitude}",
        f"  quality: {format_quality(summary)}",
        *([f"  note: {summary.scale_note}"] if summary.scale_note else []),
    ])


def format_quality(summary: RecordSummary) -> str:
    """One line about the quality spans of a record."""
    spans = summary.quality_spans
    if spans is None:
        return "not assessed (pipeline.quality is not available)"
    if not spans:
        return "no problem found"
    shown = "; ".join(
        f"{s.kind} {summary.lead_names[s.lead]} {format_span_times(s.start / summary.fs_hz, s.stop / summary.fs_hz)}"
        for s in spans[:_MAX_SPANS_SHOWN]
    )
    more = f"; ... ({len(spans) - _MAX_SPANS_SHOWN} more)" if len(spans) > _MAX_SPANS_SHOWN else ""
    return f"{len(spans)} span(s): {shown}{more}"


def format_span_times(start_s: float, stop_s: float) -> str:
    """A quality span's times, to 0.1 s, or to the millisecond when it is shorter than a second (a QA pass, session 51,
    read a single missing sample at the start as "missing 0.0-0.0 s").

    >>> format_span_times(12.34, 15.0), format_span_times(0.0, 1 / 360)
    ('12.3-15.0 s', '0.000-0.003 s')
    """
    decimals = 1 if stop_s - start_s >= 1.0 else 3
    return f"{start_s:.{decimals}f}-{stop_s:.{decimals}f} s"


def summary_to_dict(summary: RecordSummary) -> dict:
    """JSON-ready content of a summary (sample positions are not included)."""
    spans = summary.quality_spans
    return {
        "record": summary.name,
        "duration_s": round(summary.duration_s, 3),
        "start_time": None if summary.start_time is None else summary.start_time.isoformat(),
        "leads": list(summary.lead_names),
        "unused_leads": list(summary.unused_leads),
        "primary_lead": summary.primary_lead,
        "fs_hz": summary.fs_hz,
        "source_fs_hz": summary.source_fs_hz,
        "beats_detected": len(summary.detection),
        "detection_note": summary.detection.reason,
        "mean_heart_rate_bpm": _round_or_none(summary.mean_heart_rate_bpm, 2),
        "median_qrs_amplitude_mv": _round_or_none(summary.median_qrs_amplitude_mv, 4),
        "quality_spans": None if spans is None else [_span_to_dict(s, summary) for s in spans],
        "notes": [summary.scale_note] if summary.scale_note else [],
    }


def _span_to_dict(span: QualitySpan, summary: RecordSummary) -> dict:
    return {"kind": span.kind, "lead": summary.lead_names[span.lead],
            "start_s": round(span.start / summary.fs_hz, 3), "stop_s": round(span.stop / summary.fs_hz, 3)}


def _round_or_none(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def write_detections(summary: RecordSummary, out_dir: str | Path) -> Path:
    """Write the detected beats as WFDB annotations ``out_dir/NAME.qrs`` at the record file's rate."""
    return write_detection_annotations(out_dir, summary.name, DETECTIONS_ANNOTATOR, summary.detection,
                                       summary.source_fs_hz)
