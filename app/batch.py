"""Batch scoring: many recordings in, one output folder per record plus batch tables out.

Used by ``ecg score`` (:mod:`app.score_cli`). The rules that make a batch safe to leave running:

- Each record is scored on its own; an input problem (or any other failure inside one record)
  becomes a row of the errors table and the batch goes on. Running out of disk space stops the
  batch (every later record would fail the same way), after the tables of what was done.
- Every file is written atomically (:func:`app.outputs.write_atomic`), and each record's
  ``score.json`` manifest is written last. It records the fingerprints of the input files, of the
  model (weights and settings), of the settings and of the analysis code, and a checksum of every
  output file. A rerun skips a record only when its manifest matches and all its files are intact;
  a run killed at any moment leaves either no manifest (the record is scored again) or a complete
  folder.
- ``--jobs N`` scores records in N processes, each loading the model once; outputs do not depend
  on N (records are independent, and the tables are written in input order).

Output folder of a record: ``OUT/<key>/`` with ``NAME_beats.csv``, ``NAME_regions.csv``,
``NAME_hourly.csv``, ``NAME_st.csv`` and ``NAME_st_episodes.csv`` (ST levels and episodes, where ST was assessed),
``NAME_qt.csv`` (QT and QTc per minute, where QT was assessed), ``NAME_hrt.csv`` (the ventricular premature beats
heart-rate turbulence was measured after, where it was assessed),
``NAME_summary.json``, ``NAME.ecg`` (WFDB annotations), ``NAME_report.pdf`` and ``score.json``.
``<key>`` is the record's path relative to the directory it was found in (its name for single
records), so that two records with the same name in different folders do not collide.
"""

from __future__ import annotations

import atexit
import contextlib
import csv
import errno
import glob
import functools
import hashlib
import importlib
import io
import json
import logging
import multiprocessing
import os
import posixpath
import shutil
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from collections import deque
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path, PurePosixPath, PureWindowsPath

import numpy as np
from tqdm import tqdm

from app import outputs
from app.conclusion import read_conclusion_notes
from app.findings import NONE_FOUND_SHORT, main_findings_json
from app.logging_setup import RECORD_LABEL
from app.reader_strips import read_strip_notes
from app.analysis import (
    RecordAnalysis,
    add_conclusion,
    add_diary,
    add_reader_strips,
    add_summary_notes,
    analyse_record,
    apply_saved_af_edits,
    apply_saved_beat_edits,
    diary_findings,
    edit_analysis,
    read_artefacts,
    read_corrections,
    read_listed_af_edits,
    state_reviewed_pacemaker,
)
from models.errors import ModelError
from pipeline.diary import DIARY_SUFFIX, count_with_events, read_diary, read_diary_notes
from pipeline.qt import is_steady_qt
from pipeline.regions import WAVE_KINDS, RegionSettings, is_counted_not_timed
from pipeline.types import STATED_PACEMAKER, Annotations, Record
from pipeline.records import is_file_record, list_segment_names, read_annotations, read_record, record_stem

logger = logging.getLogger(__name__)

FORMATS = ("csv", "json", "wfdb", "ishne", "pdf", "disclosure", "disclosure2")
DEFAULT_FORMATS = ("csv", "json", "wfdb", "pdf")
"""The full disclosure (the whole record printed) is asked for: it is 48 pages for 24 hours (96 with both leads)."""
MANIFEST = "score.json"
BATCH_SUMMARY = "batch_summary.csv"
BATCH_ERRORS = "errors.csv"
SCORE_FORMAT_VERSION = 1
"""Bumped when the content of the outputs changes, so that reruns rescore."""
CODE_PACKAGES = ("pipeline", "models", "app")
"""Packages whose modules shape a record's outputs (not the dashboard's subpackage): :func:`fingerprint_code`."""
MIN_FREE_BYTES = 50 * 2**20
GLOB_CHARS = set("*?[")
RECORD_LIST_NAMES = ("RECORDS",)
RECORD_LIST_SUFFIXES = (".txt", ".list")
SUMMARY_COLUMNS = ("record", "status", "duration_s", "beats", "N", "S", "V", "F", "Q", "unreadable_beats",
                   "predominant_rhythm", "main_findings", "wide_qrs_ms", "pacing_spike_pct", "heart_rate_min_bpm",
                   "heart_rate_mean_bpm", "heart_rate_max_bpm", "longest_rr_s",
                   "ventricular_burden_pct", "supraventricular_burden_pct", "af_burden_pct", "sdnn_ms", "rmssd_ms",
                   "st_episodes", "qtc_fridericia_ms", "pr_ms",
                   "turbulence_onset_pct", "turbulence_slope_ms_per_rr", "hrt_category", "hrt_vpcs", "episodes",
                   "ventricular_couplets", "ventricular_tachycardia", "pauses", "av_block_2_to_1", "dropped_beats",
                   "readable_pct", "diary_entries",
                   "diary_entries_with_events",
                   "reviewed_beats", "reader_af_edits", "reader_beat_edits", "model", "message", "path")
ERROR_COLUMNS = ("record", "path", "error_type", "message")


class BatchUsageError(ValueError):
    """The batch cannot start: no record found, output folder unusable, no disk space."""


class NotARecordError(ValueError):
    """A command-line path names no record, directory or list file, among paths that do: it fails alone."""


class DiskFullError(OSError):
    """The output disk is full: the batch stops."""


class ModelChangedError(ModelError, RuntimeError):
    """A worker loaded other weights than those of the model the batch started with (the file or the registry entry
    changed in between): the batch stops."""


@dataclass(frozen=True)
class RecordSource:
    """One record to score: its path (WFDB record without extension, an ``.edf`` or ISHNE ``.ecg`` file) and output
    key; ``problem`` says why a command-line path names no record it can score, which then fails alone in the batch
    (:func:`find_record_sources`)."""

    path: Path
    key: str
    problem: str = ""
    position: int = 0
    """Place in the batch from 1 (the row of ``batch_summary.csv``), by which log lines name the record
    (:data:`app.logging_setup.RECORD_LABEL`); 0 before :func:`claim_output_folders` numbers the batch."""

    def __post_init__(self) -> None:
        if not is_inside_key(self.key):
            raise ValueError(f"Received key={self.key!r}; expected a relative path inside the output folder "
                             "(confine_key).")

    @property
    def name(self) -> str:
        return record_stem(self.path)


@dataclass(frozen=True)
class ScoreSettings:
    """What, besides the model and the input, determines the outputs of a record."""

    formats: tuple[str, ...] = DEFAULT_FORMATS
    regions: RegionSettings = RegionSettings()
    labels_from: str | None = None
    """Annotator of reviewed beat labels beside each record (``NAME.<labels_from>``, e.g. the ``.ecg`` file saved
    after a review in the dashboard): where present, its labels replace the model's (:func:`apply_saved_labels`)."""
    lead: str | None = None
    """Primary lead of every record (a name such as II or V5, or a column index); None: MLII or II, else the first
    ECG lead. A record without it fails with its own error."""
    diary_dir: str | None = None
    """Folder of the patients' diaries (``NAME.diary.csv``, :mod:`pipeline.diary`); None: beside each record."""
    pacemaker: bool = False
    """Every patient has a pacemaker (``Record.pacemaker``; an ISHNE header may say so of its own patient)."""
    code_sha256: str = field(default_factory=lambda: fingerprint_code())
    """The analysis code's fingerprint, taken once where the batch starts and handed to its workers."""

    def __post_init__(self) -> None:
        unknown = sorted(set(self.formats) - set(FORMATS))
        if unknown or not self.formats:
            raise ValueError(f"Received formats={self.formats}; expected one or more of {FORMATS}.")
        if self.labels_from is not None and not (self.labels_from.isalnum() and self.labels_from.isascii()):
            raise ValueError(f"Received labels_from={self.labels_from!r}; expected an annotator name such as ecg "
                             "(letters and digits: the extension of NAME.ecg).")
        if self.lead is not None and not self.lead.strip():
            raise ValueError("Received lead=''; expected a lead name such as II or V5, or a column index.")
        if self.labels_from in ("hea", "dat", "edf"):
            raise ValueError(f"Received labels_from={self.labels_from!r}; expected an annotation file's extension, "
                             "not a record file's.")

    def to_dict(self) -> dict:
        content = {"formats": sorted(self.formats), "regions": self.regions.to_dict(),
                   "score_format_version": SCORE_FORMAT_VERSION, "annotator": outputs.ANNOTATOR,
                   "code_sha256": self.code_sha256}
        if self.labels_from is not None:  # absent otherwise, so that earlier outputs stay up to date
            content["labels_from"] = self.labels_from
        if self.lead is not None:
            content["lead"] = self.lead
        if self.diary_dir is not None:
            content["diary_dir"] = self.diary_dir
        if self.pacemaker:
            content["pacemaker"] = True
        return content


@dataclass(frozen=True)
class RecordResult:
    """Outcome of one record: ``scored``, ``skipped`` (already up to date) or ``failed``."""

    source: RecordSource
    status: str
    summary: dict | None = None
    error_type: str = ""
    message: str = ""


@dataclass(frozen=True)
class ModelIdentity:
    """Which model scores: what to load in each process, and what to record in the outputs."""

    uri: str
    source: str
    weights_sha256: str
    settings_sha256: str
    """Of the model's settings (segmentation, features, decision rules): a rules-only change keeps the weights."""
    local_path: str | None = None  # the .keras file workers load without MLflow (not part of the outputs)

    def to_dict(self) -> dict:
        return {"source": self.source, "weights_sha256": self.weights_sha256, "settings_sha256": self.settings_sha256}


# ----------------------------------------------------------------------------------------------
# Finding records
# ----------------------------------------------------------------------------------------------

def find_record_sources(paths: list[str] | tuple[str, ...]) -> list[RecordSource]:
    """Expand records, directories (recursively), globs and RECORDS list files into record sources. A path that is
    none of these, among paths that name records, is a source that fails alone with its reason (``problem``), as a
    record list's bad line does: one typo in a long list of paths does not stop the batch (a QA pass, session 50).

    Raises
    ------
    BatchUsageError
        No path names a record: the reasons of those that are none of the above, else that none holds a record.
    """
    if any(not str(text).strip() for text in paths):  # Path("") is ".": an unset "$DIR" scored the working folder
        raise BatchUsageError("Received an empty path (an unset variable in a script?); expected records, directories, "
                              "globs or RECORDS list files. Give the path, or . for the current folder.")
    found: list[RecordSource] = []
    for text in paths:
        try:
            found += expand_path(text)
        except BatchUsageError as error:
            found.append(RecordSource(Path(text).expanduser(), confine_key(record_stem(Path(text)) or "path"),
                                      problem=str(error)))
    if all(source.problem for source in found):
        raise BatchUsageError(" ".join(source.problem for source in found) if found else
                              f"No record found in {', '.join(paths)}: expected WFDB records (NAME.hea + signal "
                              "files), .edf files, ISHNE .ecg files, directories holding them, globs or RECORDS "
                              "list files.")
    return deduplicate_keys(found)


def expand_path(text: str) -> list[RecordSource]:
    """Record sources named by one command-line path."""
    path = Path(text).expanduser()
    if GLOB_CHARS & set(text):
        matches = sorted(glob.glob(str(path), recursive=True))
        if not matches:
            raise BatchUsageError(f"Received {text}: the pattern matches no file.")
        sources = []
        for match in matches:
            sources += expand_match(Path(match))
        return unique_paths(sources, log=False)  # one record's files
    if path.is_dir():
        return find_in_directory(path)
    if path.is_file() and (path.name in RECORD_LIST_NAMES or path.suffix.lower() in RECORD_LIST_SUFFIXES):
        return read_record_list(path)
    record = as_record_path(path)
    if record is None and path.is_file():
        raise BatchUsageError(f"Received {text}: {describe_unsupported_file(path)}")
    if record is None:
        raise BatchUsageError(f"Received {text}: no such record, directory or list file (a WFDB record is given "
                              "without extension, e.g. DIR/100 for DIR/100.hea).")
    return [RecordSource(record, record_stem(record))]


def describe_unsupported_file(path: Path) -> str:
    """Why an existing file that is neither a record, a directory nor a list file cannot be scored, and what to give.

    >>> print(describe_unsupported_file(Path("export.csv")))  # doctest: +NORMALIZE_WHITESPACE
    export.csv is not a supported recording format (supported: WFDB records, NAME.hea with its signal files;
    EDF .edf; ISHNE Holter .ecg); export the recording in one of these.
    """
    if path.suffix.lower() in (".dat", ".atr", ".ecg"):
        return (f"{path.name} is a WFDB signal or annotation file without its header {path.stem}.hea beside it, or a "
                ".ecg that is not an ISHNE Holter file; give a record (DIR/NAME with DIR/NAME.hea), an EDF .edf or an "
                "ISHNE Holter .ecg.")
    return (f"{path.name} is not a supported recording format (supported: WFDB records, NAME.hea with its signal "
            "files; EDF .edf; ISHNE Holter .ecg); export the recording in one of these.")


def expand_match(path: Path) -> list[RecordSource]:
    """Record sources of one glob match (a directory, a header, an EDF or ISHNE file; other files are ignored)."""
    if path.is_dir():
        return find_in_directory(path)
    record = as_record_path(path)
    return [] if record is None else [RecordSource(record, record_stem(record))]


def as_record_path(path: Path) -> Path | None:
    """The record path for a header, signal file, EDF or ISHNE file or extension-less record name; None if none."""
    suffix = path.suffix.lower()
    if is_file_record(path):
        return path
    if suffix in (".hea", ".dat", ".atr") and path.with_suffix(".hea").is_file():
        return path.with_suffix("")
    if Path(f"{path}.hea").is_file():
        return path
    return None


def find_in_directory(directory: Path) -> list[RecordSource]:
    """Every WFDB header, EDF file and ISHNE Holter file (``.ecg`` with the ISHNE magic number) under ``directory``,
    keyed by their relative path.

    The segments of a multi-segment record are part of it, not records of their own, and are left out.
    """
    files = sorted(p for p in directory.rglob("*") if not p.name.startswith(".")
                   and (p.suffix.lower() == ".hea" and p.is_file() or is_file_record(p)))
    segments = {file.parent / f"{name}.hea" for file in files if file.suffix.lower() == ".hea"
                for name in list_segment_names(file) if name != file.stem}  # a header naming itself stays, to fail
    # with its reason: it was left out as its own segment, a record with no row in either table (QA, session 65)
    sources = []
    for file in files:
        if file in segments:
            continue
        record = file.with_suffix("") if file.suffix.lower() == ".hea" else file
        key = file.relative_to(directory).with_suffix("").as_posix()
        sources.append(RecordSource(record, key))
    return sources


def read_record_list(list_file: Path) -> list[RecordSource]:
    """Records named one per line (relative to the list's folder), as in PhysioNet's RECORDS files; a line naming a
    directory stands for the records under it, as in the RECORDS files of PhysioNet's multi-level databases. A line may
    also name a record or folder by absolute path or above the list's folder (``../``): its output key is then its last
    part (:func:`confine_key`), so that outputs never land outside ``--out``.

    A line that names no record while others do (a record whose files are missing) stays in the batch, where it
    fails alone with its own row in the errors table; one bad record never stops a batch.

    Raises
    ------
    BatchUsageError
        No line names a record (a text file that is not a record list): the message names the list file and the lines.
    """
    sources, not_records = [], []
    for line_number, name in list_entries(list_file):
        entry = list_file.parent / name
        record = as_record_path(entry)
        if record is not None:
            sources.append(RecordSource(record, confine_key((Path(name).parent / record_stem(record)).as_posix())))
        elif entry.is_dir():  # the list's own folder ("." or "./") adds no prefix
            prefix = "" if posixpath.normpath(name) == "." else confine_key(Path(name).as_posix()) + "/"
            sources += [RecordSource(s.path, f"{prefix}{s.key}") for s in find_in_directory(entry)]
        else:
            not_records.append((line_number, name))
            sources.append(RecordSource(entry, confine_key(Path(name).as_posix())))
    if not_records and len(not_records) == len(sources):
        raise BatchUsageError(describe_list_errors(list_file, not_records))
    return sources


def confine_key(name: str) -> str:
    """A record list's entry (or a path's name) as an output key that stays inside ``--out``: the entry normalised
    (``./100`` and ``x/../100`` are ``100``) when it is relative and does not climb out with ``..``; else its last
    part, or ``record`` when it has none. A list naming records by absolute path wrote each record's outputs beside the
    record, into the database's own folder (session 58); a Windows path with a drive or a backslash counts as absolute.

    >>> [confine_key(k) for k in ("p00/100", "/data/mitdb/105", "../other/105", "./100", "x/../100", "..", ".")]
    ['p00/100', '105', '105', '100', '100', 'record', 'record']
    >>> confine_key("C:/data/105")
    '105'
    """
    path = posixpath.normpath(name.replace("\\", "/"))
    if is_inside_key(path):
        return path
    last = PurePosixPath(path).name
    return last if last not in ("", ".", "..") and is_inside_key(last) else "record"


def is_inside_key(key: str) -> bool:
    """Whether ``out_dir / key`` stays inside ``out_dir`` on any system: relative, no drive, no ``..``, not ``.``."""
    posix = PurePosixPath(key)
    return (bool(posix.parts) and key != "." and not posix.is_absolute() and ".." not in posix.parts
            and not PureWindowsPath(key).anchor and "\\" not in key)


def list_entries(list_file: Path) -> list[tuple[int, str]]:
    """(line number, name) of each entry of a record list file: blank lines and ``#`` comments left out."""
    lines = list_file.read_text(encoding="utf-8-sig", errors="replace").splitlines()  # Notepad's BOM (QA, session 65)
    return [(number, name) for number, line in enumerate(lines, start=1)
            if (name := line.strip()) and not name.startswith("#")]


def describe_list_errors(list_file: Path, not_records: list[tuple[int, str]]) -> str:
    """The message for the lines of a list file that name no record: the first in full, the others by number."""
    line_number, name = not_records[0]
    text = (f"{list_file.name} line {line_number}: {name!r} is not a record (no {name}.hea, EDF or ISHNE file of that "
            f"name in {list_file.parent}); expected one record per line, as in PhysioNet's RECORDS files.")
    if len(not_records) > 1:
        text += f" Lines {', '.join(str(n) for n, _ in not_records[1:])} name no record either."
    return text


def unique_paths(sources: list[RecordSource], log: bool = True) -> list[RecordSource]:
    """Drop repeated record paths (a glob matching both 100.hea and 100.dat; a list naming a record twice, by
    ``../`` and by its folder), keeping the first. With ``log``, the repeats are logged by count only (no record name
    in the log): the user, who named a record twice, may have meant two records (a review of session 58)."""
    seen, unique, repeated = set(), [], 0
    for source in sources:
        if (path := source.path.resolve()) not in seen:
            seen.add(path)
            unique.append(source)
        else:
            repeated += 1
    if repeated and log:
        logger.warning("%d input(s) named a record already named; each record is scored once", repeated)
    return unique


def deduplicate_keys(sources: list[RecordSource]) -> list[RecordSource]:
    """Same record path once; a key used by two different records gets a ``_2``, ``_3``... suffix."""
    sources = unique_paths(sources)
    used: dict[str, int] = {}
    out = []
    for source in sources:
        key = source.key
        if key in used:
            used[key] += 1
            key = f"{key}_{used[source.key]}"
        else:
            used[key] = 1
        out.append(replace(source, key=key))
    return out


def claim_output_folders(sources: list[RecordSource], out_dir: Path) -> list[RecordSource]:
    """The sources with keys that never name another input's outputs: a key whose folder in ``out_dir`` an earlier
    run filled from another record of the same name (``a/100`` then ``b/100`` into one ``--out``) takes the next
    ``_2``, ``_3``... that is free or this record's own, so that no run overwrites another patient's results."""
    claimed: set[str] = set()
    out = []
    for position, source in enumerate(sources, start=1):
        key, n = source.key, 1
        while key in claimed or not holds_outputs_of(out_dir / key, source):
            n += 1
            key = f"{source.key}_{n}"
        if key != source.key:  # the log names no record (app.logging_setup); batch_summary.csv gives the folder
            logger.warning("batch record %d: its output folder holds another record's results (same name, another "
                           "input); writing to the same name with the suffix _%d", position, n)
        claimed.add(key)
        out.append(replace(source, key=key, position=position))
    return out


def holds_outputs_of(folder: Path, source: RecordSource) -> bool:
    """Whether ``folder`` may take ``source``'s outputs: it has no readable manifest (new, or a failed attempt), an
    earlier version wrote it (no input path fingerprint), or this very input filled it."""
    manifest = read_manifest(folder)
    return not manifest or manifest.get("source_sha256") in (None, fingerprint_source_path(source))


# ----------------------------------------------------------------------------------------------
# Fingerprints and manifests
# ----------------------------------------------------------------------------------------------

def fingerprint_source_path(source: RecordSource) -> str:
    """SHA-256 of the record's absolute path: which input an output folder belongs to, without writing the path (a
    folder name may name the patient)."""
    return hash_bytes(str(source.path.resolve()).encode())


def hash_bytes(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def fingerprint_record_files(source: RecordSource, diary: Path | None = None) -> str:
    """SHA-256 over the record's files (``NAME.*`` beside the header, or the EDF file) and its diary."""
    path = source.path
    files = [path] if is_file_record(path) else sorted(path.parent.glob(f"{glob.escape(path.name)}.*"))
    files += [diary] if diary is not None and diary not in files else []
    digest = hashlib.sha256()
    for file in files:
        if file.is_file():
            digest.update(file.name.encode())
            with file.open("rb") as stream:
                for block in iter(lambda: stream.read(2**20), b""):
                    digest.update(block)
    return digest.hexdigest()


def fingerprint_weights(model) -> str:
    """SHA-256 of a Keras model's weights (identifies the model whatever registry or file it came from)."""
    digest = hashlib.sha256()
    for weights in model.get_weights():
        digest.update(np.ascontiguousarray(weights).tobytes())
    return digest.hexdigest()


def fingerprint_model_settings(settings: dict) -> str:
    """SHA-256 of a model's settings (its ``.json`` beside the ``.keras`` file, or the registry's copy)."""
    return hash_bytes(json.dumps(settings, sort_keys=True, default=str).encode())


@functools.cache
def fingerprint_code() -> str:
    """SHA-256 of the analysis code: the modules of :data:`CODE_PACKAGES`, so that another version rescores.

    A version of the tool that finds beats or events differently makes different outputs from the same record,
    model and settings; without this, a rerun after an upgrade would keep the old outputs as up to date.
    """
    digest = hashlib.sha256()
    for package in CODE_PACKAGES:
        folder = Path(importlib.import_module(package).__file__).parent
        for path in sorted(folder.glob("*.py")):
            digest.update(f"{package}/{path.name}\0".encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def fingerprint_settings(settings: ScoreSettings, model: ModelIdentity) -> str:
    content = {"settings": settings.to_dict(), "model_weights_sha256": model.weights_sha256,
               "model_settings_sha256": model.settings_sha256}
    return hash_bytes(json.dumps(content, sort_keys=True).encode())


def read_manifest(folder: Path) -> dict | None:
    try:
        return json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def is_up_to_date(folder: Path, input_sha256: str, settings_sha256: str) -> bool:
    """The folder holds a manifest for these inputs and settings, and every listed file is intact."""
    manifest = read_manifest(folder)
    if not manifest or manifest.get("input_sha256") != input_sha256 or manifest.get("settings_sha256") != settings_sha256:
        return False
    for name, checksum in manifest.get("files", {}).items():
        try:
            if hash_bytes((folder / name).read_bytes()) != checksum:
                return False
        except OSError:
            return False
    return True


# ----------------------------------------------------------------------------------------------
# Scoring
# ----------------------------------------------------------------------------------------------

def render_outputs(analysis: RecordAnalysis, settings: ScoreSettings, model: ModelIdentity) -> dict[str, bytes]:
    """File name -> content of every requested output of a record."""
    name = analysis.record.name
    files = {}
    if "csv" in settings.formats:
        files[f"{name}_beats.csv"] = outputs.beat_table_csv(analysis)
        files[f"{name}_regions.csv"] = outputs.region_table_csv(analysis)
        files[f"{name}_hourly.csv"] = outputs.hourly_table_csv(analysis)
        for suffix, writer_name in (("st", "st_table_csv"), ("st_episodes", "st_episode_table_csv"),
                                    ("qt", "qt_table_csv"), ("hrt", "hrt_table_csv"), ("diary", "diary_table_csv")):
            if outputs.has_table(analysis, writer_name):
                files[f"{name}_{suffix}.csv"] = getattr(outputs, writer_name)(analysis)
    if "json" in settings.formats:
        files[f"{name}_summary.json"] = outputs.summary_json(analysis, {"model": model.to_dict()})
    if "wfdb" in settings.formats:
        files[f"{name}.{outputs.ANNOTATOR}"] = outputs.annotation_file_bytes(analysis)
    if "ishne" in settings.formats:
        files[f"{name}.ann"] = outputs.ishne_annotation_bytes(analysis)
    if "pdf" in settings.formats:
        files[f"{name}_report.pdf"] = outputs.pdf_report_bytes(analysis)
    if "disclosure" in settings.formats:
        files[f"{name}_full_disclosure.pdf"] = outputs.full_disclosure_bytes(analysis)
    if "disclosure2" in settings.formats:
        files[f"{name}_full_disclosure_2leads.pdf"] = outputs.two_lead_disclosure_bytes(analysis)
    return files


def write_record_folder(folder: Path, files: dict[str, bytes], manifest: dict) -> None:
    """Write the outputs atomically, then the manifest (last: it vouches for the others), then remove the files an
    earlier run's manifest listed that this run does not write (a format left out, an ST table no longer assessed),
    so that the folder holds one run's outputs. If a file cannot be written, the files of this attempt are removed
    and the error raised: no folder is left looking like a partial result."""
    earlier = set((read_manifest(folder) or {}).get("files", {}))  # none when absent or unreadable
    (folder / MANIFEST).unlink(missing_ok=True)
    written = []
    try:
        for name, content in files.items():
            write_checked(folder / name, content)
            written.append(name)
        manifest = {**manifest, "files": {name: hash_bytes(content) for name, content in files.items()}}
        write_checked(folder / MANIFEST, (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode())
    except Exception:
        for name in written:
            (folder / name).unlink(missing_ok=True)
        raise
    for name in sorted(earlier - set(files) - {MANIFEST}):
        if Path(name).name == name:  # a name the manifest lists, never a path elsewhere
            (folder / name).unlink(missing_ok=True)


def write_checked(path: Path, content: bytes) -> None:
    """:func:`app.outputs.write_atomic`, with a full disk turned into :class:`DiskFullError`."""
    try:
        outputs.write_atomic(path, content)
    except OSError as error:
        if error.errno in (errno.ENOSPC, errno.EDQUOT):
            raise DiskFullError(error.errno, f"The output disk is full while writing {path}; free some space and "
                                "rerun (records already scored are kept and skipped).") from error
        raise


def score_record(source: RecordSource, loaded_model, model: ModelIdentity, settings: ScoreSettings, out_dir: Path,
                 force: bool = False) -> RecordResult:
    """Score one record into ``out_dir/<key>``; never raises for a problem of the record itself. Log lines given
    meanwhile name it by its place in the batch (:data:`app.logging_setup.RECORD_LABEL`)."""
    label = RECORD_LABEL.set(f"batch record {source.position}" if source.position else "")
    try:
        return score_labelled_record(source, loaded_model, model, settings, out_dir, force)
    finally:
        RECORD_LABEL.reset(label)


def score_labelled_record(source: RecordSource, loaded_model, model: ModelIdentity, settings: ScoreSettings,
                          out_dir: Path, force: bool) -> RecordResult:
    """:func:`score_record` once its log label is set."""
    folder = out_dir / source.key
    try:
        if source.problem:
            raise NotARecordError(source.problem)
        diary = find_diary(source, settings.diary_dir)
        input_sha256 = fingerprint_record_files(source, diary)
        settings_sha256 = fingerprint_settings(settings, model)
        if not force and is_up_to_date(folder, input_sha256, settings_sha256):
            return RecordResult(source, "skipped", read_manifest(folder).get("summary"))
        record = read_record(source.path, annotator=None, lead=settings.lead)
        if settings.pacemaker and record.pacemaker is None:
            record = replace(record, pacemaker=STATED_PACEMAKER)
        saved = read_saved_labels(source, settings.labels_from, record)
        record = state_reviewed_pacemaker(record, saved)  # a reader's paced beats (/) say the patient is paced
        analysis = apply_saved_labels(analyse_record(record, loaded_model, settings.regions), saved, loaded_model)
        if diary is not None:
            entries, outside = read_diary(diary, record.duration_s, record.start_time)
            analysis = add_diary(analysis, entries)
            if outside:  # left out, and said, rather than the whole record failed
                analysis = add_summary_notes(analysis, [f"{line}: outside the recording, left out" for line in outside])
        summary = summary_row(analysis, model)
        manifest = {"record": source.key, "source_sha256": fingerprint_source_path(source),
                    "input_sha256": input_sha256, "settings_sha256": settings_sha256,
                    "model": model.to_dict(), "settings": settings.to_dict(), "summary": summary}
        write_record_folder(folder, render_outputs(analysis, settings, model), manifest)
        return RecordResult(source, "scored", summary, message=describe_no_beats(analysis))
    except DiskFullError:
        raise
    except Exception as error:  # one bad record never stops the batch
        logger.debug("the record failed", exc_info=True)
        earlier = (f" (the files in {source.key}/ are an earlier run's, of the record as it was then)"
                   if read_manifest(folder) else "")  # kept, as nothing written is lost; said, so not taken as new
        return RecordResult(source, "failed", None, type(error).__name__, describe_error(error) + earlier)


def find_diary(source: RecordSource, diary_dir: str | None) -> Path | None:
    """The record's diary file, ``NAME.diary.csv`` in ``diary_dir`` or else beside the record; None when absent."""
    folder = Path(diary_dir) if diary_dir is not None else source.path.parent
    path = folder / f"{source.name}{DIARY_SUFFIX}"
    return path if path.is_file() else None


def find_saved_labels(source: RecordSource, annotator: str | None) -> Path | None:
    """The file of reviewed labels ``NAME.<annotator>`` beside the record; None when there is none (or no annotator
    was asked for)."""
    if annotator is None:
        return None
    one_file = is_file_record(source.path)
    stem = source.path.with_suffix("") if one_file else source.path
    saved_file = stem.with_name(f"{stem.name}.{annotator}")
    if not saved_file.is_file() or (one_file and saved_file == source.path):  # an ISHNE record is NAME.ecg itself
        return None
    return saved_file


def read_saved_labels(source: RecordSource, annotator: str | None, record: Record) -> Annotations | None:
    """The reviewed labels ``NAME.<annotator>`` beside the record (:func:`find_saved_labels`), at the record's
    internal rate; None when there is no such file (or no annotator was asked for)."""
    saved_file = find_saved_labels(source, annotator)
    if saved_file is None:
        return None
    return read_annotations(saved_file.with_suffix(""), annotator, source_fs_hz=record.source_fs_hz,
                            target_fs_hz=record.fs_hz)


def describe_saved_labels(sources: list[RecordSource], annotator: str | None) -> str:
    """A warning when ``--labels-from`` finds reviewed labels beside none or only some of the records (a mistyped or
    wrongly cased extension would otherwise report the model's labels for the whole batch without a word; a QA pass of
    session 47); empty when every record has them or none was asked for."""
    if annotator is None:
        return ""
    found = sum(find_saved_labels(source, annotator) is not None for source in sources)
    if found == len(sources):
        return ""
    if found == 0:
        return (f"Warning: --labels-from {annotator}: no record has a NAME.{annotator} file beside it; every record is "
                "scored with the model's labels.")
    return (f"Note: --labels-from {annotator}: {found} of {len(sources)} records have a NAME.{annotator} file; the "
            "others are scored with the model's labels.")


def apply_saved_labels(analysis: RecordAnalysis, saved: Annotations | None, model) -> RecordAnalysis:
    """The analysis with the reviewed labels and artefact marks of a saved file (:func:`read_saved_labels`), when
    there is one. Its edits of the beat list (deleted detections, added beats) come first, classified with ``model``
    (:func:`app.analysis.apply_saved_beat_edits`).

    Its beats are paired with the detected ones within 150 ms (:func:`app.analysis.read_corrections`); labels that
    differ from the model's become corrections. Its unreadable stretches that the product does not find itself
    are a reader's artefact marks (:func:`app.analysis.read_artefacts`), and its notes on the atrial rhythm
    (:func:`app.analysis.apply_saved_af_edits`) are applied first, so that the S calls the AF rule gives
    back or takes are not read as corrections. Regions and summary are found again. Its
    diary entries (:func:`pipeline.diary.read_diary_notes`) become the record's diary (a diary file replaces them),
    and its reader's conclusion (:func:`app.conclusion.read_conclusion_notes`) and chosen strips
    (:func:`app.reader_strips.read_strip_notes`) are kept.
    """
    if saved is None:
        return analysis
    analysis = apply_saved_af_edits(apply_saved_beat_edits(analysis, model, saved), saved)
    corrections, unmatched = read_corrections(analysis, saved)
    if unmatched:
        logger.debug("%d reviewed beats matched no detected beat", unmatched)
    edited = edit_analysis(analysis, labels=corrections, artefacts=read_artefacts(analysis, saved),  # and the words
                           af_edits=analysis.af_edits + read_listed_af_edits(analysis, saved))  # made in WAVE, once
    edited = add_conclusion(edited, read_conclusion_notes(saved.aux_notes))
    edited = add_reader_strips(edited, read_strip_notes(saved.samples, saved.aux_notes))
    return add_diary(edited, read_diary_notes(saved.samples, saved.aux_notes, analysis.record.fs_hz))


def describe_error(error: Exception) -> str:
    """A one-line message for the errors table.

    >>> describe_error(PermissionError(13, "Permission denied", "/data/a/100.hea"))
    'Permission denied on /data/a/100.hea: give this user access to it and its folders (or copy the record to a \
folder it can read).'
    """
    if isinstance(error, PermissionError) and error.filename:  # "[Errno 13] Permission denied" (QA, session 65)
        return (f"Permission denied on {error.filename}: give this user access to it and its folders (or copy the "
                "record to a folder it can read).")
    text = " ".join(str(error).split())
    return text or type(error).__name__


def describe_no_beats(analysis: RecordAnalysis) -> str:
    """For a record scored without a single beat (every part noise, or no QRS found), why (and the flutter or
    fibrillation found in it from the signal, a QA pass of session 51), for the batch summary's
    message column and the command's last lines: its outputs exist, but a status of "scored" alone hid that they are
    empty (QA pass, session 45). ``""`` when beats were found."""
    if len(analysis.predictions):
        return ""
    text = f"no beat found: {analysis.predictions.reason or 'no QRS complexes found'}"
    waves_s = sum(r.duration_s(analysis.record.fs_hz) for r in analysis.regions if r.kind in WAVE_KINDS)
    return text + (f"; ventricular flutter/fibrillation for {waves_s:.0f} s of it (see the events)" if waves_s else "")


def summary_row(analysis: RecordAnalysis, model: ModelIdentity) -> dict:
    """The record's row of the batch summary table."""
    s = analysis.summary
    counts = dict(zip(("N", "S", "V", "F", "Q"), s.beat_counts))
    # runs, rhythms, patterns, pauses and rate stretches; not isolated beats and couplets, which are counted, not
    # episodes (a QA pass, session 50, read 119's 507 "events" as 444 isolated VPCs and 63 bigeminy and trigeminy)
    episodes = sum(t.count for t in s.events if t.kind != "unreadable" and not is_counted_not_timed(t.kind))
    hrt_caution = (f"heart-rate turbulence from {s.hrt.n_qualifying} VPCs: {s.hrt.note}"
                   if s.hrt.assessed and s.hrt.note else "")  # too few VPCs for the category beside it
    return {"duration_s": round(s.duration_s, 1), "beats": s.n_beats, **counts,
            "unreadable_beats": s.n_beats_unreadable,
            "heart_rate_min_bpm": finite_or_none(s.heart_rate_min_bpm, 0),
            "heart_rate_mean_bpm": finite_or_none(s.heart_rate_mean_bpm, 0),
            "heart_rate_max_bpm": finite_or_none(s.heart_rate_max_bpm, 0),
            "longest_rr_s": finite_or_none(s.longest_rr_s, 2),
            "ventricular_tachycardia": s.event("ventricular_tachycardia").count, "pauses": s.event("pause").count,
            "av_block_2_to_1": s.event("av_block_2_to_1").count, "dropped_beats": s.event("dropped_beat").count,
            "ventricular_burden_pct": finite_or_none(s.ventricular_burden_pct, 2),
            "supraventricular_burden_pct": finite_or_none(s.supraventricular_burden_pct, 2),
            "af_burden_pct": finite_or_none(s.af_burden_pct, 1), "sdnn_ms": finite_or_none(s.hrv.sdnn_ms, 1),
            "predominant_rhythm": s.predominant_rhythm.name,
            "main_findings": None if (findings := main_findings_json(analysis)) is None else (
                "; ".join(findings) or NONE_FOUND_SHORT),  # page 1's, as one cell
            "wide_qrs_ms": finite_or_none(s.predominant_rhythm.wide_qrs_ms, 0),  # "with a wide QRS" on the report
            "pacing_spike_pct": finite_or_none(100 * s.pacing_spike_share, 0),  # a pacemaker nobody stated
            "rmssd_ms": finite_or_none(s.hrv.rmssd_ms, 1), "episodes": episodes,
            "ventricular_couplets": s.event("ventricular_couplet").count,
            "st_episodes": len(s.st.episodes) if s.st.assessed else None,
            "qtc_fridericia_ms": (finite_or_none(s.qt.median(s.qt.qtc_fridericia_ms), 0)
                                  if s.qt.assessed and is_steady_qt(s.qt) else None),  # none where the T end is
            # uncertain, as on the report (session 57)
            "pr_ms": finite_or_none(s.pr.pr_ms, 0) if s.pr.assessed else None,  # over 200: first-degree AV block?
            "turbulence_onset_pct": finite_or_none(s.hrt.turbulence_onset_pct, 2),
            "turbulence_slope_ms_per_rr": finite_or_none(s.hrt.turbulence_slope_ms_per_rr, 2),
            "hrt_category": s.hrt.category or None,
            "hrt_vpcs": s.hrt.n_qualifying if s.hrt.assessed else None,
            "readable_pct": finite_or_none(100 * s.readable_fraction, 1), "diary_entries": len(analysis.diary),
            "diary_entries_with_events": count_with_events(diary_findings(analysis)),
            "reviewed_beats": int(analysis.reviewed_mask.sum()),
            "reader_af_edits": len(analysis.af_edits),  # a review's AF corrections are no automatic result (s63)
            "reader_beat_edits": len(analysis.beat_edits),  # deleted and added beats: the beat list is the reader's
            "model": model.source,
            "message": "; ".join(s.notes + ((hrt_caution,) if hrt_caution else ())
                                 + ((analysis.predictions.reason,) if analysis.predictions.reason else ()))}


def finite_or_none(value: float, digits: int) -> float | int | None:
    """``value`` rounded to ``digits`` (a whole number, written without ".0", when ``digits`` is 0); None when not
    finite.

    >>> finite_or_none(88.96, 0), finite_or_none(88.96, 1), finite_or_none(float("nan"), 1)
    (89, 89.0, None)
    """
    if not np.isfinite(value):
        return None
    return int(round(float(value))) if digits == 0 else round(float(value), digits)


# ----------------------------------------------------------------------------------------------
# Running a batch
# ----------------------------------------------------------------------------------------------

def check_output_dir(out_dir: Path, min_free_bytes: int = MIN_FREE_BYTES) -> None:
    """Fail before any work when the output folder cannot be created or written, or the disk is full."""
    if out_dir.is_symlink() and not out_dir.exists():  # mkdir said "File exists" (a QA pass, session 65)
        raise BatchUsageError(f"Output folder {out_dir} is a link to {os.readlink(out_dir)}, which does not exist: "
                              "create that folder, or give another --out.")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        probe = out_dir / f".write-test-{os.getpid()}"
        probe.write_bytes(b"ok")
        probe.unlink()
    except OSError as error:
        raise BatchUsageError(f"Output folder {out_dir} is not writable: {error.strerror or error}.") from None
    free = shutil.disk_usage(out_dir).free
    if free < min_free_bytes:
        raise BatchUsageError(f"Output folder {out_dir} has {free / 2**20:.0f} MiB free; at least "
                              f"{min_free_bytes / 2**20:.0f} MiB are needed.")


_worker_state: dict = {}


def threads_per_process(jobs: int) -> int:
    """CPU threads for TensorFlow in each of ``jobs`` processes (at least 1): no oversubscription."""
    return max(1, (os.cpu_count() or 1) // max(jobs, 1))


def limit_blas_threads(n_threads: int) -> None:
    """Let numpy's BLAS (OpenBLAS) use at most ``n_threads`` threads in this process from now on.

    OpenBLAS starts one thread per core and keeps idle threads spinning for a while after each
    matrix product. With ``--jobs 2`` on two cores, the two scoring processes' spinning BLAS threads
    took CPU time from each other: the 48 MIT-BIH records used 59 s of CPU (33-34 s wall) with the
    default and 52-56 s (30-32 s wall) with one BLAS thread per process (BENCHMARKS.md section 6).
    threadpoolctl is the library made for this (it also covers MKL and OpenMP builds).
    """
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=n_threads, user_api="blas")


def start_worker_pool(jobs: int, model_path: str | None = None) -> ProcessPoolExecutor | None:
    """Start ``jobs - 1`` worker processes now, so that their imports overlap this process's start-up.

    Each worker limits TensorFlow to its share of the cores and imports the analysis stack. With
    ``model_path`` (a ``.keras`` file known before the batch starts) it also loads that model and
    runs it once; otherwise the model is loaded on its first record. Either way each record's model
    is checked against the batch's (:func:`load_worker_model`). None when ``jobs`` is 1.
    """
    if jobs <= 1:
        return None
    pool = ProcessPoolExecutor(jobs - 1, mp_context=worker_context(), initializer=warm_worker,
                               initargs=(threads_per_process(jobs), model_path))
    for _ in range(jobs - 1):
        pool.submit(int)  # a no-op task makes the executor spawn its processes
    return pool


def worker_context() -> multiprocessing.context.BaseContext:
    """``fork`` while this process has not loaded TensorFlow (Linux), else ``spawn``.

    A forked worker inherits the modules already imported (numpy, scipy, pandas, wfdb: about 2 s
    of start-up on the 2-core machine) and imports TensorFlow itself. Forking a process that runs
    TensorFlow's thread pools is unsafe, so once TensorFlow is loaded (a second batch in the same
    process, the test suite) workers are spawned. The executor starts all forked workers at once.
    """
    if "tensorflow" not in sys.modules and "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def warm_worker(threads: int, model_path: str | None = None) -> None:
    """Worker start-up: quiet TensorFlow, limit its and BLAS's threads, import the analysis stack, load the model."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    # A worker's outputs are written (and its results sent) before it exits, so it skips the
    # interpreter's teardown of TensorFlow (about a second the batch would wait for).
    atexit.register(os._exit, 0)
    from models.quiet_import import import_tensorflow_quietly

    import_tensorflow_quietly()
    from models.network import limit_cpu_threads

    limit_cpu_threads(threads)
    limit_blas_threads(threads)
    import app.analysis  # noqa: F401  (the heavy imports, before the first record arrives)
    import models.evaluate  # noqa: F401  (Keras)

    if model_path:
        try:
            preload_model(Path(model_path))
        except Exception:  # the first record loads it again and reports any error there
            logger.debug("preloading %s failed", model_path, exc_info=True)


def preload_model(path: Path) -> None:
    """Load the model file at ``path`` and trace its predict function on dummy beats (both batch sizes)."""
    from models.loading import load_local
    from models.network import PREDICT_BATCH_SIZE, predict_probabilities, read_input_shapes

    loaded = load_local(path)
    shapes = read_input_shapes(loaded.model)
    n_beats = PREDICT_BATCH_SIZE + 1  # one full batch and one tail batch: both batch shapes traced
    predict_probabilities(loaded.model, np.zeros((n_beats, *shapes["waveform"]), np.float32),
                          np.zeros((n_beats, *shapes["features"]), np.float32))
    _worker_state.update(preloaded=(loaded.local_path, fingerprint_weights(loaded.model), loaded))


def load_worker_model(model: ModelIdentity, mlruns_dir: str | None):
    """The model in this worker, loaded once, checked to be the one the batch announced."""
    preloaded = _worker_state.pop("preloaded", None)
    if preloaded is not None and preloaded[:2] == (model.local_path, model.weights_sha256):
        _worker_state.update(uri=model.uri, loaded=preloaded[2])
    if _worker_state.get("uri") != model.uri:
        if model.local_path:
            from models.loading import load_local

            loaded = load_local(Path(model.local_path))
        else:
            from models import registry

            registry.configure_tracking(mlruns_dir)
            loaded = registry.load_model(model.uri)
        weights = fingerprint_weights(loaded.model)
        if weights != model.weights_sha256:
            raise ModelChangedError(f"The model at {model.uri} changed while the batch was starting: a worker "
                                    f"received weights {weights[:12]}...; expected {model.weights_sha256[:12]}..., "
                                    "those the batch started with. Rerun the batch.")
        _worker_state.update(uri=model.uri, loaded=loaded)
    # named as the batch names it (e.g. models:/NAME/VERSION), not by the file the worker read: outputs must not
    # depend on which process scored the record
    return replace(_worker_state["loaded"], source=model.source)


def score_in_worker(source: RecordSource, model: ModelIdentity, settings: ScoreSettings, out_dir: Path, force: bool,
                    mlruns_dir: str | None) -> RecordResult:
    return score_record(source, load_worker_model(model, mlruns_dir), model, settings, out_dir, force)


def score_records(sources: list[RecordSource], loaded_model, model: ModelIdentity, settings: ScoreSettings,
                  out_dir: Path, *, jobs: int = 1, force: bool = False, progress: bool = True,
                  mlruns_dir: str | None = None, pool: ProcessPoolExecutor | None = None) -> list[RecordResult]:
    """Score every source (in ``jobs`` processes); results in input order. Writes the batch tables.

    ``pool`` may pass workers started early with :func:`start_worker_pool` (it is shut down here).
    """
    sources = claim_output_folders(sources, out_dir)
    results: dict[str, RecordResult] = {}
    if pool is None and jobs > 1 and len(sources) > 1:
        pool = start_worker_pool(jobs)
    try:
        with stopping_on_sigterm() as check_stop:
            for result in iterate_results(sources, loaded_model, model, settings, out_dir, pool, force, progress,
                                          mlruns_dir):
                results[result.source.key] = result
                check_stop()
    finally:
        ordered = [results[s.key] for s in sources if s.key in results]
        write_batch_tables(out_dir, ordered)
        if pool is not None:
            pool.shutdown(cancel_futures=True)  # the tables first; then every worker has exited when this returns
    return ordered


@contextlib.contextmanager
def stopping_on_sigterm() -> Iterator[Callable[[], None]]:
    """While inside, SIGTERM (a scheduler's or ``kill``'s stop) ends the batch as Ctrl-C does, so that the batch
    tables of the records done are written before the process exits (its default action ends it at once). Main
    thread only; the earlier handler comes back on leaving.

    Yields a check to call where stopping is safe (after each record): the handler's ``SystemExit`` is lost when the
    signal lands while Python runs a garbage-collection or weak-reference callback ("Exception ignored in ..."), and
    a QA pass (session 50) saw a batch stopped that way score on and exit 0; the check raises it again from what the
    handler noted. Python's "Exception ignored in ... SystemExit: 143" for that lost exit is not printed (it looked
    like a crash to a QA pass of session 51); other ignored exceptions are, as before."""
    received: list[int] = []

    def check_stop() -> None:
        if received:
            raise SystemExit(128 + received[0])

    if threading.current_thread() is not threading.main_thread():
        yield check_stop
        return

    def raise_termination(signum, frame) -> None:
        received.append(signum)
        raise SystemExit(128 + signum)

    previous_hook = sys.unraisablehook

    def report_unraisable(unraisable) -> None:
        if not (received and isinstance(unraisable.exc_value, SystemExit)):  # the lost exit: check_stop raises it
            previous_hook(unraisable)

    previous = signal.signal(signal.SIGTERM, raise_termination)
    sys.unraisablehook = report_unraisable
    try:
        yield check_stop
    finally:
        signal.signal(signal.SIGTERM, previous)
        sys.unraisablehook = previous_hook


def iterate_results(sources, loaded_model, model, settings, out_dir, pool, force, progress,
                    mlruns_dir) -> Iterator[RecordResult]:
    """Results in completion order. With a worker pool this process scores too, beside the workers
    (it has the model loaded already, and scores while they load theirs). If a worker dies (killed,
    out of memory), its records go back to the queue and this process scores the rest alone."""
    bar = tqdm(total=len(sources), unit="record", desc="scoring", disable=not progress, dynamic_ncols=True)
    score_here = partial(score_record, loaded_model=loaded_model, model=model, settings=settings, out_dir=out_dir,
                         force=force)
    pending = deque(sources)
    running: dict[Future, RecordSource] = {}
    n_workers = 0 if pool is None or len(sources) <= 1 else pool._max_workers
    try:
        while pending or running:
            while n_workers and pending and len(running) < 2 * n_workers:
                try:
                    future = pool.submit(score_in_worker, pending[0], model, settings, out_dir, force, mlruns_dir)
                except BrokenProcessPool:
                    logger.warning("A worker process stopped; scoring the remaining records in this process")
                    n_workers = 0
                    break
                running[future] = pending.popleft()
            if pending:
                result = score_here(pending.pop())
                bar.update()
                yield result
            if not running:
                continue
            done = [f for f in running if f.done()] if pending else wait(running, return_when=FIRST_COMPLETED).done
            for future in done:
                source = running.pop(future)
                try:
                    result = future.result()
                except BrokenProcessPool:
                    logger.warning("A worker process stopped; scoring the remaining records in this process")
                    n_workers = 0
                    pending.extendleft(reversed([source, *running.values()]))
                    running.clear()
                    break
                bar.update()
                yield result
    finally:
        bar.close()


def write_batch_tables(out_dir: Path, results: list[RecordResult]) -> None:
    """``batch_summary.csv`` (one row per record) and ``errors.csv`` (failed records), in input order, merged into
    the tables an earlier run left in ``out_dir``: this run's rows replace the rows of the same records, and the rows
    of records it did not score are kept (a second run over one record does not drop the others)."""
    rows = [{"record": r.source.key, "status": r.status, **(r.summary or {}),
             **({"message": r.message} if r.message else {}), "path": str(r.source.path)}
            for r in results]
    errors = [{"record": r.source.key, "path": str(r.source.path), "error_type": r.error_type, "message": r.message}
              for r in results if r.status == "failed"]
    scored = {r.source.key for r in results}
    for name, new_rows, columns in ((BATCH_SUMMARY, rows, SUMMARY_COLUMNS), (BATCH_ERRORS, errors, ERROR_COLUMNS)):
        merged = merge_rows(read_earlier_table(out_dir / name), new_rows, scored)
        write_checked(out_dir / name, outputs.rows_to_csv(merged, columns))


def merge_rows(earlier: list[dict], new_rows: list[dict], scored: set[str]) -> list[dict]:
    """The earlier rows in their order, those of ``scored`` records replaced by their new row (or dropped when the
    record has none now), then the new rows of records the earlier table did not list.

    >>> merge_rows([{"record": "a"}, {"record": "b", "v": 1}], [{"record": "c"}, {"record": "b", "v": 2}], {"b", "c"})
    [{'record': 'a'}, {'record': 'b', 'v': 2}, {'record': 'c'}]
    """
    new = {row["record"]: row for row in new_rows}
    merged = [new.pop(row.get("record"), None) if row.get("record") in scored else row for row in earlier]
    return [row for row in merged if row is not None] + list(new.values())


def read_earlier_table(path: Path) -> list[dict]:
    """The rows of a batch table an earlier run wrote; none when there is none or it cannot be read."""
    try:
        return read_table(path) if path.is_file() else []
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        logger.warning("%s could not be read (%s); it is written anew", path, error)
        return []


def read_table(path: Path) -> list[dict]:
    """Rows of a CSV table written by this module."""
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
