"""Analyse one record end to end: the path shared by ``ecg score`` and the dashboard.

read (done by the caller) -> signal quality -> beat detection -> beat classification -> regions ->
record summary. Nothing here writes files or logs patient details; :mod:`app.outputs` turns a
:class:`RecordAnalysis` into files (the WFDB annotations among them).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from models.atrial_rule import DecisionRules
from models.predict import BeatPredictions, classify_record
from models.prepare import InputSettings
from models.loading import LoadedModel
from pipeline.detect import detect_record_peaks
from pipeline.labels import AAMI_CLASSES
from pipeline.quality import find_quality_spans, spare_beat_trains
from pipeline.regions import Region, RegionSettings, regions_to_rows
from pipeline.region_eval import find_record_regions
from pipeline.rhythm_annotations import beats_in_unreadable
from pipeline.summary import RecordSummary, summary_to_dict
from pipeline.types import QualitySpan, Record


@dataclass(frozen=True)
class RecordAnalysis:
    """Everything the product reports about one record.

    Attributes
    ----------
    record : Record
        The record as read (signal at the internal rate).
    predictions : BeatPredictions
        Detected beats with their class probabilities.
    quality_spans : tuple of QualitySpan
        Missing, flat, saturated and noisy stretches per lead.
    regions : tuple of Region
        Flagged events (:func:`pipeline.regions.find_regions`).
    summary : RecordSummary
        Heart rate, counts, burdens, events, notes.
    model_source : str
        What scored the record (``models:/NAME/VERSION`` or a file path).
    timings_s : dict
        Seconds per stage.
    """

    record: Record
    predictions: BeatPredictions
    quality_spans: tuple[QualitySpan, ...]
    regions: tuple[Region, ...]
    summary: RecordSummary
    model_source: str
    timings_s: dict = field(default_factory=dict)

    @property
    def classes(self) -> np.ndarray:
        return self.predictions.classes


def analyse_record(record: Record, model: LoadedModel, settings: RegionSettings = RegionSettings()
                   ) -> RecordAnalysis:
    """Quality, beats, classes, regions and summary of ``record`` with ``model``."""
    timings = {}
    started = time.perf_counter()
    detection = detect_record_peaks(record)
    timings["detect"] = time.perf_counter() - started
    started = time.perf_counter()
    # noise spans over a train of like beats (e.g. ventricular tachycardia) are signal, not noise
    spans = tuple(spare_beat_trains(find_quality_spans(record.signal_mv, record.fs_hz), record.signal_mv,
                                    detection.samples, record.fs_hz))
    timings["quality"] = time.perf_counter() - started
    started = time.perf_counter()
    input_settings = InputSettings.from_dict(model.settings["inputs"])
    predictions = replace(classify_record(model.model, input_settings, record, detection.samples,
                                          decisions=DecisionRules.from_settings(model.settings)),
                          reason=detection.reason)
    timings["classify"] = time.perf_counter() - started
    started = time.perf_counter()
    regions, summary = find_record_regions(record, predictions.samples, predictions.classes, list(spans), settings,
                                           beat_confidence(predictions))
    timings["regions"] = time.perf_counter() - started
    return RecordAnalysis(record, predictions, spans, tuple(regions), summary,
                          model_source=model.source, timings_s=timings)


def beat_confidence(predictions: BeatPredictions) -> np.ndarray:
    """Winning class probability per beat (1 where the probabilities are NaN: a beat with a gap)."""
    if len(predictions) == 0:
        return np.empty(0, np.float64)
    top = np.max(predictions.probabilities, axis=1).astype(np.float64)
    return np.where(np.isfinite(top), np.clip(top, 0.0, 1.0), 1.0)


def beat_table(analysis: RecordAnalysis) -> pd.DataFrame:
    """One row per beat: time, sample (at the file's rate), class, unreadable flag, probabilities, RR before/after.

    Missing values (the RR before the first beat, probabilities of a beat with a signal gap) are NaN.
    """
    record, predictions = analysis.record, analysis.predictions
    samples = predictions.samples
    n = len(samples)
    rr = np.diff(samples) / record.fs_hz
    probabilities = predictions.probabilities.astype(np.float64)
    columns = {
        "beat": np.arange(n),
        "time_s": np.round(samples / record.fs_hz, 4),
        "sample": np.round(samples * (record.source_fs_hz / record.fs_hz)).astype(np.int64),
        "class": predictions.classes,
        "unreadable": beats_in_unreadable(list(analysis.regions), n),
        "atrial_rule": predictions.relabelled_mask,
        "conduction_rule": predictions.conducted_mask,
        "run_rule": predictions.in_run_mask,
    }
    columns.update({f"p_{c}": np.round(probabilities[:, k], 4) for k, c in enumerate(AAMI_CLASSES)})
    columns["rr_before_s"] = np.round(np.concatenate([[np.nan], rr]), 4) if n else np.empty(0)
    columns["rr_after_s"] = np.round(np.concatenate([rr, [np.nan]]), 4) if n else np.empty(0)
    return pd.DataFrame(columns)


def region_rows(analysis: RecordAnalysis) -> list[dict]:
    """The flagged regions as plain rows (times in seconds, samples at the internal rate)."""
    return regions_to_rows(list(analysis.regions), analysis.record.fs_hz)


def summary_dict(analysis: RecordAnalysis) -> dict:
    """The summary as JSON-ready content, with what was analysed and by which model."""
    record = analysis.record
    return {
        "record": record.name,
        "leads": list(record.lead_names),
        "primary_lead": record.lead_names[record.primary_lead],
        "fs_hz": record.fs_hz,
        "source_fs_hz": record.source_fs_hz,
        "model": analysis.model_source,
        "detection_note": analysis.predictions.reason,
        **summary_to_dict(analysis.summary),
    }
