"""A patient's diary kept during a Holter recording, and what the ECG showed at each of its entries.

Ambulatory ECG monitoring exists largely to tie symptoms to the rhythm at the time (symptom-rhythm correlation;
ACC/AHA guidelines for ambulatory electrocardiography, Crawford et al. 1999; ISHNE-HRS expert consensus on
ambulatory ECG, Steinberg et al. 2017). The patient notes each symptom or activity with its time; the report shows,
for each entry, the heart rate and the events flagged around that time, and a strip of the ECG.

Diary text, one entry per line (a line starting with ``#`` is a comment; a first line ``time,...`` is a header)::

    00:12:30, dizzy
    754.5, palpitations while climbing stairs
    [14:32], chest pain

The time is the elapsed time from the start of the recording, as the product shows every time (``hh:mm:ss``,
``mm:ss`` or seconds), or a clock time in square brackets (``[hh:mm]`` or ``[hh:mm:ss]``, WFDB's convention for
absolute time), which needs the start time of the recording from its header. A clock time before the start time is
taken as the next day's. The text is everything after the first comma (CSV quoting is honoured).
"""

from __future__ import annotations

import csv
import datetime
import io
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.errors import EcgInputError
from pipeline.regions import Region, describe_kind
from pipeline.rhythm_annotations import read_timed_notes, timed_note
from pipeline.wording import format_hms

DIARY_SUFFIX = ".diary.csv"
"""A record's diary file: ``NAME.diary.csv`` (beside the record, or in a folder of diaries)."""
MAX_DIARY_BYTES = 1_000_000
MAX_ENTRIES = 1000
MAX_TEXT_BYTES = 200
"""Longest entry text, in bytes of UTF-8: it travels in a WFDB annotation's note (255 bytes at most) after a short
prefix."""
WINDOW_S = 60.0
"""Events that overlap this many seconds before or after an entry are reported with it (diary times are
approximate: patients write them down after the fact)."""
RATE_HALF_WINDOW_S = 30.0
"""The heart rate of an entry is the mean over the beats within this many seconds of it (a 1-minute average)."""
SECONDS_PER_DAY = 86400.0

_ELAPSED = re.compile(r"^(?:(\d+):)?(\d{1,2}):(\d{1,2}(?:\.\d*)?)$")
_SECONDS = re.compile(r"^\d+(?:\.\d*)?$")
_CLOCK = re.compile(r"^\[(\d{1,2}):(\d{2})(?::(\d{2}(?:\.\d*)?))?\]$")


class DiaryError(EcgInputError):
    """A diary that cannot be read: its line and what was expected are named."""


@dataclass(frozen=True)
class DiaryEntry:
    """One diary entry: seconds from the start of the recording, and what the patient wrote."""

    time_s: float
    text: str


@dataclass(frozen=True)
class DiaryFinding:
    """What the ECG showed around a diary entry.

    Attributes
    ----------
    entry : DiaryEntry
    heart_rate_bpm : float
        Mean rate over the beats within :data:`RATE_HALF_WINDOW_S` of the entry; NaN with fewer than 3 beats there.
    readable : bool
        False when the signal at the entry's time is unreadable (noise, missing, a reader's artefact mark).
    regions : tuple of Region
        Events (not unreadable stretches) overlapping the entry's window, the nearest first.
    """

    entry: DiaryEntry
    heart_rate_bpm: float
    readable: bool
    regions: tuple[Region, ...]


def parse_diary(text: str, duration_s: float, start_time: datetime.time | None = None,
                source: str = "the diary") -> tuple[DiaryEntry, ...]:
    """The entries of a diary's text (module docstring), in time order.

    Raises
    ------
    DiaryError
        A line without a time and a text, a time that cannot be read or lies outside the recording, a clock time
        when the recording's start time is unknown, too many entries or too long a text; ``source`` names the
        diary in the message.
    """
    entries, outside = split_diary(text, duration_s, start_time, source)
    if outside:
        raise DiaryError(f"{outside[0]}; expected a time within it (00:00:00 to {format_elapsed(duration_s)}).")
    return entries


def split_diary(text: str, duration_s: float, start_time: datetime.time | None = None,
                source: str = "the diary") -> tuple[tuple[DiaryEntry, ...], tuple[str, ...]]:
    """:func:`parse_diary`'s entries, in time order, and for each line whose time lies outside the recording what
    it is (``"diary a.diary.csv, line 5: time [23:49:00] is 23:59:00 into the recording"``) instead of an error: a
    batch leaves those out and says so, so that a watch a minute off the recorder's clock does not cost the whole
    report (a QA pass, session 50). Every other bad line raises :class:`DiaryError` as :func:`parse_diary` does.
    """
    entries, outside = [], []
    rows = csv.reader(io.StringIO(text), skipinitialspace=True)
    first = True
    for number, row in enumerate(rows, start=1):
        if not row or not "".join(row).strip() or row[0].lstrip().startswith("#"):
            continue
        if first and row[0].strip().lower() in ("time", "time_s"):  # a header line
            first = False
            continue
        first = False
        where = f"{source}, line {number}"
        if len(row) < 2 or not ",".join(row[1:]).strip():
            raise DiaryError(f"{where}: received {','.join(row)!r}; expected a time, a comma and what the patient "
                             "noted, e.g. '00:12:30, dizzy'.")
        entry_text = " ".join(", ".join(row[1:]).split())  # the reader took the space after each comma
        if len(entry_text.encode("utf-8")) > MAX_TEXT_BYTES:
            raise DiaryError(f"{where}: the text has {len(entry_text)} characters; expected at most {MAX_TEXT_BYTES} "
                             "(fewer with accented letters or other symbols: their UTF-8 bytes count).")
        time_s = parse_diary_time(row[0].strip(), start_time, where)
        if not 0 <= time_s <= duration_s:
            token = row[0].strip()
            said = (f"is {format_elapsed(time_s)} into the recording (a clock time earlier than its start, "
                    f"{start_time:%H:%M:%S}, is the next day's)" if token.startswith("[")
                    else "is past the end of the recording")
            outside.append(f"{where}: time {token} {said}")
            continue
        entries.append(DiaryEntry(time_s, entry_text))
        if len(entries) > MAX_ENTRIES:
            raise DiaryError(f"{source}: more than {MAX_ENTRIES} entries; expected a patient's diary.")
    return tuple(sorted(entries, key=lambda e: e.time_s)), tuple(outside)


def parse_diary_time(token: str, start_time: datetime.time | None, where: str = "the diary") -> float:
    """Seconds from the start of the recording of an elapsed (``hh:mm:ss``, ``mm:ss``, seconds) or clock
    (``[hh:mm]``, ``[hh:mm:ss]``) time.

    Examples
    --------
    >>> parse_diary_time("01:02:03", None), parse_diary_time("2:30", None), parse_diary_time("75.5", None)
    (3723.0, 150.0, 75.5)
    >>> parse_diary_time("[09:15]", datetime.time(8, 0, 0))
    4500.0
    """
    if _SECONDS.match(token):
        return float(token)
    elapsed = _ELAPSED.match(token)
    if elapsed:
        hours, minutes, seconds = int(elapsed[1] or 0), int(elapsed[2]), float(elapsed[3])
        if minutes < 60 and seconds < 60:
            return hours * 3600.0 + minutes * 60.0 + seconds
    clock = _CLOCK.match(token)
    if clock:
        hours, minutes, seconds = int(clock[1]), int(clock[2]), float(clock[3] or 0)
        if hours >= 24 or minutes >= 60 or seconds >= 60:
            raise DiaryError(f"{where}: received clock time {token}; expected [hh:mm] or [hh:mm:ss] within a day.")
        if start_time is None:
            raise DiaryError(f"{where}: received clock time {token}, but the recording's header gives no start "
                             "time; write the time elapsed since the start instead (hh:mm:ss, no brackets).")
        start_s = start_time.hour * 3600.0 + start_time.minute * 60.0 + start_time.second + start_time.microsecond / 1e6
        return (hours * 3600.0 + minutes * 60.0 + seconds - start_s) % SECONDS_PER_DAY
    raise DiaryError(f"{where}: received time {token!r}; expected the time since the start of the recording "
                     "(hh:mm:ss, mm:ss or seconds) or a clock time in brackets ([hh:mm] or [hh:mm:ss]).")


def read_diary(path: str | Path, duration_s: float, start_time: datetime.time | None = None
               ) -> tuple[tuple[DiaryEntry, ...], tuple[str, ...]]:
    """The entries of a diary file and its lines outside the recording (:func:`split_diary`); a file too large or not
    text is a :class:`DiaryError`."""
    path = Path(path)
    try:
        check_diary_size(path.stat().st_size, path.name)  # before reading a file that is not a diary whole
        text = decode_diary(path.read_bytes(), path.name)
    except OSError as error:
        raise DiaryError(f"Diary {path.name} cannot be read: {error.strerror or error}.") from error
    return split_diary(text, duration_s, start_time, source=f"diary {path.name}")


def check_diary_size(n_bytes: int, name: str) -> None:
    """A :class:`DiaryError` for a diary over :data:`MAX_DIARY_BYTES`."""
    if n_bytes > MAX_DIARY_BYTES:
        raise DiaryError(f"Diary {name} has {n_bytes} bytes; expected a text file of at most {MAX_DIARY_BYTES} bytes.")


def decode_diary(data: bytes, name: str) -> str:
    """A diary file's text (UTF-8, with or without a byte-order mark, else Windows-1252, the encoding Windows' editors
    long saved in), checked for size; :class:`DiaryError` when it is too large or neither."""
    check_diary_size(len(data), name)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        try:  # Windows' own encoding, in which Notepad and Excel long saved text (a QA pass, session 50)
            return data.decode("cp1252")
        except UnicodeDecodeError:
            raise DiaryError(f"Diary {name} is not UTF-8 text ({error.reason} at byte {error.start}); expected lines "
                             "such as '00:12:30, dizzy'.") from error


def format_elapsed(seconds: float) -> str:
    """``hh:mm:ss`` of a time in seconds (rounded down; 00:00:00 for a negative or unknown time)."""
    return format_hms(max(seconds, 0.0) if math.isfinite(seconds) else 0.0)


def format_clock_time(time_s: float, start_time: datetime.time | None) -> str:
    """The clock time (``hh:mm:ss``, rounded down as a clock is) of a time in the recording, or ``""`` when the start
    time is unknown; a start with a fraction of a second counts it (a QA pass of session 47 found a diary entry at
    10:50:00 shown at 10:49:59 under a start of 10:45:30.250).

    >>> format_clock_time(269.75, datetime.time(10, 45, 30, 250000)), format_clock_time(3.5, datetime.time(23, 59, 58))
    ('10:50:00', '00:00:01')
    """
    if start_time is None:
        return ""
    start_s = start_time.hour * 3600 + start_time.minute * 60 + start_time.second + start_time.microsecond / 1e6
    elapsed_s = max(time_s, 0.0) if math.isfinite(time_s) else 0.0
    clock_s = math.floor(round(start_s + elapsed_s, 6))  # 0.25 + 269.75 must not floor to 269.999...
    return format_elapsed(clock_s % int(SECONDS_PER_DAY))


def format_record_time(seconds: float, start_time: datetime.time | None = None) -> str:
    """A time into the recording (hh:mm:ss) and, when the header's ``start_time`` is known, its clock time: the one
    form of the dashboard's captions and event picker and of the diary's findings (a 24-h QA pass read times into the
    recording as clock times).

    >>> format_record_time(83.0), format_record_time(83.0, datetime.time(8, 15))
    ('00:01:23', '00:01:23 (clock 08:16:23)')
    """
    clock = format_clock_time(seconds, start_time)
    return format_elapsed(seconds) + (f" (clock {clock})" if clock else "")


def correlate_diary(entries: tuple[DiaryEntry, ...], regions: list[Region] | tuple[Region, ...],
                    beat_samples: np.ndarray, fs_hz: float, window_s: float = WINDOW_S) -> tuple[DiaryFinding, ...]:
    """For each entry: the heart rate around it, whether the signal there is readable, and the events within
    ``window_s`` of it (nearest first)."""
    samples = np.asarray(beat_samples, dtype=np.int64)
    events = [r for r in regions if r.kind != "unreadable"]  # a 24-hour record has thousands: compared as arrays
    starts = np.array([r.start for r in events], dtype=np.float64)
    stops = np.array([r.stop for r in events], dtype=np.float64)
    unreadable = np.array([(r.start, r.stop) for r in regions if r.kind == "unreadable"], dtype=np.float64)
    findings = []
    for entry in entries:
        at = entry.time_s * fs_hz
        near = np.flatnonzero((starts <= at + window_s * fs_hz) & (stops >= at - window_s * fs_hz))
        distance = np.maximum(np.maximum(starts[near] - at, at - stops[near]), 0.0)
        order = near[np.lexsort((starts[near], distance))]  # the nearest first, then the earliest
        readable = not np.any((unreadable[:, 0] <= at) & (at < unreadable[:, 1])) if len(unreadable) else True
        findings.append(DiaryFinding(entry, mean_rate_bpm(samples, at, RATE_HALF_WINDOW_S * fs_hz, fs_hz), readable,
                                     tuple(events[k] for k in order)))
    return tuple(findings)


def mean_rate_bpm(samples: np.ndarray, at: float, half_window: float, fs_hz: float) -> float:
    """Mean heart rate over the beats within ``half_window`` samples of ``at``; NaN with fewer than 3 beats."""
    inside = samples[(samples >= at - half_window) & (samples <= at + half_window)]
    if len(inside) < 3:
        return float("nan")
    return 60.0 * fs_hz * (len(inside) - 1) / float(inside[-1] - inside[0])


def describe_finding(finding: DiaryFinding, fs_hz: float, max_kinds: int = 4, with_rate: bool = True,
                     start_time: datetime.time | None = None) -> str:
    """The rhythm at a diary entry in words: the heart rate (unless ``with_rate`` is False), then the kinds of event
    within the window, the nearest first, each with its count and the time of its nearest occurrence (with its clock
    time when the recording's ``start_time`` is known, :func:`format_record_time`).

    Examples
    --------
    >>> couplet = Region("ventricular_couplet", 3600, 3800, 10, 2, 120.0, 0.9)
    >>> describe_finding(DiaryFinding(DiaryEntry(12.0, "dizzy"), 71.6, True, (couplet,)), 360.0)
    '72 bpm; ventricular couplet at 00:00:10'
    >>> describe_finding(DiaryFinding(DiaryEntry(12.0, "dizzy"), 71.6, True, (couplet,)), 360.0,
    ...                  start_time=datetime.time(8, 0))
    '72 bpm; ventricular couplet at 00:00:10 (clock 08:00:10)'
    >>> describe_finding(DiaryFinding(DiaryEntry(10.0, "dizzy"), 71.6, True, ()), 360.0)
    '72 bpm; no event within 1 min'
    >>> af = Region("atrial_fibrillation", 1800, 36000, 5, 120, 110.0, 0.9)
    >>> describe_finding(DiaryFinding(DiaryEntry(12.0, "palpitations"), 110.0, True, (af,)), 360.0)
    '110 bpm; atrial fibrillation/flutter under way from 00:00:05 to 00:01:40'
    """
    rate = "heart rate n/a" if not math.isfinite(finding.heart_rate_bpm) else f"{finding.heart_rate_bpm:.0f} bpm"
    parts = [rate] if with_rate else []
    if not finding.readable:
        parts.insert(0, "signal unreadable at that time")
    by_kind: dict[str, list[Region]] = {}
    for region in finding.regions:  # nearest first, so each kind's first region is its nearest
        by_kind.setdefault(region.kind, []).append(region)
    shown = [(describe_kind(kind) if len(found) == 1 else f"{len(found)} x {describe_kind(kind)}, nearest")
             + describe_occurrence(found[0], finding.entry.time_s, fs_hz, start_time)
             for kind, found in list(by_kind.items())[:max_kinds]]
    more = len(by_kind) - len(shown)
    if shown:
        parts.append(", ".join(shown) + (f" and {more} more kinds" if more else ""))
    else:
        parts.append(f"no event within {WINDOW_S / 60:g} min")
    return "; ".join(parts)


def describe_occurrence(region: Region, at_s: float, fs_hz: float, start_time: datetime.time | None = None) -> str:
    """When ``region`` happened against a diary entry at ``at_s``: " at START", or, for an event still running at the
    entry (an AF episode the patient noted during it), " under way from START to END" (a session-48 read found
    "nearest at <start>" written for an episode the entry fell inside)."""
    start_s, stop_s = region.start / fs_hz, region.stop / fs_hz
    if start_s <= at_s < stop_s:
        return (f" under way from {format_record_time(start_s, start_time)} to "
                f"{format_record_time(stop_s, start_time)}")
    return f" at {format_record_time(start_s, start_time)}"


def count_with_events(findings: tuple[DiaryFinding, ...]) -> int:
    """Entries with an event within their window."""
    return sum(bool(f.regions) for f in findings)


def summarize_findings(findings: tuple[DiaryFinding, ...]) -> str:
    """How many entries coincide with an event, in words (what a Holter conclusion says of the symptoms).

    Examples
    --------
    >>> pause = Region("pause", 0, 900, 0, 2, 24.0, 1.0)
    >>> summarize_findings((DiaryFinding(DiaryEntry(1.0, "dizzy"), 60.0, True, (pause,)),
    ...                     DiaryFinding(DiaryEntry(9.0, "tired"), 70.0, True, ())))
    '2 entries: 1 with an event within 1 min, 1 without'
    """
    with_event = count_with_events(findings)
    unreadable = sum(not f.readable for f in findings)
    text = (f"{len(findings)} {'entry' if len(findings) == 1 else 'entries'}: {with_event} with an event within "
            f"{WINDOW_S / 60:g} min, {len(findings) - with_event} without")
    return text + (f"; {unreadable} in unreadable signal" if unreadable else "")


def finding_to_dict(finding: DiaryFinding, fs_hz: float, start_time: datetime.time | None = None) -> dict:
    """A finding as JSON-ready content (times in seconds from the start; NaN as None)."""
    rate = finding.heart_rate_bpm
    return {
        "time_s": round(finding.entry.time_s, 3),
        "clock_time": format_clock_time(finding.entry.time_s, start_time) or None,
        "text": finding.entry.text,
        "heart_rate_bpm": round(rate, 1) if math.isfinite(rate) else None,
        "readable": finding.readable,
        "events": [{"kind": r.kind, "start_s": round(r.start / fs_hz, 3), "end_s": round(r.stop / fs_hz, 3)}
                   for r in finding.regions],
        "finding": describe_finding(finding, fs_hz, start_time=start_time),
    }


NOTE_PREFIX = "diary: "
"""Start of the comment annotation (``"``) that carries a diary entry in the product's WFDB annotation file."""


def diary_notes(entries: tuple[DiaryEntry, ...], fs_hz: float) -> tuple[tuple[int, str], ...]:
    """(sample, note) of each entry for a WFDB annotation file, at ``fs_hz``; never sample 0, which wfdb's rdann
    takes for a definition of the file's."""
    return tuple(timed_note(round(e.time_s * fs_hz), NOTE_PREFIX, e.text) for e in entries)


def read_diary_notes(samples, aux_notes, fs_hz: float) -> tuple[DiaryEntry, ...]:
    """The diary entries of the notes :func:`diary_notes` wrote (among any other annotations), in time order.

    A note written at sample 1 stands for an entry at the very start.
    """
    entries = [DiaryEntry(sample / fs_hz, text) for sample, text in read_timed_notes(samples, aux_notes, NOTE_PREFIX)]
    return tuple(sorted(entries, key=lambda e: e.time_s))


def format_diary(entries: tuple[DiaryEntry, ...]) -> str:
    """Diary text (module docstring) of entries: elapsed times ``hh:mm:ss`` (tenths of a second where there are
    any) and their texts.

    Examples
    --------
    >>> format_diary((DiaryEntry(750.4, "dizzy, then fainted"),))
    '00:12:30.4, "dizzy, then fainted"\\n'
    """
    lines = []
    for entry in entries:
        text = entry.text
        if any(c in text for c in ',"'):
            text = '"' + text.replace('"', '""') + '"'
        tenths = round(entry.time_s * 10) % 10
        lines.append(f"{format_elapsed(round(entry.time_s, 1))}{f'.{tenths}' if tenths else ''}, {text}\n")
    return "".join(lines)
