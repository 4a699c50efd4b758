"""The reader's conclusion: the interpretation a physician or technician writes after the review, printed on the
report's first page and kept in the review's annotation file (``NAME.ecg``) with the corrections.

In the annotation file it is a run of comment annotations (``"``) at the record's second sample, in order: each line
of the text starts a note ``conclusion: ``, and a line longer than a note holds goes on in notes ``conclusion+ ``
(a WFDB note holds 255 bytes at most, and no line break or tab). The text is kept as its UTF-8 bytes
(:func:`pipeline.rhythm_annotations.to_note_chars`).
"""

from __future__ import annotations

from pipeline.rhythm_annotations import from_note_chars

NOTE_PREFIX = "conclusion: "
"""Start of the note that opens a line of the conclusion."""
MORE_PREFIX = "conclusion+ "
"""Start of a note that goes on with the line of the note before it."""
MAX_CONCLUSION_CHARS = 800
"""Longest conclusion: about eight lines on the report's first page."""
NOTE_TEXT_BYTES = 240
"""Bytes of text per note (with the prefix, under WFDB's 255)."""


class ConclusionError(ValueError):
    """A conclusion that cannot be kept (too long)."""


def check_conclusion(text: str) -> str:
    """The conclusion as it is kept: surrounding blank space removed, line breaks kept.

    Raises
    ------
    ConclusionError
        More than :data:`MAX_CONCLUSION_CHARS` characters.
    """
    text = "\n".join(line.rstrip() for line in str(text).replace("\t", " ").strip().splitlines())
    if len(text) > MAX_CONCLUSION_CHARS:
        raise ConclusionError(f"Received a conclusion of {len(text)} characters; expected at most "
                              f"{MAX_CONCLUSION_CHARS} (about eight lines of the report).")
    return text


def conclusion_notes(text: str) -> tuple[str, ...]:
    """The notes that carry a conclusion in a WFDB annotation file, in order (none for an empty one).

    Examples
    --------
    >>> notes = conclusion_notes("Sinus rhythm. " * 30 + "\\nNo pause.")
    >>> [note[:12] for note in notes]
    ['conclusion: ', 'conclusion+ ', 'conclusion: ']
    >>> read_conclusion_notes(notes) == ("Sinus rhythm. " * 30).strip() + "\\nNo pause."
    True
    """
    notes = []
    for line in check_conclusion(text).splitlines() if text.strip() else []:
        data = line.encode("utf-8")
        start, prefix = 0, NOTE_PREFIX
        while True:
            end = min(start + NOTE_TEXT_BYTES, len(data))
            while end < len(data) and data[end] & 0xC0 == 0x80:  # never split a character's bytes
                end -= 1
            notes.append(prefix + data[start:end].decode("latin-1"))  # one character per byte (to_note_chars)
            start, prefix = end, MORE_PREFIX
            if start >= len(data):
                break
    return tuple(notes)


def read_conclusion_notes(aux_notes) -> str:
    """The conclusion the notes of :func:`conclusion_notes` carry (among any other notes); ``""`` when none."""
    lines: list[str] = []
    for note in map(str, aux_notes):
        if note.startswith(NOTE_PREFIX):
            lines.append(note[len(NOTE_PREFIX):])
        elif note.startswith(MORE_PREFIX) and lines:
            lines[-1] += note[len(MORE_PREFIX):]
    return "\n".join(from_note_chars(line) for line in lines)
