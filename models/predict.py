"""Beat classification of a whole record with a loaded model: the path the CLI and dashboard share."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models.evaluate import predict_beats
from models.prepare import InputSettings, clean_record, prepare_beats
from pipeline.detect import detect_record_peaks
from pipeline.labels import AAMI_CLASSES
from pipeline.types import Record


@dataclass(frozen=True)
class BeatPredictions:
    """Classified beats of one record.

    Attributes
    ----------
    samples : np.ndarray
        int64 R-peak positions at the record's internal rate.
    probabilities : np.ndarray
        float32 (n_beats, 5) class probabilities in :data:`AAMI_CLASSES` order.
    reason : str
        Empty when beats were found, else why there are none (from the detector).
    """

    samples: np.ndarray
    probabilities: np.ndarray
    reason: str = ""

    @property
    def classes(self) -> np.ndarray:
        """Predicted class letters."""
        if len(self.samples) == 0:
            return np.empty(0, dtype="<U1")
        return np.asarray(AAMI_CLASSES)[np.argmax(self.probabilities, axis=1)]

    def __len__(self) -> int:
        return len(self.samples)


def classify_record(model, settings: InputSettings, record: Record, r_peaks: np.ndarray | None = None) -> BeatPredictions:
    """Detect (unless ``r_peaks`` are given), prepare and classify every beat of ``record``."""
    reason = ""
    if r_peaks is None:
        detection = detect_record_peaks(record)
        r_peaks, reason = detection.samples, detection.reason
    if len(r_peaks) == 0:
        return BeatPredictions(np.empty(0, np.int64), np.zeros((0, len(AAMI_CLASSES)), np.float32), reason)
    prepared = prepare_beats(record, r_peaks, settings, clean_record(record, settings))
    return BeatPredictions(prepared.beats.samples, predict_beats(model, prepared.inputs), reason)
