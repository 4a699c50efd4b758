"""Files made from a :class:`app.analysis.RecordAnalysis`: tables, summary, WFDB annotations, PDF report, full
disclosure.

Each output exists as bytes (for the dashboard's downloads) and is written to disk atomically
(a temporary file in the same folder, then :func:`os.replace`), so a reader never sees a
half-written file: after a crash a file is either complete or absent.

The WFDB annotation file holds one beat annotation per detected beat with the MIT-BIH symbol of
its predicted class (the classifier's label, as ``ecg evaluate`` scores it, also inside noisy
stretches; a reader's label where one was corrected in the dashboard; the beat table says which
beats are in unreadable signal), rhythm changes as ``+`` annotations with MIT-BIH rhythm labels,
pauses and the patient's diary entries as ``"`` comments and each unreadable stretch between
two ``~`` signal-quality annotations (every signal noisy, then clean; MIT-BIH subtypes), at the record
file's own sampling rate so that ``rdann``, ``bxb``, ``rxr`` and ``epicmp`` align it with the signal.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import tempfile
from pathlib import Path

import numpy as np

from app.analysis import (RecordAnalysis, beat_table, diary_rows, find_blocked_p_samples, hour_rows, region_rows,
                          summary_dict)
from app.conclusion import conclusion_notes
from app.findings import main_findings_json
from app.reader_strips import strip_notes
from app.event_settings import format_settings_notes
from pipeline.diary import diary_notes
from pipeline.rhythm_annotations import (af_edit_notes, beat_edit_notes, regions_to_annotations,
                                         write_region_annotations)
from pipeline.hrt import hrt_rows
from pipeline.ishne import CLASS_LABELS, format_ishne_annotations, pacemaker_code
from pipeline.qt import qt_rows
from pipeline.st import st_episode_marks, st_rows
from pipeline.types import Annotations

ANNOTATOR = "ecg"
"""Extension of the annotation file the product writes (``NAME.ecg``)."""

HOURLY_COLUMNS = ("clock_time", "start_s", "duration_s", "readable_s", "beats", "beats_N", "beats_S", "beats_V",
                  "beats_F", "beats_Q", "heart_rate_min_bpm", "heart_rate_mean_bpm", "heart_rate_max_bpm", "ventricular_couplets",
                  "ventricular_runs", "supraventricular_couplets", "supraventricular_runs", "pauses", "af_s",
                  "st_lowest_mv", "st_highest_mv", "qtc_fridericia_ms", "sdnn_ms", "rmssd_ms", "pnn50_pct",
                  "lf_hf_ratio")

ST_EPISODE_COLUMNS = ("lead", "kind", "start_s", "stop_s", "duration_s", "deviation_mv", "peak_s", "heart_rate_bpm",
                      "slope_mv", "qrs_change", "qrs_changed")

QT_COLUMNS = ("start_s", "end_s", "rr_s", "qt_ms", "qtc_fridericia_ms", "qtc_bazett_ms")

HRT_COLUMNS = ("time_s", "coupling_ms", "compensatory_ms", "reference_ms", "turbulence_onset_pct")

DIARY_COLUMNS = ("time_s", "clock_time", "text", "heart_rate_bpm", "readable", "events", "finding")

REGION_COLUMNS = ("kind", "start_s", "end_s", "duration_s", "start_sample", "stop_sample", "first_beat", "n_beats",
                  "heart_rate_bpm", "confidence", "noisy_leads")


def has_table(analysis: RecordAnalysis, writer_name: str) -> bool:
    """Whether the record has what the table written by ``writer_name`` holds: an assessed ST analysis (its levels
    and episodes), QT or heart-rate turbulence, a diary; every other output always has content. ``ecg score`` and
    the dashboard's downloads offer the same files by it."""
    summary = analysis.summary
    needs = {"st_table_csv": summary.st.assessed, "st_episode_table_csv": summary.st.assessed,
             "qt_table_csv": summary.qt.assessed, "hrt_table_csv": summary.hrt.assessed,
             "diary_table_csv": bool(analysis.diary)}
    return needs.get(writer_name, True)


def rows_to_csv(rows: list[dict], columns: tuple[str, ...]) -> bytes:
    """CSV text (header line first, empty cells for None) encoded as UTF-8."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if row.get(k) is None else row.get(k)) for k in columns})
    return buffer.getvalue().encode("utf-8")


def beat_table_csv(analysis: RecordAnalysis) -> bytes:
    """The beat table: one row per beat (time, sample at the file's rate, class, probabilities, RR)."""
    table = beat_table(analysis)
    return table.to_csv(index=False, na_rep="", lineterminator="\n").encode("utf-8")


def region_table_csv(analysis: RecordAnalysis) -> bytes:
    """The flagged regions table; samples at the internal rate (``fs_hz`` in the summary)."""
    return rows_to_csv(region_rows(analysis), REGION_COLUMNS)


def hourly_table_csv(analysis: RecordAnalysis) -> bytes:
    """The hourly table of a Holter report: one row per hour (its clock time when known, beats per class, heart rate,
    runs, pauses, AF)."""
    return rows_to_csv(hour_rows(analysis), HOURLY_COLUMNS)


def st_table_csv(analysis: RecordAnalysis) -> bytes:
    """The ST levels: one row per window (start, end, heart rate, and per lead the ST level and its deviation from
    the record's reference, mV; :func:`pipeline.st.st_rows`)."""
    st = analysis.summary.st
    columns = ("start_s", "end_s", "heart_rate_bpm") + tuple(
        f"{what}_{name}_mv" for name in st.lead_names for what in ("st", "deviation"))
    return rows_to_csv(st_rows(st), columns)


def qt_table_csv(analysis: RecordAnalysis) -> bytes:
    """The QT measurements: one row per window (start, end, RR, QT and QTc by Fridericia and Bazett;
    :func:`pipeline.qt.qt_rows`)."""
    return rows_to_csv(qt_rows(analysis.summary.qt), QT_COLUMNS)


def hrt_table_csv(analysis: RecordAnalysis) -> bytes:
    """The ventricular premature beats heart-rate turbulence was measured after: one row each (time, coupling,
    compensatory and reference intervals, turbulence onset; :func:`pipeline.hrt.hrt_rows`)."""
    return rows_to_csv(hrt_rows(analysis.summary.hrt), HRT_COLUMNS)


def st_episode_table_csv(analysis: RecordAnalysis) -> bytes:
    """The ST episodes, one row each (:class:`pipeline.st.StEpisode`)."""
    return rows_to_csv([e.to_dict() for e in analysis.summary.st.episodes], ST_EPISODE_COLUMNS)


def diary_table_csv(analysis: RecordAnalysis) -> bytes:
    """The patient's diary with what the ECG showed at each entry: heart rate, readable, the number of events within
    a minute and the finding in words (the events themselves are in the summary JSON)."""
    rows = [{**row, "events": len(row["events"])} for row in diary_rows(analysis)]
    return rows_to_csv(rows, DIARY_COLUMNS)


def summary_json(analysis: RecordAnalysis, extra: dict | None = None) -> bytes:
    """The record summary as indented JSON (NaN written as null), with the main findings (:mod:`app.findings`)."""
    content = {**summary_dict(analysis), "main_findings": main_findings_json(analysis), **(extra or {})}
    return (json.dumps(content, indent=2, allow_nan=False) + "\n").encode("utf-8")


BLOCKED_P_NOTE = "MISSB"
"""The comment written at each non-conducted P wave: MIT-BIH's own mark for them (record 231), so that the file can be
compared with the reference's."""


def blocked_p_notes(analysis: RecordAnalysis) -> tuple[tuple[int, str], ...]:
    """A ``MISSB`` comment (:data:`BLOCKED_P_NOTE`) at each non-conducted P wave of the analysis's AV block
    (:func:`app.analysis.find_blocked_p_samples`)."""
    return tuple((int(sample), BLOCKED_P_NOTE) for sample in find_blocked_p_samples(analysis))


def output_annotations(analysis: RecordAnalysis) -> Annotations:
    """Beat labels as classified (or as a reader corrected them), rhythm changes and pauses, at the internal rate;
    thresholds changed from the defaults and the reader's conclusion in comment annotations at the start
    (:func:`format_settings_notes`, :func:`app.conclusion.conclusion_notes`), the patient's diary entries in comment
    annotations at their times (:func:`pipeline.diary.diary_notes`), the strips the reader chose for the report at
    their starts (:func:`app.reader_strips.strip_notes`), the reader's words on the atrial rhythm at theirs
    (:func:`pipeline.rhythm_annotations.af_edit_notes`), the AF/flutter stretches as written and the file's end
    (:func:`pipeline.rhythm_annotations.written_af_notes`), the reader's edits of the beat list at the beats' positions
    (:func:`pipeline.rhythm_annotations.beat_edit_notes`), the ST episodes as ST change annotations
    (:func:`pipeline.st.st_episode_marks`); the beats the pacing rule found paced as ``/``; a ``MISSB`` comment at each
    non-conducted P wave (:func:`blocked_p_notes`); no rhythm stream of ``(N`` alone where the rhythm could not be
    assessed."""
    return regions_to_annotations(list(analysis.regions), analysis.predictions.samples, analysis.classes,
                                  analysis.record.fs_hz, n_leads=analysis.record.signal_mv.shape[1],
                                  unreadable_as_q=False,
                                  record_notes=format_settings_notes(analysis.region_settings)
                                  + conclusion_notes(analysis.conclusion),
                                  timed_notes=diary_notes(analysis.diary, analysis.record.fs_hz)
                                  + strip_notes(analysis.reader_strips) + blocked_p_notes(analysis)
                                  + af_edit_notes(analysis.af_edits, analysis.record.fs_hz)
                                  + beat_edit_notes(analysis.beat_edits, analysis.record.fs_hz),
                                  st_marks=st_episode_marks(analysis.summary.st, analysis.record.fs_hz),
                                  paced_beats=analysis.predictions.paced_mask,
                                  rhythm_assessed=math.isfinite(analysis.summary.af_burden_pct),
                                  n_samples=analysis.record.n_samples, note_written_af=True)


def annotation_file_bytes(analysis: RecordAnalysis, annotator: str = ANNOTATOR) -> bytes:
    """Content of the WFDB annotation file ``NAME.<annotator>``, at the record file's own rate."""
    record = analysis.record
    with tempfile.TemporaryDirectory(prefix="ecg-ann-") as tmp:
        path = write_region_annotations(tmp, record.name, annotator, output_annotations(analysis), record.fs_hz,
                                        record.source_fs_hz)
        return path.read_bytes()


def ishne_annotation_bytes(analysis: RecordAnalysis) -> bytes:
    """Content of the ISHNE annotation file ``NAME.ann``: every beat's label (:data:`pipeline.ishne.CLASS_LABELS`,
    the AAMI class as the second label), at the record file's own rate when it is a whole number of Hz, else at the
    internal rate; the header gives the recording's length, rate, leads, start time and pacemaker, never the
    patient. Beats only: the events are in the WFDB annotation file and the tables. A beat the pacing rule found paced
    (and still Q) is labelled ``P``, the standard's paced beat."""
    record = analysis.record
    fs_hz = record.source_fs_hz if float(record.source_fs_hz).is_integer() else record.fs_hz
    scale = fs_hz / record.fs_hz
    samples = np.round(np.asarray(analysis.predictions.samples, dtype=np.float64) * scale).astype(np.int64)
    classes = [str(c) for c in analysis.classes]
    paced = analysis.predictions.paced_mask.tolist()
    labels = ["P" if is_paced and c == "Q" else CLASS_LABELS[c] for c, is_paced in zip(classes, paced)]
    return format_ishne_annotations(samples, labels, fs_hz,
                                    int(round(record.n_samples * scale)), internal=classes,
                                    lead_names=record.lead_names, start_time=record.start_time,
                                    pacemaker_code=pacemaker_code(record.pacemaker))


def write_atomic(path: str | Path, content: bytes) -> Path:
    """Write ``content`` to ``path`` through a temporary file in the same folder and a rename.

    The file gets the permissions any program's new file would (0666 less the process's umask), or keeps those of
    the file it replaces: the temporary file's own 0600 would hide the outputs from the user's group.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = path.stat().st_mode & 0o777 if path.is_file() else 0o666 & ~read_umask()
    handle, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(handle, mode)
        with os.fdopen(handle, "wb") as stream:
            stream.write(content)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return path


def read_umask() -> int:
    """The process's file-creation mask, read without changing it where Linux tells it (``/proc/self/status``,
    safe while other threads create files); elsewhere set and restored at once."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def pdf_report_bytes(analysis: RecordAnalysis) -> bytes:
    """The PDF report (see :mod:`app.report`)."""
    from app.report import render_pdf_report

    return render_pdf_report(analysis)


def full_disclosure_bytes(analysis: RecordAnalysis) -> bytes:
    """The full disclosure PDF: the whole record, one minute per line (see :mod:`app.disclosure`)."""
    from app.disclosure import render_full_disclosure

    return render_full_disclosure(analysis)


def two_lead_disclosure_bytes(analysis: RecordAnalysis) -> bytes:
    """The full disclosure PDF of both analysed leads, each minute's two lines one above the other."""
    from app.disclosure import render_full_disclosure

    return render_full_disclosure(analysis, leads=2)
