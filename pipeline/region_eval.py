"""Score flagged regions against the MIT-BIH reference: EC57 run-by-run and episode comparisons.

For each record: read it, label its beats (a :data:`BeatLabeler`: reference labels, detected
beats, later the classifier), assess signal quality, find regions, write them as annotations
(:mod:`pipeline.rhythm_annotations`) and compare those annotations with the reference ``.atr``
under the rules below, which are those of the WFDB comparators ``rxr`` and ``epicmp`` (ANSI/AAMI
EC38 and EC57), so that running the WFDB tools on the written files gives the same counts.

Run-by-run comparison (``rxr``)
-------------------------------
Each annotation file is mapped to EC57 codes: N, L, R, B are N, or S inside atrial fibrillation
or flutter (between a ``+ (AF...`` annotation and the next rhythm change); A, a, J, S, j, e, n are
S; V, r, E are V; F is F; Q, ?, /, f are Q; ``[`` and ``]`` (and ``(VF...`` rhythms) start and end
ventricular flutter. Ventricular runs are maximal sequences of V and F; supraventricular runs of
S. A run ends at N, Q, an unreadable mark or a beat of the other family; other annotations are
ignored. VF (AF) counts as a run of maximal length. Comparison starts 5 minutes into the record.
For each run of the defining file, the match window is [first beat - 150 ms, last beat + 150 ms]
and the other file's length is the longest run (counted from the window start, capped at 6) of
its annotations inside the window, or 6 when one of its VF (AF) episodes overlaps the window.
Sensitivity uses the reference runs, positive predictivity the test runs:

- couplets: defining length 2, matched when the other length is at least 2;
- short runs: defining length 3-5, matched when the other length is 3 or more (6 included);
- long runs: defining length 6 or more, matched when the other length is 6 or more.

A ``~`` annotation whose subtype marks every signal unreadable (bits 4 and 5 set; -1 in MIT-BIH, 8
of its 616 ``~``) starts a shutdown, which ends runs, and the next ``~`` without them ends it, as
in ``rxr``. Deviation from ``rxr``: when two match windows overlap, the overlapping annotations
count in both (``rxr`` reads them once).

Episode comparison (``epicmp``)
-------------------------------
An episode of a rhythm runs from a ``+`` annotation with its label to the next rhythm change
(:func:`pipeline.rhythm_annotations.rhythm_intervals`). Comparison starts 5 minutes into the
record (an episode that started earlier is clipped to that time). A reference episode counts
towards episode sensitivity when any test episode overlaps it; a test episode counts towards
positive predictivity when it overlaps any reference episode. Duration sensitivity is the total
overlap over the total reference duration; duration positive predictivity the total overlap over
the total test duration. For EC57's own AF comparison the reference is ``(AFIB`` alone and the
reference ``(AFL`` stretches are removed from the test episodes before +P is counted; the issue's
AF comparison takes ``(AFIB`` and ``(AFL`` together as the reference. Ventricular flutter and
fibrillation episodes (``vf``) run between the ``[`` and ``]`` marks of either file (EC57's VF
comparison, ``epicmp -V``).

Pauses
------
MIT-BIH has no pause annotation (EC57 scores none): a reference pause is an interval between consecutive reference
beats longer than the pause threshold, unless it holds a flutter mark or wave (``[ ] !``) or a signal-quality change
(``~``); a flagged pause is confirmed when it overlaps one, and left unscored when it overlaps only such a left-out
interval (:func:`match_pauses`, :class:`PauseCounts`). From 5 minutes, as the rest.

References
----------
ANSI/AAMI EC57:2012; ANSI/AAMI EC38:1998. Moody GB, WFDB Applications Guide (``rxr``, ``epicmp``).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from tqdm import tqdm

from pipeline.atrial import measure_p_wave_similarity
from pipeline.clean import clean_signal
from pipeline.conduction import find_blocked_p_waves
from pipeline.detect import detect_record_peaks
from pipeline.detector_eval import find_git_commit, find_package_version
from pipeline.errors import EcgInputError
from pipeline.fibrillation import find_fibrillation_intervals, forget_kept_windows
from pipeline.labels import AAMI_CLASSES, is_beat_symbol, map_symbols_to_aami, select_reference_beats
from pipeline.kept_results import KeptResults, digest_inputs
from pipeline.pacing import find_beats_outside, measure_spike_share, reads_as_spiked
from pipeline.quality import (QualitySettings, add_noise_only_spans, find_quality_spans, merge_runs,
                              spare_beat_trains)
from pipeline.records import describe_outsized_qrs, read_record
from pipeline.reader_rhythm import AfEdit, check_af_edits
from pipeline.regions import (Region, RegionSettings, beats_in_kind, changed_settings, encode_classes, find_af_regions,
                              find_regions, merge_intervals, prepare_beats, regions_to_rows)
from pipeline.rhythm_annotations import (
    flutter_intervals,
    regions_to_annotations,
    rhythm_intervals,
    write_region_annotations,
)
from pipeline.scoring import MATCH_WINDOW_S, SCORE_START_S
from pipeline.segment import time_beats
from pipeline.pr import analyse_pr, long_pr_note
from pipeline.qt import QtSummary, is_steady_qt, long_qtc_note, unsteady_qt_note
from pipeline.rhythm import find_predominant_rhythm, mean_rate_outside_bpm
from pipeline.repolarisation import measure_repolarisation
from pipeline.st import QRS_MEASURE_MARGIN_MS, StSummary, shifted_reference_note
from pipeline.hours import clock_hour_grid
from pipeline.summary import PACED_SHARE_MIN, RecordSummary, region_intervals, summarize_record, summary_to_dict
from pipeline.types import STATED_PACEMAKER, Annotations, Record
from pipeline.wording import count_noun, format_duration

logger = logging.getLogger(__name__)

REFERENCE_ANNOTATOR = "atr"
MAX_RUN = 6

BeatLabeler = Callable[[Record], tuple[np.ndarray, ...]]
"""Takes a record, returns (R-peak samples, AAMI class letters): the stage a beat classifier fills. A third item, when
returned, marks the beats the AF evidence leaves out (``af_excluded_beats`` of
:func:`pipeline.regions.find_regions`); a fourth, the Q beats that are paced, written ``/`` (None or absent: none)."""

EPISODE_TYPES = (
    ("af", ("(AFIB", "(AFL"), "(AFIB", ()),
    ("af_ec57", ("(AFIB",), "(AFIB", ("(AFL",)),
    ("bigeminy", ("(B",), "(B", ()),
    ("trigeminy", ("(T",), "(T", ()),
    ("vt", ("(VT",), "(VT", ()),
    ("svta", ("(SVTA",), "(SVTA", ()),
    ("ivr", ("(IVR",), "(IVR", ()),
    ("paced", ("(P",), "(P", ()),
    ("av_block", ("(BII",), "(BII", ()),
    ("vf", ("[",), "[", ()),
)
"""Per comparison: name, reference labels (merged), test label, reference labels excluded from +P. The label
``[`` stands for the stretches between ``[`` and ``]`` marks (ventricular flutter or fibrillation, EC57)."""

_CODES = {**dict.fromkeys("NLRB", "N"), **dict.fromkeys("AaJSjen", "S"), **dict.fromkeys("VrE", "V"),
          "F": "F", **dict.fromkeys("Q?/f", "Q")}


# ----------------------------------------------------------------------------------------------
# Episode comparison (epicmp)
# ----------------------------------------------------------------------------------------------

class SummableCounts:
    """Counts (a dataclass of numbers) that pool by adding field by field."""

    def __add__(self, other):
        return type(self)(*(a + b for a, b in zip(dataclasses.astuple(self), dataclasses.astuple(other))))


@dataclass(frozen=True)
class EpisodeCounts(SummableCounts):
    """Episode and duration counts of one rhythm (one record, or pooled); durations in seconds."""

    detected: int = 0
    missed: int = 0
    confirmed: int = 0
    false: int = 0
    reference_s: float = 0.0
    test_s: float = 0.0
    overlap_reference_s: float = 0.0
    overlap_test_s: float = 0.0

    @property
    def episode_sensitivity(self) -> float:
        return ratio(self.detected, self.detected + self.missed)

    @property
    def episode_predictivity(self) -> float:
        return ratio(self.confirmed, self.confirmed + self.false)

    @property
    def duration_sensitivity(self) -> float:
        return ratio(self.overlap_reference_s, self.reference_s)

    @property
    def duration_predictivity(self) -> float:
        return ratio(self.overlap_test_s, self.test_s)


def ratio(numerator: float, denominator: float) -> float:
    """``numerator / denominator``; NaN when the denominator is 0."""
    return numerator / denominator if denominator > 0 else float("nan")


def compare_episodes(reference: np.ndarray, test: np.ndarray, fs_hz: float, *, start_s: float = SCORE_START_S,
                     excluded: np.ndarray | None = None) -> EpisodeCounts:
    """Episode-by-episode comparison of two sets of [start, stop) sample intervals (module docstring).

    ``excluded`` intervals (reference atrial flutter, for EC57's AF +P) are removed from the test
    episodes before they are counted.

    Examples
    --------
    >>> ref = np.array([[360000, 396000]])
    >>> test = np.array([[390000, 400000], [500000, 510000]])
    >>> c = compare_episodes(ref, test, 360.0)
    >>> c.detected, c.missed, c.confirmed, c.false, round(c.duration_sensitivity, 3)
    (1, 0, 1, 1, 0.167)
    """
    start = int(round(start_s * fs_hz))
    excluded = np.empty((0, 2), np.int64) if excluded is None else excluded
    no_exclusion = np.empty((0, 2), np.int64)
    hit, miss, ref_len, ref_overlap = tally_episodes(reference, test, start, no_exclusion)
    confirmed, false, test_len, test_overlap = tally_episodes(test, reference, start, excluded)
    return EpisodeCounts(hit, miss, confirmed, false, ref_len / fs_hz, test_len / fs_hz,
                         ref_overlap / fs_hz, test_overlap / fs_hz)


def tally_episodes(defining: np.ndarray, other: np.ndarray, start: int,
                   excluded: np.ndarray) -> tuple[int, int, int, int]:
    """Matched and unmatched ``defining`` episodes, their total length and overlap with ``other`` (samples)."""
    matched = unmatched = total = overlap_total = 0
    for lo, hi in np.asarray(defining, dtype=np.int64).reshape(-1, 2).tolist():
        if hi < start:
            continue
        lo = max(lo, start)
        lo, hi, length = remove_exclusions(lo, hi, excluded)
        if length <= 0:
            continue
        overlap = overlap_length(lo, hi, other)
        total += length
        overlap_total += overlap
        matched += overlap > 0
        unmatched += overlap <= 0
    return matched, unmatched, total, overlap_total


def remove_exclusions(lo: int, hi: int, excluded: np.ndarray) -> tuple[int, int, int]:
    """Trim an episode by the excluded intervals as ``epicmp`` does; returns (start, stop, remaining length)."""
    length = hi - lo
    for ex_lo, ex_hi in np.asarray(excluded, dtype=np.int64).reshape(-1, 2).tolist():
        if hi <= ex_lo:
            break
        if ex_lo <= lo <= ex_hi:
            if hi <= ex_hi:
                return lo, hi, -1
            length -= ex_hi - lo
            lo = ex_hi
        elif lo <= ex_lo <= hi:
            if ex_hi < hi:
                length -= ex_hi - ex_lo
            else:
                length -= hi - ex_lo
                hi = ex_lo
    return lo, hi, length


def overlap_length(lo: int, hi: int, intervals: np.ndarray) -> int:
    """Total overlap of [lo, hi) with a set of intervals."""
    rows = np.asarray(intervals, dtype=np.int64).reshape(-1, 2)
    return int(np.clip(np.minimum(rows[:, 1], hi) - np.maximum(rows[:, 0], lo), 0, None).sum())


# ----------------------------------------------------------------------------------------------
# Run-by-run comparison (rxr)
# ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RunCounts:
    """``rxr``'s two run-length matrices (lengths 0-6, 6 meaning 6 or more), one record or pooled.

    ``sensitivity[i, j]``: reference runs of length i where the test had length j;
    ``predictivity[i, j]``: test runs of length j where the reference had length i.
    """

    sensitivity: np.ndarray = field(default_factory=lambda: np.zeros((MAX_RUN + 1, MAX_RUN + 1), np.int64))
    predictivity: np.ndarray = field(default_factory=lambda: np.zeros((MAX_RUN + 1, MAX_RUN + 1), np.int64))

    def __add__(self, other: "RunCounts") -> "RunCounts":
        return RunCounts(self.sensitivity + other.sensitivity, self.predictivity + other.predictivity)

    def counts(self, category: str) -> tuple[int, int, int, int]:
        """(TP for Se, FN, TP for +P, FP) of ``"couplet"``, ``"short"`` (3-5) or ``"long"`` (6+) runs."""
        lengths = {"couplet": [2], "short": [3, 4, 5], "long": [6]}[category]
        matched = {"couplet": range(2, 7), "short": range(3, 7), "long": [6]}[category]
        s, p = self.sensitivity, self.predictivity
        tp_s = int(s[np.ix_(lengths, list(matched))].sum())
        fn = int(s[lengths, :].sum()) - tp_s
        tp_p = int(p[np.ix_(list(matched), lengths)].sum())
        fp = int(p[:, lengths].sum()) - tp_p
        return tp_s, fn, tp_p, fp

    def sensitivity_of(self, category: str) -> float:
        tp, fn, _, _ = self.counts(category)
        return ratio(tp, tp + fn)

    def predictivity_of(self, category: str) -> float:
        _, _, tp, fp = self.counts(category)
        return ratio(tp, tp + fp)


def map_run_codes(annotations: Annotations) -> np.ndarray:
    """EC57 code of each annotation (module docstring): N S V F Q, ``[ ] { }`` for VF/AF changes, U and C for the
    start and end of unreadable signal, O otherwise."""
    codes = []
    in_af = in_vf = unreadable = False
    for symbol, note, subtype in zip(annotations.symbols.tolist(), annotations.aux_notes.tolist(),
                                     annotations.subtype_array().tolist()):
        note = str(note).strip("\x00 ")
        code = _CODES.get(symbol, "O")
        if code == "N" and in_af:
            code = "S"
        elif symbol == "~":
            shutdown = (subtype & 0x30) == 0x30
            code = "U" if shutdown and not unreadable else "C" if unreadable and not shutdown else "O"
            unreadable = shutdown
        elif symbol == "[":
            code, in_af, in_vf = ("O", in_af, in_vf) if in_vf else ("[", False, True)
        elif symbol == "]":
            code, in_vf = ("]", False) if in_vf else ("O", in_vf)
        elif symbol == "+":
            code, in_af, in_vf = rhythm_code(note, in_af, in_vf)
        codes.append(code)
    return np.asarray(codes, dtype="<U1")


def rhythm_code(note: str, in_af: bool, in_vf: bool) -> tuple[str, bool, bool]:
    """Code of a rhythm change and the new (in AF, in VF) state, as ``rxr``'s ``amap``."""
    if note.startswith("(AF"):
        return ("O", in_af, in_vf) if in_af else ("{", True, False)
    if note.startswith("(VF"):
        return ("O", in_af, in_vf) if in_vf else ("[", False, True)
    if in_af:
        return "}", False, in_vf
    if in_vf:
        return "]", in_af, False
    return "O", in_af, in_vf


_FAMILY_CODES = {
    # extends a run, starts a maximal "run" (episode), ends such an episode, ends a run
    "ventricular": ("VF", "[", "]{U", "NQUS{"),
    "supraventricular": ("S", "{", "}[U", "NQUVF["),
}


def find_defining_runs(times: np.ndarray, codes: np.ndarray, family: str, start: int,
                       window: int) -> list[tuple[int, int, int]]:
    """Runs of the defining file as (length capped at 6, window start, window end), ``rxr``'s state machine."""
    extend, episode, _, _ = _FAMILY_CODES[family]
    end_mark = "]" if family == "ventricular" else "}"
    length, lo, hi = 0, 0, 0
    before = times < start
    for code in codes[before].tolist():
        if code == episode:
            length = MAX_RUN
        elif code in "]}":
            length = 0
    if length:
        lo, hi = start - window, start + window
    runs = []
    for t, code in zip(times[~before].tolist(), codes[~before].tolist()):
        if length:
            if code in extend:
                length, hi = min(length + 1, MAX_RUN), t + window
            elif code == end_mark:
                hi = t + window
            elif code in "NQU" or code in ("VF" if family == "supraventricular" else "S"):
                runs.append((length, lo, hi))
                length = 0
        elif code in extend:
            length, lo, hi = 1, t - window, t + window
        elif code == episode:
            length, lo = MAX_RUN, t - window
    return runs


def find_episode_spans(times: np.ndarray, codes: np.ndarray, family: str) -> np.ndarray:
    """(k, 2) [start, end] of the VF (ventricular) or AF (supraventricular) episodes of a file; open ends are inf."""
    _, episode, enders, _ = _FAMILY_CODES[family]
    spans, begin = [], None
    for t, code in zip(times.tolist(), codes.tolist()):
        if begin is None and code == episode:
            begin = t
        elif begin is not None and code in enders:
            spans.append((begin, t))
            begin = None
    if begin is not None:
        spans.append((begin, math.inf))
    return np.asarray(spans, dtype=np.float64).reshape(-1, 2)


def longest_run_in_window(times: np.ndarray, codes: np.ndarray, episodes: np.ndarray, family: str,
                          lo: int, hi: int) -> int:
    """Longest run (capped at 6) of the other file within [lo, hi], or 6 when one of its episodes overlaps."""
    if len(episodes) and np.any((episodes[:, 0] <= hi) & (episodes[:, 1] > lo)):
        return MAX_RUN
    extend, _, _, breaks = _FAMILY_CODES[family]
    first, last = np.searchsorted(times, lo, side="left"), np.searchsorted(times, hi, side="right")
    best = current = 0
    for code in codes[first:last].tolist():
        if code in extend:
            current = min(current + 1, MAX_RUN)
            best = max(best, current)
        elif code in breaks:
            current = 0
    return best


def compare_runs(reference: Annotations, test: Annotations, fs_hz: float, family: str, *,
                 start_s: float = SCORE_START_S, window_s: float = MATCH_WINDOW_S) -> RunCounts:
    """Run-by-run comparison of one family (``"ventricular"`` or ``"supraventricular"``) in one record."""
    start, window = int(round(start_s * fs_hz)), int(round(window_s * fs_hz))
    files = [(a.samples, map_run_codes(a)) for a in (reference, test)]
    matrices = []
    for defining, other in ((0, 1), (1, 0)):
        times, codes = files[other]
        episodes = find_episode_spans(times, codes, family)
        matrix = np.zeros((MAX_RUN + 1, MAX_RUN + 1), np.int64)
        for length, lo, hi in find_defining_runs(*files[defining], family, start, window):
            other_length = longest_run_in_window(times, codes, episodes, family, lo, hi)
            ref_len, test_len = (length, other_length) if defining == 0 else (other_length, length)
            matrix[ref_len, test_len] += 1
        matrices.append(matrix)
    return RunCounts(*matrices)


# ----------------------------------------------------------------------------------------------
# Pauses against the reference beats' intervals
# ----------------------------------------------------------------------------------------------

NOT_A_PAUSE = ("[", "]", "!", "~")
"""Reference annotations that leave an interval out of the reference pauses: ventricular flutter (its waves are not
beats) and a signal-quality change (annotators mark no beats in noise: MIT-BIH 208's only interval over 2 s)."""


@dataclass(frozen=True)
class PauseCounts(SummableCounts):
    """Pauses of one record or pooled. MIT-BIH has no pause annotation: the reference pauses are the intervals between
    consecutive reference beats longer than the pause threshold that hold none of :data:`NOT_A_PAUSE`. A reference
    pause is found when a flagged pause overlaps it; a flagged pause is confirmed when it overlaps a reference pause,
    and not scored when it overlaps only an interval left out."""

    reference: int = 0
    found: int = 0
    flagged: int = 0
    confirmed: int = 0
    not_scored: int = 0

    @property
    def sensitivity(self) -> float:
        return ratio(self.found, self.reference)

    @property
    def predictivity(self) -> float:
        return ratio(self.confirmed, self.flagged)


def find_reference_pauses(reference: Annotations, fs_hz: float, pause_s: float) -> tuple[np.ndarray, np.ndarray]:
    """(k, 2) [start, stop] samples of the reference intervals longer than ``pause_s``: those scored, and those left
    out because they hold one of :data:`NOT_A_PAUSE`."""
    beats = reference.samples[is_beat_symbol(reference.symbols)]
    marks = reference.samples[np.isin(reference.symbols, NOT_A_PAUSE)]
    long = np.flatnonzero(np.diff(beats) > pause_s * fs_hz)
    pairs = np.array([(beats[i], beats[i + 1]) for i in long], dtype=np.int64).reshape(-1, 2)
    marked = np.array([np.any((marks > a) & (marks < b)) for a, b in pairs], bool)
    return pairs[~marked], pairs[marked]


def overlapping(intervals: np.ndarray, others: np.ndarray) -> np.ndarray:
    """For each [start, stop] of ``intervals``, whether one of ``others`` overlaps it.

    >>> overlapping(np.array([[0, 10], [20, 30]]), np.array([[5, 6]])).tolist()
    [True, False]
    """
    if len(intervals) == 0 or len(others) == 0:
        return np.zeros(len(intervals), bool)
    return ((intervals[:, None, 0] < others[None, :, 1]) & (others[None, :, 0] < intervals[:, None, 1])).any(axis=1)


def flagged_pauses(regions, start: int = 0) -> np.ndarray:
    """(k, 2) [start, stop] samples of the ``pause`` regions that end after ``start``."""
    pairs = np.array([(r.start, r.stop) for r in regions if r.kind == "pause"], np.int64).reshape(-1, 2)
    return pairs[pairs[:, 1] > start]


@dataclass(frozen=True)
class PauseMatch:
    """A record's scored pauses: the reference pauses and the flagged ones ((k, 2) [start, stop] samples), and how many
    flagged pauses were left unscored (over an interval of :data:`NOT_A_PAUSE` only)."""

    reference: np.ndarray
    flagged: np.ndarray
    not_scored: int

    def counts(self) -> PauseCounts:
        return PauseCounts(len(self.reference), int(overlapping(self.reference, self.flagged).sum()),
                           len(self.flagged), int(overlapping(self.flagged, self.reference).sum()), self.not_scored)


def match_pauses(reference: Annotations, regions, fs_hz: float, pause_s: float,
                 start_s: float = SCORE_START_S) -> PauseMatch:
    """Flagged pauses (``pause`` regions) and reference pauses (:class:`PauseCounts`) that end after ``start_s``."""
    start = int(round(start_s * fs_hz))
    scored, left_out = (p[p[:, 1] > start] for p in find_reference_pauses(reference, fs_hz, pause_s))
    flagged = flagged_pauses(regions, start)
    kept = ~overlapping(flagged, left_out) | overlapping(flagged, scored)
    return PauseMatch(scored, flagged[kept], int(np.sum(~kept)))


# ----------------------------------------------------------------------------------------------
# Beat labellers and the per-record evaluation
# ----------------------------------------------------------------------------------------------

def label_with_reference(record: Record) -> tuple[np.ndarray, np.ndarray]:
    """Reference beat positions and AAMI classes (an oracle classifier; beats outside the classes become Q)."""
    if record.annotations is None:
        raise EcgInputError(f"Record {record.name} has no reference annotations; expected an annotated record "
                            "for --labels reference.")
    select_reference_beats(record)  # raises when they cannot be this signal's reference
    return annotated_beats(record.annotations)


def label_with_reference_paced(record: Record) -> tuple[np.ndarray, np.ndarray, None, np.ndarray]:
    """:func:`label_with_reference` and which beats are paced (``/``), so that the written files keep them ``/``."""
    samples, classes = label_with_reference(record)
    symbols = np.asarray(record.annotations.symbols)
    return samples, classes, None, symbols[is_beat_symbol(symbols)] == "/"


def annotated_beats(annotations: Annotations) -> tuple[np.ndarray, np.ndarray]:
    """Samples and AAMI classes of the beat annotations of a file (MIT-BIH symbols; beats outside the classes are Q)."""
    beats = annotations.select(is_beat_symbol(annotations.symbols))
    classes = map_symbols_to_aami(beats.symbols)
    return beats.samples, np.where(classes == "", "Q", classes)


def label_with_detector(record: Record) -> tuple[np.ndarray, np.ndarray]:
    """The project's detected beats at their reported positions (:func:`pipeline.segment.time_beats` on the cleaned
    primary lead), every one labelled N (rhythm from RR intervals and P waves only)."""
    lead = clean_signal(record.signal_mv[:, [record.primary_lead]], record.fs_hz)
    samples = time_beats(lead, detect_record_peaks(record).samples, record.fs_hz)
    return samples, np.full(len(samples), "N")


LABELERS: dict[str, BeatLabeler] = {"reference": label_with_reference_paced, "detector": label_with_detector}


@dataclass(frozen=True)
class RecordRegionEvaluation:
    """Regions of one record and their comparison with the reference.

    ``region_s`` times P-wave measurement and region finding, ``summary_s`` the record summary (heart rate,
    heart-rate variability, ST, QT), ``detection_s`` the R-peak detector and ``preparation_s`` reading the record
    plus quality assessment, all wall-clock seconds.
    ``beats_annotated`` is False when the reference holds rhythm annotations only (as the MIT-BIH Atrial
    Fibrillation Database's ``.atr``): its runs cannot be scored, and the report leaves them out.
    """

    record: str
    fs_hz: float
    source_fs_hz: float
    regions: tuple[Region, ...]
    summary: RecordSummary
    annotations: Annotations
    ventricular_runs: RunCounts
    supraventricular_runs: RunCounts
    episodes: tuple[tuple[str, EpisodeCounts], ...]
    region_s: float
    detection_s: float
    preparation_s: float
    beats_annotated: bool = True
    summary_s: float = 0.0
    pauses: PauseCounts = PauseCounts()

    def episode(self, name: str) -> EpisodeCounts:
        return dict(self.episodes)[name]


@dataclass(frozen=True)
class RecordFailure:
    """A record that could not be evaluated, with the reason."""

    record: str
    error: str


@dataclass(frozen=True)
class RegionReport:
    """Per-record results, failures and settings of one evaluation run."""

    evaluations: tuple[RecordRegionEvaluation, ...]
    failures: tuple[RecordFailure, ...]
    settings: dict

    def runs(self, family: str) -> RunCounts:
        """Pooled run counts of a family over the records whose reference annotates beats."""
        name = "ventricular_runs" if family == "ventricular" else "supraventricular_runs"
        return sum((getattr(e, name) for e in self.evaluations if e.beats_annotated), RunCounts())

    def pauses(self) -> PauseCounts:
        """Pooled pause counts over the records whose reference annotates beats."""
        return sum((e.pauses for e in self.evaluations if e.beats_annotated), PauseCounts())

    def records_without_beats(self) -> tuple[str, ...]:
        """Records whose reference holds no beat annotation (rhythm only), left out of the run scores."""
        return tuple(e.record for e in self.evaluations if not e.beats_annotated)

    def episodes(self, name: str, records: tuple[str, ...] | None = None) -> EpisodeCounts:
        """Pooled episode counts of one comparison, over ``records`` (all evaluated records by default)."""
        chosen = [e for e in self.evaluations if records is None or e.record in records]
        return sum((e.episode(name) for e in chosen), EpisodeCounts())

    def records_with(self, name: str) -> tuple[str, ...]:
        """Records whose reference has episodes of the comparison ``name`` in the scored interval."""
        return tuple(e.record for e in self.evaluations if e.episode(name).reference_s > 0)


def find_record_regions(record: Record, samples: np.ndarray, classes: np.ndarray, spans: list,
                        settings: RegionSettings, beat_confidence: np.ndarray | None = None,
                        detected_samples: np.ndarray | None = None, af_excluded_beats: np.ndarray | None = None,
                        paced_beats: np.ndarray | None = None, evidence: RhythmEvidence | None = None,
                        families: np.ndarray | None = None,
                        af_edits: tuple[AfEdit, ...] = ()) -> tuple[list[Region], RecordSummary]:
    """Regions (:func:`flag_record_regions`; ``evidence`` when already measured for these arguments; ``af_edits``, a
    reader's word on the atrial rhythm) and summary of a labelled record (``families`` as
    :func:`summarize_labelled_record` takes them)."""
    regions = flag_record_regions(record, samples, classes, spans, settings, beat_confidence, detected_samples,
                                  evidence, af_excluded_beats=af_excluded_beats, paced_beats=paced_beats,
                                  af_edits=af_edits)
    return regions, summarize_labelled_record(record, regions, samples, classes, spans, settings, af_excluded_beats,
                                              paced_beats, families=families)


@dataclass(frozen=True)
class RhythmEvidence:
    """What the rhythm rules read from a record's signal besides the beats: measured once per analysis and shared by
    the regions and the classifier's atrial-fibrillation rule (:mod:`models.af_rule`).

    Attributes
    ----------
    p_wave_similarity : np.ndarray or None
        Per beat, :func:`pipeline.atrial.measure_p_wave_similarity` on the primary lead; None for a patient with a
        stated pacemaker, whose AF evidence is read from the RR intervals alone.
    fibrillation_intervals : np.ndarray
        (k, 2) [start, stop) samples of ventricular flutter/fibrillation (:mod:`pipeline.fibrillation`).
    """

    p_wave_similarity: np.ndarray | None
    fibrillation_intervals: np.ndarray



def paces_often(paced_beats: np.ndarray) -> bool:
    """Whether at least :data:`PACED_SHARE_MIN` of the beats are paced (``paced_beats``, the pacing rule's; a
    record without beats counts as paced, nothing saying otherwise)."""
    return not len(paced_beats) or float(np.mean(paced_beats)) >= PACED_SHARE_MIN


def reads_as_paced(record: Record, paced_beats: np.ndarray | None) -> bool:
    """Whether ``record`` is read as a paced patient's: a stated pacemaker that paced often (:func:`paces_often`;
    ``paced_beats`` None: not counted, as paced). Its AF evidence then leaves the P waves out
    (:func:`measure_rhythm_evidence`) and its HRV, heart-rate turbulence, ST and QT are not assessed
    (:func:`summarize_labelled_record`); a stated pacemaker that seldom paced leaves all of them to the intrinsic
    beats, as for any patient.

    >>> from pipeline.types import Record
    >>> paced = Record("r", np.zeros((10, 1)), 360.0, ("MLII",), 0, 360.0, pacemaker="VVI")
    >>> reads_as_paced(paced, np.array([True] + [False] * 19)), reads_as_paced(paced, None)
    (False, True)
    """
    if record.pacemaker is None:
        return False
    return paced_beats is None or paces_often(paced_beats)


def measure_rhythm_evidence(record: Record, samples: np.ndarray, spans: list, settings: RegionSettings,
                            detected_samples: np.ndarray | None = None,
                            paced_beats: np.ndarray | None = None) -> RhythmEvidence:
    """P-wave similarity on the primary lead and ventricular flutter/fibrillation in the signal.

    ``detected_samples``, the beat detector's placed beats with those its refractory check removed
    (:attr:`pipeline.types.Detection.wave_samples`), give the wave rate inside a flutter stretch (its rate check); by
    default ``samples``, which are the detector's beats except with reference labels (where MIT-BIH marks flutter
    waves ``!``, not beats).

    With a stated pacemaker (``record.pacemaker``) no P-wave similarity is measured, and the region finder reads AF
    from the RR intervals alone (:func:`pipeline.regions.find_af_regions`): the paced beats' intervals are left out of
    the AF evidence, and before the beats that remain, the segment where a P wave would be mixes pacing artefacts with
    paced and dissociated P waves. Found on MIT-BIH's paced records 102 and 104, where, once the pacing
    rule had made their paced beats Q, regular sinus stretches between paced ones were called AF for want of a
    consistent P wave in their blocks (``experiments/pacing_rule_study.py``, EXPERIMENTS.md row BG). Since session 45
    only when the pacing rule found at least :data:`PACED_SHARE_MIN` of ``paced_beats`` paced
    (:func:`reads_as_paced`).
    """
    lead = record.signal_mv[:, record.primary_lead]
    waves = samples if detected_samples is None else detected_samples
    similarity = (None if reads_as_paced(record, paced_beats)
                  else measure_p_wave_similarity(lead, samples, record.fs_hz))
    return RhythmEvidence(similarity,
                          find_fibrillation_intervals(record.signal_mv, record.fs_hz, spans, settings.fibrillation,
                                                      waves))


def flag_record_regions(record: Record, samples: np.ndarray, classes: np.ndarray, spans: list,
                        settings: RegionSettings, beat_confidence: np.ndarray | None = None,
                        detected_samples: np.ndarray | None = None,
                        evidence: RhythmEvidence | None = None,
                        af_excluded_beats: np.ndarray | None = None,
                        paced_beats: np.ndarray | None = None, af_edits: tuple[AfEdit, ...] = ()) -> list[Region]:
    """Regions of a labelled record: the rhythm evidence (:func:`measure_rhythm_evidence`, unless given, measured
    with the same ``samples``, ``spans`` and ``settings``), then the rules.

    ``beat_confidence`` (per beat, e.g. the classifier's top probability) goes to the regions' confidence;
    ``af_excluded_beats`` (per beat) to the AF evidence, ``paced_beats`` (per beat, the pacing rule's) to the
    paced rhythms and ``af_edits`` (a reader's word on the atrial rhythm) to the AF episodes
    (:func:`pipeline.regions.find_regions`).
    """
    if evidence is None:
        evidence = measure_rhythm_evidence(record, samples, spans, settings, detected_samples, paced_beats)
    return find_regions(samples, classes, record.fs_hz, spans, record.n_samples, settings,
                        n_leads=record.signal_mv.shape[1], p_wave_similarity=evidence.p_wave_similarity,
                        beat_confidence=beat_confidence, fibrillation_intervals=evidence.fibrillation_intervals,
                        af_excluded_beats=af_excluded_beats, paced_beats=paced_beats,
                        blocked_p_waves=find_record_blocked_p_waves(record, samples, classes, settings, paced_beats),
                        af_edits=af_edits)


def find_record_blocked_p_waves(record: Record, samples: np.ndarray, classes: np.ndarray, settings: RegionSettings,
                                paced_beats: np.ndarray | None = None) -> np.ndarray | None:
    """The blocked P waves between the N beats of a labelled record (:func:`pipeline.conduction.find_blocked_p_waves`
    on its leads); None for a patient read as paced (:func:`reads_as_paced`), whose atrial and ventricular activity the
    pacemaker links."""
    if reads_as_paced(record, paced_beats):
        return None
    normal = encode_classes(classes, len(samples)) == AAMI_CLASSES.index("N")
    return _KEPT_BLOCKED_P.recall(record.signal_mv, digest_inputs(samples, normal, record.fs_hz, settings.blocked_p),
                                  lambda: find_blocked_p_waves(record.signal_mv, samples, normal, record.fs_hz,
                                                               settings.blocked_p))


_KEPT_BLOCKED_P = KeptResults()
"""The blocked P waves of the last few records (:func:`find_record_blocked_p_waves`): the same again after an edit
that changes no beat position or N call (an event threshold, an artefact mark), 0.45 s on a 24-hour record."""
_KEPT_SPIKE_SHARES = KeptResults()
"""The pacing-spike shares of the last few records (:func:`measure_record_spike_share`): 0.16 s on a 24-hour record."""


def measure_record_spike_share(record: Record, samples: np.ndarray, spans: list) -> float:
    """The share of a record's readable beats (outside ``spans``) with a pacing spike
    (:func:`pipeline.pacing.measure_spike_share`), the same again for the same signal, beats and stretches."""
    readable = find_beats_outside(samples, spans)
    return _KEPT_SPIKE_SHARES.recall(record.signal_mv, digest_inputs(samples, readable, record.fs_hz,
                                                                      record.source_fs_hz),
                                     lambda: measure_spike_share(record.signal_mv, record.fs_hz, samples, readable,
                                                                 recorded_fs_hz=record.source_fs_hz))


def forget_kept_measures() -> None:
    """Drop the kept blocked P waves, spike shares and flutter-like windows (a benchmark's "before")."""
    _KEPT_BLOCKED_P.forget()
    _KEPT_SPIKE_SHARES.forget()
    forget_kept_windows()


def find_record_af_beats(record: Record, samples: np.ndarray, classes: np.ndarray, spans: list,
                         settings: RegionSettings, detected_samples: np.ndarray | None = None,
                         evidence: RhythmEvidence | None = None, paced_beats: np.ndarray | None = None,
                         af_edits: tuple[AfEdit, ...] = ()) -> np.ndarray:
    """Boolean per beat: inside an atrial fibrillation episode of the regions :func:`flag_record_regions` finds with
    the same arguments (only that kind is looked for)."""
    if evidence is None:
        evidence = measure_rhythm_evidence(record, samples, spans, settings, detected_samples, paced_beats)
    context = prepare_beats(samples, classes, record.fs_hz, spans, record.n_samples, record.signal_mv.shape[1],
                            unreadable_kinds=settings.unreadable_kinds,
                            fibrillation_intervals=evidence.fibrillation_intervals)
    edits = check_af_edits(af_edits, record.n_samples)
    return beats_in_kind(find_af_regions(context, settings, evidence.p_wave_similarity, edits), "atrial_fibrillation",
                         len(samples))


def summarize_labelled_record(record: Record, regions: list[Region], samples: np.ndarray, classes: np.ndarray,
                              spans: list, settings: RegionSettings, af_excluded_beats: np.ndarray | None = None,
                              paced_beats: np.ndarray | None = None, *, families: np.ndarray | None = None
                              ) -> RecordSummary:
    """The record summary (:func:`pipeline.summary.summarize_record`, heart-rate variability included) with the
    ST analysis of the signal (:func:`pipeline.st.analyse_st`: N beats outside the unreadable stretches and, per
    lead, outside that lead's quality spans of the kinds counted unreadable); the hourly table on clock hours when the
    header gives the start time (:func:`pipeline.hours.clock_hour_grid`). A stated pacemaker leaves HRV, heart-rate
    turbulence, ST and QT out unless the pacing rule found it seldom pacing (``paced_beats``, per beat:
    :func:`reads_as_paced`). With the predominant rhythm (:func:`pipeline.rhythm.find_predominant_rhythm`) and, given
    the beats' morphology ``families`` (:func:`pipeline.families.group_beat_families`), whether the ventricular
    ectopic beats are uniform or multiform (:func:`pipeline.families.find_ventricular_forms`). Without a stated
    pacemaker, the share of the readable beats with a pacing spike (:func:`pipeline.pacing.measure_spike_share`):
    when the record reads as paced, a note first asks the reader to state the pacemaker, and the predominant rhythm is
    a paced rhythm."""
    paced = reads_as_paced(record, paced_beats)
    spike_share = float("nan") if record.pacemaker is not None else measure_record_spike_share(record, samples, spans)
    spiked = reads_as_spiked(spike_share)  # an unstated pacemaker changes how everything else reads
    summary = summarize_record(regions, samples, classes, record.fs_hz, spans, record.n_samples, settings,
                               n_leads=record.signal_mv.shape[1], pacemaker=record.pacemaker,
                               af_excluded_beats=af_excluded_beats, paced_often=paced,
                               hours=clock_hour_grid(record.start_time), families=families, spiked=spiked)
    measured_pacemaker = record.pacemaker if paced else None  # a pacemaker that seldom paced: intrinsic beats measured
    kept_spans, unreadable = st_exclusions(regions, spans, settings)
    af = merge_runs(region_intervals(regions, "atrial_fibrillation").reshape(-1, 2),
                    int(round(settings.qt.window_s * record.fs_hz)))  # a gap under one QT window is still AF
    left_out = np.concatenate([np.asarray(unreadable, np.int64).reshape(-1, 2), af])  # what QT and PR skip
    st, qt = measure_repolarisation(record, samples, classes, kept_spans, unreadable, left_out,
                                    measured_pacemaker, settings.st, settings.qt)  # kept when an edit leaves them
    qt = note_af_left_out(qt, st, float(np.sum(af[:, 1] - af[:, 0])) / record.fs_hz)
    pr = analyse_pr(record.signal_mv, record.fs_hz, samples, classes, st, kept_spans, left_out,
                    pacemaker=measured_pacemaker or ("pacing spikes" if spiked else None), settings=settings.pr,
                    st_settings=settings.st, qt_summary=qt)  # outside AF/flutter (no P wave); none with pacing spikes
    hourly = tuple(replace(hour, **hourly_repolarisation(st, qt, hour.start_s, hour.duration_s))
                   for hour in summary.hourly)
    letters = np.asarray(AAMI_CLASSES)[encode_classes(classes, len(samples))]
    readable_s = summary.readable_s
    rhythm = find_predominant_rhythm(
        record.signal_mv, record.fs_hz, samples, letters, summary.af_burden_pct, record.pacemaker,
        summary.heart_rate_mean_bpm,
        fibrillation_share=summary.event("ventricular_flutter_fibrillation").total_s / max(summary.duration_s, 1e-9),
        av_block_share=summary.event("av_block_2_to_1").total_s / readable_s if readable_s > 0 else 0.0,
        pacing_spike_share=spike_share,
        rate_outside_af_bpm=mean_rate_outside_bpm(samples, record.fs_hz, merge_intervals(
            [tuple(i) for kind in ("atrial_fibrillation", "unreadable", "ventricular_flutter_fibrillation")
             for i in region_intervals(regions, kind).reshape(-1, 2).tolist()])))
    rhythm = replace(rhythm, wide_qrs_ms=wide_qrs_ms(st, settings.st.max_qrs_ms))  # named beside a sinus rhythm
    sinus = rhythm.name.startswith("sinus")  # sinus P waves before the dominant beats
    hinted = bool(summary.n_beats) and not spiked and record.pacemaker is None  # the wide-beat note, if wide
    folded = fold_wide_qrs_stop(st, qt, settings.st.max_qrs_ms, hinted)  # the width said once among the notes
    hint = (pacing_hint(st, record.pacemaker, settings.st.max_qrs_ms, spike_share, sinus, folded)
            if summary.n_beats else ())
    scale = ("" if record.pacemaker is not None or spiked  # pacing spikes can be tall: not a gain problem
             else describe_outsized_qrs(record.signal_mv, record.fs_hz, samples, record.lead_names))  # first: all
    notes = ((scale,) if scale else ()) + ((hint if spiked else ()) + summary.notes
             + ((() if folded else repolarisation_notes(st, qt)) + borderline_qrs_note(st, settings.st.max_qrs_ms)
                + long_pr_note(pr) if summary.n_beats else ()) + (() if spiked else hint))
    return replace(summary, st=st, qt=qt, pr=pr, notes=notes, hourly=hourly, predominant_rhythm=rhythm,
                   pacing_spike_share=spike_share)


def note_af_left_out(qt: QtSummary, st: StSummary, af_s: float) -> QtSummary:
    """``qt`` with its note saying that ``af_s`` seconds of atrial fibrillation (its episodes and the gaps of under
    one QT window between them) were left out of the QT windows, as its irregular RR intervals make the rate
    correction unreliable; unchanged without AF, or when QT stopped for the ST analysis's own reason (a pacemaker, a
    wide QRS: :func:`repolarisation_notes` then gives both one note)."""
    if af_s <= 0 or stop_for_one_reason(st, qt):
        return qt
    stretch = (f"atrial fibrillation (its episodes and the gaps of under {qt.window_s:g} s between them, "
               f"{format_duration(af_s)} in all)")  # more than the AF tally: a clinical read (session 48)
    reason = "QTc needs a steady RR interval, which fibrillation does not give"
    if not qt.assessed and qt.note.endswith(TOO_FEW_REASONS):  # too few outside AF: AF is the reason, not the signal
        return replace(qt, note=f"{qt.note} outside {stretch}, which is left out: {reason}")
    return replace(qt, note=f"{qt.note}; {stretch} left out: {reason}" if qt.note else
                   f"QT measured outside {stretch}: {reason}")


TOO_FEW_REASONS = ("too few readable normal beats", "with a measurable T wave")
"""Ends of the notes of a QT not assessed for want of beats or windows (:func:`note_af_left_out`: the AF left out
is then the reason, which a QA pass of session 51 found put after "too few readable normal beats" on record 221,
in atrial fibrillation throughout, as if the signal were poor)."""


def hourly_repolarisation(st: StSummary, qt: QtSummary, start_s: float, duration_s: float) -> dict:
    """One hour's ST and QTc figures for the hourly table (:class:`pipeline.summary.HourSummary`): the lowest and
    highest ST change over the ST windows starting in the hour and the leads, the median Fridericia QTc of its QT
    windows (NaN where none was measured)."""
    def inside(window_s: float, n_windows: int) -> slice:
        return slice(int(math.ceil(start_s / window_s)), min(n_windows, int(math.ceil((start_s + duration_s)
                                                                                       / window_s))))

    changes = np.empty(0)
    if st.assessed:
        part = inside(st.window_s, len(st.heart_rate_bpm))
        changes = np.concatenate([st.deviations_mv(k)[part] for k in range(len(st.lead_names))])
    steady = qt.assessed and is_steady_qt(qt)  # where the T end is uncertain, no QTc for the hour either (s57)
    qtc = qt.qtc_fridericia_ms[inside(qt.window_s, len(qt.qt_ms))] if steady else np.empty(0)
    changes, qtc = changes[np.isfinite(changes)], qtc[np.isfinite(qtc)]
    return {"st_lowest_mv": float(changes.min()) if len(changes) else float("nan"),
            "st_highest_mv": float(changes.max()) if len(changes) else float("nan"),
            "qtc_fridericia_ms": float(np.median(qtc)) if len(qtc) else float("nan")}


def repolarisation_notes(st: StSummary, qt: QtSummary) -> tuple[str, ...]:
    """The summary's notes on the ST and QT analyses: what could not be assessed and why (one note when both stop
    for the same reason), what an assessed QT left out (atrial fibrillation), a QT that differs much between windows
    (:func:`pipeline.qt.unsteady_qt_note`) and a long QTc (:func:`pipeline.qt.long_qtc_note`)."""
    st_reason = None if st.assessed else st.note.removeprefix("ST not assessed: ")
    qt_reason = None if qt.assessed else qt.note.removeprefix("QT not assessed: ")
    if stop_for_one_reason(st, qt):
        return (f"ST and QT not assessed: {st_reason}",)
    notes = tuple(note for note, reason in ((st.note, st_reason), (qt.note, qt_reason)) if reason is not None)
    notes += (qt.note,) if qt.assessed and qt.note else ()  # what an assessed QT left out
    one_lead = ONE_LEAD_QT_NOTE if qt.assessed and len(st.lead_names) == 1 else None
    return notes + tuple(note for note in (shifted_reference_note(st), one_lead, unsteady_qt_note(qt),
                                           long_qtc_note(qt)) if note)


ONE_LEAD_QT_NOTE = ("QT from one lead: the QRS onset and width are measured on that lead alone, where a bundle branch "
                    "block can measure narrow and the QRS start late, so the QT can read short and a conduction block "
                    "go unnoticed; check the QRS width on the dominant beat")
"""A QA pass of session 51 read MIT-BIH's bundle branch block records from MLII alone: their dominant QRS measured
narrow enough for QT to be assessed (the QRS width is what rules it out), with no word."""


def borderline_qrs_note(st: StSummary, max_qrs_ms: float, margin_ms: float = QRS_MEASURE_MARGIN_MS
                        ) -> tuple[str, ...]:
    """A note when ST was assessed on a dominant QRS measured within ``margin_ms`` under ``max_qrs_ms``: the
    measurement can fall that far short of a reader's (:data:`pipeline.st.QRS_MEASURE_MARGIN_MS`), so the beats may be
    bundle branch block beats, whose ST and QT changes are secondary to the conduction (MIT-BIH 124 and 207, right and
    left bundle branch block, measure 117 and 119 ms). A handful of beats more or less can move such a record across
    the limit; the note says so either way it falls."""
    if not st.assessed or st.fiducials is None or not st.fiducials.qrs_ms > max_qrs_ms - margin_ms:
        return ()
    return (f"the dominant QRS measures {st.fiducials.qrs_ms:.0f} ms, close to bundle branch block's "
            f"{max_qrs_ms:g} ms (this measurement can read up to {margin_ms:g} ms short): check the QRS width on the "
            "dominant beat; with a bundle branch block, the ST and QT figures reflect the conduction and do not apply",)


def wide_qrs_ms(st: StSummary, max_qrs_ms: float) -> float:
    """The dominant QRS width (ms) where it is over ``max_qrs_ms`` (:attr:`pipeline.st.StSettings.max_qrs_ms`), else
    NaN: the predominant rhythm's ``wide_qrs_ms`` (:class:`pipeline.rhythm.PredominantRhythm`, named beside a sinus
    rhythm), and what :func:`pacing_hint` asks about."""
    if st.fiducials is None or not st.fiducials.qrs_ms > max_qrs_ms:
        return float("nan")
    return float(st.fiducials.qrs_ms)


def pacing_hint(st: StSummary, pacemaker: str | None, max_qrs_ms: float,
                spike_share: float = float("nan"), sinus: bool = False, repolarisation_stopped: bool = False
                ) -> tuple[str, ...]:
    """A note when no pacemaker was stated and the beats show pacing spikes (``spike_share``,
    :func:`pipeline.pacing.measure_spike_share`), or else the dominant beats are wide: they may be paced beats, which
    the classifier was not trained on (it tends to take a paced rhythm's beats as the patient's normal ones, and paced
    beats among others as V), so the reader is asked to state the pacemaker; nothing else changes. The wide-beat note
    names the commoner causes first: a clinical read of session 51 found it on records 207 and 231 (left and right
    bundle branch block) pointing to a pacemaker alone. Spikes are found on MIT-BIH's four paced records and none of
    the others (session 56; session 42 had taken them for lost at the recording's bandwidth, and clinical reads of
    session 55 saw them on 102's and 104's strips). Where spikes were looked for (``spike_share`` finite) and not found,
    the wide-beat note says so and puts pacing last: a clinical read of session 58 read the bare question on 108's and
    118's reports (neither paced) as boilerplate; with a ``sinus`` predominant rhythm (sinus P waves before the
    dominant beats) a ventricular rhythm is not among the causes either (a second read of session 58). With
    ``repolarisation_stopped`` (ST and QT stopped for this width: :func:`fold_wide_qrs_stop`) the note says that too, so
    that the width is not given a third time on page 1 (a second read of session 58: 118's and 214's in the headline,
    the ST/QT note and this one)."""
    if pacemaker is not None:
        return ()
    if reads_as_spiked(spike_share):
        return (describe_pacing_spikes(spike_share),)
    qrs_ms = wide_qrs_ms(st, max_qrs_ms)
    if not math.isfinite(qrs_ms):
        return ()
    wide = f"the dominant beats are wide ({qrs_ms:.0f} ms)"
    stopped = "; ST and QT are not assessed on such beats" if repolarisation_stopped else ""
    if math.isfinite(spike_share):  # looked for, under the paced share: pacing is the unlikely cause
        causes = (" with sinus P waves before them: a bundle branch block or another intraventricular conduction delay"
                  if sinus else ": a bundle branch block or another intraventricular conduction delay, or a "
                  "ventricular rhythm")
        found = ("no pacing spike was found" if spike_share == 0 else
                 f"pacing spikes before only {100 * spike_share:.0f} % of the readable beats")
        return (wide + causes + stopped + f"; {found} (if the patient does have a pacemaker, the recorder may have "
                "filtered its spikes out: state it; paced beats are not classified as such)",)
    return (wide + ": a bundle branch block or another intraventricular conduction delay, a ventricular rhythm, or "
            f"pacing{stopped}; if the patient has a pacemaker, state it (paced beats are not classified as such, and "
            "the ventricular events and beat classes need review)",)


def fold_wide_qrs_stop(st: StSummary, qt: QtSummary, max_qrs_ms: float, hinted: bool) -> bool:
    """Whether ST and QT both stopped for the dominant QRS's width (over ``max_qrs_ms``) and the wide-beat note of
    :func:`pacing_hint` is given (``hinted``): that note then says so, and :func:`repolarisation_notes`' own note,
    which lists the causes again ("bundle branch block, a ventricular or a paced rhythm", beside "no pacing spike was
    found"), is left out."""
    return hinted and stop_for_one_reason(st, qt) and math.isfinite(wide_qrs_ms(st, max_qrs_ms))


def stop_for_one_reason(st: StSummary, qt: QtSummary) -> bool:
    """Whether ST and QT were both not assessed, for the same reason (their notes past "ST/QT not assessed: ")."""
    return (not st.assessed and not qt.assessed
            and st.note.removeprefix("ST not assessed: ") == qt.note.removeprefix("QT not assessed: "))


def describe_pacing_spikes(spike_share: float) -> str:
    """The note for pacing spikes seen with no pacemaker stated (``spike_share``: the share of the readable beats with
    one, which undercounts the paced beats: a spike counts only where it keeps its place). A clinical read of session
    56 asked that it say how to state the pacemaker and what is unreliable until then.

    >>> describe_pacing_spikes(0.764)[:72]
    'pacing spikes before at least 76 % of the readable beats, and no pacemak'
    """
    return (f"pacing spikes before at least {100 * spike_share:.0f} % of the readable beats, and no pacemaker was "
            "stated: if the patient has one, state it (ecg score --pacemaker, or the dashboard's pacemaker "
            "checkbox). Until then paced beats are counted as normal or ventricular, so the beat counts, ectopic "
            "burdens and ventricular events are unreliable; heart-rate variability and turbulence are not assessed")


def st_exclusions(regions: list[Region], spans: list, settings: RegionSettings) -> tuple[list, np.ndarray]:
    """What the ST analysis leaves out: the quality spans of the kinds counted unreadable (per lead) and the
    unreadable stretches of the regions (all leads)."""
    return [s for s in spans if s.kind in settings.unreadable_kinds], region_intervals(regions, "unreadable")


def evaluate_record(path: str | Path, labeler: BeatLabeler, settings: RegionSettings = RegionSettings(),
                    quality: QualitySettings = QualitySettings(), *, pacemaker: bool = False
                    ) -> RecordRegionEvaluation:
    """Find the regions of one annotated record and compare them with its reference annotations; with
    ``pacemaker``, the patient's pacemaker is stated (``Record.pacemaker``) for the labeller and the summary.

    Quality spans come from ``quality``; their noise spans over trains of like beats are spared
    (:func:`pipeline.quality.spare_beat_trains`, with the labeller's beats) unless
    ``quality.train_sparing`` is off.
    """
    started = time.perf_counter()
    record = read_record(path, annotator=REFERENCE_ANNOTATOR)
    if pacemaker and record.pacemaker is None:
        record = replace(record, pacemaker=STATED_PACEMAKER)
    if record.annotations is None:
        raise EcgInputError(f"Record {record.name} has no reference annotations ({record.name}."
                            f"{REFERENCE_ANNOTATOR}); expected an annotated record to score against.")
    spans = find_quality_spans(record.signal_mv, record.fs_hz, quality)
    prepared = time.perf_counter()
    detection = detect_record_peaks(record)
    detected_samples = detection.wave_samples  # for the flutter finder's rate check
    detected = time.perf_counter()
    samples, classes, *more = labeler(record)
    af_excluded = more[0] if more else None
    paced = more[1] if len(more) > 1 else None
    labelled = time.perf_counter()
    spans = spare_beat_trains(spans, record.signal_mv, samples, record.fs_hz, quality)  # beat trains are not noise
    spans = add_noise_only_spans(spans, detection.noise_only, record.signal_mv.shape[1])
    regions = flag_record_regions(record, samples, classes, spans, settings, detected_samples=detected_samples,
                                  af_excluded_beats=af_excluded, paced_beats=paced)
    found = time.perf_counter()
    summary = summarize_labelled_record(record, regions, samples, classes, spans, settings, af_excluded, paced)
    finished = time.perf_counter()
    annotations = regions_to_annotations(regions, samples, classes, record.fs_hz, n_leads=record.signal_mv.shape[1],
                                         paced_beats=paced, n_samples=record.n_samples)
    return RecordRegionEvaluation(
        record=record.name, fs_hz=record.fs_hz, source_fs_hz=record.source_fs_hz, regions=tuple(regions),
        summary=summary, annotations=annotations,
        ventricular_runs=compare_runs(record.annotations, annotations, record.fs_hz, "ventricular"),
        supraventricular_runs=compare_runs(record.annotations, annotations, record.fs_hz, "supraventricular"),
        episodes=compare_record_episodes(record.annotations, annotations, record.fs_hz, record.n_samples),
        region_s=found - labelled, detection_s=detected - prepared, preparation_s=prepared - started,
        beats_annotated=bool(is_beat_symbol(record.annotations.symbols).any()), summary_s=finished - found,
        pauses=match_pauses(record.annotations, regions, record.fs_hz, settings.pause_s).counts(),
    )


def compare_record_episodes(reference: Annotations, test: Annotations, fs_hz: float, n_samples: int, *,
                            start_s: float = SCORE_START_S) -> tuple[tuple[str, EpisodeCounts], ...]:
    """Every comparison of :data:`EPISODE_TYPES` for one record, scored from ``start_s`` (EC57's 5 minutes unless
    told)."""
    out = []
    for name, ref_labels, test_label, excluded_labels in EPISODE_TYPES:
        ref = merge_labels(reference, ref_labels, n_samples)
        excluded = merge_labels(reference, excluded_labels, n_samples)
        test_episodes = episode_intervals(test, test_label, n_samples)
        out.append((name, compare_episodes(ref, test_episodes, fs_hz, start_s=start_s, excluded=excluded)))
    return tuple(out)


def merge_labels(annotations: Annotations, labels: tuple[str, ...], n_samples: int) -> np.ndarray:
    """Union of the rhythm intervals of several labels."""
    parts = [episode_intervals(annotations, label, n_samples) for label in labels]
    return merge_intervals(np.concatenate(parts)) if parts else np.empty((0, 2), np.int64)


def episode_intervals(annotations: Annotations, label: str, n_samples: int) -> np.ndarray:
    """Intervals of one rhythm label, or (label ``[``) of ventricular flutter/fibrillation between its marks."""
    if label == "[":
        return flutter_intervals(annotations, n_samples)
    return rhythm_intervals(annotations, label, n_samples)


def evaluate_regions(data_dir: str | Path, record_names: tuple[str, ...] | list[str], labels: str = "reference",
                     settings: RegionSettings = RegionSettings(), *, progress: bool = False,
                     labeler: BeatLabeler | None = None, quality: QualitySettings = QualitySettings(),
                     pacemaker_records: tuple[str, ...] | list[str] = ()) -> RegionReport:
    """Evaluate region finding on ``record_names`` in ``data_dir``; a failing record does not stop the others.
    The patients of ``pacemaker_records`` have a pacemaker (:func:`evaluate_record`).

    ``labels`` names the beat labeller (:data:`LABELERS`), or, with ``labeler`` given (e.g. a
    trained classifier wrapped by the app, which this package cannot import), only describes it.
    """
    if labeler is None and labels not in LABELERS:
        raise ValueError(f"Received labels={labels!r}; expected one of {sorted(LABELERS)}.")
    labeler = labeler or LABELERS[labels]
    evaluations, failures = [], []
    for name in tqdm(record_names, desc="regions", unit="record", disable=not progress):
        try:
            evaluations.append(evaluate_record(Path(data_dir) / name, labeler, settings, quality,
                                               pacemaker=name in pacemaker_records))
        except Exception as exc:  # batch boundary: one bad record never stops the others
            logger.warning("a record failed (%s); the report lists it", type(exc).__name__)  # no name: the patient's?
            failures.append(RecordFailure(name, str(exc) if isinstance(exc, EcgInputError)
                                          else f"{type(exc).__name__}: {exc}"))
    run_settings = {"labels": labels, "regions": settings.to_dict(), "score_start_s": SCORE_START_S,
                    "match_window_ms": 1000 * MATCH_WINDOW_S, "data_dir": str(Path(data_dir).resolve()),
                    "package_version": find_package_version(), "git_commit": find_git_commit()}
    if pacemaker_records:
        run_settings["pacemaker_records"] = sorted(pacemaker_records)
    return RegionReport(tuple(evaluations), tuple(failures), run_settings)


# ----------------------------------------------------------------------------------------------
# Reports and outputs
# ----------------------------------------------------------------------------------------------

RUN_CATEGORIES = ("couplet", "short", "long")
EPISODE_ROWS = (("af", "AF+AFL (issue)"), ("af_ec57", "AFIB (EC57 epicmp)"), ("bigeminy", "bigeminy, `(B`"),
                ("trigeminy", "trigeminy, `(T`"), ("vt", "VT, `(VT`"), ("svta", "SVT, `(SVTA`"), ("ivr", "IVR, `(IVR`"),
                ("paced", "paced, `(P`"), ("av_block", "2:1 AV block, `(BII`"), ("vf", "VF/VFL, `[` `]`"))
"""The report's episode rows and their names, with the MIT-BIH rhythm codes they are scored against in code quotes
(written bare, ``bigeminy (B`` read as a cut-off bracket: a QA pass, session 50)."""


def percent(value: float) -> str:
    return "-" if math.isnan(value) else f"{100 * value:.1f}"


def describe_changed_settings(regions: dict) -> str:
    """Which region settings differ from the defaults (``key=value``, the detector's as ``fibrillation.key``)."""
    changed = [f"{key}={value}" for key, value in changed_settings(regions).items()]
    return "settings changed from the defaults: " + ", ".join(changed) if changed else "default event settings"


def format_markdown(report: RegionReport, title: str = "Region evaluation") -> str:
    """Markdown tables: run-by-run, episodes (all records and records with the rhythm), timing."""
    start_s = report.settings["score_start_s"]
    too_short = [e.record for e in report.evaluations if e.summary.duration_s <= start_s]
    short_note = ([f"Note: {count_noun(len(too_short), 'record')} ({', '.join(too_short[:5])}"
                   f"{', ...' if len(too_short) > 5 else ''}) last{'s' if len(too_short) == 1 else ''} no longer than "
                   f"the {start_s:g} s before scoring starts (EC57's 5-minute learning period): nothing of "
                   f"{'it' if len(too_short) == 1 else 'them'} is scored.", ""] if too_short else [])
    lines = [f"## {title}", "", f"Labels: `{report.settings['labels']}`; {len(report.evaluations)} records; "
             f"scoring from {start_s:g} s; "
             f"{describe_changed_settings(report.settings['regions'])}"
             + (f"; a pacemaker stated for {', '.join(report.settings['pacemaker_records'])}"
                if report.settings.get("pacemaker_records") else "") + ".", "", *short_note,
             "| runs | couplet Se | couplet +P | short Se | short +P | long Se | long +P |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for family in ("ventricular", "supraventricular"):
        runs = report.runs(family)
        cells = [f"{percent(runs.sensitivity_of(c))} ({runs.counts(c)[0]}/{sum(runs.counts(c)[:2])}) | "
                 f"{percent(runs.predictivity_of(c))} ({runs.counts(c)[2]}/{sum(runs.counts(c)[2:])})"
                 for c in RUN_CATEGORIES]
        lines.append(f"| {family[0].upper()} | " + " | ".join(cells) + " |")
    pauses = report.pauses()
    lines += ["", f"Pauses (reference: beat intervals over {report.settings['regions']['pause_s']:g} s outside flutter "
              f"and noise marks): Se {percent(pauses.sensitivity)} ({pauses.found}/{pauses.reference}), +P "
              f"{percent(pauses.predictivity)} ({pauses.confirmed}/{pauses.flagged}); {pauses.not_scored} flagged over "
              "flutter or noise, not scored."]
    unscored = report.records_without_beats()
    if unscored:
        lines += ["", f"Runs not scored on {len(unscored)} record(s) whose reference annotations hold no beat labels "
                      f"(rhythm only): {', '.join(unscored)}."]
    lines += ["", "| rhythm | records | episodes ref/test | episode Se | episode +P | duration Se | duration +P | "
              "ref s | test s |", "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for name, label in EPISODE_ROWS:
        for scope, records in (("all", None), ("with rhythm", report.records_with(name))):
            c = report.episodes(name, records)
            lines.append(f"| {label} | {scope} ({len(records) if records is not None else len(report.evaluations)}) "
                         f"| {c.detected + c.missed}/{c.confirmed + c.false} | {percent(c.episode_sensitivity)} | "
                         f"{percent(c.episode_predictivity)} | {percent(c.duration_sensitivity)} | "
                         f"{percent(c.duration_predictivity)} | {c.reference_s:.0f} | {c.test_s:.0f} |")
    lines += ["", format_timing(report)]
    if report.failures:
        lines += ["", "Failed records:"] + [f"- {f.record}: {f.error}" for f in report.failures]
    return "\n".join(lines) + "\n"


def format_timing(report: RegionReport) -> str:
    """One line: median time of region finding and of the record summary, against detection and against read +
    quality + detection. (Region finding against the whole analysis, classification included, is
    ``benchmarks/region_cost.py``'s figure.)"""
    if not report.evaluations:
        return "Timing: no record evaluated."
    region = np.array([e.region_s for e in report.evaluations])
    summary = np.array([e.summary_s for e in report.evaluations])
    detection = np.array([e.detection_s for e in report.evaluations])
    whole = detection + np.array([e.preparation_s for e in report.evaluations])
    return (f"Timing (median per record, wall clock): region finding {1000 * np.median(region):.1f} ms, record "
            f"summary (heart rate, HRV, ST, QT) {1000 * np.median(summary):.1f} ms, detection "
            f"{1000 * np.median(detection):.1f} ms, read + quality + detection {1000 * np.median(whole):.1f} ms; region "
            f"finding is {100 * np.median(region / detection):.1f}% of detection and "
            f"{100 * np.median(region / whole):.1f}% of read + quality + detection (against the whole analysis, "
            "classification included: benchmarks/region_cost.py).")


def format_record_table(report: RegionReport) -> str:
    """Markdown per-record table: AF duration Se/+P, V runs, pauses, events found, notes."""
    lines = ["| record | AF dur Se | AF dur +P | V runs Se/+P (all lengths) | pauses found, confirmed | regions | notes |",
             "|---|---:|---:|---|---|---:|---|"]
    for e in report.evaluations:
        af = e.episode("af")
        tp = sum(e.ventricular_runs.counts(c)[0] for c in RUN_CATEGORIES)
        fn = sum(e.ventricular_runs.counts(c)[1] for c in RUN_CATEGORIES)
        tpp = sum(e.ventricular_runs.counts(c)[2] for c in RUN_CATEGORIES)
        fp = sum(e.ventricular_runs.counts(c)[3] for c in RUN_CATEGORIES)
        runs = f"{tp}/{tp + fn}, {tpp}/{tpp + fp}" if e.beats_annotated else "- (no reference beats)"
        p = e.pauses
        pauses = f"{p.found}/{p.reference}, {p.confirmed}/{p.flagged}" if e.beats_annotated else "-"
        lines.append(f"| {e.record} | {percent(af.duration_sensitivity)} | {percent(af.duration_predictivity)} | "
                     f"{runs} | {pauses} | {len(e.regions)} | {'; '.join(e.summary.notes)} |")
    return "\n".join(lines) + "\n"


def report_to_dict(report: RegionReport) -> dict:
    """JSON-ready content of the report (NaN becomes null)."""
    def runs_dict(runs: RunCounts) -> dict:
        return {c: dict(zip(("tp_se", "fn", "tp_ppv", "fp"), runs.counts(c)),
                        sensitivity=finite(runs.sensitivity_of(c)),
                        positive_predictivity=finite(runs.predictivity_of(c)))
                for c in RUN_CATEGORIES}

    def pauses_dict(c: PauseCounts) -> dict:
        return {**dataclasses.asdict(c), "sensitivity": finite(c.sensitivity),
                "positive_predictivity": finite(c.predictivity)}

    def episodes_dict(c: EpisodeCounts) -> dict:
        return {**{k: (round(v, 2) if isinstance(v, float) else v) for k, v in dataclasses.asdict(c).items()},
                "episode_sensitivity": finite(c.episode_sensitivity),
                "episode_positive_predictivity": finite(c.episode_predictivity),
                "duration_sensitivity": finite(c.duration_sensitivity),
                "duration_positive_predictivity": finite(c.duration_predictivity)}

    return {
        "settings": report.settings,
        "gross": {
            "ventricular_runs": runs_dict(report.runs("ventricular")),
            "supraventricular_runs": runs_dict(report.runs("supraventricular")),
            "pauses": pauses_dict(report.pauses()),
            "episodes": {name: episodes_dict(report.episodes(name)) for name, _ in EPISODE_ROWS},
            "records_without_reference_beats": list(report.records_without_beats()),
            "episodes_records_with_rhythm": {name: {"records": list(report.records_with(name)),
                                                    **episodes_dict(report.episodes(name, report.records_with(name)))}
                                             for name, _ in EPISODE_ROWS},
        },
        "records": [{"record": e.record, "beats_annotated": e.beats_annotated, "region_ms": round(1000 * e.region_s, 2),
                     "summary_ms": round(1000 * e.summary_s, 2), "detection_ms": round(1000 * e.detection_s, 2), "preparation_ms": round(1000 * e.preparation_s, 2),
                     "ventricular_runs": runs_dict(e.ventricular_runs),
                     "supraventricular_runs": runs_dict(e.supraventricular_runs),
                     "pauses": pauses_dict(e.pauses),
                     "episodes": {name: episodes_dict(c) for name, c in e.episodes},
                     "summary": summary_to_dict(e.summary)} for e in report.evaluations],
        "failures": [dataclasses.asdict(f) for f in report.failures],
    }


def finite(value: float) -> float | None:
    return None if math.isnan(value) else round(value, 6)


def write_region_table(path: Path, regions: tuple[Region, ...] | list[Region], fs_hz: float) -> Path:
    """CSV of the regions (:func:`pipeline.regions.regions_to_rows`)."""
    rows = regions_to_rows(list(regions), fs_hz)
    header = ["kind", "start_s", "end_s", "duration_s", "start_sample", "stop_sample", "first_beat", "n_beats",
              "heart_rate_bpm", "confidence"]
    lines = [",".join(header)] + [",".join("" if row[k] is None else str(row[k]) for k in header) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_outputs(report: RegionReport, out_dir: str | Path, annotator: str) -> list[Path]:
    """Write the report (JSON, Markdown) and, per record, the annotation file, regions CSV and summary JSON."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = [out_dir / "regions_report.json", out_dir / "regions_report.md"]
    content = report_to_dict(report)
    content["settings"] = {**content["settings"], "output_annotator": annotator}
    written[0].write_text(json.dumps(content, indent=2) + "\n", encoding="utf-8")
    written[1].write_text(format_markdown(report) + "\n" + format_record_table(report), encoding="utf-8")
    for e in report.evaluations:
        written.append(write_region_annotations(out_dir, e.record, annotator, e.annotations, e.fs_hz, e.source_fs_hz))
        written.append(write_region_table(out_dir / f"{e.record}_regions.csv", e.regions, e.fs_hz))
        summary_path = out_dir / f"{e.record}_summary.json"
        summary_path.write_text(json.dumps(summary_to_dict(e.summary), indent=2) + "\n", encoding="utf-8")
        written.append(summary_path)
    return written
