"""Strips a reader chooses for the report: the ECG stretches a technician or physician picks while reviewing (a
symptom's rhythm, an example of each finding), each with a title, printed on the report's "Strips chosen by the
reader" pages after the first page and kept in the review's annotation file (``NAME.ecg``).

A strip is :data:`READER_STRIP_S` seconds of the primary lead (and of the second analysed lead under it, on the report,
since session 57), the length of the report's other strips. In the
annotation file it is one comment annotation (``"``) at the strip's first sample whose note is ``strip: TITLE``, so
that a WFDB viewer shows the title where the strip starts. The title is kept as its UTF-8 bytes
(:func:`pipeline.rhythm_annotations.to_note_chars`), under WFDB's 255 bytes a note.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.rhythm_annotations import read_timed_notes, timed_note

NOTE_PREFIX = "strip: "
"""Start of the note that keeps a chosen strip."""
READER_STRIP_S = 7.5
"""Length of a chosen strip (seconds): the report's strip length, what an A4 page's width holds at the standard
25 mm/s."""
MAX_READER_STRIPS = 24
"""Most strips a record keeps: four report pages of six."""
MAX_TITLE_CHARS = 80
"""Longest title (characters): one line above the strip."""
MAX_TITLE_BYTES = 240
"""Longest title in UTF-8 bytes, so that the note with its prefix stays under WFDB's 255."""


class ReaderStripError(ValueError):
    """A strip that cannot be kept (outside the record, too long a title, too many strips)."""


@dataclass(frozen=True)
class ReaderStrip:
    """A strip chosen by the reader: its first sample (at the analysis's internal rate) and its title (may be
    empty)."""

    start: int
    title: str = ""


def check_title(title: str) -> str:
    """A strip's title as it is kept: on one line, surrounding blank space removed.

    Raises
    ------
    ReaderStripError
        More than :data:`MAX_TITLE_CHARS` characters or :data:`MAX_TITLE_BYTES` bytes.
    """
    title = " ".join(str(title).split())
    if len(title) > MAX_TITLE_CHARS or len(title.encode("utf-8")) > MAX_TITLE_BYTES:
        raise ReaderStripError(f"Received a strip title of {len(title)} characters; expected at most "
                               f"{MAX_TITLE_CHARS} (one line above the strip).")
    return title


def check_reader_strips(strips, n_samples: int) -> tuple[ReaderStrip, ...]:
    """Chosen strips as they are kept: titles checked, in time order, one strip per start (the later title wins).

    Raises
    ------
    ReaderStripError
        A strip starting outside the record (0 to ``n_samples`` - 1), a title too long, or more than
        :data:`MAX_READER_STRIPS` strips.
    """
    by_start: dict[int, ReaderStrip] = {}
    for strip in strips:
        start = int(strip.start)
        if not 0 <= start < n_samples:
            raise ReaderStripError(f"Received a strip starting at sample {start}; expected a sample within the "
                                   f"record (0 to {n_samples - 1}).")
        by_start[start] = ReaderStrip(start, check_title(strip.title))
    if len(by_start) > MAX_READER_STRIPS:
        raise ReaderStripError(f"Received {len(by_start)} strips; expected at most {MAX_READER_STRIPS} "
                               f"(three report pages). Remove some before adding more.")
    return tuple(by_start[k] for k in sorted(by_start))


def strip_for_window(start_s: float, window_s: float, duration_s: float, fs_hz: float) -> int:
    """First sample of the strip that shows a viewing window: :data:`READER_STRIP_S` seconds centred on the window's
    middle, kept within the record.

    Examples
    --------
    >>> strip_for_window(100.0, 20.0, 1800.0, 360.0) / 360.0
    106.25
    >>> strip_for_window(1795.0, 10.0, 1800.0, 360.0) / 360.0, strip_for_window(0.0, 4.0, 1800.0, 360.0)
    (1792.5, 0)
    """
    start_s = start_s + window_s / 2 - READER_STRIP_S / 2
    start_s = min(max(start_s, 0.0), max(duration_s - READER_STRIP_S, 0.0))
    return int(round(start_s * fs_hz))


def strip_notes(strips: tuple[ReaderStrip, ...]) -> tuple[tuple[int, str], ...]:
    """(sample, note) of each strip for a WFDB annotation file; never sample 0, which wfdb's rdann takes for a
    definition of the file's."""
    return tuple(timed_note(s.start, NOTE_PREFIX, s.title) for s in strips)


def read_strip_notes(samples, aux_notes) -> tuple[ReaderStrip, ...]:
    """The strips of the notes :func:`strip_notes` wrote (among any other annotations), in time order; a note at
    sample 1 stands for a strip at the very start."""
    strips = [ReaderStrip(sample, text) for sample, text in read_timed_notes(samples, aux_notes, NOTE_PREFIX)]
    return tuple(sorted(strips, key=lambda s: s.start))
