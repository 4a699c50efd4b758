"""Flagged regions as MIT-BIH-style WFDB annotations, and rhythm intervals read back from annotations.

The written annotation file holds, in sample order:

- one beat annotation per beat, with the symbol of its AAMI class (``N S V F Q``; beats inside
  an unreadable stretch are written ``Q``, unclassifiable, so that no event is claimed there; with
  ``unreadable_as_q=False``, as `ecg score` writes them, they keep their class so that WFDB re-scoring
  matches `ecg evaluate`);
- rhythm changes as ``+`` annotations whose ``aux_note`` is a MIT-BIH rhythm label, placed one
  sample before the first beat of the new rhythm, as in the MIT-BIH reference files;
- a ``"`` comment annotation in the middle of each pause, ``aux_note`` ``PAUSE 2.41 s``;
- ``s`` (ST change) annotations for each ST episode, in the European ST-T Database's convention: ``(ST0-`` at its
  start, ``AST0-250`` at its largest change (in microvolts), ``ST0-)`` at its end, for signal 0 and a depression
  (``+`` for an elevation; :func:`pipeline.st.st_episode_marks`);
- ``[`` and ``]`` at the start and end of each ventricular flutter/fibrillation stretch (the EC57
  marks that ``bxb`` and ``rxr`` read), around the rhythm change to ``(VFL``;
- a ``~`` signal-quality annotation at the start of each unreadable stretch whose subtype marks every
  signal noisy (bit k for signal k, k < 4) and one with subtype 0 (signals clean again) at its end.
  This is how the MIT-BIH reference files mark noisy stretches in which beats are still annotated.
  Their other mark, subtype -1 (every signal unreadable), means that no beat is annotated until the
  next ``~``: WFDB's ``bxb`` reads it as the annotator's shutdown and ``rxr`` ends runs there. It is
  not written, because the beats inside the stretch are written (``Q`` or their class).

Each beat takes the rhythm of the highest-priority region that covers it (:data:`RHYTHM_LABELS`,
lowest priority first; ``(N`` where none does), and the rhythm holds from that beat to the next
beat with another rhythm: a run's episode runs from its first beat to the beat after its last,
as the MIT-BIH annotators marked ``(VT``, ``(B`` and ``(T``. Beats inside unreadable stretches
keep the rhythm of the last readable beat, so an episode is neither ended nor begun inside
noise. WFDB's ``epicmp`` (AF episodes) and ``rxr`` (runs) read these files; :mod:`pipeline.region_eval`
applies the same rules in Python.

References
----------
Moody GB, Mark RG, "The impact of the MIT-BIH Arrhythmia Database", IEEE Eng Med Biol 20(3):45-50,
2001; MIT-BIH Arrhythmia Database Directory (rhythm annotation labels). WFDB Applications Guide
(``rdann``, ``epicmp``, ``rxr``).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from pipeline.labels import encode_beat_symbols
from pipeline.records import write_annotations
from pipeline.regions import Region, beats_in_kind, check_beat_mask, encode_classes, merge_intervals
from pipeline.types import Annotations

NORMAL_RHYTHM = "(N"
RHYTHM_LABELS = (
    ("bradycardia", "(SBR"),
    ("av_block_2_to_1", "(BII"),
    ("paced_rhythm", "(P"),
    ("supraventricular_bigeminy", "(AB"),
    ("atrial_fibrillation", "(AFIB"),
    ("ventricular_trigeminy", "(T"),
    ("ventricular_bigeminy", "(B"),
    ("supraventricular_tachycardia", "(SVTA"),
    ("idioventricular_rhythm", "(IVR"),
    ("ventricular_flutter_fibrillation", "(VFL"),
    ("ventricular_tachycardia", "(VT"),
)
"""Region kinds written as rhythms, lowest priority first, with their MIT-BIH labels (bradycardia is written ``(SBR``,
sinus bradycardia, whatever its origin: RR intervals alone do not tell; 2:1 AV block ``(BII``, MIT-BIH's label for
second-degree block, above bradycardia, whose rate it explains; a paced rhythm ``(P``, above bradycardia and
below every ectopic rhythm, as MIT-BIH's paced records mark ``(B`` and ``(VT`` inside paced stretches; ventricular
flutter and fibrillation are written ``(VFL``, MIT-BIH's only label for them, since the detector does not tell them
apart). Other kinds (isolated ectopics, couplets, slow supraventricular runs, supraventricular trigeminy, tachycardia)
have no MIT-BIH rhythm label and go to the CSV and JSON tables only."""

_LABELS = (NORMAL_RHYTHM,) + tuple(label for _, label in RHYTHM_LABELS)
_PRIORITY = {kind: i + 1 for i, (kind, _) in enumerate(RHYTHM_LABELS)}


def regions_to_annotations(regions: list[Region], beat_samples: np.ndarray, beat_classes: np.ndarray,
                           fs_hz: float, *, n_leads: int, unreadable_as_q: bool = True,
                           record_notes: tuple[str, ...] = (),
                           timed_notes: tuple[tuple[int, str], ...] = (),
                           st_marks: tuple[tuple[int, str], ...] = (),
                           paced_beats: np.ndarray | None = None, rhythm_assessed: bool = True,
                           n_samples: int | None = None, note_written_af: bool = False) -> Annotations:
    """Beat, rhythm-change, pause and signal-quality annotations of one record (module docstring).

    ``n_leads`` is the record's number of signals, for the subtype of the signal-quality marks;
    ``record_notes`` are written as comment (``"``) annotations at sample 1, in order (wfdb's ``rdann`` takes
    every comment at sample 0 for a definition of the file's and drops it); ``timed_notes`` (sample, text) are
    comments at their own samples (e.g. a patient's diary entries); ``st_marks`` (sample, text) are ST change
    (``s``) annotations (:func:`pipeline.st.st_episode_marks`). ``paced_beats`` (boolean per beat) marks the Q beats
    found paced, written ``/`` (MIT-BIH's paced beat, AAMI class Q) instead of ``Q``. ``rhythm_assessed`` False (too
    few usable RR intervals for the AF decision) leaves out a rhythm stream that would say ``(N`` alone: MIT-BIH's
    normal sinus rhythm, which a QA pass of session 51 found written on 20 s of atrial fibrillation whose summary said
    the rhythm could not be assessed. ``n_samples``, the record's length: an unreadable stretch that runs to the end
    gets no closing ``~`` (it would lie one past the last sample; :func:`quality_mark_intervals` reads an open stretch
    to the end, as before). ``note_written_af`` (a review file, with ``n_samples``): the AF/flutter stretches of the
    rhythm stream and the file's end are noted too (:func:`written_af_notes`).

    Examples
    --------
    >>> t = np.arange(10) * 200 + 100
    >>> regions = [Region("ventricular_tachycardia", 700, 1101, 3, 3, 108.0, 1.0)]
    >>> ann = regions_to_annotations(regions, t, np.array(list("NNNVVVNNNN")), 360.0, n_leads=2)
    >>> [(int(s), str(a)) for s, sym, a in zip(ann.samples, ann.symbols, ann.aux_notes) if sym == "+"]
    [(99, '(N'), (699, '(VT'), (1299, '(N')]
    """
    samples = np.asarray(beat_samples, dtype=np.int64)
    classes = encode_classes(beat_classes, len(samples))
    unreadable = beats_in_kind(regions, "unreadable", len(samples))
    symbols = encode_beat_symbols(classes, None if paced_beats is None else check_beat_mask(paced_beats, len(samples)))
    if unreadable_as_q:
        symbols[unreadable] = "Q"
    rhythm = hold_through(assign_rhythm(regions, len(samples)), unreadable)
    changes = np.flatnonzero(np.concatenate([[True], rhythm[1:] != rhythm[:-1]])) if len(samples) else np.empty(0, int)
    if not rhythm_assessed and not rhythm[changes].any():  # "(N" alone: not a finding here
        changes = np.empty(0, int)
    stream = Annotations(np.maximum(samples[changes] - 1, 0), np.full(len(changes), "+", dtype="<U2"),
                         np.array([_LABELS[k] for k in rhythm[changes]], dtype=object))  # the rhythm changes
    if note_written_af:
        timed_notes = tuple(timed_notes) + written_af_notes(stream, fs_hz, n_samples)
    pauses = [r for r in regions if r.kind == "pause"]
    quality_marks = unreadable_marks(regions, n_leads, n_samples)
    flutter = sorted((r for r in regions if r.kind == "ventricular_flutter_fibrillation"), key=lambda r: r.start)
    flutter_marks = np.array([mark for r in flutter for mark in (r.start, r.stop - 1)], dtype=np.int64)
    parts = [  # (samples, symbols, aux notes, subtypes)
        (samples, symbols, np.full(len(samples), "", dtype=object), np.zeros(len(samples), np.int64)),
        (stream.samples, stream.symbols, stream.aux_notes, np.zeros(len(changes), np.int64)),
        (np.array([(r.start + r.stop) // 2 for r in pauses], dtype=np.int64), np.full(len(pauses), '"', dtype="<U2"),
         np.array([f"PAUSE {r.duration_s(fs_hz):.2f} s" for r in pauses], dtype=object),
         np.zeros(len(pauses), np.int64)),
        (np.ones(len(record_notes), np.int64), np.full(len(record_notes), '"', dtype="<U2"),
         np.array(record_notes, dtype=object), np.zeros(len(record_notes), np.int64)),
        (np.array([sample for sample, _ in timed_notes], dtype=np.int64), np.full(len(timed_notes), '"', dtype="<U2"),
         np.array([text for _, text in timed_notes], dtype=object), np.zeros(len(timed_notes), np.int64)),
        (np.array([sample for sample, _ in st_marks], dtype=np.int64), np.full(len(st_marks), "s", dtype="<U2"),
         np.array([text for _, text in st_marks], dtype=object), np.zeros(len(st_marks), np.int64)),
        (quality_marks[:, 0], np.full(len(quality_marks), "~", dtype="<U2"),
         np.full(len(quality_marks), "", dtype=object), quality_marks[:, 1]),
        (flutter_marks, np.tile(np.array(["[", "]"], dtype="<U2"), len(flutter)),
         np.full(len(flutter_marks), "", dtype=object), np.zeros(len(flutter_marks), np.int64)),
    ]
    all_samples = np.concatenate([p[0] for p in parts])
    rank = np.concatenate([np.full(len(p[0]), i) for i, p in enumerate(parts)])
    order = np.lexsort((-rank, all_samples))  # at equal samples: flutter and quality marks, notes, rhythm, beats
    subtypes = np.concatenate([p[3] for p in parts])[order]
    return Annotations(all_samples[order], np.concatenate([p[1] for p in parts])[order],
                       np.concatenate([p[2] for p in parts])[order], subtypes if subtypes.any() else None)


def noisy_subtype(n_leads: int) -> int:
    """Subtype of a ``~`` annotation marking every signal of an ``n_leads`` record noisy (bits 0-3, MIT-BIH)."""
    if n_leads < 1:
        raise ValueError(f"Received n_leads={n_leads}; expected at least 1.")
    return (1 << min(n_leads, 4)) - 1


def unreadable_marks(regions: list[Region], n_leads: int, n_samples: int | None = None) -> np.ndarray:
    """(k, 2) rows (sample, subtype) of the ``~`` annotations that open and close (0) each unreadable region; none
    closes a region that runs to ``n_samples``, the record's end (a QA pass of session 51 found the mark one past
    the last sample).

    >>> unreadable_marks([Region("unreadable", 0, 360, -1, 0, float("nan"), 1.0),
    ...                   Region("unreadable", 700, 1000, -1, 0, float("nan"), 1.0)], 2, 1000).tolist()
    [[0, 3], [360, 0], [700, 3]]
    """
    rows = [row for r in sorted((r for r in regions if r.kind == "unreadable"), key=lambda r: r.start)
            for row in ((r.start, noisy_subtype(n_leads)), (r.stop, 0))
            if row[1] or n_samples is None or row[0] < n_samples]
    return np.asarray(rows, dtype=np.int64).reshape(-1, 2)


def quality_mark_intervals(annotations: Annotations, n_samples: int) -> np.ndarray:
    """(k, 2) [start, stop) samples of the stretches between a ``~`` that marks signals noisy or unreadable
    (non-zero subtype) and the next ``~`` that marks them clean (subtype 0), as :func:`unreadable_marks` writes
    them; a stretch still open at the end runs to ``n_samples``."""
    marks = annotations.symbols == "~"
    subtypes = (annotations.subtypes if annotations.subtypes is not None
                else np.zeros(len(annotations), np.int64))[marks]
    rows, start = [], None
    for sample, subtype in zip(annotations.samples[marks].tolist(), subtypes.tolist()):
        if subtype != 0 and start is None:
            start = sample
        elif subtype == 0 and start is not None:
            rows.append((start, sample))
            start = None
    if start is not None:
        rows.append((start, n_samples))
    return np.asarray(rows, dtype=np.int64).reshape(-1, 2)


def assign_rhythm(regions: list[Region], n_beats: int) -> np.ndarray:
    """Per beat, the index into the rhythm labels (0 for ``(N``) of the highest-priority region covering it."""
    rhythm = np.zeros(n_beats, np.int64)
    for r in regions:
        priority = _PRIORITY.get(r.kind)
        if priority is not None and r.n_beats:
            rhythm[r.beats] = np.maximum(rhythm[r.beats], priority)
    return rhythm


def hold_through(rhythm: np.ndarray, unreadable: np.ndarray) -> np.ndarray:
    """Give unreadable beats the rhythm of the last readable beat before them (``(N`` at the start)."""
    index = np.where(unreadable, -1, np.arange(len(rhythm)))
    last = np.maximum.accumulate(index) if len(index) else index
    return np.where(last >= 0, rhythm[np.maximum(last, 0)], 0)


def rhythm_intervals(annotations: Annotations, label: str, n_samples: int) -> np.ndarray:
    """(k, 2) [start, stop) intervals of one rhythm label, from its ``+`` annotations.

    An episode starts at a ``+`` annotation whose aux note is ``label`` and ends at the next ``+``
    annotation with another note, or at ``n_samples`` (the rule of WFDB ``epicmp``). Consecutive
    annotations with the same label continue one episode.

    Examples
    --------
    >>> ann = Annotations(np.array([0, 100, 300, 500]), np.array(["+", "N", "+", "+"]),
    ...                   np.array(["(AFIB", "", "(AFIB", "(N"], dtype=object))
    >>> rhythm_intervals(ann, "(AFIB", 1000).tolist()
    [[0, 500]]
    """
    is_rhythm = annotations.symbols == "+"
    times = annotations.samples[is_rhythm]
    notes = np.array([str(a).strip("\x00 ") for a in annotations.aux_notes[is_rhythm]], dtype=object)
    if len(times) == 0:
        return np.empty((0, 2), np.int64)
    match = notes == label
    changes = np.concatenate([[True], match[1:] != match[:-1]])
    starts = np.flatnonzero(changes & match)
    ends = np.flatnonzero(changes & ~match)
    stops = [times[ends[ends > s][0]] if np.any(ends > s) else n_samples for s in starts]
    return np.stack([times[starts], np.asarray(stops, dtype=np.int64)], axis=1).reshape(-1, 2).astype(np.int64)


def flutter_intervals(annotations: Annotations, n_samples: int) -> np.ndarray:
    """(k, 2) [start, stop) intervals between ``[`` and ``]`` annotations: ventricular flutter or fibrillation.

    These are the EC57 marks (MIT-BIH, the Creighton University database); a ``[`` without its
    ``]`` runs to ``n_samples``, and marks repeated inside an episode are ignored.

    Examples
    --------
    >>> ann = Annotations(np.array([100, 150, 400, 700]), np.array(["[", "!", "]", "["]),
    ...                   np.array(["", "", "", ""], dtype=object))
    >>> flutter_intervals(ann, 1000).tolist()
    [[100, 400], [700, 1000]]
    """
    rows, start = [], None
    for sample, symbol in zip(annotations.samples.tolist(), annotations.symbols.tolist()):
        if symbol == "[" and start is None:
            start = sample
        elif symbol == "]" and start is not None:
            rows.append((start, sample))
            start = None
    if start is not None:
        rows.append((start, n_samples))
    return np.asarray(rows, dtype=np.int64).reshape(-1, 2)


def write_region_annotations(out_dir: str | Path, record_name: str, annotator: str, annotations: Annotations,
                             fs_hz: float, file_fs_hz: float) -> Path:
    """Write ``out_dir/record_name.<annotator>``, samples converted to the record file's rate ``file_fs_hz``; a note
    (``"``) never lands on sample 0, which wfdb's rdann takes for a definition of the file's and drops (a code review
    of session 63: at 128 Hz the notes written at sample 1, the thresholds, the conclusion and a rhythm correction
    from the record's start, became sample 0 and were lost)."""
    samples = annotations.samples
    if file_fs_hz != fs_hz:
        samples = np.round(samples * (file_fs_hz / fs_hz)).astype(np.int64)
        samples = np.where((np.asarray(annotations.symbols) == '"') & (samples < 1), 1, samples)
    converted = Annotations(samples, annotations.symbols, annotations.aux_notes, annotations.subtypes)
    return write_annotations(out_dir, record_name, annotator, converted, fs_hz=file_fs_hz)


def to_note_chars(text: str) -> str:
    """Text as wfdb writes an annotation note: one character per byte (wfdb writes ``ord`` of each character), so
    that the file holds the text's UTF-8 bytes.

    Examples
    --------
    >>> to_note_chars("été") == "\xc3\xa9t\xc3\xa9"
    True
    """
    return text.encode("utf-8").decode("latin-1")


def timed_note(sample: int, prefix: str, text: str) -> tuple[int, str]:
    """(sample, note) of a prefixed text note for a WFDB annotation file (:func:`to_note_chars`); never sample 0,
    which wfdb's rdann takes for a definition of the file's."""
    return max(int(sample), 1), to_note_chars(prefix + text)


def read_timed_notes(samples, aux_notes, prefix: str) -> list[tuple[int, str]]:
    """(sample, text) of the notes that start with ``prefix`` (among any other annotations), in file order; a note
    at sample 1 (:func:`timed_note`) stands for sample 0.

    >>> read_timed_notes([1, 50, 90], ["strip: a", "diary: b", "strip: \xc3\xa9"], "strip: ")
    [(0, 'a'), (90, 'é')]
    """
    return [(0 if int(sample) <= 1 else int(sample), from_note_chars(str(note)[len(prefix):]))
            for sample, note in zip(samples, aux_notes) if str(note).startswith(prefix)]


AF_EDIT_PREFIX = "rhythm: "
"""Start of the note that keeps a reader's word on the atrial rhythm (:mod:`pipeline.reader_rhythm`)."""
_AF_EDIT_TEXT = re.compile(r"(\d+) (AF|not AF) for (\d+(?:\.\d+)?) s")


def af_edit_notes(af_edits, fs_hz: float) -> tuple[tuple[int, str], ...]:
    """(sample, note) of each of a reader's words on the atrial rhythm, at its start: its place in the order given and
    its length in seconds (the rate the file is read at may differ), for :func:`read_af_edit_notes`.

    >>> af_edit_notes(((720, 1080, True), (0, 360, False)), 360.0)
    ((720, 'rhythm: 1 AF for 1.000 s'), (1, 'rhythm: 2 not AF for 1.000 s'))
    """
    return tuple(timed_note(start, AF_EDIT_PREFIX,
                            f"{k} {'AF' if is_af else 'not AF'} for {(stop - start) / fs_hz:.3f} s")
                 for k, (start, stop, is_af) in enumerate(af_edits, start=1))


def read_af_edit_notes(samples, aux_notes, fs_hz: float, n_samples: int) -> tuple[tuple[int, int, bool], ...]:
    """A reader's words on the atrial rhythm from the notes :func:`af_edit_notes` wrote (among any other
    annotations), in the order given, cut to the record's ``n_samples``; a note that does not read as one, or that
    starts after the record's end, is left out.

    >>> read_af_edit_notes([1, 720, 900], ["rhythm: 2 not AF for 1.000 s", "rhythm: 1 AF for 1.000 s", "rhythm: ?"],
    ...                    360.0, 1000)
    ((720, 1000, True), (0, 360, False))
    """
    found = []
    for sample, text in read_timed_notes(samples, aux_notes, AF_EDIT_PREFIX):
        match = _AF_EDIT_TEXT.fullmatch(text.strip())
        stop = min(sample + int(round(float(match[3]) * fs_hz)), n_samples) if match is not None else sample
        if stop > sample >= 0:
            found.append((int(match[1]), sample, stop, match[2] == "AF"))
    return tuple((start, stop, is_af) for _, start, stop, is_af in sorted(found))


AF_WRITTEN_PREFIX = "AF written: "
"""Start of the note that keeps an AF/flutter stretch as the product wrote it in the rhythm annotations
(:func:`written_af_notes`)."""
_AF_WRITTEN_TEXT = re.compile(r"(\d+(?:\.\d+)?) s")
FILE_END_NOTE = "end of the review file"
"""The note the product writes on a review file's last sample: the file lists the beats of the whole recording, and
its AF/flutter stretches as written are in :data:`AF_WRITTEN_PREFIX` notes (none: none written)."""
AF_LABELS = ("(AFIB", "(AFL")
"""Rhythm annotations of atrial fibrillation and flutter (MIT-BIH's; the product writes ``(AFIB`` for both)."""


def find_af_intervals(annotations: Annotations, n_samples: int) -> np.ndarray:
    """(k, 2) [start, stop) stretches of atrial fibrillation or flutter of a file's rhythm annotations, merged."""
    return merge_intervals(np.concatenate([rhythm_intervals(annotations, label, n_samples) for label in AF_LABELS]))


def written_af_notes(annotations: Annotations, fs_hz: float, n_samples: int) -> tuple[tuple[int, str], ...]:
    """(sample, note) of what a review file's rhythm annotations say of AF/flutter as the product writes them: one note
    per stretch at its start, with its length in seconds (the rate a file is read at may differ), and
    :data:`FILE_END_NOTE` on the last sample. A reader who edits the rhythm annotations in another program (WAVE)
    leaves these as they were, so that :func:`read_written_af` and the annotations tell what the reader changed
    (:func:`app.analysis.read_listed_af_edits`) whatever the analysis reading the file back would write itself.

    >>> ann = Annotations(np.array([10, 400]), np.array(["+", "+"]), np.array(["(AFIB", "(N"], dtype=object))
    >>> written_af_notes(ann, 100.0, 1000)
    ((10, 'AF written: 3.900 s'), (999, 'end of the review file'))
    """
    return tuple(timed_note(int(a), AF_WRITTEN_PREFIX, f"{(b - a) / fs_hz:.3f} s")
                 for a, b in find_af_intervals(annotations, n_samples)) + ((max(n_samples - 1, 1), FILE_END_NOTE),)


def is_review_file(aux_notes) -> bool:
    """The file is a review file the product wrote since session 65 (:data:`FILE_END_NOTE`): it lists every beat to
    the recording's end, and notes the AF/flutter it wrote."""
    return FILE_END_NOTE in {str(a) for a in aux_notes}


def read_written_af(samples, aux_notes, fs_hz: float, n_samples: int) -> np.ndarray | None:
    """The AF/flutter stretches a review file's notes say the product wrote (:func:`written_af_notes`), (k, 2) samples
    at the rate read; None for a file without :data:`FILE_END_NOTE` (not the product's, or saved before session 65).

    >>> read_written_af([10, 999], ["AF written: 3.900 s", "end of the review file"], 100.0, 1000).tolist()
    [[10, 400]]
    """
    if not is_review_file(aux_notes):
        return None
    stretches = []
    for sample, text in read_timed_notes(samples, aux_notes, AF_WRITTEN_PREFIX):
        match = _AF_WRITTEN_TEXT.fullmatch(text.strip())
        if match is not None:
            stretches.append((sample, min(sample + int(round(float(match[1]) * fs_hz)), n_samples)))
    return merge_intervals(stretches)


BEAT_EDIT_PREFIX = "beat: "
"""Start of the note that keeps a reader's edit of the beat list (:mod:`pipeline.reader_beats`)."""
_BEAT_EDIT_TEXT = re.compile(r"(\d+) (added|deleted)(?: at (\d+(?:\.\d+)?) s)?")


def beat_edit_notes(beat_edits, fs_hz: float) -> tuple[tuple[int, str], ...]:
    """(sample, note) of each of a reader's edits of the beat list, at the beat's position: its place in the order
    given, whether the beat was added or deleted, and its time to the sample (a file written at another rate rounds
    the note's own position: a code review of session 64 found an added beat back one sample off at 128 Hz), for
    :func:`read_beat_edit_notes`.

    >>> beat_edit_notes(((720, False), (900, True)), 360.0)
    ((720, 'beat: 1 deleted at 2.00000 s'), (900, 'beat: 2 added at 2.50000 s'))
    """
    return tuple(timed_note(sample, BEAT_EDIT_PREFIX,
                            f"{k} {'added' if added else 'deleted'} at {sample / fs_hz:.5f} s")
                 for k, (sample, added) in enumerate(beat_edits, start=1))


def read_beat_edit_notes(samples, aux_notes, fs_hz: float, n_samples: int) -> tuple[tuple[int, bool], ...]:
    """A reader's edits of the beat list from the notes :func:`beat_edit_notes` wrote (among any other annotations),
    in the order given, at the time each note gives (else at the note); a note that does not read as one, or lies past
    the record's ``n_samples``, is left out.

    >>> read_beat_edit_notes([900, 720, 800], ["beat: 2 added at 2.50000 s", "beat: 1 deleted", "beat: ?"], 360.0,
    ...                      1000)
    ((720, False), (900, True))
    """
    found = []
    for sample, text in read_timed_notes(samples, aux_notes, BEAT_EDIT_PREFIX):
        match = _BEAT_EDIT_TEXT.fullmatch(text.strip())
        if match is None:
            continue
        at = sample if match[3] is None else int(round(float(match[3]) * fs_hz))
        if 0 <= at < n_samples:
            found.append((int(match[1]), at, match[2] == "added"))
    return tuple((sample, added) for _, sample, added in sorted(found))


def from_note_chars(note: str) -> str:
    """The text of a note wfdb read (one character per byte): UTF-8, or the characters as they are when the bytes
    are not UTF-8 (a note written by another tool)."""
    try:
        return note.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return note
