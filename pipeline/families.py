"""Morphology families: beats grouped by the shape of their QRS complex, for review.

Holter review software groups a recording's beats into families (templates) of like QRS shape so
that a reader can check, and relabel, thousands of beats at once: a family of ventricular beats
called normal is corrected with one action instead of one per beat. This module forms the families
with the leader algorithm those systems use (Hartigan 1975): beats are taken in time order; a beat
joins the first family whose leader it matches, else it starts a new family. "Matches" means a
correlation of at least ``min_correlation`` over the QRS window of every lead at once (each lead's
mean removed, leads concatenated) and an amplitude within a factor ``max_amplitude_ratio`` of the
leader's. The families are numbered by size, 0 the largest.

Grouping is by shape alone: the beats of a family can carry different classes (a premature beat
with a normal QRS is S, a normal one N), and the reader sees which.

References
----------
Hartigan JA, "Clustering Algorithms", Wiley, 1975 (the leader algorithm).
Mark RG, Moody GB, "ARISTOTLE", the QRS-shape template matching of the MIT-BIH Holter analyser
(Moody GB, Mark RG, "Development and evaluation of a 2-lead ECG analysis program", Computers in
Cardiology 1982).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from pipeline.kept_results import KeptResults, digest_inputs
from pipeline.rr import check_peaks

UNGROUPED = -1
"""Family of a beat whose QRS window is incomplete (record edge, missing samples) or beyond ``max_families``."""


@dataclass(frozen=True)
class FamilySettings:
    """How beats are grouped.

    Attributes
    ----------
    half_width_s : float
        QRS window: this many seconds on each side of the beat's fiducial point (80 ms holds a QRS
        of up to 160 ms centred on it).
    min_correlation : float
        Correlation with a family's leader needed to join the family (0.9: the usual template-match
        criterion; wide ventricular and normal complexes correlate far less).
    max_amplitude_ratio : float
        The beat's RMS amplitude over the window must lie within this factor of the leader's.
    max_families : int
        At most this many families are formed; beats that match none are left ungrouped (-1).
    """

    half_width_s: float = 0.08
    min_correlation: float = 0.9
    max_amplitude_ratio: float = 1.5
    max_families: int = 64

    def __post_init__(self) -> None:
        if not self.half_width_s > 0:
            raise ValueError(f"Received half_width_s={self.half_width_s}; expected a positive window in seconds.")
        if not -1 < self.min_correlation < 1:
            raise ValueError(f"Received min_correlation={self.min_correlation}; expected a value in (-1, 1).")
        if not self.max_amplitude_ratio >= 1:
            raise ValueError(f"Received max_amplitude_ratio={self.max_amplitude_ratio}; expected at least 1.")
        if self.max_families < 1:
            raise ValueError(f"Received max_families={self.max_families}; expected at least 1.")


def group_beat_families(signal_mv: np.ndarray, beat_samples: np.ndarray, fs_hz: float,
                        settings: FamilySettings = FamilySettings()) -> np.ndarray:
    """Family number of each beat (0 the largest family; -1 ungrouped), by QRS shape over every lead.

    Parameters
    ----------
    signal_mv : np.ndarray
        (n_samples, n_leads) or (n_samples,) ECG in mV; NaN for missing samples.
    beat_samples : np.ndarray
        Beat fiducial points (R peaks), strictly ascending.
    fs_hz : float
        Sampling rate (required).
    settings : FamilySettings

    Returns
    -------
    np.ndarray
        int64 per beat.

    Examples
    --------
    >>> fs = 360.0
    >>> x = np.zeros(40 * 360)
    >>> peaks = np.arange(1, 39) * 360
    >>> for k, r in enumerate(peaks):  # every fourth beat wide and inverted
    ...     x[r - 10:r + 10] += np.hanning(20) if k % 4 else -0.8 * np.hanning(20)
    ...     if k % 4 == 0:
    ...         x[r - 25:r + 25] -= 0.3 * np.hanning(50)
    >>> families = group_beat_families(x, peaks, fs)
    >>> sorted(set(families.tolist())), int((families == 1).sum())
    ([0, 1], 10)
    """
    signal = np.asarray(signal_mv)
    if signal.ndim == 1:
        signal = signal[:, None]
    if signal.ndim != 2:
        raise ValueError(f"Received a signal of shape {signal.shape}; expected (n_samples, n_leads).")
    if not fs_hz > 0:
        raise ValueError(f"Received fs_hz={fs_hz}; expected a positive sampling rate in Hz.")
    samples = check_peaks(beat_samples, len(signal))
    kept = _KEPT_GROUPINGS.recall(signal_mv, digest_inputs(float(fs_hz), settings, signal.shape), KeptGrouping)
    with kept.lock:
        created = kept.regroup(signal, samples, fs_hz, settings)
        if created is None:
            created = np.full(len(samples), UNGROUPED, np.int64)
            shapes, amplitudes, valid = extract_qrs_shapes(signal, samples, fs_hz, settings.half_width_s)
            created[valid] = assign_leaders(shapes[valid], amplitudes[valid], settings)
            kept.keep(samples, created)
    return number_by_size(created)


class KeptGrouping:
    """The last grouping of a record's beats (:func:`group_beat_families`), in the leader algorithm's order of
    creation, from which a reader's edit of a few beats (:mod:`pipeline.reader_beats`) is grouped without comparing
    every beat again: 0.64 s of a 4.4-s beat deletion on a 24-h record (session 65's profile).

    A deleted beat that led no family changes no other beat's family, since each beat joins the first family whose
    leader it matches and the leaders stay. An added beat later than every leader it fails to match joins the first
    it matches, or starts the next family (none past ``max_families``), and changes no other beat's. Anything else (a
    leader deleted; an added beat that would lead a family before others) groups every beat again, so the families
    are always those grouping every beat gives (``tests/test_families.py`` holds them equal), but for a correlation
    within float32 rounding of ``min_correlation``, which one beat compared alone and all of them at once may round
    apart (a code review). Kept by the signal object given (:mod:`pipeline.kept_results`), which must not change."""

    MAX_CHANGED = 64
    """More beats changed than this: grouped again in full (a new analysis, not a reader's edit)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.samples = np.zeros(0, np.int64)
        self.created = np.zeros(0, np.int64)

    def keep(self, samples: np.ndarray, created: np.ndarray) -> None:
        """Keep a grouping: each beat's family in order of creation (-1 none)."""
        self.samples, self.created = np.array(samples, np.int64), np.array(created, np.int64)

    def regroup(self, signal: np.ndarray, samples: np.ndarray, fs_hz: float,
                settings: FamilySettings) -> np.ndarray | None:
        """The families in order of creation of ``samples``, from the kept grouping and the beats deleted and added
        since, kept in turn; None where they need grouping in full."""
        samples = np.asarray(samples, np.int64)
        gone = np.setdiff1d(self.samples, samples)
        new = np.setdiff1d(samples, self.samples)
        if not len(self.samples) or len(gone) + len(new) > self.MAX_CHANGED:
            return None
        grouped = np.flatnonzero(self.created >= 0)  # a family's first beat is its leader
        leaders = self.samples[grouped[np.unique(self.created[grouped], return_index=True)[1]]]
        if np.isin(gone, leaders).any():
            return None
        created = np.full(len(samples), UNGROUPED, np.int64)
        stayed = np.isin(samples, self.samples)
        created[stayed] = self.created[np.searchsorted(self.samples, samples[stayed])]
        shapes, amplitudes, valid = extract_qrs_shapes(signal, np.concatenate([leaders, new]), fs_hz,
                                                       settings.half_width_s)
        rows = np.arange(len(leaders))  # the leaders' rows of the shapes, in order of creation
        for row, sample in enumerate(new, start=len(leaders)):
            if not valid[row]:
                continue
            earlier = int(np.searchsorted(leaders, sample))  # the leaders increase in time: each was the earliest
            family = join_family(shapes, amplitudes, row, rows[:earlier], settings)  # beat left then
            if family is None and earlier < len(leaders):  # before a leader it does not match: it would lead one
                return None
            if family is None and len(leaders) < settings.max_families:  # after every leader, matching none
                leaders, rows, family = np.append(leaders, sample), np.append(rows, row), len(leaders)
            if family is not None:
                created[np.searchsorted(samples, sample)] = family
        self.keep(samples, created)
        return created


def join_family(shapes: np.ndarray, amplitudes: np.ndarray, row: int, leader_rows: np.ndarray,
                settings: FamilySettings) -> int | None:
    """The first family (its position in ``leader_rows``, rows of ``shapes`` in order of creation) whose leader beat
    ``row`` matches, as :func:`assign_leaders` matches them; None when it matches none."""
    for family, leader in enumerate(leader_rows):
        correlation = shapes[[row]] @ shapes[leader]
        ratio = amplitudes[row] / amplitudes[leader]
        if (correlation[0] >= settings.min_correlation and 1 / settings.max_amplitude_ratio <= ratio
                <= settings.max_amplitude_ratio):
            return family
    return None


_KEPT_GROUPINGS = KeptResults()


def extract_qrs_shapes(signal: np.ndarray, samples: np.ndarray, fs_hz: float,
                       half_width_s: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unit-norm QRS windows (leads concatenated, each lead's mean removed), their RMS, and which are complete."""
    half = max(int(round(half_width_s * fs_hz)), 1)
    width = 2 * half + 1
    n, n_leads = len(samples), signal.shape[1]
    if len(signal) < width or n == 0:
        return np.zeros((n, width * n_leads), np.float32), np.zeros(n), np.zeros(n, bool)
    first = samples - half
    valid = (first >= 0) & (first + width <= len(signal))
    starts = np.clip(first, 0, len(signal) - width)
    # float32 and in place: a 24-hour record has about 100,000 beats
    rows = np.empty((n, n_leads, width), np.float32)
    for k in range(n_leads):
        rows[:, k] = sliding_window_view(signal[:, k], width)[starts]
    rows -= rows.mean(axis=2, keepdims=True)
    shapes = rows.reshape(n, n_leads * width)
    valid &= np.isfinite(shapes).all(axis=1)
    shapes[~valid] = 0.0
    norms = np.sqrt(np.einsum("ij,ij->i", shapes, shapes, dtype=np.float64))
    valid &= norms > 0
    shapes /= np.where(valid, norms, 1.0).astype(np.float32)[:, None]
    return shapes, norms / np.sqrt(shapes.shape[1]), valid


def assign_leaders(shapes: np.ndarray, amplitudes: np.ndarray, settings: FamilySettings) -> np.ndarray:
    """Leader algorithm: index of the family (in order of creation) each beat joins; -1 past ``max_families``.

    Each new leader is the earliest beat not yet matched, so the loop runs once per family and
    compares the remaining beats with that one leader at a time.
    """
    labels = np.full(len(shapes), UNGROUPED, np.int64)
    pending = np.arange(len(shapes))
    family = 0
    while len(pending) and family < settings.max_families:
        leader = pending[0]
        correlation = shapes[pending] @ shapes[leader]
        ratio = amplitudes[pending] / amplitudes[leader]
        joins = ((correlation >= settings.min_correlation) & (ratio <= settings.max_amplitude_ratio)
                 & (ratio >= 1 / settings.max_amplitude_ratio))
        joins[0] = True
        labels[pending[joins]] = family
        pending = pending[~joins]
        family += 1
    return labels


def number_by_size(labels: np.ndarray) -> np.ndarray:
    """Renumber families 0, 1, ... from the largest (ties: the earlier family first); -1 stays."""
    grouped = labels >= 0
    if not grouped.any():
        return labels.copy()
    counts = np.bincount(labels[grouped])
    order = np.argsort(-counts, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    out = labels.copy()
    out[grouped] = rank[labels[grouped]]
    return out


def summarize_families(families: np.ndarray, classes: np.ndarray, class_names: tuple[str, ...]
                       ) -> list[dict]:
    """Per family (largest first, ungrouped last): its number, beat count and beats per class."""
    rows = []
    ids = sorted(set(families.tolist()), key=lambda f: (f == UNGROUPED, f))
    for family in ids:
        members = families == family
        counts = {name: int(np.sum(classes[members] == name)) for name in class_names}
        rows.append({"family": int(family), "n_beats": int(members.sum()), **counts})
    return rows


SPLIT_MIN_BEATS = 50
"""Fewest beats of a family :func:`find_split_families` looks at."""
SPLIT_MIN_SHARE = 0.2
"""Share of a family each of N and V must reach for :func:`find_split_families` to call it split."""


def find_split_families(families: np.ndarray, classes: np.ndarray) -> list[tuple[int, int, int, int]]:
    """Families of at least :data:`SPLIT_MIN_BEATS` beats labelled both N and V, each for at least
    :data:`SPLIT_MIN_SHARE` of them: (family, beats, N, V), largest first. One QRS shape read two ways is the
    classifier's doubt about it, which a reader should settle for the whole family at once (a clinical read of session
    56: paced 217's largest family, 1,576 beats, labelled N 1,044 and V 532 with no word of it on page 1). Over
    MIT-BIH's 48 records with the bundled model, only 217's families, paced with no pacemaker stated, are split.

    >>> families = np.repeat([0, 1, 2], [100, 60, 40])
    >>> classes = np.array(["N"] * 70 + ["V"] * 30 + ["N"] * 55 + ["V"] * 5 + ["N"] * 20 + ["V"] * 20)
    >>> find_split_families(families, classes)  # family 1 is 8 % V; family 2 is too small
    [(0, 100, 70, 30)]
    """
    families, classes = np.asarray(families), np.asarray(classes)
    split = []
    for family in np.unique(families[families != UNGROUPED]).tolist():
        members = classes[families == family]
        n, n_normal, n_ventricular = len(members), int(np.sum(members == "N")), int(np.sum(members == "V"))
        if n >= SPLIT_MIN_BEATS and min(n_normal, n_ventricular) >= SPLIT_MIN_SHARE * n:
            split.append((int(family), n, n_normal, n_ventricular))
    return sorted(split, key=lambda row: -row[1])


def window_offsets(half_width_s: float, fs_hz: float) -> tuple[int, np.ndarray]:
    """Half-width in samples of a beat window of +-``half_width_s``, and the time of each of its samples in ms."""
    half = int(round(half_width_s * fs_hz))
    return half, np.arange(-half, half + 1) / fs_hz * 1000.0


def beat_windows(lead_mv: np.ndarray, samples: np.ndarray, half: int, max_beats: int) -> np.ndarray:
    """(n, 2 * half + 1) windows of at most ``max_beats`` beats spread over the record (complete windows only)."""
    inside = samples[(samples >= half) & (samples + half < len(lead_mv))]
    if len(inside) > max_beats:
        inside = inside[np.linspace(0, len(inside) - 1, max_beats).astype(int)]
    if len(inside) == 0:
        return np.empty((0, 2 * half + 1))
    return np.stack([lead_mv[m - half: m + half + 1] for m in inside]).astype(np.float64)


def median_beat(windows: np.ndarray) -> np.ndarray:
    """Sample-wise median of beat windows, ignoring missing samples (NaN where every beat misses one)."""
    finite = np.isfinite(windows)
    filled = np.where(finite, windows, np.nan)
    out = np.full(windows.shape[1], np.nan)
    columns = finite.any(axis=0)
    out[columns] = np.nanmedian(filled[:, columns], axis=0)
    return out


MIN_FORM_BEATS = 2
"""Ventricular beats of one family that make a QRS shape of the record's ventricular ectopy: one beat alone may be
noise or a misplaced detection (:func:`find_ventricular_forms`; 2 chosen on DS1:
``experiments/ventricular_forms_study.py``)."""


@dataclass(frozen=True)
class VentricularForms:
    """Whether a record's ventricular ectopic beats share one QRS shape (uniform) or show several (multiform, Lown and
    Wolf's grade 3): the morphology families (:func:`group_beat_families`) holding at least ``min_beats`` of its
    counted V beats.

    Attributes
    ----------
    assessed : bool
        False where the families were not formed (a summary made without them).
    n_beats : int
        Counted V beats (outside unreadable signal).
    form_sizes : tuple of int
        V beats of each such family, largest first.
    min_beats : int
    """

    assessed: bool = False
    n_beats: int = 0
    form_sizes: tuple[int, ...] = ()
    min_beats: int = MIN_FORM_BEATS

    @property
    def name(self) -> str:
        """``uniform``, ``multiform``, ``not determined`` (no shape repeats) or ``none`` (no V beat); ``not assessed``
        without families."""
        if not self.assessed:
            return "not assessed"
        if self.n_beats == 0:
            return "none"
        return {0: "not determined", 1: "uniform"}.get(len(self.form_sizes), "multiform")

    def describe(self) -> str:
        """The report's words.

        >>> VentricularForms(True, 120, (80, 30, 2)).describe()
        'multiform, 3 QRS shapes (the commonest 67 % of the 120 V beats)'
        >>> VentricularForms(True, 41, (41,)).describe()
        'uniform, one QRS shape'
        >>> VentricularForms(True, 2, ()).describe(), VentricularForms(True, 1, ()).describe()
        ('not determined (no QRS shape shared by 2 of the 2 V beats)', 'not determined (a single V beat)')
        """
        name = self.name
        if name == "multiform":
            share = 100.0 * self.form_sizes[0] / self.n_beats
            return (f"multiform, {len(self.form_sizes)} QRS shapes (the commonest {share:.0f} % of the {self.n_beats} "
                    "V beats)")
        if name == "uniform":
            return "uniform, one QRS shape"
        if name == "not determined":
            return ("not determined (a single V beat)" if self.n_beats == 1 else
                    f"not determined (no QRS shape shared by {self.min_beats} of the {self.n_beats} V beats)")
        return name

    def to_dict(self) -> dict:
        return {"name": self.name, "n_beats": self.n_beats, "form_sizes": list(self.form_sizes),
                "min_beats": self.min_beats}


def find_ventricular_forms(families: np.ndarray, classes: np.ndarray, counted: np.ndarray,
                           min_beats: int = MIN_FORM_BEATS) -> VentricularForms:
    """The QRS shapes of a record's counted V beats: the families (``families``, per beat) holding ``min_beats`` or
    more of them (``classes``: a letter per beat; ``counted``: the beats the summary counts).

    Holter reports state whether the ventricular ectopic beats are uniform or multiform (the MIT-BIH headers do, for
    31 of its 48 records); a family is a shape at the dashboard's grouping, QRS correlation 0.9 over both leads, which
    splits a shape that changes with the axis or noise, so the count of shapes is an upper bound and the word is what
    the report leads with.

    >>> find_ventricular_forms(np.array([0, 1, 1, 2, 1, 3]), np.array(list("NVVVVV")), np.ones(6, bool)).form_sizes
    (3,)
    """
    families, classes, counted = np.asarray(families), np.asarray(classes), np.asarray(counted, bool)
    if not (len(families) == len(classes) == len(counted)):
        raise ValueError(f"Received {len(families)} families, {len(classes)} classes and {len(counted)} counted "
                         "flags; expected one of each per beat.")
    ventricular = families[(classes == "V") & counted]
    sizes = np.bincount(ventricular[ventricular >= 0]) if np.any(ventricular >= 0) else np.zeros(0, np.int64)
    forms = tuple(int(n) for n in sorted(sizes[sizes >= min_beats], reverse=True))
    return VentricularForms(True, int(len(ventricular)), forms, min_beats)
