"""Render functions of the dashboard: each draws one part of the page from already computed data.

Widgets carry ``key=`` so that tests (``streamlit.testing.v1.AppTest``) can drive them. Errors a
user can cause (bad files, unreadable records) end the page with ``st.error`` and ``st.stop()``.
"""

from __future__ import annotations

import functools
import logging
import re
import textwrap
import zlib
from collections import Counter
from dataclasses import replace
from pathlib import Path

import numpy as np
import streamlit as st

from app.analysis import (RR_HISTOGRAM_BIN_MS, RR_HISTOGRAM_MAX_MS, add_conclusion, add_diary, add_reader_strips,
                          describe_af_edits, describe_beat_edits, diary_findings, family_rows, find_blocked_p_samples,
                          find_hidden_ventricular_runs, find_wave_detections, lorenz_points, net_af_edits,
                          noisy_lead_names, qt_dominant_beat, rr_histogram, st_episode_beats, st_template)
from app.conclusion import MAX_CONCLUSION_CHARS, ConclusionError, check_conclusion
from app.findings import describe_main_findings
from app.strips import PAPER_SPEED_MM_S, strip_gain_mm_per_mv
from app.reader_strips import (MAX_READER_STRIPS, MAX_TITLE_CHARS, READER_STRIP_S, ReaderStrip, ReaderStripError,
                               check_reader_strips, strip_for_window)
from app import disclosure
from app.dashboard import charts, loading, tables
from app.dashboard.uploads import MAX_UPLOAD_MB, UploadedData, collect_files, list_record_names, list_unused_files
from app.event_settings import EventSettingsError, describe_thresholds, read_default_event_settings
from models.errors import ModelError
from pipeline.diary import (DiaryError, format_clock_time, format_elapsed, parse_diary_time, split_diary,
                            summarize_findings)
from pipeline.errors import EcgInputError
from pipeline.families import UNGROUPED
from pipeline.labels import AAMI_CLASSES
from pipeline.pacing import reads_as_spiked
from pipeline.reader_beats import (MISSED_BEAT_SEARCH_S, BeatEdit, MissedBeatError, apply_beat_edits,
                                   keep_effective_beat_edits, place_missed_beat, remap_beat_keys)
from pipeline.reader_rhythm import AfEdit, drop_overridden_af_edits
from pipeline.records import describe_leads
from pipeline.regions import (REGION_KINDS, SUPRAVENTRICULAR_RUN_KINDS, VENTRICULAR_RUN_KINDS, WAVE_KINDS,
                              Region, RegionSettings, changed_settings, describe_region_size, merge_intervals)
from pipeline.hrt import describe_hrt_absence, describe_hrt_method, describe_hrt_span
from pipeline.hrv import describe_hrv_span
from pipeline.pr import describe_pr
from pipeline.qt import describe_bazett_bias, describe_qt_method, is_steady_qt, unsteady_qt_note
from pipeline.st import describe_method, describe_st
from pipeline.wording import count_noun, format_duration
from pipeline.types import STATED_PACEMAKER

logger = logging.getLogger(__name__)

WINDOW_CHOICES_S = (5, 10, 20, 30, 60)
DEFAULT_WINDOW_S = 10
CONFIDENCE_TEXT = ("Click a row to show its event in the detail window above; click a column's header to sort by it "
                   "(by confidence, the events most in doubt come first). "
                   "Column # holds the number \"Go to event\" shows. Confidence (0 to 1): the share of clean leads "
                   "over the event's beats (a beat seen in one noisy lead of two counts half), times the model's "
                   "confidence in its beats' classes; for AF and rate stretches, also times the share of their "
                   "intervals that meet the rule on their own. Low values ask for a look at the ECG. \"Noise flagged on\" "
                   "names a lead noisy over the event (the other lead is readable, so the event stands): check it "
                   "on the ECG, as artefact on one lead can look like ectopic beats.")
NO_EVENT = -1
WINDOW_ANCHOR = "window_anchor"
"""Session key: what the detail window was last moved to (``("event", choice)`` or ``("beat", index)``), so that a
change of its length places it again; cleared when the reader types a start."""
PLACED_START = "placed_window_start_s"
"""Session key: the window start the app last put in the start box (a jump, a length change, or the drawn, clamped
start). A length change keeps the middle of this window, not of the box's value, which a browser may send back stale:
when arrow keys held on the length slider cut a rerun short, the next request still carries the start shown before
it."""
GO_TO_TIME = "go_to_time"
"""Widget key: the "Go to time" box (:func:`render_time_jump`)."""
_TIME_PROBLEM = "go_to_time_problem"
"""Session key: why the time typed could not be gone to, shown under the box at the next rerun (:func:`go_to_time`)."""
PAGE_TABS = "page_tabs"
"""Widget key: the page's tabs, whose open tab is followed (a rerun on each change) for :func:`ecg_shortcut`."""
_SHORTCUTS_ON = "ecg_shortcuts_on"
"""Session key: whether the ECG tab is the one shown. Every tab's content is drawn, and a button's shortcut fires
whatever tab shows: a code review (session 62) found N-Q relabelling a beat on the hidden ECG tab and PageUp/PageDown
moving its window instead of scrolling the Overview."""
_CHOSEN_REGION = "chosen_region_identity"
"""Session key: :func:`region_identity` of the event last chosen, for :func:`follow_chosen_event`."""
DETAIL_CHART = "detail_chart"
"""Widget key: the detail chart, whose clicks and drags :func:`use_chart_selection` reads."""
CALIPERS = "detail_calipers"
"""The span measured with the calipers: ((window start, length) it was measured in, (start, end), whether the drag was
cut at the window's edge), in s."""
MIN_CALIPERS_S = 0.02
"""Shortest span the calipers measure (a drag of a pixel or two gave "1 ms, 60000 bpm")."""
DISAGREEMENT_CHOICE = "disagreement_choice"
"""Widget key: the picker of the disagreements with the reference (:func:`render_disagreement_picker`)."""
WINDOW_PLACED = "window_placed"
"""Session key: a callback of this request placed the window (set by :func:`place_window`, read by the controls)."""
START_EDITED = "window_start_edited"
"""Session key: the start box's value changed in this request (set by its callback, read by the controls)."""
ALL_KINDS = "all"
MAX_EVENT_CHOICES = 2000
CHART_CONFIG = {"displaylogo": False, "scrollZoom": False}
"""Charts in the page's flow: the mouse wheel scrolls the page (zoom with the toolbar or a drag)."""
ECG_CHART_CONFIG = {"displaylogo": False, "scrollZoom": True}
"""The ECG tab's record overview and detail window: the mouse wheel zooms, as in an ECG viewer."""
DOWNLOADS = (
    ("Beat table (CSV)", "beat_table_csv", "{name}_beats.csv", "text/csv"),
    ("Regions (CSV)", "region_table_csv", "{name}_regions.csv", "text/csv"),
    ("WFDB annotations (.ecg)", "annotation_file_bytes", "{name}.ecg", "application/octet-stream"),
    ("ISHNE beat annotations (.ann)", "ishne_annotation_bytes", "{name}.ann", "application/octet-stream"),
    ("PDF report", "pdf_report_bytes", "{name}_report.pdf", "application/pdf"),
    ("Record summary (JSON)", "summary_json", "{name}_summary.json", "application/json"),
    ("Hourly table (CSV)", "hourly_table_csv", "{name}_hourly.csv", "text/csv"),
    ("ST levels per window and lead (CSV)", "st_table_csv", "{name}_st.csv", "text/csv"),
    ("ST episodes (CSV)", "st_episode_table_csv", "{name}_st_episodes.csv", "text/csv"),
    ("QT and QTc per minute (CSV)", "qt_table_csv", "{name}_qt.csv", "text/csv"),
    ("Heart-rate turbulence per PVC (CSV)", "hrt_table_csv", "{name}_hrt.csv", "text/csv"),
    ("Patient diary with findings (CSV)", "diary_table_csv", "{name}_diary.csv", "text/csv"),
    ("Full disclosure: the whole record, a minute per line (PDF)", "full_disclosure_bytes",
     "{name}_full_disclosure.pdf", "application/pdf"),
    ("Full disclosure of both leads, to tell artefact from arrhythmia (PDF)", "two_lead_disclosure_bytes",
     "{name}_full_disclosure_2leads.pdf", "application/pdf"),
)
_SHOWN_RECORD = "shown_record"
_KEPT = "kept_per_analysis"
"""Session state: per name, (the analysis or record it was computed from, the value) (:func:`keep_per_source`)."""
_WITH_DIARY = "analysis_with_diary"
"""Session state: (the analysis, its diary entries, the analysis with them) last shown (:func:`keep_diary`)."""
_LISTED_TABLES = "event_tables_shown"
"""Session state: how many analyses' event lists were shown this session (:func:`list_table_key`)."""
_LISTED_ROW = "event_table_row"
"""Session state: (the event list's key, the region index) of the row last clicked (:func:`go_to_listed_event`)."""
_READER_LABELS = "reader_labels"
"""Session state: per shown record (record key), the reader's corrections {beat number: class}."""
_RELABELLED = "relabelled_review"
"""Session state: the reviews of the shown record's last :data:`KEPT_EDITS` sets of edits {(record key, thresholds,
corrections, marks, pacemaker): review}."""
KEPT_EDITS = 3
_ARTEFACTS = "reader_artefacts"
"""Session state: per shown record (record key), the reader's artefact marks [(start, stop) samples]."""
_AF_EDITS = "reader_af_edits"
"""Session state: per shown record (record key), the reader's word on the atrial rhythm [(start, stop, is_af)], in
the order given (:mod:`pipeline.reader_rhythm`)."""
_BEAT_EDITS = "reader_beat_edits"
"""Session key: the reader's edits of the beat list per record (:func:`reader_beat_edits`)."""
_BEAT_EDIT_PROBLEM = "beat_edit_problem"
"""Session key: why the last missed beat could not be added (shown once under the button)."""
_BASE_BEATS = "base_beat_positions"
"""Session key: the detector's beat positions of the shown record before the reader's beat edits, and the same beats'
reported (timed) positions, for the callbacks that renumber the corrections (:func:`change_beat_edits`) and for where
a deleted beat was (:func:`deleted_beat_samples`)."""
_SET_ASIDE_LABELS = "labels_of_deleted_beats"
"""Session key: per record, the reader's corrections of beats the reader deleted, by the detector's position, given
back if the beat is brought back (a code review of session 64 found them lost)."""
_BEAT_EDIT_DONE = "beat_edit_done"
"""Session key: what the last beat edit was and the beat and event counts before it, said once after it
(:func:`render_beat_edit_done`)."""
_FAMILY_DELETE_PROBLEM = "family_delete_problem"
"""Session key: why the family's beats were not deleted (:func:`delete_family`), said once."""
_STRIPS = "reader_strips"
"""Session state: per shown record (:func:`shown_record`), the strips the reader chose for the report
[ReaderStrip]."""
_STRIP_ERROR = "reader_strip_error"
"""Session state: why the last strip could not be added (shown once)."""
_RESTORED = "restored_reviews"
"""Session state: record keys whose uploaded earlier review has been taken over already."""
EVENT_THRESHOLDS = (
    ("pause_s", "Pause: RR longer than (s)", 1.0, 10.0, 0.5,
     "2.0 s is the usual Holter threshold; guidelines single out pauses over 3 s."),
    ("bradycardia_bpm", "Bradycardia: heart rate under (bpm)", 20.0, 90.0, 5.0, "50 bpm (ACC/AHA/HRS 2018)."),
    ("tachycardia_bpm", "Tachycardia: heart rate over (bpm)", 60.0, 220.0, 5.0, "100 bpm."),
    ("vt_rate_bpm", "Ventricular tachycardia: runs faster than (bpm)", 60.0, 250.0, 5.0,
     "100 bpm (AHA/ACC/HRS 2017); slower ventricular runs are idioventricular rhythm."),
    ("af_min_duration_s", "Atrial fibrillation: shortest episode (s)", 5.0, 600.0, 5.0, "30 s (ESC 2020)."),
    ("st.threshold_mv", "ST episode: change of at least (mV)", 0.05, 0.5, 0.05,
     "0.1 mV (1 mm) for 1 minute or more: the 1 x 1 x 1 rule of ambulatory ST analysis (ACC/AHA 1999)."),
    ("st.reference_duration_s", "ST reference: length (s; 0: the whole record)", 0.0, 604800.0, 120.0,
     "0 measures ST changes from the record's median level. A length (120 s or more) takes the median over a "
     "stretch instead, e.g. the patient at rest at the start: for a record whose ST shift lasts most of it."),
    ("st.reference_start_s", "ST reference: from (s)", 0.0, 604800.0, 60.0,
     "Start of the reference stretch, in seconds from the start of the record."),
)
"""Sidebar event thresholds: RegionSettings field (``table.key`` for a key of one of its tables), label, lowest,
highest, step, help."""
MAX_ARTEFACTS_SHOWN = 20
REFERENCE_FIT_MIN = 0.5
"""Beat detection Se or +P against an uploaded reference under this: the reference is said not to fit the signal
(another record's .atr uploaded with it gave 34 % with no word; the detector reaches over 99 % on MIT-BIH's
records)."""
MAX_FAMILY_TEMPLATES = 12
MAX_SUGGESTIONS = 5
ANY_CLASS = "any"


def render_page() -> None:
    """The whole dashboard: sidebar choices, then overview, ECG, label review, reference comparison, downloads."""
    st.title("ECG arrhythmia review")
    st.caption("Research tool, not a medical device: every finding needs review by a qualified person.")
    model_reference = render_model_picker()
    review, record_key = render_record_source(model_reference)
    st.session_state[_BASE_BEATS] = (review.analysis.predictions.detected_samples, review.analysis.predictions.samples)
    review = apply_reader_edits(review, record_key, render_event_settings(), model_reference)
    review = replace(review, analysis=keep_diary(review.analysis, render_diary(review, record_key)))
    analysis = review.analysis
    forget_other_sources(analysis, analysis.record.signal_mv)
    reset_navigation(record_key)
    render_record_header(analysis)
    if len(analysis.predictions) == 0:
        reason = analysis.predictions.reason or "no QRS complex detected"
        waves = [r for r in analysis.regions if r.kind in WAVE_KINDS]
        if not waves:
            st.error(f"No beats found in record {analysis.record.name}: {reason}. "
                     "Check that the file holds an ECG; nothing else can be reported.")
            render_notes(analysis.summary.notes)
            st.stop()
        fs = analysis.record.fs_hz
        st.error(f"No beats found in record {analysis.record.name}: {reason}; but its signal holds ventricular "
                 "flutter/fibrillation: " + ", ".join(f"{r.start / fs:.1f}-{r.stop / fs:.1f} s "
                                                      f"({describe_region_size(r, fs)})" for r in waves)
                 + ". Review the ECG.")
    overview, ecg, relabel, reference, downloads = st.tabs(["Overview", "ECG", "Review labels", "Reference comparison",
                                                            "Downloads"], key=PAGE_TABS, on_change="rerun")
    st.session_state[_SHORTCUTS_ON] = bool(ecg.open)
    with overview:
        render_overview(analysis)
    with ecg:
        render_ecg(review, model_reference, record_key)
    with relabel:
        render_label_review(analysis, record_key)
    with reference:
        render_reference(review.comparison, review.analysis.record.annotation_problem, review.analysis)
    with downloads:
        chosen = add_reader_strips(analysis, reader_strip_list(record_key))
        render_downloads(add_conclusion(chosen, render_conclusion(review, record_key)))


def render_model_picker() -> str:
    """Model selectbox in the sidebar (champion first); returns the chosen model reference. When the registry's
    champion cannot be used and the bundled model stands in for it (:func:`models.bundled.load_default_model`), the
    sidebar says so: a lab whose own champion is skipped sees it on the page, not only in the server's log."""
    choices = loading.list_model_choices()
    labels = dict((reference, label) for label, reference in choices)
    reference = st.sidebar.selectbox("Model", [reference for _, reference in choices], format_func=labels.get,
                                     key="model_choice", help="Registered versions of the beat classifier.")
    if reference == loading.CHAMPION_URI:
        try:
            note = loading.load_model_cached(reference).note  # cached: the analysis loads the same
        except ModelError:
            note = ""  # said where the record is analysed
        if note:
            st.sidebar.warning(f"{note} Choose another model here, or mend the registry (`ecg models list`, "
                               "`ecg models promote N`).")
    return reference


def render_record_source(model_reference: str) -> tuple[loading.Review, tuple]:
    """Sample picker and uploader in the sidebar; an upload takes precedence. Stops the page on errors."""
    samples = loading.list_sample_records()
    sample = st.sidebar.selectbox("Sample record (MIT-BIH excerpt)", samples, key="sample_record",
                                  help="Shown when nothing is uploaded.")
    uploaded = st.sidebar.file_uploader(
        f"Or upload a record (.hea + .dat [+ .atr] [+ .ecg of an earlier review] [+ NAME.diary.csv], one .zip, "
        f"one .edf or one ISHNE Holter .ecg; up to {MAX_UPLOAD_MB} MB)",
        accept_multiple_files=True, key="upload")
    try:
        if uploaded:
            return review_uploaded(uploaded, model_reference)
        return loading.review_sample(sample, model_reference), ("sample", sample, model_reference)
    except EcgInputError as error:
        st.error(str(error))
    except ModelError as error:
        st.error(f"The model could not be loaded: {error} Choose another model in the sidebar (\"Bundled model "
                 "file\" is always there).")
    except Exception as error:  # noqa: BLE001 - the page must show a message, never a traceback
        logger.error("Record could not be analysed (%s)", type(error).__name__)  # a traceback may name the file:
        logger.debug("Record could not be analysed", exc_info=True)  # for a developer who turns DEBUG on
        st.error(f"The record could not be analysed ({type(error).__name__}). Check the files, or report this "
                 "problem with the record's format (not its content).")
    st.stop()


def review_uploaded(uploaded: list, model_reference: str) -> tuple[loading.Review, tuple]:
    """Review of the uploaded files (asks which record to take when there are several)."""
    files = [UploadedData(f.name.replace("\\", "/").split("/")[-1], f.getvalue()) for f in uploaded]
    upload_key = tuple((f.file_id, f.name, f.size) for f in uploaded)
    collected = collect_files(files)
    names = list_record_names(collected)
    record_name = None
    if len(names) > 1:
        st.sidebar.info(f"The upload holds {len(names)} records: the one analysed is chosen here.")
        record_name = st.sidebar.selectbox("Record to analyse", names, key="upload_record")
    lead_key = record_widget_key("upload_lead", (upload_key, record_name))
    lead = st.session_state.get(lead_key)
    review = loading.review_upload(files, upload_key, record_name, model_reference, lead)
    record = review.analysis.record
    primary = record.primary_lead_name
    leads = list(record.lead_names) + list(record.unused_leads)
    if len(leads) > 1:
        st.sidebar.selectbox("Primary lead", leads, index=leads.index(primary),
                             key=lead_key, help="The lead whose R waves place the beats and that the charts show "
                             "first; the second lead analysed is the one most like V1. Changing it analyses the "
                             "record again (corrections made with another primary lead stay with it).")
    st.sidebar.info("Showing the uploaded record; remove the files to return to the samples.")
    if review.saved_problem:
        st.sidebar.error(review.saved_problem)
    unused = list_unused_files(collected, names or [record.name])
    if unused:
        st.sidebar.warning(f"Not used: {', '.join(unused)}. A record's files are named after it (for {record.name}: "
                           f"{record.name}.atr, {record.name}.ecg of an earlier review, {record.name}.diary.csv); "
                           "rename the file and upload it again.")
    record_key = ("upload", upload_key, record_name, model_reference, primary)
    restore_saved_labels(review, record_key)
    return review, record_key


def restore_saved_labels(review: loading.Review, record_key: tuple) -> None:
    """Take an uploaded earlier review's corrections and artefact marks as the reader's, once per upload (undo and
    removal can drop them)."""
    if review.saved_labels is None:
        return
    restored = st.session_state.setdefault(_RESTORED, set())
    if reader_key(record_key) not in restored:
        restored.add(reader_key(record_key))
        reader_labels(record_key).update(review.saved_labels)
        reader_artefacts(record_key).extend(review.saved_artefacts)
        reader_af_edits(record_key).extend(review.saved_af_edits)
        reader_beat_edits(record_key).extend(review.saved_beat_edits)
        upload = ("thresholds", *record_key[1:3])  # once per uploaded record, not again for another primary lead
        if upload not in restored:
            restored.add(upload)
            restore_saved_settings(review.saved_settings)
            reader_strip_list(record_key).extend(review.saved_strips)
    name = review.analysis.record.name
    skipped = (f"; {review.unmatched_saved} of its beats matched no detected beat and were left out"
               if review.unmatched_saved else "")
    marks = (f"; its {count_noun(len(review.saved_artefacts), 'artefact mark')} restored (ECG tab)"
             if review.saved_artefacts else "") + (
        f"; its {count_noun(len(review.saved_af_edits), 'atrial-rhythm correction')} restored (ECG tab)"
        if review.saved_af_edits else "") + (
        f"; its {count_noun(len(review.saved_beat_edits), 'beat edit')} (deleted or added beats) restored (ECG tab)"
        if review.saved_beat_edits else "") + ("; its reader's conclusion is restored (Downloads tab)"
                                                   if review.saved_conclusion else "") + (
        f"; its {count_noun(len(review.saved_strips), 'strip')} chosen for the report restored (ECG tab)"
        if review.saved_strips else "")
    n_labels = len(review.saved_labels)
    labels = (f"its {count_noun(n_labels, 'beat label')} that {'differs' if n_labels == 1 else 'differ'} from the "
              f"model's {'is' if n_labels == 1 else 'are'} taken as corrections (Review labels tab)" if n_labels else
              "no beat label of it differs from the model's")  # a clinical read (session 63): "its 0 beat labels"
    st.sidebar.info(f"{name}.ecg uploaded: {labels}{marks}{describe_saved_settings(review)}{skipped}.")


def restore_saved_settings(settings: RegionSettings | None) -> None:
    """Put an uploaded review's event thresholds into the sidebar's widgets (before they are drawn); also the
    callback of "Restore the defaults", given the defaults (setting the widgets: removing their state left the old
    values in the browser, which sent them back at the next change)."""
    if settings is None:
        return
    for name, *_ in EVENT_THRESHOLDS:
        keep_widget_value(f"event_{name}", float(setting_value(settings, name)))
    keep_widget_value(VF_KEY, settings.fibrillation.enabled)


KEPT_VALUES = "kept_widget_values"
"""Session key of the event-threshold widgets' values, kept outside the widgets. Streamlit drops a widget's state in
a run that does not draw it (an error page stops before the sidebar); the widgets then came back at their minimum
(number inputs given no value) and the next record was analysed with pauses from 1 s and tachycardia from 60 bpm."""

VF_KEY = "event_vf_detection"


def keep_widget_value(key: str, value) -> None:
    """Set a kept widget's value (drawn with it on the next run)."""
    st.session_state.setdefault(KEPT_VALUES, {})[key] = value
    st.session_state[key] = value


def copy_widget_value(key: str) -> None:
    """Callback of a kept widget: keep the value the reader just entered."""
    st.session_state.setdefault(KEPT_VALUES, {})[key] = st.session_state[key]


def kept_widget_value(key: str, default):
    """A kept widget's value, put into its state before it is drawn (the same every run unless the reader changed
    it), else ``default``."""
    value = st.session_state.setdefault(KEPT_VALUES, {}).get(key, default)
    st.session_state[key] = value
    return value


def setting_value(settings: RegionSettings, name: str):
    """A setting by its :data:`EVENT_THRESHOLDS` name (``table.key`` inside a table such as ``st``)."""
    table, _, key = name.rpartition(".")
    return getattr(getattr(settings, table) if table else settings, key)


def with_settings(settings: RegionSettings, values: dict) -> RegionSettings:
    """``settings`` with the :data:`EVENT_THRESHOLDS` values given (``ValueError`` when they are not valid)."""
    top = {name: value for name, value in values.items() if "." not in name}
    tables = {}
    for name, value in values.items():
        if "." in name:
            table, key = name.split(".", 1)
            tables.setdefault(table, {})[key] = value
    nested = {table: replace(getattr(settings, table), **keys) for table, keys in tables.items()}
    return replace(settings, **top, **nested)


def apply_valid_settings(settings: RegionSettings, values: dict) -> tuple[RegionSettings, list[tuple[str, ValueError]]]:
    """``settings`` with as many of the ``values`` (:func:`with_settings`) as make valid settings, and the names and
    errors of those left out: one threshold out of range no longer throws away the reader's other changes. The values
    are tried together, then one at a time until none more fits (so that raising both rate limits works in either
    order).

    >>> done, errors = apply_valid_settings(RegionSettings(), {"pause_s": 3.0, "bradycardia_bpm": 150.0})
    >>> done.pause_s, done.bradycardia_bpm == RegionSettings().bradycardia_bpm, len(errors)
    (3.0, True, 1)
    """
    try:
        return with_settings(settings, values), []
    except ValueError:
        pass
    pending = dict(values)
    while True:
        errors, applied = [], False
        for name in list(pending):
            try:
                settings = with_settings(settings, {name: pending[name]})
            except ValueError as error:
                errors.append((name, error))
            else:
                del pending[name]
                applied = True
        if not applied or not pending:
            return settings, errors


def describe_saved_settings(review: loading.Review) -> str:
    """What became of an uploaded review's event thresholds, for the sidebar's note ("" when it kept the defaults)."""
    if review.saved_settings is None:
        return ""
    shown = {name for name, *_ in EVENT_THRESHOLDS} | {"fibrillation.enabled"}
    others = [key for key in changed_settings(review.saved_settings.to_dict()) if key not in shown]
    left_out = f" (not its other changed settings, {', '.join(others)}, which only ecg score --events sets)"
    return "; its event thresholds are restored (sidebar)" + (left_out if others else "")


def render_event_settings() -> RegionSettings:
    """The event thresholds a reader may change, in the sidebar (the clinical defaults, or those of the file given
    to ``ecg dashboard --events``, until changed)."""
    try:
        defaults, source = read_default_event_settings()
    except EventSettingsError as error:
        st.sidebar.error(f"{error} The clinical defaults are used.")
        defaults, source = RegionSettings(), None
    with st.sidebar.expander("Event thresholds"):
        if source is not None:
            st.caption(f"Defaults from {Path(source).name}.")
        values = {name: threshold_input(name, label, low, high, step, help_text, setting_value(defaults, name))
                  for name, label, low, high, step, help_text in EVENT_THRESHOLDS}
        kept_widget_value(VF_KEY, defaults.fibrillation.enabled)
        detect_flutter = st.checkbox("Find ventricular flutter/fibrillation", key=VF_KEY, on_change=copy_widget_value,
                                     args=(VF_KEY,),
                                     help="From the signal itself (VF filter of Kuo and Dillman, REGIONS.md).")
        settings, errors = apply_valid_settings(defaults, {**values, "fibrillation.enabled": detect_flutter})
        for name, error in errors:  # the box still shows the value typed, so the warning says which one is not used
            label = next((label for key, label, *_ in EVENT_THRESHOLDS if key == name), name)
            st.warning(f"{describe_threshold_error(error)} \"{label}\" is left at its default, "
                       f"{setting_value(defaults, name)}, not the {values[name]} shown; the others are used.")
        if settings != defaults:
            st.caption("Changed from the defaults: the events, summary, report and downloads use these thresholds.")
        st.button("Restore the defaults", key="event_defaults", on_click=restore_saved_settings, args=(defaults,))
    return settings


def describe_threshold_error(error: ValueError) -> str:
    """A settings error in the sidebar's words: each field named as its input is labelled (``bradycardia_bpm=60.0`` ->
    ``"Bradycardia: heart rate under (bpm)" 60.0``), not as the code names it.

    >>> describe_threshold_error(ValueError("Received pause_s=0.2; expected pause_s > 0.5."))
    'Received "Pause: RR longer than (s)" 0.2; expected "Pause: RR longer than (s)" > 0.5.'
    """
    text = str(error)
    for name, label, *_ in sorted(EVENT_THRESHOLDS, key=lambda row: -len(row[0])):
        field = name.rpartition(".")[2]
        text = re.sub(rf"\b{re.escape(field)}=", f'"{label}" ', text)
        text = re.sub(rf"\b{re.escape(field)}\b", f'"{label}"', text)
    return text


def threshold_input(name: str, label: str, low: float, high: float, step: float, help_text: str,
                    default: float) -> float:
    """One threshold's number input, its value kept across runs that do not draw it (:data:`KEPT_VALUES`): its range
    covers the default and a value restored from an uploaded review."""
    key = f"event_{name}"
    current = kept_widget_value(key, default)
    return st.number_input(label, min_value=min(low, default, current), max_value=max(high, default, current),
                           step=step, key=key, help=help_text, on_change=copy_widget_value, args=(key,))


def render_diary(review: loading.Review, record_key: tuple) -> tuple:
    """The patient's diary in the sidebar: a text box (filled from an uploaded ``NAME.diary.csv`` or review file)
    whose entries the overview, the event picker and the downloads show with the rhythm at each. Returns the
    entries; none while the text has an error (shown)."""
    record = review.analysis.record
    key = record_widget_key("diary", shown_record(record_key))
    initial = {} if key in st.session_state else {"value": review.saved_diary or ""}
    clock = ("" if record.start_time is None else
             f" or the clock time in brackets ([14:32]; the recording started at {record.start_time:%H:%M:%S})")
    with st.sidebar.expander("Patient diary", expanded=bool(review.saved_diary)):
        text = st.text_area("One entry per line: time, what the patient noted", key=key, height=120,
                            placeholder="00:12:30, dizzy\n01:05:00, palpitations",
                            help=f"The time since the start of the recording (hh:mm:ss, mm:ss or seconds){clock}; "
                                 "the overview and the report show the rhythm at each entry. Upload NAME.diary.csv "
                                 "with the record to fill it.", **initial)
        try:
            entries, outside = split_diary(text, record.duration_s, record.start_time, source="The diary")
        except DiaryError as error:
            st.error(f"{error} The diary is left out until this is corrected.")
            return ()
        for line in outside:  # left out and said, as the batch does (a watch a minute off the recorder's clock)
            st.warning(f"{line}: outside the recording (00:00:00 to {format_elapsed(record.duration_s)}), left out.")
        if entries:
            st.caption(f"{count_noun(len(entries), 'entry', 'entries')}: Overview tab, the event picker and the "
                       "report.")
    return entries


def reset_navigation(record_key: tuple) -> None:
    """Put the detail window back at the start when another record is shown."""
    if st.session_state.get(_SHOWN_RECORD) == record_key:
        return
    st.session_state[_SHOWN_RECORD] = record_key
    place_window(0.0)
    st.session_state["event_choice"] = NO_EVENT
    st.session_state.pop("beat_choice", None)
    st.session_state.pop(WINDOW_ANCHOR, None)


def render_record_header(analysis) -> None:
    """Record name, length, leads and rate; which model scored it."""
    record = analysis.record
    reference = ("with reference annotations" if record.annotations is not None else
                 "reference annotations left out" if record.annotation_problem else "no reference annotations")
    st.subheader(f"Record {record.name}")
    leads = describe_leads(record.lead_names, record.unused_leads)
    started = "" if record.start_time is None else f", started at {record.start_time:%H:%M:%S} (clock time)"
    st.caption(f"{format_duration(record.duration_s)} (hh:mm:ss){started}, leads {leads}, "
               f"recorded at {record.source_fs_hz:g} Hz, {reference}. Model: {analysis.model_source}")
    if record.annotation_problem:
        st.warning(f"Reference annotations left out (the signal is analysed without them): "
                   f"{record.annotation_problem}")


def render_hrv(summary) -> None:
    """Heart-rate variability of the record summary's normal-to-normal intervals, with how much of the readable time
    they cover (one line when not assessed)."""
    hrv = summary.hrv
    if not hrv.assessed:
        st.markdown("**Heart-rate variability**: not assessed (see the notes below).")
        return
    span = describe_hrv_span(hrv.nn_total_s)
    st.markdown(f"**Heart-rate variability** (normal-to-normal intervals{'; ' + span if span else ''})")
    columns = st.columns(4)
    columns[0].metric("SDNN", tables.format_ms(hrv.sdnn_ms))
    columns[1].metric("RMSSD", tables.format_ms(hrv.rmssd_ms))
    columns[2].metric("pNN50", tables.format_percent(hrv.pnn50_pct))
    columns[3].metric("SDANN (5 min)", tables.format_ms(hrv.sdann_ms))
    if hrv.spectral_segments:
        columns = st.columns(4)
        columns[0].metric("LF power", f"{hrv.lf_ms2:.0f} ms²")
        columns[1].metric("HF power", f"{hrv.hf_ms2:.0f} ms²")
        columns[2].metric("LF/HF", f"{hrv.lf_hf_ratio:.2f}")
        columns[3].metric("5-min spectra", f"{hrv.spectral_segments}")
    columns = st.columns(4)
    columns[0].metric("Poincaré SD1", tables.format_ms(hrv.sd1_ms))
    columns[1].metric("Poincaré SD2", tables.format_ms(hrv.sd2_ms))
    columns[2].metric("Triangular index", f"{hrv.triangular_index:.1f}" if np.isfinite(hrv.triangular_index)
                      else "needs 20 min", help="NN intervals over the height of their histogram (1/128 s bins; "
                                                "Task Force 1996); needs 20 minutes of them.")
    columns[3].metric("Deceleration capacity", f"{hrv.deceleration_capacity_ms:.1f} ms"
                      if np.isfinite(hrv.deceleration_capacity_ms) else "not assessed",
                      help="Phase-rectified signal averaging (Bauer 2006): after myocardial infarction, 2.5 ms or "
                           "less marks a high risk, over 4.5 ms a low one.")
    readable_s = summary.readable_s
    share = f", {100 * hrv.nn_total_s / readable_s:.0f} % of the readable time" if readable_s > 0 else ""
    st.caption(f"{hrv.n_intervals} intervals between readable normal beats ({hrv.nn_total_s / 60:.1f} min{share}), "
               "outside atrial fibrillation, edited as HRV software does (Task Force 1996); LF (0.04-0.15 Hz) and HF "
               "(0.15-0.4 Hz) power: Lomb-Scargle spectra of the 5-minute segments at least 80 % covered, averaged; "
               "SD1 and SD2: spread of successive interval pairs across and along the identity line (Brennan 2001)."
               + (f" {hrv.af_left_out_s / 60:.1f} min of atrial fibrillation left out." if hrv.af_left_out_s else ""))


def render_hrt(analysis) -> None:
    """Heart-rate turbulence after isolated ventricular premature beats: TO, TS, the category and the averaged
    tachogram (one line when not assessed)."""
    summary, settings = analysis.summary.hrt, analysis.region_settings.hrt
    if not summary.assessed:
        st.markdown(f"**Heart-rate turbulence**: {describe_hrt_absence(summary)}.")
        return
    st.markdown("**Heart-rate turbulence** (after isolated ventricular premature beats)")
    columns = st.columns(4)
    columns[0].metric("Turbulence onset", f"{summary.turbulence_onset_pct:.2f} %")
    columns[1].metric("Turbulence slope", f"{summary.turbulence_slope_ms_per_rr:.2f} ms/RR")
    # below the consensus's VPC count the category is not given as a headline (a QA pass, session 49: "HRT1" from 2
    # VPCs, its caution in the fine print); the figure it would be is in the help and the caption
    unreliable = not settings.is_reliable(summary.n_qualifying)
    would = f"From {summary.n_qualifying} VPCs it would read {summary.category}."
    columns[2].metric("Category", "no category" if unreliable else summary.category,
                      help=would if unreliable else None)  # as the report says it (session 57)
    columns[3].metric("VPCs measured", f"{summary.n_qualifying} of {summary.n_vpcs}")
    st.plotly_chart(charts.hrt_tachogram_figure(summary, settings), config=CHART_CONFIG, key="hrt_tachogram")
    span = describe_hrt_span(summary, analysis.summary.duration_s)  # as the report says it
    st.caption(describe_hrt_method(settings) + (f" Caution: {summary.note}." if summary.note else "")
               + (f" {span[0].upper()}{span[1:]}." if span else ""))


def render_st(analysis) -> None:
    """ST-segment analysis: the episodes, the trend of each lead, and the dominant beat with the measurement points
    for the reader to check (one line when not assessed)."""
    summary = analysis.summary.st
    if not summary.assessed:
        st.markdown("**ST segment**: not assessed (see the notes below).")
        return
    settings = analysis.region_settings.st
    st.markdown(f"**ST segment**: {describe_st(summary)}")
    levels = ", ".join(f"{name} {level:+.2f} mV" for name, level in zip(summary.lead_names, summary.reference_mv)
                       if np.isfinite(level))
    stretch = summary.reference_stretch_s
    source = ("the record's own ST level (median over its windows)" if stretch is None else
              f"the ST level of {charts.format_hms(stretch[0])}-{charts.format_hms(stretch[1])} (median over its "
              "windows; sidebar, Event thresholds)")
    st.caption(f"The reference, {source}, against which changes are measured: {levels}.")
    st.plotly_chart(keep_per_source("st_trend", analysis,
                                    lambda: charts.st_trend_figure(summary, analysis.summary.duration_s)),
                    config=CHART_CONFIG, key="st_trend")
    if summary.episodes:
        st.dataframe(tables.st_episode_table(summary), hide_index=True, key="st_episodes")
        chosen = st.selectbox("ST episode to compare with the dominant beat", range(len(summary.episodes)),
                              key="st_episode", format_func=lambda k: tables.st_label(summary, tables.ST_CHOICE - k))
        beats = keep_per_source(f"st_episode_beats_{chosen}", analysis,
                                lambda: st_episode_beats(analysis, summary.episodes[chosen]))
        if beats is not None:  # the figures too are kept per analysis (every rerun drew them: session 63's profile)
            st.plotly_chart(keep_per_source(f"st_beats_figure_{chosen}", analysis, lambda: charts.st_beats_figure(
                *beats, analysis.record.fs_hz, summary.episodes[chosen], summary.fiducials, settings.template_before_s,
                settings.st_offset_ms)), config=CHART_CONFIG, key="st_beats")
    template = keep_per_source("st_template", analysis, lambda: st_template(analysis))
    if template is not None:
        with st.expander("Measurement points on the dominant beat"):
            st.plotly_chart(keep_per_source("st_template_figure", analysis, lambda: charts.st_template_figure(
                template, analysis.record.fs_hz, summary.lead_names, summary.fiducials, settings.template_before_s,
                settings.st_offset_ms)), config=CHART_CONFIG, key="st_points")
    st.caption(describe_method(settings))


def render_qt(analysis) -> None:
    """QT and QTc: the record's medians and longest QTc, the trend, and the dominant beat with the QRS onset and the
    T end for the reader to check (one line when not assessed)."""
    summary = analysis.summary.qt
    if not summary.assessed:
        st.markdown("**QT interval**: not assessed (see the notes below).")
        return
    settings = analysis.region_settings
    longest, at = summary.longest_qtc()
    st.markdown(f"**QT interval** ({summary.lead_name}, medians over {summary.measured_windows} windows of "
                f"{summary.window_s / 60:g} min)")
    if not is_steady_qt(summary):  # the report gives no figure then; here the reader checks the dominant beat below
        st.warning(f"Not reported on the PDF report: {unsteady_qt_note(summary)}.")
    columns = st.columns(4)
    columns[0].metric("QT", tables.format_ms(summary.median(np.asarray(summary.qt_ms))))
    columns[1].metric("QTc Fridericia", tables.format_ms(summary.median(summary.qtc_fridericia_ms)))
    bias = describe_bazett_bias(summary).removeprefix(", ")
    columns[2].metric("QTc Bazett", tables.format_ms(summary.median(summary.qtc_bazett_ms)),
                      help=f"Bazett's correction, {bias}: Fridericia's is the one to read here" if bias else None)
    if is_steady_qt(summary):
        columns[3].metric("Longest QTc (Fridericia)", tables.format_ms(longest), help=f"at {charts.format_hms(at)}; "
                          "the running median of five windows, so that one window's T end does not make it")
    else:
        columns[3].metric("Longest QTc (Fridericia)", "not given", help="The end of the T wave is uncertain in many "
                          "windows (see the notes): check the windows of the QT table on the dominant beat")
    st.plotly_chart(keep_per_source("qtc_trend_figure", analysis, lambda: charts.qtc_trend_figure(
        summary, analysis.summary.duration_s)), config=CHART_CONFIG, key="qtc_trend")
    beat = keep_per_source("qt_dominant_beat", analysis, lambda: qt_dominant_beat(analysis))
    if beat is not None:
        with st.expander("QRS onset and T end on the dominant beat"):
            st.plotly_chart(keep_per_source("qt_beat_figure", analysis, lambda: charts.qt_beat_figure(
                beat[0], analysis.record.fs_hz, settings.st.template_before_s, analysis.summary.st.fiducials.onset_ms,
                beat[1], summary.lead_name)), config=CHART_CONFIG, key="qt_beat")
    st.caption(describe_qt_method())


def render_pr(analysis) -> None:
    """The PR interval of the median beat (:mod:`pipeline.pr`), with that beat's P onset and QRS onset for the reader
    to check; one line when not assessed."""
    summary = analysis.summary.pr
    if not summary.assessed:
        st.markdown(f"**PR interval**: {describe_pr(summary)}.")
        return
    st.markdown(f"**PR interval** (the median of {summary.n_beats} normal beats outside atrial fibrillation/flutter): "
                f"{describe_pr(summary)}")
    with st.expander("P onset and QRS onset on the median beat"):
        st.plotly_chart(charts.pr_beat_figure(summary, analysis.record.fs_hz,
                                              analysis.region_settings.pr.template_before_s),
                        config=CHART_CONFIG, key="pr_beat")


def render_overview(analysis) -> None:
    """The predominant rhythm, heart rate, beat counts, burdens, events, readable signal, AF burden and what could not
    be assessed."""
    summary = analysis.summary
    st.markdown(f"**Predominant rhythm:** {summary.predominant_rhythm.describe()}",
                help="The rhythm the events interrupt: ventricular flutter/fibrillation or atrial fibrillation/flutter "
                     "over half the record or more, paced (a stated pacemaker pacing most beats, or, with none stated, "
                     "pacing spikes before a quarter of the readable beats or more), or sinus when the "
                     "normal beats show a consistent P wave, named by the mean heart rate (bradycardia under 50 bpm, "
                     "tachycardia over 100) or with 2:1 AV block when the block covers half the record; to be "
                     "confirmed on the ECG.")
    findings = describe_main_findings(analysis)
    if findings:
        st.markdown(f"**Main findings:** {findings}",
                    help="The events and measurements a reader looks for first, most urgent first: ventricular "
                         "flutter/fibrillation and tachycardia, atrial fibrillation/flutter (when not the predominant "
                         "rhythm), AV block, pauses of 3 s or more, supraventricular tachycardia, a long QTc, ST "
                         "episodes, a ventricular burden of 10 % or more (not with pacing) and a long PR interval; "
                         "\"check\" where every event of a kind is of low confidence or in noise. Details in the "
                         "events below.")
    if analysis.record.pacemaker is None and reads_as_spiked(summary.pacing_spike_share):
        st.warning(f"Pacing spikes before {100 * summary.pacing_spike_share:.0f} % of the readable beats: if the "
                   "patient has a pacemaker, tick **The patient has a pacemaker** in the sidebar, so that the paced "
                   "beats are labelled paced and the events are found again.")
    columns = st.columns(3)
    # 1-minute averages: a clinical read of the dashboard (session 60) found 223's "max 98 bpm" beside its VT at 105
    columns[0].metric("Heart rate min (1-min average)", tables.format_rate(summary.heart_rate_min_bpm),
                      help="A pause or a slower stretch can last under a minute: see the events.")
    columns[1].metric("Heart rate mean", tables.format_rate(summary.heart_rate_mean_bpm))
    columns[2].metric("Heart rate max (1-min average)", tables.format_rate(summary.heart_rate_max_bpm),
                      help="A faster run or tachycardia can last under a minute: see the events.")
    st.caption(tables.describe_extremes(analysis))
    if len(summary.heart_rate_trend_bpm) > 1:
        st.plotly_chart(charts.heart_rate_trend_figure(summary.heart_rate_trend_bpm, summary.trend_window_s,
                                                       summary.duration_s, summary.heart_rate_minutes_bpm,
                                                       summary.hr_window_s), config=CHART_CONFIG, key="hr_trend")
    else:
        st.caption(f"Heart-rate trend: one value per {summary.trend_window_s / 60:g} min; this record is "
                   f"{format_duration(summary.duration_s)} long, so the mean above is the whole trend.")
    st.markdown("**Beats per class**")
    for column, letter, count in zip(st.columns(len(AAMI_CLASSES)), AAMI_CLASSES, summary.beat_counts):
        column.metric(f"{letter} beats", f"{count}")
    if summary.n_beats_unreadable:
        st.caption(f"{summary.n_beats_unreadable} more beats lie in unreadable signal (or ventricular "
                   "flutter/fibrillation): they keep their labels in the beat table but are not counted here or in "
                   "the burdens.")
    columns = st.columns(4)
    columns[0].metric("Ventricular burden", tables.format_percent(summary.ventricular_burden_pct))
    columns[1].metric("Supraventricular burden", tables.format_percent(summary.supraventricular_burden_pct))
    columns[2].metric("AF/flutter burden", tables.format_percent(summary.af_burden_pct))
    columns[3].metric("Readable signal", tables.format_percent(100 * summary.readable_fraction))
    if described := describe_beat_edits(analysis.beat_edits, analysis.record.fs_hz):
        st.caption(f"{described} (ECG tab, under the detail chart, where each is listed).")
    if analysis.af_edits:  # a clinical read (session 63): corrected figures read as the analysis's own
        st.caption(f"{describe_af_edits(analysis.af_edits, analysis.record.fs_hz)} (ECG tab, under the event "
                   "buttons).")
    if summary.ventricular_forms.name not in ("none", "not assessed"):
        st.caption(f"Ventricular ectopic beats: {summary.ventricular_forms.describe()}. A QRS shape is a morphology "
                   "family of at least two of them (\"Review labels\" shows the families); a shape that changes "
                   "with the axis or noise splits, so the number is an upper bound.")
    st.markdown("**Events by type**")
    events = tables.event_tally_table(summary)
    if events.empty:
        st.write("No events flagged.")
    else:
        st.table(events.set_index("event"))
        st.caption("Durations leave out the unreadable stretches inside an event (as the AF/flutter burden does).")
    render_hrv(summary)
    render_hrt(analysis)
    render_st(analysis)
    render_qt(analysis)
    render_pr(analysis)
    if summary.hourly:
        kind = "clock hours" if analysis.record.start_time else "hours from the start"
        with st.expander(f"By hour ({count_noun(len(summary.hourly), 'row')}, {kind})"):
            st.dataframe(tables.hourly_table(summary, analysis.record.start_time), hide_index=True)
            st.caption("ST change low and high: the lowest and highest change of the ST level from the ST reference "
                       "(the record's own level unless a reference stretch is set), over the leads, in mV; not the "
                       "ST level itself.")
    if analysis.diary:
        st.markdown(f"**Patient diary**: {summarize_findings(diary_findings(analysis))}")
        st.dataframe(tables.diary_table(analysis), hide_index=True, key="diary_table",
                     column_config={"ECG within a minute": st.column_config.TextColumn(width="large")})
    render_notes(summary.notes)
    st.caption(describe_thresholds(analysis.region_settings))
    st.caption(f"Model used: {analysis.model_source}")


def render_notes(notes: tuple[str, ...]) -> None:
    """What could not be assessed and what to check (a QTc of 500 ms or more, a QRS near the bundle branch block
    limit), as plain sentences."""
    if notes:
        st.markdown("**Notes: what could not be assessed, and what to check**")
        st.markdown("\n".join(f"- {note[:1].upper()}{note[1:]}" for note in notes))  # notes are clauses


def render_ecg(review: loading.Review, model_reference: str, record_key: tuple) -> None:
    """Window controls, whole-record overview, detail window, event list and the chosen beat."""
    analysis = review.analysis
    record = analysis.record
    start_s, window_s = render_window_controls(analysis)
    primary = record.primary_lead
    diary = tuple((entry.time_s, entry.text) for entry in analysis.diary)
    envelope = keep_per_source(f"overview_envelope_{primary}", record.signal_mv,  # the same with a pacemaker stated
                               lambda: charts.decimate_minmax(record.signal_mv[:, primary]))
    st.plotly_chart(charts.overview_figure(record.signal_mv[:, primary], record.fs_hz, record.lead_names[primary],
                                           analysis.regions, (start_s, window_s), diary=diary, envelope=envelope),
                    config=ECG_CHART_CONFIG, key="overview_chart")
    show_disagreements = review.comparison is not None and st.checkbox(
        "Mark disagreements with the reference annotations", value=True, key="show_disagreements")
    disagreements = review.comparison.disagreements if show_disagreements else None
    labelled = stacked_lead(analysis) if charts.count_rows(window_s) > 1 else primary  # every lead at 10 s or less
    record_gain = keep_per_source("strip_gain", record.signal_mv, lambda: strip_gain_mm_per_mv(record))
    gain = charts.window_gain_mm_per_mv(record.signal_mv, record.fs_hz, start_s, window_s, labelled, record_gain)
    beats = keep_per_source("lettered_beats", analysis, lambda: ~find_wave_detections(analysis))  # as the strips:
    chosen_beat = settle_beat_choice(analysis, start_s, window_s)
    chosen_sample = None if chosen_beat is None else int(analysis.predictions.samples[chosen_beat])
    calipers = shown_calipers(start_s, window_s)
    st.plotly_chart(charts.detail_figure(record.signal_mv, record.fs_hz, record.lead_names, start_s, window_s,
                                         analysis.predictions.samples[beats], analysis.classes[beats],  # no letter on
                                         analysis.regions, labelled, disagreements,  # a flutter wave (session 61)
                                         analysis.reviewed_mask[beats], diary, gain,
                                         keep_per_source("blocked_p", analysis,
                                                         lambda: find_blocked_p_samples(analysis)),
                                         chosen_region(analysis),
                                         chosen_sample, None if calipers is None else calipers[0],
                                         added_beats(analysis)[beats], deleted_beat_samples(analysis),
                                         net_af_edits(analysis.af_edits) if analysis.af_edits else None),
                    config=ECG_CHART_CONFIG, key=DETAIL_CHART, selection_mode=("points", "box"),
                    on_select=functools.partial(use_chart_selection, analysis, start_s, window_s))
    st.caption(describe_paper(gain, record_gain) + " Grey numbers at the foot: RR intervals (ms), between the beats "
               "found.")
    if chosen_beat is not None:
        st.markdown(tables.describe_chosen_beat(analysis, chosen_beat))
    if calipers is None:
        st.caption("Click a beat's letter to choose it (blue band) for the beat panel below; then its class's key "
                   "(N, S, V, F, Q) relabels it, PageDown goes to the next beat and Delete deletes it (no QRS there). "
                   "Calipers: choose Box Select in the chart's toolbar, then drag across the chart (within one row of "
                   "a stacked window); dragged across a QRS with no beat mark, \"Add beat\" below adds it.")
    else:
        columns = st.columns([5, 1], vertical_alignment="center")
        columns[0].markdown(tables.describe_calipers(*calipers[0]) + (" The drag went past the window's edge: the "
                                                                      "span stops there." if calipers[1] else ""))
        columns[1].button("Remove calipers", key="remove_calipers", on_click=st.session_state.pop,
                          args=(CALIPERS, None), help="Clicking a beat chooses it again.")
    render_event_relabel(analysis, record_key)
    render_artefacts(analysis, record_key, start_s, window_s)
    render_beat_edits(analysis, record_key, start_s, window_s)
    render_af_edits(analysis, record_key, start_s, window_s)
    render_chosen_strips(analysis, record_key, start_s, window_s)
    kind = st.session_state.get("event_kind", ALL_KINDS)
    listed = tables.filter_events(analysis.regions, kind, len(analysis.regions))  # the picker's type, as its list
    st.markdown("**Event list**" if kind == ALL_KINDS else f"**Event list: {charts.kind_label(kind)}**")
    table = keep_per_source("event_table", analysis, lambda: tables.region_table(
        analysis.regions, record.fs_hz, noisy_lead_names(analysis),
        {analysis.regions.index(region): longest for region, longest in find_hidden_ventricular_runs(analysis)}))
    st.dataframe(table if kind == ALL_KINDS else table.iloc[listed], hide_index=True,
                 key=(key := f"{list_table_key(analysis)}_{kind}"), selection_mode="single-row",
                 on_select=functools.partial(go_to_listed_event, analysis, key, listed))
    st.caption(CONFIDENCE_TEXT)
    render_disclosure(analysis, start_s, window_s)
    render_lorenz(analysis)
    render_rr_histogram(analysis)
    render_beat(review, model_reference, record_key, start_s, window_s)


def settle_beat_choice(analysis, start_s: float, window_s: float) -> int | None:
    """The beat chosen in the beat panel, set before the detail chart is drawn so that the chart marks it: the one
    chosen when it lies in the window, else the window's first ectopic beat, else its first beat; None when the window
    has no beat."""
    indices = tables.beats_in_window(analysis.predictions.samples, analysis.record.fs_hz, start_s, window_s)
    if len(indices) == 0:
        return None
    if st.session_state.get("beat_choice") not in set(indices.tolist()):
        st.session_state["beat_choice"] = tables.default_beat(analysis.classes, indices)
    return int(st.session_state["beat_choice"])


def shown_calipers(start_s: float, window_s: float) -> tuple[tuple[float, float], bool] | None:
    """The span measured with the calipers in this window and whether it was cut at the window's edge; none once the
    window has moved or changed length."""
    window, span, cut = st.session_state.get(CALIPERS, (None, None, False))
    if window is None:
        return None
    if not np.allclose(window, (start_s, window_s)):
        st.session_state.pop(CALIPERS, None)
        return None
    return span, cut


def use_chart_selection(analysis, start_s: float, window_s: float) -> None:
    """Callback of the detail chart. A span dragged across it is measured (calipers); a click on a beat's letter, or on
    a mark beside a beat (a reference disagreement's cross: :data:`tables.CLICK_REACH_S`), chooses the beat in the
    beat panel (a click on the trace itself selects nothing: Plotly selects markers and text only); a double-click,
    which clears the chart's selection, removes the calipers when the chart still holds the span. A clinical read of
    the dashboard (session 60) found no calipers and a beat chosen only from a picker of its number and time."""
    selection = st.session_state.get(DETAIL_CHART, {}).get("selection", {})
    boxes = [box for box in selection.get("box", []) if len(box.get("x", [])) >= 2]
    if boxes:
        dragged = sorted(charts.from_axis_value(x) for x in boxes[0]["x"][:2])
        edges = [min(max(edge, start_s), start_s + window_s) for edge in dragged]
        if edges[1] - edges[0] >= MIN_CALIPERS_S:  # not a click's jitter, nor a span wholly past the window's end
            st.session_state[CALIPERS] = ((start_s, window_s), tuple(edges), edges != dragged)
        return
    points = selection.get("points", [])
    if not points:
        st.session_state.pop(CALIPERS, None)
        return
    index = tables.find_clicked_beat(analysis, points[0])
    if index is not None:
        st.session_state["beat_choice"] = index  # the window, and what anchors it, stay


def list_table_key(analysis) -> str:
    """The event list's widget key, a new one for each analysis shown (another record, a reader's edit, a threshold):
    Streamlit keeps a keyed table's selection whatever its rows, so a row chosen before an edit stayed highlighted
    over another event after it (a code review, session 61)."""
    def count_analyses() -> int:
        st.session_state[_LISTED_TABLES] = st.session_state.get(_LISTED_TABLES, 0) + 1
        return st.session_state[_LISTED_TABLES]
    return f"event_table_{keep_per_source('event_table_serial', analysis, count_analyses)}"


def go_to_listed_event(analysis, key: str, listed: list[int]) -> None:
    """Callback of the event list ``key``, whose rows show the regions ``listed``: the clicked row's event is chosen in
    the picker (with its type, where the picker's type does not list it) and shown in the detail window, as Previous
    and Next show theirs; a click that
    clears the row chosen (the grid's second click on it) goes to its event again, after Previous or Next moved away
    (in a browser the first click on it after such a move was seen to do nothing, session 61). A clinical read
    of the dashboard (session 60) found the rows could not be clicked: 223's first VT was row 47 of 350, reached only
    through the picker."""
    rows = [listed[row] for row in st.session_state.get(key, {}).get("selection", {}).get("rows", [])
            if 0 <= row < len(listed)]
    last_key, last_row = st.session_state.get(_LISTED_ROW, (None, None))
    rows = rows or ([last_row] if last_key == key else [])
    chosen = tables.choose_listed_event(analysis.regions, st.session_state.get("event_kind", ALL_KINDS), rows,
                                        MAX_EVENT_CHOICES)
    if chosen is not None:
        st.session_state["event_kind"], index = chosen
        st.session_state[_LISTED_ROW] = (key, index)
        step_to_event(analysis, index)


DISCLOSURE_PAGE = "disclosure_page"
"""Widget key: the page of the on-screen full disclosure (:func:`render_disclosure`)."""
DISCLOSURE_CHART = "disclosure_chart"
_DISCLOSURE_SHOWN = "disclosure_page_shown"
"""Session key: the full disclosure page shown, kept while the detail window overlaps it."""


def render_disclosure(analysis, start_s: float, window_s: float) -> None:
    """The full disclosure on screen, when asked for: the page of :data:`charts.DISCLOSURE_MINUTES` minutes holding the
    detail window, a minute of the primary lead per row as the PDF prints it (cleaned, one scale for the record, the
    beats other than N labelled, the episodes shaded), with the detail window outlined; a click on a row centres the
    window there, and another page moves the window to its start. Holter review software scans a recording this way;
    a clinical read of the dashboard (session 60) found it only in the PDF."""
    record = analysis.record
    if not st.toggle("Full disclosure", key="show_disclosure",
                     help=f"{charts.DISCLOSURE_MINUTES} minutes a page, a minute per row, around the window above."):
        return
    page_s = charts.DISCLOSURE_PAGE_S
    n_pages = max(int(np.ceil(record.duration_s / page_s)), 1)
    page = st.session_state.get(_DISCLOSURE_SHOWN)
    if not isinstance(page, int) or not 0 <= page < n_pages or not (page * page_s < start_s + window_s
                                                                    and start_s < (page + 1) * page_s):
        page = min(int(start_s // page_s), n_pages - 1)  # the page follows the window when it leaves the page
    st.session_state[_DISCLOSURE_SHOWN] = st.session_state[DISCLOSURE_PAGE] = page
    def name_page(k: int) -> str:
        return f"{charts.format_hms(k * page_s)} to {charts.format_hms(min((k + 1) * page_s, record.duration_s))}"

    st.selectbox("Page", range(n_pages), key=DISCLOSURE_PAGE, on_change=go_to_disclosure_page, args=(analysis,),
                 format_func=name_page)
    page_start = page * page_s
    scale = keep_per_source("disclosure_scale", record.signal_mv,
                            lambda: disclosure.lead_scale(record, record.primary_lead))
    trace, _ = disclosure.page_trace(record, page_start, min(page_start + page_s, record.duration_s))
    n_rows = int(np.ceil((min(page_start + page_s, record.duration_s) - page_start) / disclosure.LINE_S))
    clock = record.start_time
    starts = [page_start + k * disclosure.LINE_S for k in range(n_rows)]
    names = [format_clock_time(t, clock) or charts.format_hms(t) for t in starts]
    samples, classes = analysis.predictions.samples, analysis.classes
    lettered = keep_per_source("disclosure_letters", analysis, lambda: disclosure.lettered_beats(analysis))
    figure = charts.disclosure_figure(scale.factor * trace + scale.shift_mv, record.fs_hz, page_start, names,
                                      (samples[lettered], classes[lettered]), analysis.regions, (start_s, window_s),
                                      tuple((entry.time_s, entry.text) for entry in analysis.diary))
    st.plotly_chart(figure, config=CHART_CONFIG, key=DISCLOSURE_CHART, selection_mode="points",
                    on_select=functools.partial(go_to_disclosure_point, analysis, page_start))
    shades = ", ".join(dict(disclosure.EPISODE_SHADES.values()))  # each short name once
    st.caption(f"{record.lead_names[record.primary_lead]} (0.5-40 Hz), one minute per row at one scale for the record "
               f"(x {scale.factor:.2f}); beats other than N labelled; shaded and named: {shades}, unreadable grey; "
               "green line: a diary entry; blue outline: the detail window. Click a row to show that moment in the "
               "detail window.")


def go_to_disclosure_page(analysis) -> None:
    """Callback of the full disclosure's page picker: that page shown, the detail window at its start (the last
    page's window ends with the record, so it may start on the page before: the page stays chosen while the window
    overlaps it, a code review of session 62)."""
    page_s = charts.DISCLOSURE_PAGE_S
    st.session_state.pop(WINDOW_ANCHOR, None)
    st.session_state["event_choice"] = NO_EVENT
    st.session_state[_DISCLOSURE_SHOWN] = st.session_state.get(DISCLOSURE_PAGE, 0)
    place_window(st.session_state[_DISCLOSURE_SHOWN] * page_s)


def go_to_disclosure_point(analysis, page_start_s: float) -> None:
    """Callback of the full disclosure chart: the detail window centred on the point clicked."""
    points = st.session_state.get(DISCLOSURE_CHART, {}).get("selection", {}).get("points", [])
    if points and isinstance(points[0].get("x"), (int, float)) and isinstance(points[0].get("y"), (int, float)):
        time_s = charts.disclosure_time(points[0]["x"], points[0]["y"], page_start_s)
        centre_window(analysis, min(max(time_s, 0.0), analysis.record.duration_s))


def render_lorenz(analysis) -> None:
    """The record's RR scatter (Lorenz plot) by beat class; clicking a point shows that beat."""
    points, total = keep_per_source("lorenz_points", analysis, lambda: lorenz_points(analysis))
    st.markdown("**RR scatter (Lorenz plot)**")
    if points.empty:
        st.caption("Too few beats with readable intervals on both sides for an RR scatter.")
        return
    st.plotly_chart(keep_per_source("lorenz_figure", analysis, lambda: charts.lorenz_figure(points)),
                    config=CHART_CONFIG, key="lorenz_chart", selection_mode="points",
                    on_select=functools.partial(go_to_lorenz_point, analysis))
    thinned = (f" {len(points)} of {total} beats drawn: normal beats thinned evenly, every other beat kept."
               if len(points) < total else "")
    st.caption("Each beat's RR interval after it against the one before it: sinus beats lie along the identity "
               "line, premature beats with a pause after them above it on the left, atrial fibrillation spreads as "
               "a fan. A beat is drawn when both its intervals are readable, so the counts fall a few short of the "
               "summary's. Click a point to show its beat in the window above." + thinned)


def render_rr_histogram(analysis) -> None:
    """The record's RR interval histogram, normal-to-normal intervals and the others stacked."""
    histogram = rr_histogram(analysis)
    st.markdown("**RR interval histogram**")
    if histogram.empty:
        st.caption("No readable RR interval for a histogram.")
        return
    st.plotly_chart(charts.rr_histogram_figure(histogram), config=CHART_CONFIG, key="rr_histogram_chart")
    st.caption(f"{int(histogram['nn'].sum() + histogram['other'].sum())} readable RR intervals in "
               f"{RR_HISTOGRAM_BIN_MS:.0f} ms bins (intervals of {RR_HISTOGRAM_MAX_MS:.0f} ms or more share the last "
               "one): sinus rhythm gives one narrow peak, atrial fibrillation a broad one, 2:1 conduction or bigeminy "
               "two. Intervals across unreadable signal are left out.")


def go_to_lorenz_point(analysis) -> None:
    """Callback of the RR scatter: show the clicked beat (the first point selected)."""
    points = st.session_state.get("lorenz_chart", {}).get("selection", {}).get("points", [])
    beat = points[0].get("customdata") if points else None
    if isinstance(beat, (int, float)) and 0 <= beat < len(analysis.predictions.samples):
        go_to_beat(analysis, int(beat))


def render_window_controls(analysis) -> tuple[float, float]:
    """Event picker, window start and length; returns the (clamped) window shown."""
    record = analysis.record
    duration_s = record.duration_s
    columns = st.columns([2, 3, 2, 2])
    regions = analysis.regions
    # the record's kinds in the region finder's order (flutter/fibrillation, AF, ventricular, supraventricular, pauses,
    # rates), not as they first occur (a QA pass, session 49)
    kinds = [ALL_KINDS, *sorted({r.kind for r in regions}, key=REGION_KINDS.index)]
    settle_window_start()
    kind = columns[0].selectbox("Event type", kinds, key="event_kind",
                                format_func=lambda k: "All events" if k == ALL_KINDS else charts.kind_label(k))
    matching = tables.filter_events(regions, kind, len(regions))
    shown = matching[:MAX_EVENT_CHOICES]
    if kind == ALL_KINDS:
        shown = (tables.list_extremes(analysis.summary) + tables.list_st_choices(analysis.summary.st)
                 + tables.list_diary_choices(analysis.diary) + shown)
    choice = follow_chosen_event(analysis)
    if 0 <= choice < len(regions) and choice not in shown and choice in set(matching):
        shown = [*shown, choice]  # one past the picker's first events (a row of the event list, Previous, Next)
    if choice not in shown:
        st.session_state["event_choice"] = NO_EVENT
    columns[1].selectbox("Go to event", [NO_EVENT, *shown], key="event_choice",
                         format_func=functools.partial(event_choice_label, analysis),
                         on_change=move_to_event, args=(analysis,),
                         help=f"The lowest and highest heart rate, the longest RR interval, the ST episodes and "
                              f"the diary's entries, then at most "
                              f"{MAX_EVENT_CHOICES} events; choose a type to narrow the list.")
    window_s = columns[3].select_slider("Window (s)", WINDOW_CHOICES_S, value=DEFAULT_WINDOW_S, key="window_s",
                                        on_change=change_window_length, args=(analysis,))
    st.session_state["shown_window_s"] = window_s
    max_start = max(duration_s - min(window_s, duration_s), 0.0)
    st.session_state["window_start_s"] = float(min(max(st.session_state.get("window_start_s", 0.0), 0.0), max_start))
    st.session_state[PLACED_START] = st.session_state["window_start_s"]
    start_s = columns[2].number_input("Window start (s)", min_value=0.0, max_value=float(max_start), step=1.0,
                                      key="window_start_s", on_change=note_start_edit)
    start_s, window_s = charts.clamp_window(start_s, window_s, duration_s)
    if len(matching) > MAX_EVENT_CHOICES:  # the picker's cut said on the page, not only in its help (a 24-h QA pass)
        columns[1].caption(f"The first {MAX_EVENT_CHOICES:,} of {len(matching):,} events are listed; Previous and Next "
                           "step through them all, or choose a type.")
    render_event_steps(analysis, kind, start_s)
    rows = (f"; {record.lead_names[stacked_lead(analysis)]} alone, in rows of "
            f"{charts.ROW_S:g} s (every lead at {charts.ROW_S:g} s or less)" if charts.count_rows(window_s) > 1 else "")
    decimals = 0 if float(start_s).is_integer() and float(window_s).is_integer() else 1  # a start of 102.5 s
    st.caption(f"Detail window {charts.format_hms(start_s, decimals)} to "
               f"{charts.format_hms(start_s + window_s, decimals)} "
               f"of {format_duration(duration_s)}{rows}")  # the record's length, as its caption above gives it
    return start_s, window_s


def stacked_lead(analysis) -> int:
    """The lead a detail window over :data:`charts.ROW_S` shows in stacked rows: after a jump to an ST episode, the
    episode's lead (it may not be the primary one: 124's is V4), else the primary lead."""
    kind, target = st.session_state.get(WINDOW_ANCHOR, (None, None))
    episodes = analysis.summary.st.episodes
    if (kind == "event" and event_choice() == target and tables.is_st_choice(target)
            and 0 <= tables.ST_CHOICE - target < len(episodes)):
        return episodes[tables.ST_CHOICE - target].lead
    return analysis.record.primary_lead


def place_window(start_s: float) -> None:
    """Put the detail window at ``start_s`` (clamped to the record when the controls are drawn), from a callback or
    when another record is shown."""
    st.session_state["window_start_s"] = start_s
    st.session_state[PLACED_START] = start_s
    st.session_state[WINDOW_PLACED] = True


def note_start_edit() -> None:
    """Callback of the window start: noted, and judged when the controls are drawn (:func:`settle_window_start`)."""
    st.session_state[START_EDITED] = True


def settle_window_start() -> None:
    """Before the window controls are drawn: when the start box changed and no callback of the same request placed
    the window, the reader placed it, so a change of length keeps its middle and no event is chosen any more
    (choosing the same one again then goes back to it: a picker that kept it would not). When a callback did place it
    (a length change, a jump), the box's change was the browser sending back a start it showed before that rerun was
    cut short: the callback's start stands (it was set after the browser's value), and the event stays chosen."""
    placed, edited = st.session_state.pop(WINDOW_PLACED, False), st.session_state.pop(START_EDITED, False)
    if edited and not placed:
        st.session_state.pop(WINDOW_ANCHOR, None)
        st.session_state["event_choice"] = NO_EVENT


def change_window_length(analysis) -> None:
    """When the window's length changes: after a jump to an event or a beat, place the window on it again as the jump
    would at the new length (an event stays in view when the window shrinks); otherwise keep what was in the window's
    middle there (:func:`tables.middle_offset_s`). The start is clamped to the record when the controls are drawn.

    The length and start the window now has are noted here (:func:`place_window`), not only when the controls are
    drawn: quick changes (arrow keys held on the slider) can stop a rerun before it draws them, and the next change must
    start from this window, not from the start the browser still shows (:data:`PLACED_START`).
    """
    kind, target = st.session_state.get(WINDOW_ANCHOR, (None, None))
    before = st.session_state.get("shown_window_s", DEFAULT_WINDOW_S)
    st.session_state["shown_window_s"] = st.session_state["window_s"]
    if kind == "event" and event_choice() == target:
        move_to_event(analysis)
        return
    if kind == "beat" and 0 <= target < len(analysis.predictions.samples):
        go_to_beat(analysis, target)
        return
    start_s = st.session_state.get(PLACED_START, st.session_state.get("window_start_s", 0.0))
    moved = start_s + tables.middle_offset_s(before) - tables.middle_offset_s(st.session_state["window_s"])
    place_window(round(max(moved, 0.0), 2))


def ecg_shortcut(key: str) -> str | None:
    """``key`` as a button's shortcut on the ECG tab while that tab is shown, else none (:data:`_SHORTCUTS_ON`)."""
    return key if st.session_state.get(_SHORTCUTS_ON, False) else None


def render_event_steps(analysis, kind: str, start_s: float) -> None:
    """Previous and next event of the chosen type (every event for "All events"), for reviewing events one after
    the other as a Holter reader does, also from the keyboard (Shift+PageUp, Shift+PageDown); where the chosen event
    stands among them."""
    regions, fs = analysis.regions, analysis.record.fs_hz
    current = event_choice()
    columns = st.columns([1.6, 1.6, 1.3, 1.5], vertical_alignment="center")  # room for the key's badge
    for column, label, step, key in ((columns[0], "◀ Previous event", -1, "Shift+PageUp"),
                                     (columns[1], "Next event ▶", 1, "Shift+PageDown")):
        target = tables.step_event(regions, kind, current, start_s, fs, step)
        column.button(label, key=f"event_step_{step}", on_click=step_event_now, args=(analysis, step),
                      disabled=target is None, use_container_width=True, shortcut=ecg_shortcut(key),
                      help=f"Key {key} (on this tab); PageUp and PageDown alone step beat by beat.")
    render_time_jump(analysis, columns[2])
    position, total = tables.event_position(regions, kind, current)
    what = "Event" if kind == ALL_KINDS else charts.kind_label(kind)
    columns[3].caption(f"{what} {position} of {total}" if position else
                       f"{'Events' if kind == ALL_KINDS else 'Events of this type'} in the record: {total}; "
                       "Previous and Next step from the window shown." if total
                       else "No event of this type.")


def chosen_region(analysis) -> Region | None:
    """The event chosen in the picker (or the event list), None when an extreme, an ST episode, a diary entry or
    nothing is."""
    index = event_choice()
    return analysis.regions[index] if 0 <= index < len(analysis.regions) else None


def render_time_jump(analysis, column) -> None:
    """A box to go to a time typed as a reader has it (hh:mm:ss into the recording, or a clock time in brackets when
    the header gives the start), beside Previous and Next; what was wrong with it, when it could not be read. A
    clinical read of the dashboard (session 60) found the window's start typed in seconds only, while every time on
    the page is hh:mm:ss."""
    clock = " or a clock time [14:32]" if analysis.record.start_time is not None else ""
    column.text_input("Go to time", key=GO_TO_TIME, placeholder="Go to time: hh:mm:ss", label_visibility="collapsed",
                      on_change=go_to_time, args=(analysis,),
                      help=f"A time into the recording (hh:mm:ss, mm:ss or seconds){clock}: the window is centred "
                           "on it.")
    problem = st.session_state.pop(_TIME_PROBLEM, None)
    if problem:
        column.caption(problem)


def go_to_time(analysis) -> None:
    """Callback of the time box: centre the window on the time typed (no event chosen any more), or say why not."""
    text = st.session_state.get(GO_TO_TIME, "").strip()
    if not text:
        return
    duration_s = analysis.record.duration_s
    try:
        time_s = parse_diary_time(text, analysis.record.start_time, where="Go to time")
    except DiaryError as error:
        st.session_state[_TIME_PROBLEM] = str(error)
        return
    if not 0.0 <= time_s <= duration_s:
        st.session_state[_TIME_PROBLEM] = (f"Go to time: {text} lies outside the recording, which lasts "
                                           f"{format_duration(duration_s)}.")
        return
    centre_window(analysis, time_s)


def centre_window(analysis, time_s: float) -> None:
    """Centre the detail window on ``time_s`` (s into the recording), no event chosen any more: a time typed, a
    disagreement without a beat of the analysis."""
    st.session_state.pop(WINDOW_ANCHOR, None)
    st.session_state["event_choice"] = NO_EVENT
    window_s = st.session_state.get("window_s", DEFAULT_WINDOW_S)
    place_window(tables.centred_window_start(time_s, window_s, analysis.record.duration_s))


def step_event_now(analysis, step: int) -> None:
    """Callback of the Previous and Next buttons: the event ``step`` from the one chosen (or from the window), of the
    type chosen, as they are when the button is pressed: a key pressed again before the page was drawn again would
    otherwise repeat the step the page was drawn with (a code review, session 62)."""
    target = tables.step_event(analysis.regions, st.session_state.get("event_kind", ALL_KINDS),
                               event_choice(), current_window()[0],
                               analysis.record.fs_hz, step)
    step_to_event(analysis, target)


def current_window() -> tuple[float, float]:
    """The detail window's start and length (s) as a callback finds them: the start last placed (which a rerun cut
    short may not have drawn, :data:`PLACED_START`) and the length chosen."""
    return (st.session_state.get(PLACED_START, st.session_state.get("window_start_s", 0.0)),
            st.session_state.get("window_s", DEFAULT_WINDOW_S))


def step_to_event(analysis, index: int | None) -> None:
    """Callback of the Previous and Next buttons: choose that event and move the window to it."""
    if index is None:
        return
    st.session_state["event_choice"] = index
    move_to_event(analysis)


def event_choice_label(analysis, choice: int) -> str:
    """The event picker's text for a region, an extreme (:data:`tables.EXTREMES`), an ST episode, a diary entry or no
    choice."""
    if choice == NO_EVENT:
        return "-"
    if choice in tables.EXTREMES:
        return tables.extreme_label(analysis.summary, choice)
    if tables.is_st_choice(choice):
        return tables.st_label(analysis.summary.st, choice)
    if choice <= tables.DIARY_CHOICE:
        return tables.diary_label(analysis.diary, choice)
    return tables.event_label(analysis.regions, choice, analysis.record.fs_hz, analysis.record.start_time)


def event_choice() -> int:
    """The event picker's choice (:data:`NO_EVENT` for none): an int, whatever the browser sent back. A clinical read
    through a browser (session 62) found the picker's value turned into its text after a beat relabel changed the
    events, and the next step of the events stopped the page with a TypeError."""
    choice = st.session_state.get("event_choice", NO_EVENT)
    if isinstance(choice, (int, np.integer)) and not isinstance(choice, bool):
        return int(choice)
    st.session_state["event_choice"] = NO_EVENT
    return NO_EVENT


def region_identity(region: Region) -> tuple:
    """What makes an event the same one in the events found again after an edit: its kind and its samples."""
    return region.kind, region.start, region.stop


def follow_chosen_event(analysis) -> int:
    """Before the event picker is drawn: the chosen event in this analysis's events. An edit (a beat relabelled, a
    threshold, an artefact mark) finds the events again, so the chosen one may have moved in the list or gone: it is
    found again by :func:`region_identity` (no event chosen when it went). A clinical read through a browser (session
    62) found event 1, an isolated V relabelled N, replaced by another event 1 under the picker's old text."""
    choice = event_choice()
    kept = st.session_state.get(_CHOSEN_REGION)
    regions = analysis.regions
    if not 0 <= choice < len(regions) or kept is None or region_identity(regions[choice]) == kept:
        return choice
    found = next((k for k, region in enumerate(regions) if region_identity(region) == kept), NO_EVENT)
    st.session_state["event_choice"] = found
    if found == NO_EVENT:
        st.session_state.pop(WINDOW_ANCHOR, None)
    else:
        st.session_state[WINDOW_ANCHOR] = ("event", found)
    return found


def move_to_event(analysis) -> None:
    """Callback of the event picker: move the detail window to the chosen event (or extreme)."""
    index = event_choice()
    if index == NO_EVENT:
        return
    st.session_state[WINDOW_ANCHOR] = ("event", index)
    if 0 <= index < len(analysis.regions):
        st.session_state[_CHOSEN_REGION] = region_identity(analysis.regions[index])
    window_s = st.session_state.get("window_s", DEFAULT_WINDOW_S)
    if index in tables.EXTREMES:
        place_window(tables.extreme_window_start(analysis.summary, index, window_s, analysis.record.duration_s))
        st.session_state.pop("beat_choice", None)
        return
    if tables.is_st_choice(index):
        episode = analysis.summary.st.episodes[tables.ST_CHOICE - index]
        place_window(tables.centred_window_start(episode.peak_s, window_s, analysis.record.duration_s))
        st.session_state.pop("beat_choice", None)
        return
    if index <= tables.DIARY_CHOICE:
        place_window(tables.centred_window_start(analysis.diary[tables.DIARY_CHOICE - index].time_s, window_s,
                                                 analysis.record.duration_s))
        st.session_state.pop("beat_choice", None)
        return
    region = analysis.regions[index]
    place_window(tables.event_window_start(region, analysis.record.fs_hz, window_s, analysis.record.duration_s))
    if region.n_beats > 0:
        st.session_state["beat_choice"] = int(region.first_beat)
    else:
        st.session_state.pop("beat_choice", None)


def move_to_beat(analysis, key: str) -> None:
    """Callback of a family's beat picker: centre the detail window on the beat and choose it."""
    index = st.session_state.get(key, NO_EVENT)
    if index != NO_EVENT:
        go_to_beat(analysis, index)


def go_to_beat(analysis, index: int) -> None:
    """Centre the detail window on beat ``index`` and choose it."""
    window_s = st.session_state.get("window_s", DEFAULT_WINDOW_S)
    place_window(tables.beat_window_start(int(analysis.predictions.samples[index]), analysis.record.fs_hz, window_s,
                                          analysis.record.duration_s))
    st.session_state["event_choice"] = NO_EVENT
    st.session_state["beat_choice"] = int(index)
    st.session_state[WINDOW_ANCHOR] = ("beat", int(index))


def render_beat(review: loading.Review, model_reference: str, record_key: tuple, start_s: float,
                window_s: float) -> None:
    """Beat picker (beats of the window) with the chosen beat's probabilities, RR, correction and attention."""
    analysis = review.analysis
    record = analysis.record
    indices = tables.beats_in_window(analysis.predictions.samples, record.fs_hz, start_s, window_s)
    st.markdown("**Beat in the window**")
    if len(indices) == 0:
        st.write("No beats in this window.")
        return
    options = [int(i) for i in indices]
    columns = st.columns([4, 1, 1], vertical_alignment="bottom")
    index = columns[0].selectbox("Beat", options, key="beat_choice", format_func=tables.beat_labeller(analysis))
    for column, label, step, key in ((columns[1], "◀ Beat", -1, "PageUp"), (columns[2], "Beat ▶", 1, "PageDown")):
        column.button(label, key=f"beat_step_{step}", on_click=step_beat, args=(analysis, step),
                      disabled=not 0 <= index + step < len(analysis.predictions.samples), shortcut=ecg_shortcut(key),
                      use_container_width=True, help=f"The {'previous' if step < 0 else 'next'} beat (key {key}); "
                                                    "the window moves with it past its edge.")
    details = tables.beat_details(analysis, index)
    columns = st.columns(3)
    columns[0].metric("Class", details["class"])
    columns[1].metric("RR before", format_interval_ms(details["rr_before_s"]))
    columns[2].metric("RR after", format_interval_ms(details["rr_after_s"]))
    if details["atrial_rule"]:
        st.caption("The network said N; the atrial-origin rule made this beat S: its P wave does not match the "
                   "patient's sinus P wave while its QRS is normal (models/atrial_rule.py).")
    if details["conduction_rule"]:
        st.caption("The network said V; the sinus-conduction rule made this beat N: the patient's sinus P wave "
                   "precedes it, it is not early and no compensatory pause follows (models/conduction_rule.py).")
    if details["reviewed"]:
        st.caption(f"Class corrected by the reader; the model said {details['model_class']}.")
    if details["run_rule"]:
        st.caption("The network said N; the supraventricular run rule made this beat S: it continues, at the same "
                   "fast rate and with a normal QRS, a run that an S beat started (models/run_rule.py).")
    if details["wide_qrs_rule"]:
        st.caption("The rules said S; the wide-QRS rule made this beat V: its QRS is wider than the patient's dominant "
                   "beat and shaped unlike it, which a beat conducted from above the ventricles is not, outside "
                   "atrial fibrillation (models/wide_qrs_rule.py). An atrial premature beat conducted with "
                   "aberration looks the same: check for a premature P wave in front of it.")
    if details["fusion_rule"]:
        st.caption("The network said F; the fusion rule made this beat N: no beat within two of it is called V, and "
                   "a fusion beat needs a ventricular beat to fuse with (models/fusion_rule.py). A fusion beat farther "
                   "from the ventricular ones looks the same: compare its QRS with the patient's V beats.")
    if details["af_rule"]:
        st.caption("The rules said S; the atrial-fibrillation rule made this beat N: it lies inside an atrial "
                   "fibrillation or flutter episode, where no beat is an atrial premature beat (models/af_rule.py).")
    if details["family_rule"]:
        st.caption("The rules said V; the morphology-family rule made this beat N: its QRS matches a family of like "
                   "beats that the model mostly calls non-ventricular (at most 30 % V, models/family_rule.py). Check "
                   f"family {details['family']} on the Review labels tab, where one click gives these beats back V.")
    if details["one_lead"]:
        st.caption("One lead was missing around this beat: it was classified from the other lead alone, from which "
                   "the classifier finds fewer ectopic beats than from two (models/prepare.py).")
    st.dataframe([{"class": c, "probability": round(p, 4)} for c, p in details["probabilities"].items()],
                 hide_index=True, key="beat_probabilities")
    render_beat_relabel(analysis, record_key, details["class"])
    if st.toggle("Show where the model looked (attention)", key="show_attention"):
        render_attention(analysis, model_reference, index)


ADVANCE = "advance_after_relabel"
"""Widget key: whether a beat's relabel button (or key) then chooses the next beat (:func:`render_beat_relabel`)."""


def render_beat_relabel(analysis, record_key: tuple, label: str) -> None:
    """One button per class that relabels the chosen beat, each on its letter's key: a beat clicked on the chart is
    relabelled with one key press, as Holter review software does it (a clinical read of the dashboard, session 60,
    found no keyboard relabelling; a beat took a picker, a class box and a button). With "then go to the next beat",
    the next beat is chosen after each press, and the beat's own class confirms it and moves on, so that a stretch is
    edited beat by beat from the keyboard (the button of its class is otherwise off)."""
    columns = st.columns([3, 2], vertical_alignment="bottom")
    columns[0].markdown("Relabel this beat (or press its letter)")
    advance = columns[1].toggle("Then go to the next beat", key=ADVANCE,
                                help="After a relabel, choose the next beat (the window follows past its edge); "
                                     "its own class's key then confirms a beat and moves on.")
    columns = st.columns(len(AAMI_CLASSES))
    for column, new_label in zip(columns, AAMI_CLASSES):
        column.button(new_label, key=f"relabel_as_{new_label}", on_click=relabel_beat,
                      args=(analysis, record_key, new_label), disabled=new_label == label and not advance,
                      shortcut=ecg_shortcut(new_label), use_container_width=True,
                      help=f"{charts.CLASS_NAMES[new_label]} (key {new_label}, on this tab)")


def chosen_beat_now(analysis) -> int | None:
    """The beat chosen in the beat panel as a callback finds it (a key may come before the page is drawn again), None
    when none is."""
    index = st.session_state.get("beat_choice")
    return index if isinstance(index, int) and 0 <= index < len(analysis.predictions.samples) else None


def step_beat(analysis, step: int) -> None:
    """Callback of the beat panel's step buttons: the beat ``step`` from the one chosen when the button is pressed
    (:func:`choose_beat_in_view`)."""
    index = chosen_beat_now(analysis)
    if index is not None and 0 <= index + step < len(analysis.predictions.samples):
        choose_beat_in_view(analysis, index + step)


def choose_beat_in_view(analysis, index: int) -> None:
    """Choose beat ``index``: the window stays where it is when the beat lies in it (an event jumped to stays the
    window's anchor, and an ST episode's lead stays on the stacked rows), and is centred on the beat otherwise."""
    start_s, window_s = current_window()
    time_s = analysis.predictions.samples[index] / analysis.record.fs_hz
    if start_s <= time_s < start_s + window_s:
        st.session_state["beat_choice"] = int(index)
    else:
        go_to_beat(analysis, index)


def shown_record(record_key: tuple) -> tuple:
    """The record itself, whatever model or primary lead analyses it: the key of what a reader types about the
    record (its diary, the conclusion), which must survive a change of model or lead."""
    return record_key[:2] if record_key[0] == "sample" else record_key[:3]


def reader_key(record_key: tuple) -> tuple:
    """The record as its beats are found, whatever model classifies them (its primary lead kept: another lead finds
    other beats): the key of the reader's corrections and artefact marks, which a change of model keeps (a QA pass
    found them hidden, while the diary and conclusion stayed, after choosing another model; session 45)."""
    return record_key[:2] if record_key[0] == "sample" else record_key[:3] + record_key[4:]


def record_widget_key(name: str, record_key: tuple) -> str:
    """A widget key of its own per record, so that a picker never shows another record's choice or options."""
    return f"{name}_{zlib.crc32(repr(record_key).encode()):08x}"


def keep_diary(analysis, entries) -> object:
    """:func:`app.analysis.add_diary`, the same object from rerun to rerun while neither the analysis nor the diary
    changes: a new object at every rerun made :func:`keep_per_source` compute every figure and table again for each
    record with a diary (sample 119, an upload with ``NAME.diary.csv``), and gave its event list a new key at every
    click, which scrolled it back to the top and dropped its sort (a clinical read through a browser, session 61)."""
    entries = tuple(entries)
    kept = st.session_state.get(_WITH_DIARY)
    if kept is None or kept[0] is not analysis or kept[1] != entries:
        kept = (analysis, entries, add_diary(analysis, entries))
        st.session_state[_WITH_DIARY] = kept
    return kept[2]


def keep_per_source(name: str, source: object, compute):
    """``compute()``'s value, computed once while ``source`` (the analysis or record it is computed from) stays the same
    object: a rerun for a widget keeps the analysis object, an edit replaces it. A 24-h record's figures and tables
    took 1-2 s of every rerun when computed again (session 46's profile: the overview's envelope of 31 million
    samples, the event table of 24,000 rows, the RR scatter, the ST and QT dominant beats)."""
    kept = st.session_state.setdefault(_KEPT, {})
    if name not in kept or kept[name][0] is not source:
        kept[name] = (source, compute())
    return kept[name][1]


def forget_other_sources(*sources: object) -> None:
    """Drop what :func:`keep_per_source` kept for any other source than ``sources`` (the shown analysis and its
    signal), so that a figure of a record no longer shown does not keep that record in memory."""
    kept = st.session_state.get(_KEPT, {})
    for name in [name for name, (source, _) in kept.items() if not any(source is s for s in sources)]:
        del kept[name]


def reader_labels(record_key: tuple) -> dict[int, str]:
    """The reader's corrections for the shown record (beat number -> class), kept for the session."""
    return st.session_state.setdefault(_READER_LABELS, {}).setdefault(reader_key(record_key), {})


def apply_reader_edits(review: loading.Review, record_key: tuple, settings: RegionSettings,
                       model_reference: str) -> loading.Review:
    """The review with the reader's corrections, artefact marks, event thresholds and pacemaker (computed once per
    set; a pacemaker stated here has the beats classified again with the model, for the pacing rule)."""
    labels, marks, af_edits = reader_labels(record_key), reader_artefacts(record_key), reader_af_edits(record_key)
    beat_edits = tuple(reader_beat_edits(record_key))
    pacemaker = render_pacemaker(review.analysis.record, record_key)
    if (not labels and not marks and not af_edits and settings == review.analysis.region_settings
            and pacemaker is None and not beat_edits):
        return review
    key = (record_key, settings, tuple(sorted(labels.items())), tuple(marks), pacemaker, tuple(af_edits), beat_edits)
    edits = st.session_state.setdefault(_RELABELLED, {})  # the last few, so that undoing an edit is immediate
    for other in [k for k in edits if k[0] != record_key]:  # another record's: not kept in memory
        del edits[other]
    if key not in edits:
        model = None if pacemaker is None and not beat_edits else loading.load_model_cached(model_reference)
        with st.spinner("Finding the events again..." if model is None else
                        "Classifying the beats again for a patient with a pacemaker..." if not beat_edits else
                        "Classifying the beats again after your beat edits..."):
            edited = loading.edit_review(review, labels, marks, settings, pacemaker, model, af_edits, beat_edits)
        while len(edits) >= KEPT_EDITS:
            edits.pop(next(iter(edits)))  # the oldest
        edits[key] = edited
    return edits[key]


def render_pacemaker(record, record_key: tuple) -> str | None:
    """The sidebar's pacemaker checkbox; returns the pacemaker to add to the record (None: none, or the header
    already states one, which the checkbox then shows, ticked and fixed)."""
    stated = record.pacemaker is not None
    checked = st.sidebar.checkbox("The patient has a pacemaker", value=stated, disabled=stated,
                                  key=record_widget_key("pacemaker", shown_record(record_key)),
                                  help=(f"Stated with the record: {record.pacemaker}." if stated else
                                        "The classifier was not trained on paced beats: with a pacemaker stated, "
                                        "wide beats that come on time, and beats with a pacing spike, are labelled "
                                        "paced (Q), and the summary "
                                        "says so and leaves heart-rate variability out."))
    return STATED_PACEMAKER if checked and not stated else None


def reader_artefacts(record_key: tuple) -> list[tuple[int, int]]:
    """The reader's artefact marks for the shown record ((start, stop) samples), kept for the session."""
    return st.session_state.setdefault(_ARTEFACTS, {}).setdefault(reader_key(record_key), [])


def mark_window_as_artefact(analysis, record_key: tuple, start_s: float, window_s: float) -> None:
    """Callback: mark the detail window shown as artefact."""
    fs, n = analysis.record.fs_hz, analysis.record.n_samples
    marks = reader_artefacts(record_key)
    marks.append((int(round(start_s * fs)), min(int(round((start_s + window_s) * fs)), n)))
    marks[:] = [(int(a), int(b)) for a, b in merge_intervals(np.array(marks, dtype=np.int64))]


def remove_artefact(record_key: tuple, mark: tuple[int, int]) -> None:
    """Callback: drop one artefact mark."""
    marks = reader_artefacts(record_key)
    if mark in marks:
        marks.remove(mark)


def render_artefacts(analysis, record_key: tuple, start_s: float, window_s: float) -> None:
    """Marking the detail window as artefact (unreadable: no event there), and the marks made, each removable."""
    columns = st.columns([2, 5])
    columns[0].button("Mark this window as artefact", key=record_widget_key("mark_artefact", record_key),
                      on_click=mark_window_as_artefact, args=(analysis, record_key, start_s, window_s),
                      help="The stretch becomes unreadable: its beats take part in no event, and the readable time "
                           "and the burdens leave it out. Saved in the annotation file as signal-quality marks.")
    marks = reader_artefacts(record_key)
    if not marks:
        columns[1].caption("No stretch marked as artefact.")
        return
    fs = analysis.record.fs_hz
    total = sum(b - a for a, b in marks) / fs
    columns[1].caption(f"{count_noun(len(marks), 'stretch', 'stretches')} marked as artefact, "
                       f"{format_duration(total)} in all.")
    names = [f"Artefact {charts.format_hms(a / fs)} to {charts.format_hms(b / fs)}" for a, b in marks]
    for k, row in draw_list_rows(names, sorted(range(len(marks)), key=marks.__getitem__),
                                 record_widget_key(f"artefact_chosen_{len(marks)}", record_key), [5, 1]):
        a, b = marks[k]
        row[1].button("Remove", key=record_widget_key(f"remove_artefact_{a}_{b}", record_key),
                      on_click=remove_artefact, args=(record_key, (a, b)))


def reader_beat_edits(record_key: tuple) -> list[BeatEdit]:
    """The reader's edits of the shown record's beat list (deleted detections, added beats), in the order made, kept
    for the session (:mod:`pipeline.reader_beats`)."""
    return st.session_state.setdefault(_BEAT_EDITS, {}).setdefault(reader_key(record_key), [])


def change_beat_edits(analysis, record_key: tuple, edits: list[BeatEdit], chosen_sample: int | None,
                      done: str = "", where: str = "ecg") -> None:
    """Callback part: the reader's beat edits become ``edits``; the corrections, numbered by the beats shown
    (``analysis``), are numbered by the edited beats, a deleted beat's dropped; the beat at ``chosen_sample`` (the
    detector's position), or the one after it, is chosen; ``done``, what was done (``{time}`` standing for the time of
    the beat at ``chosen_sample``, where its letter stands or stood), is said once the page is drawn again, with how
    the beats and events changed (:func:`render_beat_edit_done`), on the tab ``where`` the edit was made."""
    st.session_state[_BEAT_EDIT_DONE] = (done, chosen_sample, len(analysis.predictions), count_region_kinds(analysis),
                                         where)
    if _BASE_BEATS not in st.session_state:
        return
    base = st.session_state[_BASE_BEATS][0]
    edits = list(keep_effective_beat_edits(base, tuple(edits), analysis.record.fs_hz))  # none listed that does nothing
    positions = apply_beat_edits(base, tuple(edits), analysis.record.fs_hz)
    labels, shown = reader_labels(record_key), analysis.predictions.detected_samples
    set_aside = st.session_state.setdefault(_SET_ASIDE_LABELS, {}).setdefault(reader_key(record_key), {})
    kept = set(positions.tolist())
    set_aside.update({int(shown[k]): label for k, label in labels.items() if int(shown[k]) not in kept})
    renumbered = remap_beat_keys(labels, shown, positions)
    for k, position in enumerate(positions.tolist()):  # a deleted beat brought back gets its correction back
        if position in set_aside and k not in renumbered:
            renumbered[k] = set_aside.pop(position)
    labels.clear()
    labels.update(renumbered)
    reader_beat_edits(record_key)[:] = edits
    st.session_state.pop(CALIPERS, None)
    st.session_state["event_choice"] = NO_EVENT  # the events are found again: another event may hold that number
    if chosen_sample is not None and len(positions):
        st.session_state["beat_choice"] = int(min(np.searchsorted(positions, chosen_sample), len(positions) - 1))
    else:
        st.session_state.pop("beat_choice", None)
    refresh_class_pickers(record_key)


def delete_chosen_beat(analysis, record_key: tuple) -> None:
    """Callback: delete the chosen beat, a detection that is no QRS (a tall T wave, noise); an added beat is taken
    back instead."""
    index = chosen_beat_now(analysis)
    if index is None or len(analysis.predictions) < 2:
        return
    sample = int(analysis.predictions.detected_samples[index])
    edits = list(reader_beat_edits(record_key))
    was_added = (sample, True) in edits  # the deletion then takes the addition back (keep_effective_beat_edits)
    change_beat_edits(analysis, record_key, edits + [(sample, False)], sample,
                      "The beat you added at {time} taken back" if was_added else "Beat at {time} deleted")


def add_missed_beat(analysis, record_key: tuple) -> None:
    """Callback: add a beat at the QRS nearest the time typed (:func:`pipeline.reader_beats.place_missed_beat`); why
    not, when it cannot be."""
    record = analysis.record
    time_s = float(st.session_state.get(record_widget_key("missed_beat_s", record_key), 0.0))
    sample = int(round(time_s * record.fs_hz))
    if not 0 <= sample < record.n_samples:
        st.session_state[_BEAT_EDIT_PROBLEM] = (f"Add a missed beat: {time_s:.2f} s lies outside the recording, which "
                                                f"lasts {record.duration_s:.1f} s.")
        return
    edits = list(reader_beat_edits(record_key))
    deleted = [e for e in edits if not e[1] and abs(e[0] - sample) <= MISSED_BEAT_SEARCH_S * record.fs_hz]
    if deleted:  # a beat the reader deleted there comes back where the detector had it (a code review of session 64:
        nearest = min(deleted, key=lambda e: abs(e[0] - sample))  # placed again, a wide beat moved by up to 190 ms)
        edits.remove(nearest)
        change_beat_edits(analysis, record_key, edits, nearest[0], "The beat you deleted at {time} is back")
        return
    try:
        placed = place_missed_beat(record.signal_mv, record.fs_hz, record.primary_lead, sample,
                                   analysis.predictions.detected_samples)
    except MissedBeatError as error:
        st.session_state[_BEAT_EDIT_PROBLEM] = f"Add a missed beat: {error}"
        return
    change_beat_edits(analysis, record_key, edits + [(placed, True)], placed, "Beat added on the QRS at {time}")


def remove_beat_edit(analysis, record_key: tuple, position: int) -> None:
    """Callback: take back the reader's ``position``-th beat edit (the others apply as before)."""
    edits = list(reader_beat_edits(record_key))
    if 0 <= position < len(edits):
        sample, added = edits[position]
        del edits[position]
        change_beat_edits(analysis, record_key, edits, sample,
                          f"{'Added beat' if added else 'Deletion'} at {{time}} taken back")


def count_region_kinds(analysis) -> Counter:
    """How many events of each kind the analysis holds."""
    return Counter(region.kind for region in analysis.regions)


def render_beat_edit_done(analysis, where: str = "ecg") -> None:
    """Once after a beat edit made on the tab ``where``: what was done, the beats before and after, and the events
    found or gone (a clinical read, session 64: nothing said what an edit changed)."""
    done = st.session_state.get(_BEAT_EDIT_DONE)
    if done is None or done[4] != where:
        return
    del st.session_state[_BEAT_EDIT_DONE]
    text, sample, n_before, kinds_before, _ = done
    text = text.format(time=charts.format_hms(beat_time_s(analysis, sample), 2)) if sample is not None else text
    kinds_after = count_region_kinds(analysis)
    changes = [f"{charts.kind_label(kind)} {kinds_before.get(kind, 0)} → {kinds_after.get(kind, 0)}"
               for kind in sorted(set(kinds_before) | set(kinds_after), key=REGION_KINDS.index)
               if kinds_before.get(kind, 0) != kinds_after.get(kind, 0)]
    st.success(f"{text}: beats {n_before} → {len(analysis.predictions)}, classified again; "
               + (f"events: {', '.join(changes)}." if changes else "no event came or went."))


def beat_time_s(analysis, sample: int) -> float:
    """Where the beat the detector (or the reader) placed at ``sample`` is reported, where its letter stands, in s: in
    the analysis shown, else where a deleted detection stood (:func:`deleted_beat_time_s`). A beat's letter stands
    at its timed position (the QRS onset side of the R peak, :func:`pipeline.segment.time_beats`), up to about 100 ms
    from where the detector or the reader placed it (a clinical read of session 64 found the list 120 ms off the
    letter)."""
    k = np.flatnonzero(analysis.predictions.detected_samples == sample)
    return float(analysis.predictions.samples[k[0]] / analysis.record.fs_hz) if len(k) else deleted_beat_time_s(
        analysis, sample)


def added_beats(analysis) -> np.ndarray:
    """Per beat: the reader added it."""
    added_at = [sample for sample, added in analysis.beat_edits if added]
    return np.isin(analysis.predictions.detected_samples, added_at)


def deleted_beat_time_s(analysis, sample: int) -> float:
    """Where the detection the reader deleted at ``sample`` (the detector's position) was reported (its timed
    position, where its letter stood), in s."""
    detected, timed = st.session_state.get(_BASE_BEATS, (np.empty(0, np.int64), np.empty(0, np.int64)))
    k = int(np.searchsorted(detected, sample))
    return float((timed[k] if k < len(detected) and detected[k] == sample else sample) / analysis.record.fs_hz)


def deleted_beat_samples(analysis) -> np.ndarray:
    """Where the reader deleted detections, at their timed positions."""
    fs = analysis.record.fs_hz
    return np.asarray([int(round(deleted_beat_time_s(analysis, s) * fs)) for s, added in analysis.beat_edits
                       if not added], np.int64)


MISSED_GAP_RATIO = 1.5
"""An RR interval at least this many times the window's median is where :func:`offered_missed_beat_s` offers a missed
beat (one missed beat in a regular rhythm doubles an interval)."""


def offered_missed_beat_s(analysis, start_s: float, window_s: float) -> float:
    """The time the missed-beat field offers for a window: the middle of its longest RR interval when that is
    :data:`MISSED_GAP_RATIO` times its median one (where a missed beat would lie), else the window's start (the middle
    of an ordinary interval is a T or P wave, which a careless click would have made a beat: a code review)."""
    fs = analysis.record.fs_hz
    samples = analysis.predictions.samples
    inside = samples[(samples >= start_s * fs) & (samples < (start_s + window_s) * fs)]
    intervals = np.diff(inside)
    if len(intervals) < 2 or intervals.max() < MISSED_GAP_RATIO * np.median(intervals):
        return round(float(start_s), 2)
    k = int(np.argmax(intervals))
    return round(float(inside[k] + inside[k + 1]) / 2 / fs, 2)


def render_beat_edits(analysis, record_key: tuple, start_s: float, window_s: float) -> None:
    """Deleting the chosen beat (a detection that is no QRS) and adding a QRS the detector missed, and the edits made
    so far, each removable: Holter editing corrects the beats as well as their classes (a false beat on a tall T
    wave makes a false premature beat and run; a missed one, a false pause)."""
    columns = st.columns([2, 2, 1, 2], vertical_alignment="bottom")
    chosen = chosen_beat_now(analysis)
    columns[0].button("Delete chosen beat", key=record_widget_key("delete_beat", record_key),
                      on_click=delete_chosen_beat, args=(analysis, record_key),
                      disabled=chosen is None or len(analysis.predictions) < 2, shortcut=ecg_shortcut("Delete"),
                      help="The beat chosen (blue band) is no heartbeat (a tall T wave, noise, a pacing artefact): it "
                           "is taken out of the beat list (key Delete), the beats are classified again and every "
                           "count, interval and event found again; a grey cross marks where it was. Saved in the "
                           "annotation file.")
    key = record_widget_key("missed_beat_s", record_key)
    calipers = shown_calipers(start_s, window_s)
    offer_for = (start_s, window_s, None if calipers is None else calipers[0], tuple(reader_beat_edits(record_key)))
    if st.session_state.get(f"{key}_window") != offer_for or key not in st.session_state:
        st.session_state[key] = (offered_missed_beat_s(analysis, start_s, window_s) if calipers is None else
                                 round(sum(calipers[0]) / 2, 2))  # a new window, span or edit; a time typed stays
        st.session_state[f"{key}_window"] = offer_for  # while they do (a code review and a clinical read, session 64)
    columns[1].number_input("Missed beat near (s)", min_value=0.0, max_value=float(analysis.record.duration_s),
                            step=0.1, format="%.2f", key=key,
                            help="Where a QRS has no beat mark: the beat goes on the QRS with the steepest slopes "
                                 f"within {1000 * MISSED_BEAT_SEARCH_S:.0f} ms of it, at its largest deflection, as "
                                 "the detector places beats (a beat you deleted there comes back where it was). "
                                 "Offered: the middle of a span dragged across the chart with Box Select (calipers) "
                                 "over the QRS, else the middle of the window's longest RR interval when it is half "
                                 "as long again as the window's median one, else the window's start.")
    columns[2].button("Add beat", key=record_widget_key("add_beat", record_key), on_click=add_missed_beat,
                      args=(analysis, record_key), help="Add a beat the detector missed, classified with the others; "
                                                         "every count, interval and event is found again.")
    problem = st.session_state.pop(_BEAT_EDIT_PROBLEM, None)
    if problem:
        st.warning(problem)
    render_beat_edit_done(analysis)
    edits = reader_beat_edits(record_key)
    if not edits:
        columns[3].caption("Beats: as the detector found them.")
        return
    columns[3].caption(f"Beats: {count_noun(len(edits), 'edit')} of yours; the beats were classified again.")
    if len(edits) > 1:
        columns[3].button("Take back every beat edit", key=record_widget_key("undo_beat_edits", record_key),
                          on_click=change_beat_edits, args=(analysis, record_key, [], None,
                                                            "Every beat edit taken back"),
                          help="The beats as the detector found them, classified again.")
    times_s = [beat_time_s(analysis, sample) for sample, _ in edits]
    names = [f"{'Missed beat added' if added else 'Detection deleted'} at {charts.format_hms(time_s, 2)}"
             for (_, added), time_s in zip(edits, times_s)]
    for position, row in draw_list_rows(names, sorted(range(len(edits)), key=times_s.__getitem__),
                                        record_widget_key(f"beat_edit_chosen_{len(edits)}", record_key), [4, 1, 1]):
        sample = edits[position][0]
        row[1].button("Show", key=record_widget_key(f"show_beat_edit_{position}_{sample}", record_key),
                      on_click=centre_window, args=(analysis, times_s[position]),
                      help="The window centred on this edit.")
        row[2].button("Remove", key=record_widget_key(f"remove_beat_edit_{position}_{sample}", record_key),
                      on_click=remove_beat_edit, args=(analysis, record_key, position))


def draw_list_rows(names: list[str], order: list[int], key: str, widths: list[int]):
    """Rows of columns (``widths``) for the items of a list, as ``(index, columns)``, the item's name in the first
    column: a row per item, in list order, up to :data:`MAX_ARTEFACTS_SHOWN` items; for a longer list (a review file
    edited in another program can hold hundreds of beat edits), one row whose first column chooses the item from them
    all, in ``order`` (only the first 20 could be removed before, a note of session 64)."""
    if len(names) <= MAX_ARTEFACTS_SHOWN:
        for index, name in enumerate(names):
            row = st.columns(widths)
            row[0].write(name)
            yield index, row
        return
    row = st.columns(widths)
    chosen = row[0].selectbox(f"All {len(names)}, in time order", order, format_func=names.__getitem__, key=key)
    if chosen is not None:
        yield chosen, row


def reader_af_edits(record_key: tuple) -> list[AfEdit]:
    """The reader's word on the atrial rhythm for the shown record, in the order given, kept for the session."""
    return st.session_state.setdefault(_AF_EDITS, {}).setdefault(reader_key(record_key), [])


def state_window_af(analysis, record_key: tuple, start_s: float, window_s: float, is_af: bool) -> None:
    """Callback: the reader says the detail window shown is atrial fibrillation/flutter (``is_af``), or is not."""
    fs, n = analysis.record.fs_hz, analysis.record.n_samples
    add_af_edit(record_key, (int(round(start_s * fs)), min(int(round((start_s + window_s) * fs)), n), is_af))


def add_af_edit(record_key: tuple, edit: AfEdit) -> None:
    """Add a word on the atrial rhythm after the others, dropping those it leaves without effect."""
    edits = reader_af_edits(record_key)
    edits[:] = drop_overridden_af_edits((*edits, edit))


def remove_af_edit(record_key: tuple, position: int) -> None:
    """Callback: drop the reader's ``position``-th word on the atrial rhythm (the others apply as before)."""
    edits = reader_af_edits(record_key)
    if 0 <= position < len(edits):
        del edits[position]


def render_af_edits(analysis, record_key: tuple, start_s: float, window_s: float) -> None:
    """Stating the detail window atrial fibrillation/flutter or ruling it out there (a whole episode is ruled out with
    the chosen episode), and the reader's words on the atrial rhythm so far, each removable."""
    columns = st.columns([2, 2, 3])
    columns[0].button("Mark this window as atrial fibrillation/flutter", key=record_widget_key("state_af", record_key),
                      on_click=state_window_af, args=(analysis, record_key, start_s, window_s, True),
                      help="AF/flutter the rules did not find (regular flutter, say): its readable RR intervals "
                           "become an episode, joined to any episode it touches, whatever its length (none inside "
                           "unreadable signal or a stretch marked as artefact). Saved in the annotation file.")
    columns[1].button("No atrial fibrillation/flutter in this window", key=record_widget_key("clear_af", record_key),
                      on_click=state_window_af, args=(analysis, record_key, start_s, window_s, False),
                      help="The window is not AF/flutter whatever the rules find: an episode's wrong onset or end "
                           "is trimmed so (a clinical read, session 63); the rest of the episode stays.")
    edits = reader_af_edits(record_key)
    if not edits:
        columns[2].caption("Atrial rhythm: as the analysis found it (a chosen AF/flutter episode can be ruled out "
                           "whole).")  # no "event list" here: the browser tests find that heading by its text
        return
    fs = analysis.record.fs_hz
    columns[2].caption(f"Atrial rhythm: {count_noun(len(edits), 'correction')} of yours; where two overlap, the "
                       "later one counts.")
    for position, (a, b, is_af) in enumerate(edits):
        row = st.columns([5, 1])
        said = "stated" if is_af else "ruled out"
        row[0].write(f"Atrial fibrillation/flutter {said}: {charts.format_hms(a / fs)} to {charts.format_hms(b / fs)}")
        row[1].button("Remove", key=record_widget_key(f"remove_af_edit_{position}_{a}_{b}", record_key),
                      on_click=remove_af_edit, args=(record_key, position))


def reader_strip_list(record_key: tuple) -> list[ReaderStrip]:
    """The strips the reader chose for the shown record's report, kept for the session (whatever model or primary
    lead analyses it)."""
    return st.session_state.setdefault(_STRIPS, {}).setdefault(shown_record(record_key), [])


def choose_window_strip(analysis, record_key: tuple, start_s: float, window_s: float, title_key: str) -> None:
    """Callback: add the strip that shows the detail window (:func:`app.reader_strips.strip_for_window`), titled
    with the text typed, to the report; the same start again replaces its title."""
    record = analysis.record
    strips = reader_strip_list(record_key)
    chosen = ReaderStrip(strip_for_window(start_s, window_s, record.duration_s, record.fs_hz),
                         st.session_state.get(title_key, ""))
    try:
        strips[:] = check_reader_strips([*strips, chosen], record.n_samples)
    except ReaderStripError as error:  # too long a title, or too many strips: said above the list
        st.session_state[_STRIP_ERROR] = str(error)


def remove_strip(record_key: tuple, strip: ReaderStrip) -> None:
    """Callback: drop one chosen strip."""
    strips = reader_strip_list(record_key)
    if strip in strips:
        strips.remove(strip)


def show_strip(analysis, strip: ReaderStrip) -> None:
    """Callback: centre the detail window on a chosen strip."""
    window_s = st.session_state.get("window_s", DEFAULT_WINDOW_S)
    middle_s = strip.start / analysis.record.fs_hz + READER_STRIP_S / 2
    place_window(tables.centred_window_start(middle_s, window_s, analysis.record.duration_s))
    st.session_state["event_choice"] = NO_EVENT
    st.session_state.pop("beat_choice", None)


def render_chosen_strips(analysis, record_key: tuple, start_s: float, window_s: float) -> None:
    """Choosing the detail window as a strip of the report, with a title, and the strips chosen, each removable."""
    strips = reader_strip_list(record_key)
    title_key = record_widget_key("strip_title", shown_record(record_key))
    with st.form(record_widget_key("strip_form", shown_record(record_key)), clear_on_submit=True, border=False):
        columns = st.columns([5, 2], vertical_alignment="bottom")
        columns[0].text_input("Title of the strip (optional)", key=title_key, max_chars=MAX_TITLE_CHARS,
                              placeholder="e.g. Patient felt dizzy: sinus rhythm, 72 bpm")
        columns[1].form_submit_button(
            "Add this window to the report", on_click=choose_window_strip,
            args=(analysis, record_key, start_s, window_s, title_key),
            help=f"{READER_STRIP_S:g} s of the record's leads (two at most), centred on the window, are printed on "
                 f"the report's 'strips chosen by the reader' pages with this title (at most {MAX_READER_STRIPS}; the "
                 "same window again changes its title). Saved in the annotation file as a note where the strip starts.")
    error = st.session_state.pop(_STRIP_ERROR, None)
    if error:
        st.error(error)
    if not strips:
        st.caption("No strip chosen for the report.")
        return
    fs = analysis.record.fs_hz
    st.caption(f"{count_noun(len(strips), 'strip')} chosen for the report, printed after its first page.")
    for strip in strips:
        row = st.columns([5, 1, 1], vertical_alignment="center")
        row[0].write(f"Strip {charts.format_hms(strip.start / fs)}: {strip.title or '(no title)'}")
        row[1].button("Show", key=record_widget_key(f"show_strip_{strip.start}", record_key),
                      on_click=show_strip, args=(analysis, strip))
        row[2].button("Remove", key=record_widget_key(f"remove_strip_{strip.start}", record_key),
                      on_click=remove_strip, args=(record_key, strip))


def store_reader_labels(analysis, record_key: tuple, labels: dict[int, str]) -> None:
    """Add corrections; a beat given back the model's class is no longer a correction."""
    stored = reader_labels(record_key)
    stored.update(labels)
    model_classes = analysis.predictions.classes
    for index in [i for i, label in stored.items() if model_classes[i] == label]:
        del stored[index]
    refresh_class_pickers(record_key)


def refresh_class_pickers(record_key: tuple) -> None:
    """Callback part: the pickers whose options name a class (the beat picker's "#208 at 00:02:00.77: V", the family
    picker's "Family 6: 7 beats (F 7)") are given their own choice again, so that the browser redraws the box with
    the corrected label (it kept the label it showed, while the list below it followed)."""
    for key in ("beat_choice", record_widget_key("family_choice", record_key)):
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]


def describe_paper(gain_mm_per_mv: float, record_gain_mm_per_mv: float) -> str:
    """The detail chart's scale in a reader's terms: the paper speed and gain it stands for, and why a window is
    drawn at a lower gain than the record's.

    >>> print(describe_paper(10.0, 10.0))
    Paper: 25 mm/s, 10 mm/mV (the record's gain, as on its report); squares square on a chart 1,100 pixels wide.
    >>> print(describe_paper(5.0, 10.0).split(";")[0])
    Paper: 25 mm/s, 5 mm/mV (half the record's 10 mm/mV: this window's tallest deflection needs it)
    """
    if gain_mm_per_mv == record_gain_mm_per_mv:
        why = "the record's gain, as on its report"
    else:
        share = {0.5: "half", 0.25: "a quarter of"}.get(gain_mm_per_mv / record_gain_mm_per_mv,
                                                         f"{gain_mm_per_mv / record_gain_mm_per_mv:g} of")
        why = f"{share} the record's {record_gain_mm_per_mv:g} mm/mV: this window's tallest deflection needs it"
    width = f"{charts.PX_PER_MM * PAPER_SPEED_MM_S * charts.ROW_S:,.0f}"
    return f"Paper: {PAPER_SPEED_MM_S:g} mm/s, {gain_mm_per_mv:g} mm/mV ({why}); squares square on a chart {width} pixels wide."


RELABELLED_KINDS = (*VENTRICULAR_RUN_KINDS, *SUPRAVENTRICULAR_RUN_KINDS, "ventricular_bigeminy",
                    "ventricular_trigeminy", "supraventricular_bigeminy", "supraventricular_trigeminy")
"""Events made of their beats' classes, whose beats the reader may relabel at once. Not the rhythms found from the RR
intervals, the P waves or the waves (AF, pauses, dropped beats, AV block, rate stretches, paced rhythm, unreadable
stretches): a clinical read of the dashboard (session 60) found "Its beats are N" offered on AF episodes and pauses,
where it changes nothing or relabels hundreds of beats the event does not depend on."""


def render_event_relabel(analysis, record_key: tuple) -> None:
    """For the chosen event, one correction of all its beats (a false couplet's beats to N, say), as Holter editing
    relabels an event at once; for an event of a kind not in :data:`RELABELLED_KINDS`, a line saying how to correct
    it."""
    index = event_choice()
    if not 0 <= index < len(analysis.regions):
        return
    region = analysis.regions[index]
    chosen = tables.event_label(analysis.regions, index, analysis.record.fs_hz, analysis.record.start_time)
    if region.kind == "unreadable":  # a clinical read (session 61): "removed with 'Mark this window as artefact'"
        st.caption(f"Chosen event: {chosen}. Signal the analysis could not read on any lead (noise, a lead off or "
                   "flat): no event is found in it and its beats are left out of the rhythm; check it on the ECG.")
        return
    if region.n_beats == 0:
        st.caption(f"Chosen event: {chosen}.")
        return
    if region.kind in WAVE_KINDS:  # no "its beats are N" for fibrillation waves (a QA pass, session 49)
        st.caption(f"Chosen event: {chosen}. Its detections are flutter/fibrillation waves, left out of the beat "
                   "counts; an episode that is not one is removed with 'Mark this window as artefact' below.")
        return
    if region.kind == "atrial_fibrillation":
        columns = st.columns([5, 2], vertical_alignment="center")
        stated = any(is_af and a < region.stop and b > region.start for a, b, is_af in reader_af_edits(record_key))
        columns[0].caption(f"Chosen event: {chosen}. " + (
            "You stated it, or part of it (listed under the buttons below); " if stated else
            "It is found from the RR intervals' irregularity and the P waves; ") +
            "if the rhythm is another (sinus arrhythmia, frequent atrial premature beats), say so: the beats stay "
            "counted and readable, and the AF burden leaves the episode out.")
        columns[1].button("Rule out atrial fibrillation/flutter", key=record_widget_key("rule_out_af", record_key),
                          on_click=rule_out_af, args=(analysis, record_key, index),
                          help="The episode's stretch is not AF/flutter whatever the rules find there (listed "
                               "under 'Atrial rhythm', where it can be removed); the model's S calls the AF rule "
                               "had made N come back.")
        return
    if region.kind not in RELABELLED_KINDS:
        st.caption(f"Chosen event: {chosen}. It is found from the RR intervals, the P waves or the signal's quality, "
                   "not from its beats' classes: a false one is removed with 'Mark this window as artefact' below.")
        return
    columns = st.columns([3, 2, 2], vertical_alignment="bottom")
    picker_key = record_widget_key("event_class", record_key)
    columns[0].caption(f"Chosen event: {chosen}")
    columns[1].selectbox("Its beats are", AAMI_CLASSES, index=0, format_func=charts.CLASS_NAMES.get, key=picker_key)
    columns[2].button(f"Relabel the event's {region.n_beats} beat{'s' if region.n_beats != 1 else ''}",
                      key=record_widget_key("relabel_event", record_key), on_click=relabel_event,
                      args=(analysis, record_key, index, picker_key),
                      help="Every beat of the event takes this class; the events are found again, so the event "
                           "disappears or changes when its beats no longer make it ('Undo all corrections' on the "
                           "Review labels tab takes it back).")


def rule_out_af(analysis, record_key: tuple, index: int) -> None:
    """Callback: the reader says atrial fibrillation/flutter episode ``index`` is not one; no event stays chosen."""
    region = analysis.regions[index]
    add_af_edit(record_key, (int(region.start), int(region.stop), False))
    st.session_state["event_choice"] = NO_EVENT


def relabel_event(analysis, record_key: tuple, index: int, picker_key: str) -> None:
    """Callback: give every beat of event ``index`` the class picked in ``picker_key``; the events are found again,
    so no event stays chosen."""
    region = analysis.regions[index]
    label = st.session_state[picker_key]
    store_reader_labels(analysis, record_key, {i: label for i in range(region.first_beat,
                                                                        region.first_beat + region.n_beats)})
    st.session_state["event_choice"] = NO_EVENT


def relabel_beat(analysis, record_key: tuple, label: str) -> None:
    """Callback: give the beat chosen when the button is pressed class ``label`` (not the one the page was drawn with:
    a key pressed before the page was drawn again relabelled the beat before, a code review of session 62); then, with
    "Then go to the next beat", choose the next beat."""
    index = chosen_beat_now(analysis)
    if index is None:
        return
    if label != analysis.classes[index]:
        store_reader_labels(analysis, record_key, {index: label})
    if st.session_state.get(ADVANCE, False) and index + 1 < len(analysis.predictions.samples):
        choose_beat_in_view(analysis, index + 1)


def relabel_family(analysis, record_key: tuple) -> None:
    """Callback: give every beat of the chosen family the class picked for it."""
    family = st.session_state[record_widget_key("family_choice", record_key)]
    label = st.session_state[record_widget_key("family_class", record_key)]
    only = st.session_state.get(record_widget_key("family_only", record_key), ANY_CLASS)
    store_reader_labels(analysis, record_key,
                        tables.family_labels_for(analysis, family, label, None if only == ANY_CLASS else only))


MAX_FAMILY_DELETED_SHARE = 0.5
"""Most of a record's beats a family deletion may take: a family holding more is the patient's rhythm, not false
detections, and deleting it would leave an analysis of what is left (a mis-click costing a whole reclassification)."""


def delete_family(analysis, record_key: tuple) -> None:
    """Callback: delete the chosen family's beats (those now called the class picked in "Which of its beats", else
    all) as detections that are no QRS, as Holter review software deletes an artefact template: noise spikes or tall
    T waves counted as beats tend to form families of their own. A family holding over
    :data:`MAX_FAMILY_DELETED_SHARE` of the beats is refused with the reason."""
    family = st.session_state[record_widget_key("family_choice", record_key)]
    only = st.session_state.get(record_widget_key("family_only", record_key), ANY_CLASS)
    members = tables.family_members(analysis, family, None if only == ANY_CLASS else only)
    share = len(members) / max(len(analysis.predictions), 1)
    problem = ("The ungrouped beats are no family: delete them one by one on the ECG tab." if family == UNGROUPED
               else "None of the family's beats is chosen." if not len(members)
               else f"Family {family}'s chosen beats are {100 * share:.0f} % of the record's: the patient's own "
                    "rhythm, not false detections. Delete single beats on the ECG tab."
               if share > MAX_FAMILY_DELETED_SHARE else "")
    if problem:
        st.session_state[_FAMILY_DELETE_PROBLEM] = problem
        return
    deleted = analysis.predictions.detected_samples[members]
    edits = list(reader_beat_edits(record_key)) + [(int(sample), False) for sample in deleted]
    what = "" if only == ANY_CLASS else f" called {only}"
    change_beat_edits(analysis, record_key, edits, None,
                      f"{count_noun(len(members), 'beat')} of family {family}{what} deleted", where="family")


def render_family_rule_reviews(analysis, record_key: tuple) -> None:
    """Families in which the model's family rule made V calls N: one button each gives those beats back V, for a
    reader who finds them ventricular after all (on DS1 nested, 15-23 % of the calls the rule changes are reference V
    beats: EXPERIMENTS.md row AS)."""
    reviews = tables.family_rule_reviews(analysis)
    if not reviews:
        return
    st.markdown("**Made N by the family rule**: the network called these beats V, but their QRS matches a family the "
                "model calls non-ventricular, so they are labelled N (on MIT-BIH DS1, most such calls were normal "
                "beats; ventricular beats shaped like the normal QRS are not; check the overlay).")
    for review in reviews[:MAX_SUGGESTIONS]:
        columns = st.columns([4, 1])
        columns[0].write(f"Family {review['family']}: {count_noun(review['made_n'], 'beat')} of its "
                         f"{review['n_beats']} made N by the rule")
        columns[1].button("Relabel them V", key=record_widget_key(f"family_rule_{review['family']}", record_key),
                          on_click=store_reader_labels,
                          args=(analysis, record_key, tables.family_rule_labels(analysis, review["family"])))


def render_suggestions(analysis, record_key: tuple) -> None:
    """Families of mostly non-ventricular beats with a few V calls: one button each relabels those calls N. With the
    model's family rule such calls are already N; they appear after a reader's corrections, or with a model without
    the rule."""
    suggestions = tables.family_suggestions(analysis)
    if not suggestions:
        return
    st.markdown("**Suggested for review**: V calls in families that the model mostly calls something else (on "
                "MIT-BIH DS1, 82 % of such calls were normal beats; check the overlay before accepting).")
    for k, suggestion in enumerate(suggestions[:MAX_SUGGESTIONS]):
        columns = st.columns([4, 1])
        columns[0].write(f"Family {suggestion['family']}: {suggestion['v_calls']} of its {suggestion['n_beats']} "
                         f"beats {'is' if suggestion['v_calls'] == 1 else 'are'} called V")
        columns[1].button("Relabel them N", key=record_widget_key(f"suggestion_{suggestion['family']}", record_key),
                          on_click=store_reader_labels,
                          args=(analysis, record_key,
                                tables.family_labels_for(analysis, suggestion["family"], "N", only="V")))


def undo_reader_labels(record_key: tuple) -> None:
    """Callback: drop every correction of the shown record."""
    reader_labels(record_key).clear()
    refresh_class_pickers(record_key)


def render_label_review(analysis, record_key: tuple) -> None:
    """Morphology families with their median beat, relabelling of a whole family, and undo."""
    st.markdown("Beats of like QRS shape (both leads) form a **family**; a family of ventricular beats called "
                "normal, say, is corrected here at once, and single beats from the ECG tab. Counts, events, the "
                "reference comparison and every download then use the corrected classes.")
    corrected = int(analysis.reviewed_mask.sum())
    if corrected:
        columns = st.columns([3, 1])
        columns[0].info(f"{count_noun(corrected, 'beat label')} corrected (the beat table keeps the model's "
                        "class next to yours).")
        columns[1].button("Undo all corrections", key="undo_corrections", on_click=undo_reader_labels,
                          args=(record_key,))
        render_corrections(analysis)
    rows = family_rows(analysis)
    if not rows:
        st.write("No families: no beat has a complete QRS window.")
        return
    st.dataframe(tables.family_table(rows), hide_index=True, key="family_table", column_config={
        "model confidence %": st.column_config.NumberColumn(format="%.1f")})  # 47.0 beside 91.6, not 47
    render_family_rule_reviews(analysis, record_key)
    render_suggestions(analysis, record_key)
    shown = [row for row in rows if row["family"] != UNGROUPED][:MAX_FAMILY_TEMPLATES]
    record = analysis.record
    primary = record.primary_lead
    figure = keep_per_source("family_templates", analysis, lambda: charts.family_templates_figure(
        record.signal_mv[:, primary], record.fs_hz, analysis.predictions.samples, analysis.families,
        [row["family"] for row in shown], [tables.family_label(row) for row in shown], record.lead_names[primary]))
    st.plotly_chart(figure, config=CHART_CONFIG, key="family_chart")
    st.caption(f"Median beat of the {len(shown)} largest families (-300 to +300 ms, {record.lead_names[primary]}).")
    labels = {row["family"]: tables.family_label(row) for row in rows}
    columns = st.columns([3, 2, 2, 1], vertical_alignment="bottom")
    family = columns[0].selectbox("Family", list(labels), format_func=labels.get,
                                  key=record_widget_key("family_choice", record_key))
    columns[1].selectbox("Which of its beats", [ANY_CLASS, *AAMI_CLASSES],
                         key=record_widget_key("family_only", record_key),
                         format_func=lambda c: "All" if c == ANY_CLASS else f"Those now called {c}",
                         help="S beats share the normal QRS shape: relabel only the N calls of a family, for "
                              "instance, to keep its S calls.")
    columns[2].selectbox("New class", AAMI_CLASSES, format_func=charts.CLASS_NAMES.get,
                         key=record_widget_key("family_class", record_key))
    columns[3].button("Relabel", key="relabel_family", on_click=relabel_family, args=(analysis, record_key))
    st.button("Delete these beats: no QRS", key=record_widget_key("delete_family", record_key),
              on_click=delete_family, args=(analysis, record_key),
              help="The family's chosen beats are detections that are no QRS (noise spikes, tall T waves): deleted, "
                   "as on the ECG tab, and the other beats classified again (on a long recording, every hour holding "
                   "one, which takes a while). The ECG tab lists the deletions, each removable, or all at once.")
    problem = st.session_state.pop(_FAMILY_DELETE_PROBLEM, None)
    if problem:
        st.warning(problem)
    render_beat_edit_done(analysis, where="family")
    st.plotly_chart(charts.family_overlay_figure(record.signal_mv[:, primary], record.fs_hz,
                                                 analysis.predictions.samples[analysis.families == family],
                                                 record.lead_names[primary]),
                    config=CHART_CONFIG, key="family_overlay")
    st.caption(f"{labels[family]}: up to {charts.MAX_OVERLAY_BEATS} of its beats, spread over the record, "
               "superimposed (grey) with their median (black).")
    members = np.flatnonzero(analysis.families == family)[:MAX_EVENT_CHOICES]
    beat_key = record_widget_key(f"family_beat_{family}", record_key)
    label = tables.beat_labeller(analysis)
    st.selectbox("Show one of its beats on the ECG tab", [NO_EVENT, *map(int, members)], key=beat_key,
                 format_func=lambda i: "-" if i == NO_EVENT else label(i),
                 on_change=move_to_beat, args=(analysis, beat_key),
                 help=f"Its first {MAX_EVENT_CHOICES} beats at most; the ECG tab's window moves to the beat.")


def render_corrections(analysis) -> None:
    """The reader's corrections listed in time order (beat, time, the model's class and the reader's); a click on a
    row moves the ECG tab's window to the beat and chooses it. An edit log left by session 61's list of what Holter
    review software offers: the corrections were counted, and listed only in the downloaded beat table."""
    with st.expander("List the corrections"):
        table = keep_per_source("correction_table", analysis,
                                lambda: tables.correction_table(analysis, MAX_EVENT_CHOICES))
        key = f"corrections_{list_table_key(analysis)}"
        st.dataframe(table, hide_index=True, key=key, selection_mode="single-row",
                     on_select=functools.partial(go_to_corrected_beat, analysis, key, table["beat"].tolist()))
        st.caption(f"Click a row to show its beat on the ECG tab. The first {MAX_EVENT_CHOICES:,} at most; the "
                   "downloaded beat table (CSV) gives every beat's class and the model's.")


def go_to_corrected_beat(analysis, key: str, beats: list[int]) -> None:
    """Callback of the corrections list: the clicked row's beat, chosen and in the ECG tab's window."""
    rows = st.session_state.get(key, {}).get("selection", {}).get("rows", [])
    if rows and 0 <= rows[0] < len(beats):
        go_to_beat(analysis, beats[rows[0]])


def format_interval_ms(value_s: float) -> str:
    """An interval given in seconds, shown in ms as the chart's RR values, the RR scatter and the report give it (a
    clinical read of the dashboard, session 60: the beat panel alone said "0.653 s"); ``"-"`` when there is none.

    >>> format_interval_ms(0.6528), format_interval_ms(float("nan"))
    ('653 ms', '-')
    """
    return f"{1000 * value_s:.0f} ms" if np.isfinite(value_s) else "-"


def render_attention(analysis, model_reference: str, index: int) -> None:
    """The model's attention over the chosen beat's window (computed on demand, kept for the session)."""
    from models.explain import explain_beats  # keras-heavy: only when asked for

    record = analysis.record
    sample = int(analysis.predictions.detected_samples[index])  # where the classifier's window was taken
    key = ("attention", st.session_state.get(_SHOWN_RECORD), model_reference, sample)
    cached = st.session_state.get("attention_cache")
    if cached is None or cached[0] != key:
        with st.spinner("Computing attention..."):
            result = explain_beats(loading.load_model_cached(model_reference), record, np.array([sample]),
                                   analysis.predictions.detected_samples)
        cached = (key, result)
        st.session_state["attention_cache"] = cached
    _, attention, starts = cached[1]
    start = int(starts[0])
    lead = record.signal_mv[:, record.primary_lead]
    window = np.full(attention.shape[1], np.nan, dtype=np.float64)
    lo, hi = max(start, 0), min(start + attention.shape[1], record.n_samples)
    window[lo - start: hi - start] = lead[lo:hi]
    st.plotly_chart(charts.attention_figure(window, attention[0], record.fs_hz, start,
                                            record.primary_lead_name),
                    config=CHART_CONFIG, key="attention_chart")


def render_reference(comparison: tables.ReferenceComparison | None, annotation_problem: str | None = None,
                     analysis=None) -> None:
    """Per-class Se/+P of this record against its reference annotations (why they were left out, when they were),
    a picker of the disagreements (with ``analysis``), then the events against the reference's."""
    if comparison is None and annotation_problem:
        st.warning(f"The reference annotations were left out, so the beat labels cannot be compared: "
                   f"{annotation_problem.rstrip('.')}. The signal was analysed without them.")
        return
    if comparison is None:
        st.info("This record has no reference annotations (.atr), so the beat labels cannot be compared.")
        return
    detection = comparison.detection
    if min(detection.sensitivity, detection.positive_predictivity) < REFERENCE_FIT_MIN:
        st.warning(f"The reference annotations fit this signal poorly: beat detection Se "
                   f"{100 * detection.sensitivity:.0f} %, +P {100 * detection.positive_predictivity:.0f} %. They may "
                   "be another record's, or the header's sampling rate wrong; the figures below compare unlike things.")
    columns = st.columns(3)
    columns[0].metric("Beat detection Se", tables.format_percent(100 * detection.sensitivity, 2))
    columns[1].metric("Beat detection +P", tables.format_percent(100 * detection.positive_predictivity, 2))
    columns[2].metric("Disagreements", f"{len(comparison.disagreements)}")
    if analysis is not None and comparison.disagreements:
        render_disagreement_picker(analysis, comparison)
    st.dataframe(tables.show_comparison_table(comparison), hide_index=True, key="comparison_table", column_config={
        "reference beats": st.column_config.NumberColumn(help="Beats of this class in the reference annotations"),
        "analysis beats": st.column_config.NumberColumn(help="Beats this analysis gives this class"),
        "Se %": st.column_config.TextColumn(
            alignment="right", help="Sensitivity: share of the reference's beats of this class that the analysis "
                                    "gives this class (—: the reference has none)"),
        "+P %": st.column_config.TextColumn(
            alignment="right", help="Positive predictivity: share of the analysis's beats of this class that the "
                                    "reference gives this class (—: the analysis gives none)")})
    st.caption("Whole record, beats matched within 150 ms; ventricular flutter episodes are not scored. "
               "Disagreements are marked with a cross on the ECG chart.")
    render_event_comparison(comparison)


def render_disagreement_picker(analysis, comparison: tables.ReferenceComparison) -> None:
    """A picker of the beats where the analysis and the reference disagree, in time order (the first
    :data:`MAX_EVENT_CHOICES`): choosing one centres the ECG tab's window on it and, for a beat the analysis has,
    chooses it in the beat panel for relabelling (a clinical read of the dashboard, session 60: the disagreements were
    crosses on the chart with no way to step through them)."""
    shown = comparison.disagreements[:MAX_EVENT_CHOICES]
    if not -1 <= st.session_state.get(DISAGREEMENT_CHOICE, NO_EVENT) < len(shown):  # another record's, or fewer after
        st.session_state[DISAGREEMENT_CHOICE] = NO_EVENT  # an edit
    st.selectbox("Show a disagreement on the ECG tab", [NO_EVENT, *range(len(shown))], key=DISAGREEMENT_CHOICE,
                 format_func=lambda k: "-" if k == NO_EVENT else tables.describe_disagreement(analysis, *shown[k]),
                 on_change=go_to_disagreement, args=(analysis, shown),
                 help="The window on the ECG tab moves to the beat; a beat the analysis has is chosen in 'Beat in the "
                      "window' there, where it can be relabelled.")


def go_to_disagreement(analysis, shown: list[tuple[int, str]]) -> None:
    """Callback of the disagreement picker: the window on the beat (chosen when the analysis has it)."""
    choice = st.session_state.get(DISAGREEMENT_CHOICE, NO_EVENT)
    if not 0 <= choice < len(shown):
        return
    sample = shown[choice][0]
    index = tables.find_beat_at(analysis, sample)
    if index is not None:
        go_to_beat(analysis, index)
    else:
        centre_window(analysis, sample / analysis.record.fs_hz)


def render_event_comparison(comparison: tables.ReferenceComparison) -> None:
    """The events against the reference's: runs run by run and rhythm episodes, as WFDB's rxr and epicmp score the
    annotation file the downloads hold (a clinical read of the dashboard, session 60: the comparison was beat by beat
    only, while a reader checks the events)."""
    st.markdown("**Events against the reference**")
    runs, episodes = tables.run_comparison_table(comparison), tables.episode_comparison_table(comparison)
    rhythms = ("" if comparison.episodes else
               " The reference annotates no rhythm, so the analysis's rhythm episodes are not compared.")
    if runs.empty and episodes.empty:
        st.caption("Neither the reference nor this analysis has an ectopic run or a rhythm episode to compare."
                   + rhythms)
        return
    if not runs.empty:
        st.dataframe(runs, hide_index=True, key="run_comparison_table")
    if not episodes.empty:
        st.dataframe(episodes, hide_index=True, key="episode_comparison_table")
    st.caption("Whole record, from the annotation file the downloads hold (its beat labels and rhythm changes), "
               "scored as WFDB's rxr and epicmp score it, so the counts can differ from the events list's: a run is "
               "found (or confirmed) when the other side has a run at least as long in its category within 150 ms of "
               "its beats; fusion beats (F) count in ventricular runs; an AF/flutter episode counts as one "
               "supraventricular run of 6 beats or more. An episode is found when the other side's episodes of the "
               "same rhythm overlap it (3 beats at 90 bpm that the reference calls VT and this analysis idioventricular "
               "rhythm count as a missed VT and a false idioventricular rhythm), and an episode interrupted by another "
               "rhythm counts as two; durations are the seconds each side's episodes share. AF and flutter count "
               "together. Benchmarks score from the fifth minute (ecg evaluate-regions); this table scores the whole "
               "record." + rhythms)


def render_conclusion(review: loading.Review, record_key: tuple) -> str:
    """The reader's conclusion, written before downloading: printed on the report's first page and kept in the
    annotation file (an uploaded review's comes back here). Returns it ("" while it is too long: said)."""
    key = record_widget_key("conclusion", shown_record(record_key))
    initial = {} if key in st.session_state else {"value": review.saved_conclusion}
    # a form: the text reaches the downloads when "Save" (or Ctrl+Enter) is pressed, and the line under it says what
    # they hold; a bare text box takes new text only once it loses focus, which a click on a download button does
    # after the file was already made (the file then lacked the text just typed)
    with st.form(f"{key}_form", border=False):
        text = st.text_area("Reader's conclusion (printed on the report, kept in the .ecg file)", key=key,
                            height=120, placeholder="e.g. Sinus rhythm with frequent unifocal ventricular ectopy; no "
                                                    "pause.",
                            help=f"At most {MAX_CONCLUSION_CHARS} characters. It stays in this browser session "
                                 "only: download the report or the annotation file to keep it.", **initial)
        st.form_submit_button("Save the conclusion for the downloads")
    try:
        conclusion = check_conclusion(text)
    except ConclusionError as error:
        st.error(f"{error} The downloads leave it out until it is shortened.")
        return ""
    st.caption(f"The downloads below include the conclusion saved: \"{textwrap.shorten(conclusion, 90)}\"" if conclusion
               else "The downloads below have no conclusion: write it above and press Save (or Ctrl+Enter).")
    return conclusion


def render_downloads(analysis) -> None:
    """Download buttons for the beat table, regions, WFDB and ISHNE annotations, the PDF report, the summary, the
    hourly, ST, QT and heart-rate turbulence tables, the diary's findings and the full disclosure (the files ``ecg
    score`` writes; each made when its button is pressed)."""
    outputs = import_outputs()
    if outputs is None:
        st.warning("Downloads are not available: the output writers (app.outputs) are missing from this build.")
        return
    name = analysis.record.name
    n_strips = len(analysis.reader_strips)
    st.caption(f"The report and the annotation file include the {count_noun(n_strips, 'strip')} chosen on the "
               "ECG tab." if n_strips
               else "No strip chosen for the report: \"Add this window to the report\" on the ECG tab chooses one.")
    for label, function_name, file_name, mime in DOWNLOADS:
        if not outputs.has_table(analysis, function_name) or (
                function_name == "two_lead_disclosure_bytes" and analysis.record.signal_mv.shape[1] < 2):
            continue
        writer = getattr(outputs, function_name, None)
        st.download_button(label, data=functools.partial(writer, analysis) if writer else b"",
                           file_name=file_name.format(name=name), mime=mime, key=f"download_{function_name}",
                           on_click="ignore", disabled=writer is None)


def import_outputs():
    """The output writers module, or None when it is not there."""
    try:
        from app import outputs
    except ImportError as error:
        logger.warning("app.outputs not importable (%s); downloads disabled", error)
        return None
    return outputs
