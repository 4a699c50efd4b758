"""Frozen dataclasses carried between the stages of the pipeline.

Sample indices always refer to the record's internal sampling rate (``fs_hz``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Annotations:
    """Reference or test annotations of one record (MIT-BIH symbols).

    Attributes
    ----------
    samples : np.ndarray
        int64 sample indices at the record's internal rate, ascending.
    symbols : np.ndarray
        MIT-BIH annotation symbols (``"N"``, ``"V"``, ``"+"``, ...), dtype ``<U2``.
    aux_notes : np.ndarray
        Auxiliary strings (rhythm labels such as ``"(AFIB"`` on ``+`` annotations), NUL-stripped.
    """

    samples: np.ndarray
    symbols: np.ndarray
    aux_notes: np.ndarray

    def __len__(self) -> int:
        return len(self.samples)

    def select(self, mask: np.ndarray) -> "Annotations":
        """Return the annotations where ``mask`` is true."""
        return Annotations(self.samples[mask], self.symbols[mask], self.aux_notes[mask])


@dataclass(frozen=True)
class Record:
    """One ECG recording in physical units (mV), resampled to the internal rate.

    Attributes
    ----------
    name : str
        Record name (file stem), never patient details.
    signal_mv : np.ndarray
        float32 array of shape (n_samples, n_leads); NaN marks missing samples.
    fs_hz : float
        Sampling rate of ``signal_mv`` (the internal rate).
    lead_names : tuple of str
        Name of each column of ``signal_mv``.
    primary_lead : int
        Column used as the main ECG lead (MLII when present).
    source_fs_hz : float
        Sampling rate of the file before resampling.
    annotations : Annotations or None
        Reference annotations, when the record has them.
    """

    name: str
    signal_mv: np.ndarray
    fs_hz: float
    lead_names: tuple[str, ...]
    primary_lead: int
    source_fs_hz: float
    annotations: Annotations | None = None

    @property
    def n_samples(self) -> int:
        return int(self.signal_mv.shape[0])

    @property
    def duration_s(self) -> float:
        return self.n_samples / self.fs_hz


@dataclass(frozen=True)
class QualitySpan:
    """A stretch of signal with a quality problem.

    ``kind`` is one of ``"missing"``, ``"flat"``, ``"saturated"``, ``"noise"``; ``lead`` is
    the column index in ``Record.signal_mv``; ``start``/``stop`` are samples (stop exclusive).
    """

    kind: str
    lead: int
    start: int
    stop: int

    def duration_s(self, fs_hz: float) -> float:
        return (self.stop - self.start) / fs_hz


@dataclass(frozen=True)
class Detection:
    """R-peak detection result for one record.

    Attributes
    ----------
    samples : np.ndarray
        int64 R-peak sample indices, ascending.
    fs_hz : float
        Sampling rate of the indices.
    reason : str
        Empty when beats were found; otherwise why none were (silence, noise, too short).
    """

    samples: np.ndarray
    fs_hz: float
    reason: str = ""

    def __len__(self) -> int:
        return len(self.samples)


@dataclass(frozen=True)
class SegmentationSettings:
    """How beats are cut out of a record; travels with a trained model.

    Attributes
    ----------
    fs_hz : float
        Rate the windows are taken at.
    pre_s, post_s : float
        Window extent before and after the R peak.
    local_window_s : float
        Length of the centred window for the local mean RR.
    """

    fs_hz: float = 360.0
    pre_s: float = 0.25
    post_s: float = 0.45
    local_window_s: float = 30.0

    @property
    def pre_samples(self) -> int:
        return int(round(self.pre_s * self.fs_hz))

    @property
    def post_samples(self) -> int:
        return int(round(self.post_s * self.fs_hz))

    @property
    def window_samples(self) -> int:
        return self.pre_samples + self.post_samples


@dataclass(frozen=True)
class Beats:
    """Heartbeats segmented from one record.

    Attributes
    ----------
    samples : np.ndarray
        int64 R-peak positions of the kept beats.
    windows_mv : np.ndarray
        float32 array (n_beats, window_samples, n_leads) of cleaned signal around each peak.
    rr_features : np.ndarray
        float32 array (n_beats, len(RR_FEATURE_NAMES)).
    rr_feature_names : tuple of str
    dropped_samples : np.ndarray
        Peaks too close to a record edge for a full window (reported, not silently lost).
    settings : SegmentationSettings
    """

    samples: np.ndarray
    windows_mv: np.ndarray
    rr_features: np.ndarray
    rr_feature_names: tuple[str, ...]
    dropped_samples: np.ndarray
    settings: SegmentationSettings = field(default_factory=SegmentationSettings)

    def __len__(self) -> int:
        return len(self.samples)
