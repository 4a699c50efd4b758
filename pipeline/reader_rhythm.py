"""A reader's word on the atrial rhythm: stretches a reader states are atrial fibrillation/flutter, or are not.

The product finds atrial fibrillation/flutter from RR irregularity and P-wave consistency
(:func:`pipeline.regions.find_af_regions`). A reader who sees an episode that is not AF (sinus arrhythmia, frequent
atrial premature beats, a wandering pacemaker) or AF the rules missed corrects the rhythm, as Holter editing does,
without marking the stretch as artefact (which would take its beats out of the readable time and every burden).

An edit is ``(start, stop, is_af)``: [start, stop) samples at the record's rate, and whether the reader says the
rhythm there is atrial fibrillation/flutter (True) or is not (False). Edits apply in order over the RR intervals
(interval ``i`` runs from beat ``i`` to beat ``i + 1``) whose middle lies in the stretch, so that windows marked one
after another join into one episode (a code review of session 63: an interval across the edge belonged to neither),
and a later edit overrides an earlier one where they overlap:

- "not AF" clears those intervals;
- "AF" sets those of them that are readable (no event is claimed inside noise).

Episodes the reader made or extended are kept whatever their length; what is left of an automatic episode after a
"not AF" edit keeps the product's minimum duration (:attr:`pipeline.regions.RegionSettings.af_min_duration_s`).
"""

from __future__ import annotations

import numpy as np

AfEdit = tuple[int, int, bool]
"""``(start, stop, is_af)``: [start, stop) samples, and whether the reader states AF/flutter there (True) or not."""


def check_af_edits(edits, n_samples: int) -> tuple[AfEdit, ...]:
    """Edits as a tuple of ``(start, stop, is_af)`` with integer samples within the record; ``ValueError`` otherwise.

    Examples
    --------
    >>> check_af_edits([(0, 360.0, True)], 1000)
    ((0, 360, True),)
    >>> check_af_edits([(500, 400, False)], 1000)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: Received rhythm edit (500, 400, False); expected (start, stop, is_af) samples with 0 <= start < ...
    """
    checked = []
    for edit in edits:
        if len(edit) != 3:
            raise ValueError(f"Received rhythm edit {tuple(edit)!r}; expected (start, stop, is_af).")
        start, stop, is_af = edit
        valid = all(np.isfinite(float(v)) for v in (start, stop))
        if not valid or not 0 <= start < stop <= n_samples or not isinstance(is_af, (bool, np.bool_)):
            raise ValueError(f"Received rhythm edit {tuple(edit)!r}; expected (start, stop, is_af) samples with "
                             f"0 <= start < stop <= {n_samples}.")
        checked.append((int(round(float(start))), int(round(float(stop))), bool(is_af)))
    return tuple(checked)


def apply_af_edits(flags: np.ndarray, samples: np.ndarray, interval_readable: np.ndarray,
                   edits: tuple[AfEdit, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Per RR interval, the AF flags with the reader's edits applied in order, and which intervals an "AF" edit set
    (the reader's own, kept whatever the episode's length).

    Examples
    --------
    >>> flags = np.array([0, 1, 1, 1, 0, 0], bool)  # intervals between beats 0, 100, ..., 600
    >>> samples, readable = np.arange(7) * 100, np.ones(6, bool)
    >>> [f.astype(int).tolist() for f in apply_af_edits(flags, samples, readable, ((100, 300, False),))]
    [[0, 0, 0, 1, 0, 0], [0, 0, 0, 0, 0, 0]]
    >>> [f.astype(int).tolist() for f in apply_af_edits(flags, samples, readable, ((400, 500, True), (500, 600, True)))]
    [[0, 1, 1, 1, 1, 1], [0, 0, 0, 0, 1, 1]]
    """
    out = np.array(flags, dtype=bool, copy=True)
    stated = np.zeros(len(out), bool)
    middle = (np.asarray(samples[:-1], np.float64) + np.asarray(samples[1:], np.float64)) / 2
    for start, stop, is_af in edits:
        inside = (middle >= start) & (middle < stop)
        if is_af:
            inside &= interval_readable
            out |= inside
            stated |= inside
        else:
            out &= ~inside
            stated &= ~inside
    return out, stated


def drop_overridden_af_edits(edits: tuple[AfEdit, ...]) -> tuple[AfEdit, ...]:
    """The edits without those whose whole stretch later edits cover (they change nothing any more), in order; a
    reader's list then shows what stands (a clinical read of session 63 found four entries, two of them overridden).
    A "not AF" edit is covered by later "not AF" edits only: a later "AF" sets the readable intervals alone, and the
    first still clears the unreadable ones an automatic episode bridges (a code review of session 63).

    >>> drop_overridden_af_edits(((100, 200, True), (0, 150, False), (150, 300, False), (400, 500, True)))
    ((0, 150, False), (150, 300, False), (400, 500, True))
    >>> drop_overridden_af_edits(((0, 100, False), (0, 100, True)))
    ((0, 100, False), (0, 100, True))
    """
    kept = []
    for k, (start, stop, is_af) in enumerate(edits):
        later = sorted((a, b) for a, b, later_af in edits[k + 1:] if is_af or not later_af)
        reach = start
        for a, b in later:
            if a > reach:
                break
            reach = max(reach, b)
        if reach < stop:
            kept.append((start, stop, is_af))
    return tuple(kept)
