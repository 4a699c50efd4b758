"""Beat-by-beat comparison of test annotations against reference annotations (AAMI EC57).

Follows the rules of the WFDB tool ``bxb``: a test beat matches a reference beat when the two
lie within 150 ms of each other (each beat used at most once, nearest first); comparison starts
5 minutes into the record; stretches of ventricular flutter/fibrillation (between the ``[``
and ``]`` reference annotations) are excluded from QRS detection statistics.

References
----------
ANSI/AAMI EC57:2012, "Testing and reporting performance results of cardiac rhythm and ST
segment measurement algorithms". WFDB ``bxb`` manual page (PhysioNet).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from pipeline.errors import EcgInputError
from pipeline.labels import BEAT_SYMBOLS, is_beat_symbol
from pipeline.types import Annotations, Record

MATCH_WINDOW_S = 0.150
SCORE_START_S = 300.0


def require_reference_beats(record: Record, annotator: str = "atr") -> None:
    """Refuse a record whose reference annotations are missing or hold no beat label, before beats are scored.

    Raises
    ------
    EcgInputError
        No ``NAME.<annotator>`` file, or one with rhythm annotations only (as the MIT-BIH Atrial Fibrillation
        Database's, whose beats are in unaudited ``.qrs`` files): there is nothing to score beats against.
    """
    if record.annotations is None:
        raise EcgInputError(f"Record {record.name} has no reference annotations ({record.name}.{annotator}); "
                            "expected an annotated record to score against.")
    if not is_beat_symbol(record.annotations.symbols).any():
        raise EcgInputError(f"Record {record.name}: its reference annotations ({record.name}.{annotator}) hold no "
                            "beat labels (rhythm annotations only), so its beats cannot be scored; its rhythm can be "
                            "(ecg evaluate-regions).")


@dataclass(frozen=True)
class BeatMatch:
    """Pairing of reference and test beats within one record.

    ``ref_index[k]`` and ``test_index[k]`` are the k-th matched pair (indices into the inputs);
    ``missed`` and ``extra`` index the unmatched reference and test beats; only beats inside the
    scored interval are listed.
    """

    ref_index: np.ndarray
    test_index: np.ndarray
    missed: np.ndarray
    extra: np.ndarray


@dataclass(frozen=True)
class DetectionCounts:
    """QRS detection counts of one record (or pooled)."""

    tp: int
    fn: int
    fp: int

    @property
    def sensitivity(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else float("nan")

    @property
    def positive_predictivity(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else float("nan")

    def __add__(self, other: "DetectionCounts") -> "DetectionCounts":
        return DetectionCounts(self.tp + other.tp, self.fn + other.fn, self.fp + other.fp)


def reference_beats(annotations: Annotations) -> np.ndarray:
    """Sample positions of the reference annotations that are beats."""
    return annotations.samples[np.isin(annotations.symbols, BEAT_SYMBOLS)]


def excluded_intervals(annotations: Annotations, n_samples: int) -> np.ndarray:
    """(k, 2) array of [start, stop) intervals of ventricular flutter/fibrillation (``[`` to ``]``)."""
    intervals = []
    start = None
    for symbol, sample in zip(annotations.symbols, annotations.samples):
        if symbol == "[" and start is None:
            start = int(sample)
        elif symbol == "]" and start is not None:
            intervals.append((start, int(sample)))
            start = None
    if start is not None:
        intervals.append((start, n_samples))
    return np.asarray(intervals, dtype=np.int64).reshape(-1, 2)


def scored_mask(samples: np.ndarray, fs_hz: float, excluded: np.ndarray,
                start_s: float = SCORE_START_S) -> np.ndarray:
    """True for samples inside the scored interval (after ``start_s``, outside ``excluded``)."""
    mask = samples >= int(round(start_s * fs_hz))
    for lo, hi in excluded:
        mask &= ~((samples >= lo) & (samples < hi))
    return mask


def match_beats(ref_samples: np.ndarray, test_samples: np.ndarray, fs_hz: float,
                window_s: float = MATCH_WINDOW_S) -> tuple[np.ndarray, np.ndarray]:
    """Pair reference and test beats one to one, nearest pairs first, within ``window_s``.

    Returns index arrays ``(ref_index, test_index)`` of the matched pairs, sorted by reference.
    The inputs need not be sorted; the indices refer to them as given.

    Examples
    --------
    >>> match_beats(np.array([1000, 1100]), np.array([1120, 1050]), 360.0)
    (array([0, 1]), array([1, 0]))
    """
    ref_order = np.argsort(np.asarray(ref_samples, dtype=np.int64), kind="stable")
    test_order = np.argsort(np.asarray(test_samples, dtype=np.int64), kind="stable")
    r_idx, t_idx = _match_sorted(np.asarray(ref_samples, dtype=np.int64)[ref_order],
                                 np.asarray(test_samples, dtype=np.int64)[test_order], window_s * fs_hz)
    return ref_order[r_idx], test_order[t_idx]


def _match_sorted(ref: np.ndarray, test: np.ndarray, window: float) -> tuple[np.ndarray, np.ndarray]:
    """:func:`match_beats` on ascending ``ref`` and ``test``, window in samples."""
    if ref.size == 0 or test.size == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    # Candidate pairs: each reference beat with its nearest test beats on either side.
    right = np.searchsorted(test, ref)
    cand_ref, cand_test = [], []
    for offset in (-1, 0, 1):
        j = right + offset
        ok = (j >= 0) & (j < test.size)
        cand_ref.append(np.flatnonzero(ok))
        cand_test.append(j[ok])
    cand_ref = np.concatenate(cand_ref)
    cand_test = np.concatenate(cand_test)
    distance = np.abs(ref[cand_ref] - test[cand_test])
    keep = distance <= window
    cand_ref, cand_test, distance = cand_ref[keep], cand_test[keep], distance[keep]
    order = np.lexsort((cand_ref, distance))
    used_ref = np.zeros(ref.size, bool)
    used_test = np.zeros(test.size, bool)
    pairs = []
    for k in order:
        r, t = cand_ref[k], cand_test[k]
        if not used_ref[r] and not used_test[t]:
            used_ref[r] = used_test[t] = True
            pairs.append((r, t))
    pairs = np.asarray(sorted(pairs), dtype=np.int64).reshape(-1, 2)
    return pairs[:, 0], pairs[:, 1]


def compare_beats(reference: Annotations, test_samples: np.ndarray, fs_hz: float, n_samples: int,
                  start_s: float = SCORE_START_S) -> BeatMatch:
    """Match test beats to the reference beats of one record under the EC57 rules."""
    is_beat = np.isin(reference.symbols, BEAT_SYMBOLS)
    ref_all = np.flatnonzero(is_beat)
    ref_samples = reference.samples[ref_all]
    test_samples = np.asarray(test_samples, dtype=np.int64)
    excluded = excluded_intervals(reference, n_samples)
    ref_in = scored_mask(ref_samples, fs_hz, excluded, start_s)
    test_in = scored_mask(test_samples, fs_hz, excluded, start_s)
    r_idx, t_idx = match_beats(ref_samples, test_samples, fs_hz)
    in_pair = ref_in[r_idx]
    matched_ref = np.zeros(ref_samples.size, bool)
    matched_ref[r_idx] = True
    matched_test = np.zeros(test_samples.size, bool)
    matched_test[t_idx] = True
    return BeatMatch(
        ref_index=ref_all[r_idx[in_pair]],
        test_index=t_idx[in_pair],
        missed=ref_all[np.flatnonzero(ref_in & ~matched_ref)],
        extra=np.flatnonzero(test_in & ~matched_test),
    )


def count_detections(match: BeatMatch) -> DetectionCounts:
    """QRS detection TP/FN/FP of one record from its beat match."""
    return DetectionCounts(tp=len(match.ref_index), fn=len(match.missed), fp=len(match.extra))


NO_BEAT = -1
"""Class index standing for "no beat" (a missed reference beat, or an extra test beat)."""


@dataclass(frozen=True)
class ClassificationCounts:
    """Beat-by-beat classification matrix of one record (or pooled), EC57 layout.

    ``matrix[i, j]`` counts reference class ``i`` labelled ``j``; classes are indices into
    :data:`pipeline.labels.AAMI_CLASSES` and the last row/column stands for "no beat" (reference
    beats the detector missed are in the last column, extra detections in the last row).
    """

    matrix: np.ndarray

    def __add__(self, other: "ClassificationCounts") -> "ClassificationCounts":
        return ClassificationCounts(self.matrix + other.matrix)

    @classmethod
    def empty(cls, n_classes: int = 5) -> "ClassificationCounts":
        return cls(np.zeros((n_classes + 1, n_classes + 1), dtype=np.int64))

    def sensitivity(self, k: int) -> float:
        """Se of class ``k``: correctly labelled over all reference beats of ``k`` (missed ones included)."""
        total = self.matrix[k].sum()
        return float(self.matrix[k, k] / total) if total else float("nan")

    def positive_predictivity(self, k: int, q_index: int = 4) -> float:
        """+P of class ``k``: correct over all beats labelled ``k``, extra detections included.

        As in EC57 and de Chazal et al. 2004, reference Q beats (unclassifiable, paced) labelled
        ``k`` are not counted against ``k``.
        """
        column = self.matrix[:, k].copy()
        if k != q_index:
            column[q_index] = 0
        total = column.sum()
        return float(self.matrix[k, k] / total) if total else float("nan")

    def f1(self, k: int) -> float:
        """Harmonic mean of Se and +P of class ``k``: 0 when the class's beats were all missed or all its labels
        wrong (an undefined side counts as 0, as scikit-learn's ``zero_division=0``); NaN only when both are
        undefined (no beat of the class, none labelled so)."""
        se, ppv = self.sensitivity(k), self.positive_predictivity(k)
        if math.isnan(se) and math.isnan(ppv):
            return float("nan")
        se, ppv = np.nan_to_num(se), np.nan_to_num(ppv)
        return float(2 * se * ppv / (se + ppv)) if se + ppv > 0 else 0.0

    def accuracy(self) -> float:
        """Correctly labelled reference beats over all reference beats (missed beats count as wrong)."""
        reference = self.matrix[:-1]
        total = reference.sum()
        return float(np.trace(self.matrix[:-1, :-1]) / total) if total else float("nan")


def count_classes(ref_classes: np.ndarray, test_classes: np.ndarray, n_classes: int = 5) -> ClassificationCounts:
    """Classification matrix from paired class indices (``NO_BEAT`` for a missing side)."""
    ref = np.where(np.asarray(ref_classes) == NO_BEAT, n_classes, ref_classes).astype(np.int64)
    test = np.where(np.asarray(test_classes) == NO_BEAT, n_classes, test_classes).astype(np.int64)
    matrix = np.zeros((n_classes + 1, n_classes + 1), dtype=np.int64)
    np.add.at(matrix, (ref, test), 1)
    return ClassificationCounts(matrix)


def matched_reference_classes(match: BeatMatch, ref_classes: np.ndarray, n_test: int) -> np.ndarray:
    """Per test beat, the class of the reference beat it matches (``ref_classes`` indexed like the reference
    annotations), ``NO_BEAT`` where it matches none.

    >>> m = BeatMatch(ref_index=np.array([0]), test_index=np.array([1]), missed=np.array([1]), extra=np.array([0]))
    >>> matched_reference_classes(m, np.array([2, 0]), 2).tolist()
    [-1, 2]
    """
    matched = np.full(n_test, NO_BEAT, dtype=np.int64)
    matched[np.asarray(match.test_index, int)] = np.asarray(ref_classes)[np.asarray(match.ref_index, int)]
    return matched


def compare_classes(match: BeatMatch, ref_classes: np.ndarray, test_classes: np.ndarray,
                    n_classes: int = 5) -> ClassificationCounts:
    """Classification matrix of one record from its beat match.

    ``ref_classes`` is indexed like the reference annotations (``NO_BEAT`` for non-beats or beats
    outside the classes) and ``test_classes`` like the test beats. Matched pairs give their two
    classes; missed reference beats count as (class, no beat); extra test beats as (no beat, class).
    Matched reference beats without a class (``NO_BEAT``) are left out.
    """
    ref_classes = np.asarray(ref_classes)
    test_classes = np.asarray(test_classes)
    pair_ref = ref_classes[match.ref_index]
    keep = pair_ref != NO_BEAT
    missed_ref = ref_classes[match.missed]
    missed_ref = missed_ref[missed_ref != NO_BEAT]
    ref = np.concatenate([pair_ref[keep], missed_ref, np.full(len(match.extra), NO_BEAT)])
    test = np.concatenate([test_classes[match.test_index][keep], np.full(len(missed_ref), NO_BEAT),
                           test_classes[match.extra]])
    return count_classes(ref, test, n_classes)
