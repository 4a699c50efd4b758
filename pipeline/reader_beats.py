"""A reader's edits of the beat list: a detection that is no QRS deleted, a QRS the detector missed added.

Holter editing corrects the beats themselves as well as their classes: a tall T wave or a burst of noise counted as a
beat makes a false premature beat, a false run and a short RR interval; a missed QRS (a small or wide one on a dipping
lead) makes a false pause and a false bradycardia. Relabelling cannot mend either, and marking the stretch as artefact
takes its true beats out of every count and burden.

An edit is ``(sample, added)``: the position the classifier takes the beat's inputs at (the detector's position,
:attr:`models.predict.BeatPredictions.detected_samples`), at the record's rate, and whether the reader added a beat
there (True) or deleted the one found there (False). Edits apply in order to the detector's beats
(:func:`apply_beat_edits`), so that removing an edit from the list undoes it; the beats are then classified again and
every event found again from them (:func:`app.analysis.edit_beats`).
"""

from __future__ import annotations

import numpy as np

from pipeline.detect import LOCATED_MIN_GAP_S, DetectorSettings, compute_qrs_feature, locate_r_peaks
from pipeline.clean import fill_gaps
from pipeline.scoring import MATCH_WINDOW_S, match_beats

BeatEdit = tuple[int, bool]
"""``(sample, added)``: a beat position (the detector's), and whether the reader added a beat there or deleted one."""

DELETE_MATCH_S = 0.05
"""Farthest a deleted beat may lie from the position its edit names: a saved edit is applied to the beats the
detector finds again on reload (the same positions; a file written at another rate rounds them)."""

MISSED_BEAT_SEARCH_S = 0.15
"""How far from the time a reader gives a missed beat's QRS is looked for (:func:`place_missed_beat`): the largest
QRS slope energy within this of it, then the largest deflection as the detector places its beats."""


def check_beat_edits(edits, n_samples: int) -> tuple[BeatEdit, ...]:
    """Edits as a tuple of ``(sample, added)`` with integer samples within the record; ``ValueError`` otherwise.

    >>> check_beat_edits([(360.0, True), (720, False)], 1000)
    ((360, True), (720, False))
    >>> check_beat_edits([(1000, True)], 1000)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: Received beat edit (1000, True); expected (sample, added) with 0 <= sample < 1000 and added ...
    """
    checked = []
    for edit in edits:
        if len(edit) != 2:
            raise ValueError(f"Received beat edit {tuple(edit)!r}; expected (sample, added).")
        sample, added = edit
        if not np.isfinite(float(sample)) or not 0 <= sample < n_samples or not isinstance(added, (bool, np.bool_)):
            raise ValueError(f"Received beat edit {tuple(edit)!r}; expected (sample, added) with 0 <= sample < "
                             f"{n_samples} and added True or False.")
        checked.append((int(round(float(sample))), bool(added)))
    return tuple(checked)


def apply_beat_edits(detected: np.ndarray, edits: tuple[BeatEdit, ...], fs_hz: float) -> np.ndarray:
    """The beat positions (ascending int64) after the reader's edits, applied in order to the ``detected`` ones: a
    deletion removes the beat nearest its sample within :data:`DELETE_MATCH_S` (none there: no effect), an addition
    puts a beat at its sample unless one lies closer than a ventricle can beat again
    (:data:`pipeline.detect.LOCATED_MIN_GAP_S`; a saved edit applied to a record read otherwise: no effect).

    >>> apply_beat_edits(np.array([100, 400, 700]), ((400, False), (550, True), (560, True)), 360.0)
    array([100, 550, 700])
    >>> apply_beat_edits(np.array([100, 400]), ((550, True), (550, False)), 360.0)  # an addition deleted again
    array([100, 400])
    """
    return replay_beat_edits(detected, edits, fs_hz)[0]


def keep_effective_beat_edits(detected: np.ndarray, edits, fs_hz: float) -> tuple[BeatEdit, ...]:
    """The edits that change the beat list where they come (:func:`apply_beat_edits`), so that no edit is listed,
    counted or saved that does nothing: an addition next to a beat, a deletion where no beat is (left so when an
    earlier edit is taken back, a code review of session 64), or one whose opposite at the same place follows.

    >>> keep_effective_beat_edits(np.array([100, 400]), ((382, True), (550, True), (550, False), (100, False)), 360.0)
    ((100, False),)
    """
    beats, effective = replay_beat_edits(detected, edits, fs_hz)
    working = tuple(edit for edit, works in zip(edits, effective) if works)
    kept = list(working)
    pairs = True
    while pairs:  # an edit its opposite at the same place takes back later: neither does anything
        pairs = False
        for i, (sample, added) in enumerate(kept):
            later = [j for j in range(i + 1, len(kept)) if kept[j] == (sample, not added)]
            if later:
                del kept[later[0]], kept[i]
                pairs = True
                break
    return tuple(kept) if np.array_equal(replay_beat_edits(detected, tuple(kept), fs_hz)[0], beats) else working


def replay_beat_edits(detected: np.ndarray, edits, fs_hz: float) -> tuple[np.ndarray, list[bool]]:
    """:func:`apply_beat_edits`'s beats, and per edit whether it changed the beat list where it came."""
    beats = sorted(int(b) for b in np.asarray(detected, np.int64))
    tolerance, min_gap = DELETE_MATCH_S * fs_hz, LOCATED_MIN_GAP_S * fs_hz
    effective = []
    for sample, added in edits:
        k = int(np.searchsorted(beats, sample))
        near = [j for j in (k - 1, k) if 0 <= j < len(beats)]
        distances = [abs(beats[j] - sample) for j in near]
        if added and (not distances or min(distances) >= min_gap):
            beats.insert(k, int(sample))
            effective.append(True)
        elif not added and distances and min(distances) <= tolerance:
            del beats[near[int(np.argmin(distances))]]
            effective.append(True)
        else:
            effective.append(False)
    return np.asarray(beats, np.int64), effective


def compare_beat_lists(listed: np.ndarray, found: np.ndarray, fs_hz: float, span: tuple[int, int] | None = None,
                       window_s: float = MATCH_WINDOW_S) -> tuple[np.ndarray, np.ndarray]:
    """How a list of beats (a review file's, which a reader may have edited in another program) differs from the beats
    ``found`` (their reported positions), paired one to one within ``window_s`` (EC57 matching,
    :func:`pipeline.scoring.match_beats`): the indices of the beats found that no listed beat pairs with, among those
    inside ``span`` (first and last sample the list covers; by default its first and last beat, so that a list that
    stops early deletes nothing after it), and the indices of the listed beats that pair with none.

    >>> compare_beat_lists(np.array([100, 400, 560, 900]), np.array([100, 250, 400, 900, 1500]), 360.0)
    (array([1]), array([2]))
    """
    listed, found = np.asarray(listed, np.int64), np.asarray(found, np.int64)
    lo, hi = span if span is not None else ((int(listed.min()), int(listed.max())) if listed.size else (0, -1))
    listed_index, found_index = match_beats(listed, found, fs_hz, window_s)
    inside = (found >= lo - window_s * fs_hz) & (found <= hi + window_s * fs_hz)
    unlisted = np.setdiff1d(np.flatnonzero(inside), found_index)
    return unlisted, np.setdiff1d(np.arange(len(listed)), listed_index)


class MissedBeatError(ValueError):
    """A missed beat that cannot be added where the reader asked: a beat is there already, or no signal."""


def place_missed_beat(signal_mv: np.ndarray, fs_hz: float, primary_lead: int, sample: int,
                      beats: np.ndarray) -> int:
    """Where a QRS the detector missed lies, near the ``sample`` a reader gives: the largest QRS slope energy of the
    leads within :data:`MISSED_BEAT_SEARCH_S` of it, moved to the largest deflection of the primary lead as the detector
    places its beats (:func:`pipeline.detect.locate_r_peaks`), so that the classifier cuts it as it cuts the others.

    Raises
    ------
    MissedBeatError
        The position found lies closer to a beat in ``beats`` than a ventricle can beat again
        (:data:`pipeline.detect.LOCATED_MIN_GAP_S`), or the signal there is missing.
    """
    settings = DetectorSettings()
    x = np.array(signal_mv, np.float64, ndmin=2)
    x = x.T if np.ndim(signal_mv) == 1 else x
    n = x.shape[0]
    search, margin = int(MISSED_BEAT_SEARCH_S * fs_hz), int(1.0 * fs_hz)
    lo, hi = max(int(sample) - search - margin, 0), min(int(sample) + search + margin + 1, n)
    piece = x[lo:hi]
    if not np.isfinite(piece[max(int(sample) - search - lo, 0):int(sample) + search + 1 - lo, primary_lead]).any():
        raise MissedBeatError(f"The primary lead has no signal near {sample / fs_hz:.2f} s to place a beat on.")
    piece = fill_gaps(piece) if np.isnan(piece).any() else piece
    feature, _ = compute_qrs_feature(piece, fs_hz, settings)
    a, b = max(int(sample) - search, 0) - lo, min(int(sample) + search + 1, n) - lo
    peak = lo + a + int(np.argmax(np.nansum(feature[a:b], axis=1)))
    placed = int(locate_r_peaks(np.array([peak - lo]), piece[:, primary_lead], fs_hz, settings)[0]) + lo
    beats = np.asarray(beats, np.int64)
    if beats.size:
        nearest = int(beats[np.argmin(np.abs(beats - placed))])
        if abs(nearest - placed) < LOCATED_MIN_GAP_S * fs_hz:
            raise MissedBeatError(
                f"a beat is already marked on the QRS nearest {sample / fs_hz:.2f} s (the beat at "
                f"{nearest / fs_hz:.2f} s; two beats closer than {1000 * LOCATED_MIN_GAP_S:.0f} ms cannot both be "
                "heartbeats). Give the time of a QRS with no beat mark.")
    return placed


def remap_beat_keys(mapping: dict, old_positions: np.ndarray, new_positions: np.ndarray) -> dict:
    """``mapping`` (beat number -> anything, e.g. a reader's class corrections) for the beats numbered by
    ``new_positions`` instead of ``old_positions`` (the same beats where their positions are equal); an entry whose
    beat is gone is dropped.

    >>> remap_beat_keys({0: "V", 1: "S", 2: "N"}, np.array([10, 20, 30]), np.array([10, 15, 30]))
    {0: 'V', 2: 'N'}
    """
    new_index = {int(p): i for i, p in enumerate(np.asarray(new_positions, np.int64))}
    old = np.asarray(old_positions, np.int64)
    return {new_index[int(old[k])]: value for k, value in mapping.items()
            if 0 <= k < len(old) and int(old[k]) in new_index}
