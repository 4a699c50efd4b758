"""Frozen dataclasses carried between the stages of the pipeline.

Sample indices always refer to the record's internal sampling rate (``fs_hz``).
"""

from __future__ import annotations

import dataclasses
import datetime
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
    subtypes : np.ndarray or None
        WFDB ``subtyp`` of each annotation (int64), or None when all are 0. Signal-quality (``~``)
        annotations use it: bits 0-3 mark noisy signals, bits 4-7 unreadable ones, -1 every signal
        unreadable (MIT-BIH convention).
    """

    samples: np.ndarray
    symbols: np.ndarray
    aux_notes: np.ndarray
    subtypes: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.samples)

    def select(self, mask: np.ndarray) -> "Annotations":
        """Return the annotations where ``mask`` is true."""
        return Annotations(self.samples[mask], self.symbols[mask], self.aux_notes[mask],
                           None if self.subtypes is None else self.subtypes[mask])

    def subtype_array(self) -> np.ndarray:
        """The subtypes as an int64 array (zeros when none are stored)."""
        return np.zeros(len(self.samples), np.int64) if self.subtypes is None else np.asarray(self.subtypes, np.int64)


STATED_PACEMAKER = "stated by the user"
"""``Record.pacemaker`` of a patient said to have a pacemaker by the user (``ecg score --pacemaker``, the dashboard's
checkbox) rather than by the header."""


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
    unused_leads : tuple of str
        ECG leads of the file left out of ``signal_mv`` (see :func:`pipeline.records.keep_leads`).
    start_time : datetime.time or None
        Clock time of the first sample, from the header (WFDB base time, EDF start time); None when it gives none.
        The date is not kept.
    pacemaker : str or None
        The patient's pacemaker when the header or the user says there is one (e.g. ``"dual chamber bipolar"``,
        ``"stated by the user"``); None otherwise.
    annotation_problem : str or None
        Why reference annotations that came with the record were left out (a file that cannot be read or does not
        fit the signal), when the reader chose to go on without them; None otherwise.
    """

    name: str
    signal_mv: np.ndarray
    fs_hz: float
    lead_names: tuple[str, ...]
    primary_lead: int
    source_fs_hz: float
    annotations: Annotations | None = None
    unused_leads: tuple[str, ...] = ()
    start_time: datetime.time | None = None
    pacemaker: str | None = None
    annotation_problem: str | None = None

    @property
    def n_samples(self) -> int:
        return int(self.signal_mv.shape[0])

    @property
    def primary_lead_name(self) -> str:
        return self.lead_names[self.primary_lead]

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
    noise_only : tuple of (start, stop)
        Sample stretches (stop exclusive) where the detector found no QRS complex distinguishable from noise: the
        whole record, or the 30-minute chunks of a long one that hold only noise, or, where such a stretch holds clean
        30-second blocks (detected on their own), the rest of it. The quality spans count them as
        noise (:func:`pipeline.quality.add_noise_only_spans`), so no summary calls them readable.
    waves : np.ndarray or None
        Every beat as placed, before the check that keeps one of two placed closer than a ventricle can beat again
        (:func:`pipeline.detect.drop_refractory_neighbours`); None when that check removed none. In ventricular
        flutter such pairs are neighbouring waves, which the flutter finder's rate check counts
        (:func:`pipeline.fibrillation.wave_rates_bpm`): :attr:`wave_samples` is what it is given.
    """

    samples: np.ndarray
    fs_hz: float
    reason: str = ""
    noise_only: tuple[tuple[int, int], ...] = ()
    waves: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.samples)

    @property
    def wave_samples(self) -> np.ndarray:
        """Every placed beat, those the refractory check removed included (``samples`` when it removed none)."""
        return self.samples if self.waves is None else self.waves


@dataclass(frozen=True)
class SegmentationSettings:
    """How beats are cut out of a record; travels with a trained model.

    Saved beside a model (see :meth:`to_dict`), so that inference segments exactly as
    training did.

    Attributes
    ----------
    fs_hz : float
        Rate the windows are taken at; the signal passed to segmentation must have it.
    pre_s, post_s : float
        Window extent before and after the R peak; the window spans
        ``[peak - pre_samples, peak + post_samples)``, so the peak is at index ``pre_samples``.
    local_window_s : float
        Length of the centred window for the local median RR.
    anchor_search_s : float
        0 (default): windows and RR intervals are taken at the given beat positions. Above 0: each
        position is first moved to the QRS's slope-energy peak, searched within this distance
        (:func:`pipeline.segment.anchor_beats`), so that beats given by different fiducial conventions
        (reference annotations, the detector) are cut alike.
    anchor_smooth_s : float
        Width of the centred moving average of the slope energy used by the anchoring.
    anchor_fine_s : float
        Half-width of the final search, around the slope-energy peak, for the lead's first major deflection.
    """

    fs_hz: float = 360.0
    pre_s: float = 0.25
    post_s: float = 0.45
    local_window_s: float = 30.0
    anchor_search_s: float = 0.0
    anchor_smooth_s: float = 0.1
    anchor_fine_s: float = 0.1

    def __post_init__(self) -> None:
        checks = (("fs_hz", self.fs_hz > 0, "a positive rate in Hz"),
                  ("pre_s", self.pre_s >= 0, "a non-negative duration in s"),
                  ("post_s", self.post_s > 0, "a positive duration in s"),
                  ("local_window_s", self.local_window_s > 0, "a positive duration in s"),
                  ("anchor_search_s", 0 <= self.anchor_search_s <= 0.2, "a duration in s from 0 to 0.2"),
                  ("anchor_smooth_s", self.anchor_smooth_s > 0, "a positive duration in s"),
                  ("anchor_fine_s", 0 <= self.anchor_fine_s <= 0.2, "a duration in s from 0 to 0.2"))
        for name, ok, expected in checks:
            if not ok:
                raise ValueError(f"Received {name}={getattr(self, name)!r}; expected {expected}.")

    @property
    def pre_samples(self) -> int:
        return int(round(self.pre_s * self.fs_hz))

    @property
    def post_samples(self) -> int:
        return int(round(self.post_s * self.fs_hz))

    @property
    def window_samples(self) -> int:
        return self.pre_samples + self.post_samples

    def to_dict(self) -> dict[str, float]:
        """Plain dict (JSON-serialisable) of the settings.

        The anchoring keys appear only when anchoring is on, so settings saved before it existed
        (models, caches keyed on them) serialise as they did.
        """
        values = {"fs_hz": float(self.fs_hz), "pre_s": float(self.pre_s), "post_s": float(self.post_s),
                  "local_window_s": float(self.local_window_s)}
        if self.anchor_search_s > 0:
            values |= {"anchor_search_s": float(self.anchor_search_s), "anchor_smooth_s": float(self.anchor_smooth_s),
                       "anchor_fine_s": float(self.anchor_fine_s)}
        return values

    @classmethod
    def from_dict(cls, values: dict[str, float]) -> "SegmentationSettings":
        """Inverse of :meth:`to_dict`; unknown keys raise ``TypeError``."""
        return cls(**{key: float(value) for key, value in values.items()})


@dataclass(frozen=True)
class Beats:
    """Heartbeats segmented from one record, with their RR features (the model input).

    Attributes
    ----------
    samples : np.ndarray
        int64 R-peak positions, ascending (one per beat; none is dropped).
    windows_mv : np.ndarray
        float32 array (n_beats, window_samples, n_leads) of cleaned signal around each peak.
        NaN where the signal is missing (see ``has_gap``); edge-value padding where the window
        runs past the record (see ``truncated``).
    truncated : np.ndarray
        bool (n_beats,): the window reached past the start or end of the record and the
        missing part holds the first/last sample value.
    has_gap : np.ndarray
        bool (n_beats,): the window contains NaN (missing signal); the NaN are kept.
    rr_features : np.ndarray
        float32 array (n_beats, len(rr_feature_names)); never NaN.
    rr_feature_names : tuple of str
    settings : SegmentationSettings
    """

    samples: np.ndarray
    windows_mv: np.ndarray
    truncated: np.ndarray
    has_gap: np.ndarray
    rr_features: np.ndarray
    rr_feature_names: tuple[str, ...]
    settings: SegmentationSettings = field(default_factory=SegmentationSettings)

    def __len__(self) -> int:
        return len(self.samples)

    def select(self, mask: np.ndarray) -> "Beats":
        """Return the beats where ``mask`` (bool or index array) selects them."""
        return Beats(self.samples[mask], self.windows_mv[mask], self.truncated[mask], self.has_gap[mask],
                     self.rr_features[mask], self.rr_feature_names, self.settings)


def settings_to_dict(settings) -> dict:
    """A flat settings dataclass as plain values (tuples as lists), the inverse of :func:`settings_values`."""
    return {f.name: list(v) if isinstance(v := getattr(settings, f.name), tuple) else v
            for f in dataclasses.fields(settings)}


def settings_values(cls, values: dict) -> dict:
    """Checked keyword arguments for the frozen settings dataclass ``cls`` from plain values (TOML, JSON).

    Each value must have the kind of its field's default: a bool for a switch, a number (not a bool)
    for a number, whole for a count, a list or tuple of the default's items' kind for a tuple. Lists
    become tuples, whole numbers given for a float stay numbers. Nested settings dataclasses are left
    to the caller. The dataclass's own checks (ranges) run when it is built.

    Raises
    ------
    ValueError
        For an unknown key (the message lists the known ones) or a value of the wrong kind.
    """
    defaults = {f.name: getattr(cls(), f.name) for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - set(defaults))
    if unknown:
        raise ValueError(f"Received unknown setting(s) {', '.join(unknown)}; expected keys among "
                         f"{', '.join(sorted(defaults))}.")
    return {name: check_setting_value(name, value, defaults[name]) for name, value in values.items()}


def check_number_ranges(settings, ranges: dict[str, tuple[float, float]]) -> None:
    """Raise ``ValueError`` unless each field of ``settings`` named in ``ranges`` is a number (not a bool) within its
    closed range ``(low, high)``; the message names the field and the range.

    >>> from dataclasses import dataclass
    >>> @dataclass
    ... class Rule:
    ...     corr_max: float = 0.2
    >>> check_number_ranges(Rule(-5.0), {"corr_max": (-1.0, 1.0)})
    Traceback (most recent call last):
    ...
    ValueError: Received corr_max=-5.0; expected a number from -1 to 1.
    """
    for name, (low, high) in ranges.items():
        value = getattr(settings, name)
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
                or not low <= value <= high:
            raise ValueError(f"Received {name}={value!r}; expected a number from {low:g} to {high:g}.")


def check_setting_value(name: str, value, default):
    """``value`` converted to the kind of ``default`` (see :func:`settings_values`)."""
    def fail(expected: str):
        raise ValueError(f"Received {name}={value!r}; expected {expected}.")

    if dataclasses.is_dataclass(default):
        return value
    if isinstance(default, bool):
        return value if isinstance(value, bool) else fail("true or false")
    if isinstance(default, (int, float)):
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
            fail("a number")
        if isinstance(default, int) and not (np.isfinite(value) and float(value) == int(value)):
            fail("a whole number")
        return int(value) if isinstance(default, int) else float(value)
    if isinstance(default, str):
        return value if isinstance(value, str) else fail("a string")
    if isinstance(default, tuple):
        if not isinstance(value, (list, tuple)):
            fail("a list")
        return tuple(check_setting_value(name, item, default[0]) if default else item for item in value)
    return value
