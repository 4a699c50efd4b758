"""Which event each report strip shows (app.report.choose_strip_events): a clear example of its kind first."""

from __future__ import annotations

import numpy as np

from app.analysis import analyse_record
from app.report import STRIP_CONFIDENCE_MIN, choose_strip_events
from benchmarks.report_strips import match_reference_classes
from models.bundled import load_default_model
from pipeline.labels import AAMI_CLASSES
from pipeline.records import read_record
from pipeline.regions import Region

V = AAMI_CLASSES.index("V")


def region(kind: str, start: int, stop: int, confidence: float) -> Region:
    return Region(kind, start, stop, 0, 3, 120.0, confidence)


def test_the_longest_clear_region_of_a_kind_is_shown_else_the_longest():
    doubtful = region("ventricular_tachycardia", 0, 3000, 0.3)
    clear = region("ventricular_tachycardia", 5000, 6000, 0.9)
    shorter_clear = region("ventricular_tachycardia", 8000, 8500, 0.95)
    pause = region("pause", 10000, 11000, 0.2)
    assert choose_strip_events([doubtful, clear, shorter_clear, pause], 3) == [clear, pause]
    assert choose_strip_events([doubtful, clear], 3, confidence_min=0.0) == [doubtful]
    assert choose_strip_events([doubtful, region("ventricular_tachycardia", 0, 2000, 0.4)], 3) == [doubtful]


def test_record_207s_tachycardia_strip_shows_ventricular_beats_not_flutter_waves(mitdb_dir):
    """In 207 the longest "ventricular tachycardia" is flutter waves called V at low confidence; the strip shows a
    clear run instead, whose V calls the reference confirms."""
    record = read_record(mitdb_dir / "207")
    analysis = analyse_record(record, load_default_model())
    tachycardias = [r for r in analysis.regions if r.kind == "ventricular_tachycardia"]
    shown = next(r for r in choose_strip_events(analysis.regions, 8) if r.kind == "ventricular_tachycardia")
    assert shown.confidence >= STRIP_CONFIDENCE_MIN
    assert any(r.stop - r.start > shown.stop - shown.start and r.confidence < STRIP_CONFIDENCE_MIN
               for r in tachycardias)  # the old rule, the longest of the kind, would have shown another
    samples, classes = analysis.predictions.samples, analysis.predictions.class_indices
    truth = match_reference_classes(record, samples)
    called_v = (samples >= shown.start) & (samples < shown.stop) & (classes == V)
    assert called_v.sum() >= 3 and np.mean(truth[called_v] == V) > 0.5
