"""Event thresholds a user sets: a TOML file, command-line options, and their text for people.

The file holds any of the :class:`pipeline.regions.RegionSettings` keys at its top level, and the
ventricular flutter/fibrillation detector's (:class:`pipeline.fibrillation.FibrillationSettings`) under a
``[fibrillation]`` table, the ST analysis's (:class:`pipeline.st.StSettings`) under ``[st]``, the QT
measurement's (:class:`pipeline.qt.QtSettings`) under ``[qt]``, the PR measurement's (:class:`pipeline.pr.PrSettings`)
under ``[pr]`` and heart-rate turbulence's
(:class:`pipeline.hrt.HrtSettings`) under ``[hrt]``; keys left out keep their defaults (clinical
sources in those classes' docstrings). ``ecg event-settings`` prints every key with its default, a starting point to
edit::

    pause_s = 3.0            # report pauses over 3 s instead of 2 s
    bradycardia_bpm = 40.0
    [fibrillation]
    enabled = false          # no ventricular flutter/fibrillation detection
    [st]
    threshold_mv = 0.2       # ST episodes of 0.2 mV (2 mm) or more

The thresholds chosen on MIT-BIH DS1 (the AF evidence, the flutter detector's) are there too, so
that a study can vary them; changing them leaves the figures of ``REGIONS.md`` behind.
"""

from __future__ import annotations

import dataclasses
import math
import os
import tomllib
from pathlib import Path

from pipeline.errors import EcgInputError
from pipeline.regions import NESTED_SETTINGS, SUSTAINED_VT_MIN_S, RegionSettings, changed_settings
from pipeline.st import describe_reference


EVENTS_ENV = "ECG_EVENTS_FILE"
"""Environment variable naming an event settings file whose values the dashboard starts from (``ecg dashboard
--events FILE`` sets it)."""


class EventSettingsError(EcgInputError):
    """An event settings file that cannot be read or holds a bad key or value."""


def read_event_settings(path: str | Path) -> RegionSettings:
    """The settings of a TOML file over the defaults.

    Raises
    ------
    EventSettingsError
        When the file is missing, unreadable or not TOML (the message gives the line), or a key is unknown or
        its value wrong (the message names the key and what was expected).
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise EventSettingsError(f"The event settings file {path} does not exist.") from None
    except (OSError, UnicodeDecodeError) as error:
        raise EventSettingsError(f"The event settings file {path} could not be read ({error}).") from None
    try:
        values = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise EventSettingsError(f"The event settings file {path} is not valid TOML: {error}.") from None
    try:
        return RegionSettings.from_dict(values)
    except ValueError as error:
        raise EventSettingsError(f"In the event settings file {path}: {error}") from None


def read_default_event_settings() -> tuple[RegionSettings, str | None]:
    """The settings of the file named by :data:`EVENTS_ENV` (the defaults when it is unset) and that file's path.

    Raises
    ------
    EventSettingsError
        As :func:`read_event_settings`.
    """
    path = os.environ.get(EVENTS_ENV)
    return (read_event_settings(path), path) if path else (RegionSettings(), None)


def override_event_settings(settings: RegionSettings, *, pause_s: float | None = None,
                            bradycardia_bpm: float | None = None, tachycardia_bpm: float | None = None,
                            vf_detection: bool | None = None) -> RegionSettings:
    """``settings`` with the thresholds given (None keeps the value); ``ValueError`` when the result is invalid."""
    changes = {name: value for name, value in (("pause_s", pause_s), ("bradycardia_bpm", bradycardia_bpm),
                                               ("tachycardia_bpm", tachycardia_bpm)) if value is not None}
    if vf_detection is not None:
        changes["fibrillation"] = dataclasses.replace(settings.fibrillation, enabled=vf_detection)
    return dataclasses.replace(settings, **changes) if changes else settings


def format_event_settings(settings: RegionSettings = RegionSettings()) -> str:
    """TOML text of every setting (what :func:`read_event_settings` reads back unchanged)."""
    lines = ["# Event thresholds of ecg-arrhythmia (ecg score --events FILE, ecg evaluate-regions --events FILE).",
             "# Every key is optional; sources of the defaults: pipeline/regions.py (RegionSettings),",
             "# pipeline/fibrillation.py (FibrillationSettings), pipeline/st.py (StSettings, the ST analysis),",
             "# pipeline/qt.py (QtSettings, the QT measurement), pipeline/pr.py (PrSettings, the PR",
             "# measurement), pipeline/hrt.py (HrtSettings, heart-rate",
             "# turbulence) and pipeline/conduction.py (BlockedPSettings, the search for P waves that were not",
             "# conducted: AV block).", ""]
    values = settings.to_dict()
    tables = {name: values.pop(name) for name in NESTED_SETTINGS}
    lines += [f"{name} = {format_toml_value(value)}" for name, value in values.items()]
    for table, nested in tables.items():
        lines += ["", f"[{table}]"]
        lines += [f"{name} = {format_toml_value(value)}" for name, value in nested.items()]
    return "\n".join(lines) + "\n"


def format_toml_value(value) -> str:
    """One TOML value: a bool, number, string or list of them."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else ("nan" if math.isnan(value) else
                                                          ("inf" if value > 0 else "-inf"))
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(format_toml_value(v) for v in value) + "]"
    raise TypeError(f"Received {value!r}; expected a bool, number, string or list.")


def describe_thresholds(settings: RegionSettings) -> str:
    """The thresholds a reader of a report needs, in one sentence."""
    fibrillation = "on" if settings.fibrillation.enabled else "off"
    return (f"Event thresholds: pause RR over {settings.pause_s:g} s; bradycardia under {settings.bradycardia_bpm:g} "
            f"bpm and tachycardia over {settings.tachycardia_bpm:g} bpm for {settings.rate_min_duration_s:g} s or "
            f"more; VT/SVT {settings.run_min_beats} or more beats over {settings.vt_rate_bpm:g}/"
            f"{settings.svt_rate_bpm:g} bpm (VT with {settings.vt_min_v_beats} or more V beats), VT sustained from "
            f"{SUSTAINED_VT_MIN_S:g} s; AF episodes of "
            f"{settings.af_min_duration_s:g} s or more; "
            f"ventricular flutter/fibrillation detection {fibrillation}; ST episodes {settings.st.threshold_mv:g} mV "
            f"for {settings.st.min_duration_s / 60:g} min or more from {describe_reference(settings.st)}.")


NOTE_PREFIX = "event settings: "
"""Start of the comment annotations (``"``) of an annotation file that carry its event thresholds."""
NOTE_MAX_CHARS = 255
"""Longest auxiliary text of one WFDB annotation."""


def format_settings_notes(settings: RegionSettings) -> tuple[str, ...]:
    """The thresholds that differ from the clinical defaults, as texts for comment annotations (none if none do).

    :func:`app.outputs.output_annotations` writes them at the start of the record.

    Each text is ``event settings: `` and ``key = value`` pairs (TOML, the flutter detector's keys dotted) joined
    by ``; ``, at most :data:`NOTE_MAX_CHARS` long. An annotation file keeps the thresholds its events were found
    with, so that a review can be resumed with them (:func:`read_settings_notes`).

    >>> format_settings_notes(dataclasses.replace(RegionSettings(), pause_s=3.0))
    ('event settings: pause_s = 3.0',)
    """
    pairs = [f"{key} = {format_toml_value(value)}" for key, value in changed_settings(settings.to_dict()).items()]
    notes: list[str] = []
    for pair in pairs:
        if notes and len(notes[-1]) + 2 + len(pair) <= NOTE_MAX_CHARS:
            notes[-1] += "; " + pair
        else:
            notes.append(NOTE_PREFIX + pair)
    return tuple(notes)


def read_settings_notes(aux_notes) -> RegionSettings | None:
    """The thresholds of the notes :func:`format_settings_notes` wrote (among any others), or None when there are none.

    Raises
    ------
    EventSettingsError
        A note that starts like those but does not hold valid thresholds.
    """
    pairs = [pair for note in aux_notes if str(note).startswith(NOTE_PREFIX)
             for pair in str(note)[len(NOTE_PREFIX):].split("; ")]
    if not pairs:
        return None
    try:
        return RegionSettings.from_dict(tomllib.loads("\n".join(pairs)))
    except (tomllib.TOMLDecodeError, ValueError) as error:
        raise EventSettingsError(f"The annotation file's event thresholds cannot be read: {error}.") from None
