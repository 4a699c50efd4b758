"""Read and write WFDB records and annotations: the only module of the project that imports wfdb.

Reading validates the files before wfdb sees them (so that a truncated or mislabelled record
raises a specific :mod:`pipeline.errors` exception instead of a bare wfdb or numpy error),
selects the ECG leads, converts to millivolts and resamples to the internal rate.
:func:`read_record` also reads EDF files (:mod:`pipeline.edf`) and ISHNE Holter files (:mod:`pipeline.ishne`).

References
----------
WFDB header and signal formats: https://wfdb.io/spec/ ; Moody GB, "WFDB Programmer's Guide".
"""

from __future__ import annotations

import datetime
import logging
import os
import re
import tempfile
import unicodedata
import warnings
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import numpy as np
import requests
import scipy.signal
import wfdb

from pipeline import INTERNAL_FS_HZ
from pipeline.clean import fill_gaps
from pipeline.errors import (
    AnnotationMismatchError,
    CorruptRecordError,
    DataDirectoryError,
    EcgInputError,
    HeaderMismatchError,
    MissingSignalFileError,
    NoEcgLeadError,
    RecordTooLargeError,
    RecordNotFoundError,
    SamplingRateError,
    SignalTooShortError,
    TruncatedSignalError,
    UnsupportedFormatError,
)
from pipeline.ishne import is_ishne_file, read_ishne, read_ishne_annotations
from pipeline.quality import mask_runs
from pipeline.types import Annotations, Record

logger = logging.getLogger(__name__)

MIN_FS_HZ = 100.0
"""Slowest rate read: the QRS complex (about 5-40 Hz of content) needs it."""
MAX_FS_HZ = 4096.0
"""Fastest rate read: Holter and resting ECGs record at up to 1,024 Hz, high-resolution ones at 2,000-4,000 Hz;
faster is taken for a mislabelled header (everything is resampled to the internal rate)."""
MIN_DURATION_S = 2.0

# Bits per sample of the WFDB storage formats we read, and the digital value that marks
# a missing sample in each (WFDB's "invalid sample" convention).
# Formats 310 and 311 pack three 10-bit samples into 4 bytes.
_FORMAT_BITS = {"8": 8, "16": 16, "24": 24, "32": 32, "61": 16, "80": 8, "160": 16, "212": 12,
                "310": 32 / 3, "311": 32 / 3}
_FORMAT_INVALID = {"8": -128, "16": -32768, "24": -8388608, "32": -2147483648, "61": -32768,
                   "80": -128, "160": -32768, "212": -2048, "310": -512, "311": -512}

_ECG_NAME = re.compile(
    r"^(ml)?(i{1,3}|avr|avl|avf|v[1-6]|v|ecg.*|.*lead.*|d[1-3]|ekg.*|cm5|[abcde]|mv\d?|modified.*)$",
    re.IGNORECASE,
)
_NON_ECG_NAME = re.compile(
    r"(abp|art|pap|cvp|resp|pleth|spo2|sao2|eeg|emg|eog|temp|flow|thor|abd|press|pulse|co2|bp|edr|annot|status|marker)",
    re.IGNORECASE,
)
ANALYSIS_LEADS = 2
"""Leads analysed: the primary and one other, the two the classifier was trained on (MIT-BIH's MLII and, mostly, V1)."""

MIN_LEAD_PTP_MV = 0.05
"""A lead whose peak-to-peak stays under this is flat (the detector's own limit for a dead lead)."""

ANALYSIS_BYTES_PER_SAMPLE = 28
"""Peak memory of a record's analysis per analysed lead and sample at the internal rate (:func:`check_memory_need`):
BENCHMARKS.md section 3 measured a peak of 1,736 MB for 24 hours of two leads at 360 Hz (62 M samples), its
imports included, so that the estimate errs on the large side for long records."""

READ_BYTES_PER_FILE_SAMPLE = 2.5
"""Peak memory of reading a WFDB record per sample of every signal in its files (:func:`check_memory_need`): wfdb
reads every byte of a file to take the leads asked for. BENCHMARKS.md section 11 measured the read of two leads of a
6-hour 12-lead record at 1,000 Hz (259 M file samples) at 605 MB (2.3 bytes per sample); a QA pass of session 51 saw a
3-hour one peak at 479 MB, imports included."""

MAX_BRIDGED_GAP_S = 0.02
"""Runs of missing samples up to this long are filled by interpolation when a record is read
(:func:`bridge_short_gaps`): a few dropped samples, shorter than any wave of the ECG but the sharpest QRS peak."""

MAX_TYPICAL_PTP_MV = 25.0
"""A lead whose typical 10-s stretch spans more than this is not in mV (:func:`check_amplitude`): QRS complexes reach
a few mV (under 10 even with ventricular hypertrophy), and wander and artefact move the 1st-99th percentile span of
a stretch by a few more."""

_PRECORDIAL_NAME = re.compile(r"^(?:MLV|MV|CM|CC|C|V)([1-6])$", re.IGNORECASE)
"""V1-V6 and their modified, Holter and European forms (MLV1, CM5, CC5, C1); the group is the position."""

_UNIT_TO_MV = {"mv": 1.0, "uv": 1e-3, "µv": 1e-3, "μv": 1e-3, "v": 1e3, "nu": 1.0, "": 1.0,
               "millivolt": 1.0, "millivolts": 1.0, "microvolt": 1e-3, "microvolts": 1e-3, "volt": 1e3, "volts": 1e3}
"""Units an ECG lead may be recorded in, and their factor to mV (lower case; the words too, as some exporters
write them)."""

_ECG_UNITS = ("mv", "uv", "µv", "μv", "millivolt", "millivolts", "microvolt", "microvolts")
"""Units that make a signal an ECG lead whatever its name."""


def read_record(
    path: str | Path,
    *,
    lead: str | int | None = None,
    annotator: str | None = "atr",
    target_fs_hz: float = INTERNAL_FS_HZ,
    min_duration_s: float = MIN_DURATION_S,
    max_leads: int | None = ANALYSIS_LEADS,
) -> Record:
    """Read a WFDB record (``DIR/NAME``, no extension), an EDF file or an ISHNE Holter file (``NAME.ecg``),
    validated and resampled.

    Parameters
    ----------
    path : str or Path
        Record path without extension (WFDB), or path to a ``.edf`` file or an ISHNE ``.ecg`` file.
    lead : str or int, optional
        Lead to use as primary (name such as ``"MLII"`` or column index). By default MLII when
        present, otherwise the first ECG lead.
    annotator : str or None
        Annotation file extension to read when present (``"atr"`` for reference labels);
        ``None`` skips annotations. An ISHNE file's reference labels are its ISHNE annotation file ``NAME.ann``,
        read for any annotator but ``None``.
    target_fs_hz : float
        Internal sampling rate to resample to.
    min_duration_s : float
        Shortest signal accepted.
    max_leads : int or None
        Most ECG leads to keep (:func:`choose_leads`: the primary, then V1, V2, ... among the leads with signal);
        the others are named in ``Record.unused_leads``. ``None`` keeps every ECG lead.

    Returns
    -------
    Record
        ECG leads in mV (float32, NaN where samples are missing) at ``target_fs_hz``.

    Examples
    --------
    >>> rec = read_record("data/excerpts/100")  # doctest: +SKIP
    >>> rec.lead_names, rec.fs_hz  # doctest: +SKIP
    (('MLII', 'V5'), 360.0)
    """
    path = Path(path)
    if path.suffix.lower() == ".edf":
        from pipeline.edf import read_edf  # here: pipeline.edf imports this module's lead choice and checks

        return read_edf(path, lead=lead, target_fs_hz=target_fs_hz, min_duration_s=min_duration_s,
                        max_leads=max_leads)
    if path.suffix.lower() == ".ecg" and not path.with_name(f"{path.name}.hea").exists():
        return _read_ishne(path, lead=lead, target_fs_hz=target_fs_hz, min_duration_s=min_duration_s,
                           max_leads=max_leads, with_annotations=annotator is not None)
    if path.suffix == ".hea" or path.suffix == ".dat" and path.with_suffix(".hea").exists():  # as ecg score takes it
        path = path.with_suffix("")
    header = read_header(path)
    check_sampling_rate(header.fs, path.name)
    if isinstance(header, wfdb.MultiRecord):
        return _read_multi_segment(path, header, lead=lead, annotator=annotator, target_fs_hz=target_fs_hz,
                                   min_duration_s=min_duration_s, max_leads=max_leads)
    _check_signal_files(path, header)
    ecg_columns = select_ecg_columns(list(header.sig_name), list(header.units))
    if not ecg_columns:
        raise NoEcgLeadError(describe_no_ecg_lead(f"Record {path.name}", list(header.sig_name), list(header.units)))
    primary = _choose_primary(list(header.sig_name), ecg_columns, lead, path.name)
    _check_duration(header.sig_len, float(header.fs), min_duration_s, path.name)
    check_memory_need(header.sig_len, float(header.fs), count_analysed_leads(len(ecg_columns), max_leads), path.name,
                      target_fs_hz, file_signals=count_file_signals(header, ecg_columns))
    source_fs_hz = float(header.fs) * max(samples_per_frame(header, c) for c in ecg_columns)
    return _build_record(path.name, lambda kept: _read_signal_mv(path, header, [ecg_columns[c] for c in kept],
                                                                 source_fs_hz),
                         tuple(header.sig_name[c] for c in ecg_columns), ecg_columns.index(primary),
                         source_fs_hz, target_fs_hz, max_leads,
                         _read_optional_annotations(path, annotator, float(header.fs), target_fs_hz, header.sig_len),
                         start_time=header.base_time, primary_chosen=lead is not None)


def _build_record(name: str, read_leads, lead_names: tuple[str, ...], primary: int, source_fs_hz: float,
                  target_fs_hz: float, max_leads: int | None, annotations: Annotations | None,
                  start_time: datetime.time | None = None, primary_chosen: bool = False) -> Record:
    """The :class:`Record` of ECG leads read at ``source_fs_hz``: the leads kept (:func:`read_chosen_leads`, which
    calls ``read_leads`` with the columns to read), resampled; ``start_time`` is the header's clock time;
    ``primary_chosen`` says the user chose the primary lead."""
    signal_mv, kept, primary = read_chosen_leads(read_leads, lead_names, primary, max_leads, primary_chosen)
    kept_names = tuple(lead_names[c] for c in kept)
    if not any(find_leads_with_signal(signal_mv)):
        raise NoEcgLeadError(
            f"Record {name}: every lead analysed ({', '.join(kept_names)}) is missing or flat throughout (peak to peak "
            f"under {MIN_LEAD_PTP_MV:g} mV): there is no ECG to analyse. Check the recording (electrodes, recorder) "
            f"or the file's export.{describe_tiny_leads(signal_mv, kept_names)}")
    check_amplitude(signal_mv, kept_names, source_fs_hz, name)
    signal_mv = bridge_short_gaps(signal_mv, source_fs_hz)
    return Record(
        name=name,
        signal_mv=resample_signal(signal_mv, source_fs_hz, target_fs_hz),
        fs_hz=float(target_fs_hz),
        lead_names=tuple(lead_names[c] for c in kept),
        primary_lead=kept.index(primary),
        source_fs_hz=source_fs_hz,
        annotations=annotations,
        unused_leads=tuple(lead for c, lead in enumerate(lead_names) if c not in kept),
        start_time=start_time if isinstance(start_time, datetime.time) else None,
    )


def bridge_short_gaps(signal_mv: np.ndarray, fs_hz: float, max_gap_s: float = MAX_BRIDGED_GAP_S) -> np.ndarray:
    """``signal_mv`` with every run of missing (NaN) samples of at most ``max_gap_s`` between two valid samples of a
    lead filled by linear interpolation between them (with a log line); longer gaps, and those at either end, stay
    missing. Recorders and transmissions drop single samples; left missing, each one made its beat's window
    unreadable, so that a record 99.7 % readable had two thirds of its beats left out of every figure.

    >>> bridge_short_gaps(np.array([[0.0], [np.nan], [2.0], [np.nan], [np.nan], [np.nan], [1.0]]), 100.0,
    ...                   max_gap_s=0.02).ravel().tolist()
    [0.0, 1.0, 2.0, nan, nan, nan, 1.0]
    """
    longest = int(np.floor(max_gap_s * fs_hz + 1e-9))
    missing = np.isnan(signal_mv)
    if longest < 1 or not missing.any():
        return signal_mv
    out, n_bridged = signal_mv, 0
    for c in range(signal_mv.shape[1]):
        runs = mask_runs(missing[:, c])
        short = runs[(runs[:, 1] - runs[:, 0] <= longest) & (runs[:, 0] > 0) & (runs[:, 1] < len(signal_mv))]
        if not len(short):
            continue
        if out is signal_mv:
            out = np.array(signal_mv, copy=True)
        index = np.concatenate([np.arange(a, b) for a, b in short])
        valid = np.flatnonzero(~missing[:, c])
        out[index, c] = np.interp(index, valid, signal_mv[valid, c])
        n_bridged += len(short)
    if n_bridged:
        logger.info("%d gaps of at most %g ms of missing samples filled by interpolation", n_bridged,
                    1000 * max_gap_s)  # no record name in a log line: it may be the patient's
    return out


def check_amplitude(signal_mv: np.ndarray, lead_names: tuple[str, ...], fs_hz: float, name: str) -> None:
    """Refuse a lead whose typical 10-s stretch spans more than :data:`MAX_TYPICAL_PTP_MV` (1st to 99th percentile,
    median over up to 60 stretches spread over the record): its header's gain or units are wrong, and every figure
    in mV (ST levels, amplitudes) would be too.

    Raises
    ------
    HeaderMismatchError
        Naming the lead, its typical span and what to fix.
    """
    block = max(int(10 * fs_hz), 1)
    n_blocks = max(len(signal_mv) // block, 1)
    for c, lead in enumerate(lead_names):
        spans = []
        for b in np.unique(np.linspace(0, n_blocks - 1, min(n_blocks, 60)).astype(int)):
            values = signal_mv[b * block:(b + 1) * block, c]
            values = values[np.isfinite(values)]
            if len(values) >= 10:
                low, high = np.percentile(values, [1, 99])
                spans.append(high - low)
        typical = float(np.median(spans)) if spans else 0.0
        if typical > MAX_TYPICAL_PTP_MV:
            raise HeaderMismatchError(
                f"Record {name}: lead {lead} spans about {typical:,.0f} mV in a typical 10 s (1st to 99th "
                f"percentile); expected a few mV for an ECG (under {MAX_TYPICAL_PTP_MV:g}). The header's gain or "
                "units are probably wrong (e.g. values in microvolts labelled mV): correct them (WFDB: the gain in "
                "ADC units per mV and the units; EDF: the physical range and dimension) and score it again.")


def _read_optional_annotations(path: Path, annotator: str | None, source_fs_hz: float,
                               target_fs_hz: float, n_source_samples: int) -> Annotations | None:
    """``path.<annotator>`` when asked for and present, else None.

    Raises
    ------
    AnnotationMismatchError
        The file holds annotations past the end of the signal (more than a second): a signal file cut short, another
        record's annotation file, or no annotation file at all (random bytes read as one spread thousands of
        annotations over hours).
    """
    if annotator is None or not _with_extension(path, annotator).exists():
        return None
    annotations = read_annotations(path, annotator, source_fs_hz=source_fs_hz, target_fs_hz=target_fs_hz)
    end = n_source_samples * target_fs_hz / source_fs_hz
    if len(annotations.samples) and annotations.samples.max() > end + target_fs_hz:
        raise AnnotationMismatchError(
            f"Record {path.name}: its annotations ({path.name}.{annotator}) run to "
            f"{annotations.samples.max() / target_fs_hz:.1f} s, past the end of its signal ({end / target_fs_hz:.1f} "
            "s); expected the annotations of this signal (a truncated signal file, another record's annotation file, "
            "or a corrupt one?).")
    return annotations


def read_header(path: Path) -> wfdb.Record:
    """Read and sanity-check a WFDB header (``path`` without extension).

    The optional fields a single-segment header leaves out are filled in: a signal without description is named
    ``lead N`` (:func:`name_signals`) and a record line without the number of samples gets the number its signal
    file holds (:func:`infer_signal_length`), as the WFDB specification allows.
    """
    path = path.with_suffix("") if path.suffix == ".hea" else path
    hea = _with_extension(path, "hea")
    if not hea.exists():
        folder = hea.parent
        cased = [f.name for f in folder.glob("*") if f.name.lower() == hea.name.lower()] if folder.is_dir() else []
        if cased:  # a copy from Windows or a FAT stick: 100.HEA, 100.DAT (a QA pass, session 65)
            raise RecordNotFoundError(f"Record header {hea} does not exist, but {cased[0]} does: WFDB files are named "
                                      "in lower case (NAME.hea, NAME.dat, NAME.atr), and a copy from Windows or a "
                                      "memory stick can change that; rename the record's files to lower case.")
        raise RecordNotFoundError(f"Record header {hea} does not exist; expected a WFDB header file NAME.hea.")
    if not hea.is_file():  # a folder named x.hea gave an unexpected IsADirectoryError, a pipe hung (QA, session 65)
        raise RecordNotFoundError(f"Record header {hea} is {'a folder' if hea.is_dir() else 'not a regular file'}; "
                                  "expected a WFDB header file NAME.hea.")
    text = check_header_text(hea)
    record_line = next(line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#"))
    named = record_line.split()[0].split("/")[0].encode("latin-1").decode("utf-8", errors="replace")
    if not _WFDB_RECORD_NAME.fullmatch(named):  # the name the header itself gives
        raise refuse_record_name(named)
    try:
        header = wfdb.rdheader(str(path))
    except Exception as exc:  # wfdb raises many types on malformed headers
        if not _WFDB_RECORD_NAME.fullmatch(path.name):  # "rec 1.hea" saying "rec 1 2 360": "unconverted data remains"
            raise refuse_record_name(path.name) from exc
        raise CorruptRecordError(f"Header {hea.name} cannot be parsed: {exc}"
                                 f"{locate_header_problem(text)}. Expected a WFDB "
                                 f"header: {HEADER_LAYOUT}.") from exc
    check_record_line(hea, header)
    if getattr(header, "n_sig", 0) in (0, None):
        raise NoEcgLeadError(f"Header {hea.name} declares no signals; expected at least one ECG lead.")
    if not isinstance(header, wfdb.MultiRecord) and len(header.file_name or ()) != header.n_sig:
        raise CorruptRecordError(f"Header {hea.name} declares {header.n_sig} signals but describes "
                                 f"{len(header.file_name or ())}; expected one signal line per signal.")
    if not header.fs:
        raise SamplingRateError(
            f"Header {hea.name} declares no sampling rate; expected {MIN_FS_HZ:g}-{MAX_FS_HZ:g} Hz."
        )
    if not isinstance(header, wfdb.MultiRecord):
        header.sig_name = name_signals(header.sig_name, header.n_sig, "The header")
        if header.sig_len is None:
            header.sig_len = infer_signal_length(path, header)
    if not header.sig_len:
        raise SignalTooShortError(
            f"Header {hea.name} declares 0 samples (or no length); expected a signal of at least "
            f"{MIN_DURATION_S:g} s."
        )
    return header


def check_header_text(hea: Path) -> str:
    """The text of a header file (latin-1); refuse one without a record line (empty, or comments only), which wfdb
    fails on with an IndexError.

    Raises
    ------
    CorruptRecordError
        The file is empty or holds no line but blank lines and ``#`` comments.
    """
    text = hea.read_text(encoding="latin-1")
    if any(line.strip() and not line.lstrip().startswith("#") for line in text.splitlines()):
        return text
    what = "the file is empty" if not text.strip() else "it holds only comments and blank lines"
    raise CorruptRecordError(f"Header {hea.name}: {what}; expected a WFDB header: {HEADER_LAYOUT}.")


HEADER_LAYOUT = ("a record line (NAME SIGNALS FS SAMPLES), then one line per signal (FILE FORMAT GAIN/UNITS ... "
                 "DESCRIPTION)")
"""What a WFDB header holds, for the messages about one that cannot be read."""


def locate_header_problem(text: str) -> str:
    """Where a header that wfdb cannot parse first departs from the layout, as ``" (line 3: '...')"``: a record line
    whose second field is not a number of signals (or segments, ``n/m``), or a signal line whose second field is not
    a storage format of :data:`_FORMAT_BITS`; "" when no line looks wrong so.

    >>> locate_header_problem("rec 1 360 100\\nrec.dat 212 200 11 1024 0 0 0 MLII\\n")
    ''
    >>> locate_header_problem("rec 2 360 100\\nrec.dat 16 200 16 0 0 0 0 I\\n@@ not a signal 12\\n")
    " (line 3: '@@ not a signal 12' is not a signal line)"
    """
    lines = [(n, line.strip()) for n, line in enumerate(text.splitlines(), 1)
             if line.strip() and not line.lstrip().startswith("#")]
    segments = "/" in lines[0][1].split()[0] if lines else False
    for k, (n, line) in enumerate(lines):
        fields = line.split()
        if k == 0:
            ok = len(fields) >= 2 and re.fullmatch(r"\d+(/\d+)?", fields[1]) is not None
        elif segments:  # a multi-segment header: segment lines are NAME LENGTH
            ok = len(fields) >= 2 and fields[1].isdigit()
        else:  # the format may carry modifiers (16x2, 212:8)
            storage = re.match(r"\d+", fields[1]) if len(fields) >= 2 else None
            ok = storage is not None and storage.group() in _FORMAT_BITS
        if not ok:
            kind = "the record line" if k == 0 else "a segment line" if segments else "a signal line"
            shown = line if len(line) <= 60 else line[:57] + "..."
            return f" (line {n}: {shown!r} is not {kind})"
    return ""


def name_signals(names: list[str | None] | None, n_signals: int, described: str) -> list[str]:
    """The signals' names, each one the file leaves out (a WFDB signal line without description, a blank EDF label)
    given as ``lead N``, N its column from 1.

    Nothing tells what an unnamed signal is but its unit: :func:`select_ecg_columns` takes one in mV or uV (or
    without unit, mV by default in WFDB) for an ECG lead, so that a header that names no signal is read as ECG.
    Logged, with ``described`` ("The header") naming the kind of file, never the file (its name may be the
    patient's).

    Examples
    --------
    >>> name_signals(["MLII", None], 2, "The header")
    ['MLII', 'lead 2']
    >>> name_signals(None, 2, "The header")
    ['lead 1', 'lead 2']
    """
    names = list(names) if names is not None else [None] * n_signals
    unnamed = [c for c, name in enumerate(names) if not (name or "").strip()]
    if not unnamed:
        return names
    named = [f"lead {c + 1}" if c in unnamed else name for c, name in enumerate(names)]
    logger.info("%s gives no name to %s; read as %s (ECG leads when their unit is mV or uV, or none)", described,
                "any of its signals" if len(unnamed) == len(names) else f"signals {[c + 1 for c in unnamed]}",
                ", ".join(named[c] for c in unnamed))
    return named


def infer_signal_length(path: Path, header: wfdb.Record) -> int:
    """Samples per signal of a header whose record line leaves out their number (allowed by the WFDB specification):
    the whole frames its first signal file holds, from the file's size, byte offset and storage format, as
    ``wfdb.rdrecord`` counts them.

    Raises
    ------
    UnsupportedFormatError, MissingSignalFileError
        The file's storage format is not one we read, or the file does not exist.
    SignalTooShortError
        The file holds no whole frame.
    """
    file_name = header.file_name[0]
    columns = [c for c, name in enumerate(header.file_name) if name == file_name]
    fmt = str(header.fmt[columns[0]])
    signal_path = _find_signal_file(path, file_name, fmt)
    frame_bits = _FORMAT_BITS[fmt] * sum(samples_per_frame(header, c) for c in columns)
    n_samples = int((signal_path.stat().st_size - int(header.byte_offset[columns[0]] or 0)) * 8 / frame_bits + 1e-9)
    if n_samples <= 0:
        raise SignalTooShortError(f"Header {path.name}.hea gives no number of samples and its signal file {file_name} "
                                  f"holds none; expected a signal of at least {MIN_DURATION_S:g} s.")
    logger.info("The header gives no number of samples: %d, counted in its signal file", n_samples)
    return n_samples


_RECORD_LINE_FS = re.compile(r"^(\d+(?:\.\d*)?|\.\d+)(?:/[\d.]+(?:\([-\d.]+\))?)?$")
"""The sampling-frequency field of a WFDB record line: ``360``, ``128.5``, ``360/1``, ``360/1(0)``."""


def check_record_line(hea: Path, header: wfdb.Record) -> None:
    """Refuse a record line whose sampling rate or length wfdb would misread silently.

    wfdb reads a sampling-rate field it cannot parse (``-360``, ``abc``) as the WFDB default of 250 Hz, and a length
    it cannot parse as none; a record would then be analysed at the wrong rate. The record line is the first line
    that is neither blank nor a ``#`` comment: ``name[/segments] signals [fs[/counter[(base)]] [samples ...]]``.
    """
    lines = hea.read_text(encoding="latin-1").splitlines()
    fields = next((line.split() for line in lines if line.strip() and not line.lstrip().startswith("#")), [])
    if len(fields) >= 3 and not _RECORD_LINE_FS.match(fields[2]):
        raise SamplingRateError(f"Header {hea.name} gives the sampling rate as {fields[2]!r}, which wfdb would read "
                                f"as {header.fs:g} Hz; expected a positive number of Hz ({MIN_FS_HZ:g}-{MAX_FS_HZ:g}).")
    if len(fields) >= 4 and not fields[3].isdigit():
        raise CorruptRecordError(f"Header {hea.name} gives the number of samples as {fields[3]!r}; expected a "
                                 "whole number.")


def select_ecg_columns(sig_names: list[str], units: list[str | None]) -> list[int]:
    """Indices of the signals that look like ECG leads, by name and unit."""
    columns = []
    for i, (name, unit) in enumerate(zip(sig_names, units)):
        name = (name or "").strip()
        unit_key = (unit or "").strip().lower()
        if _NON_ECG_NAME.search(name) and not _ECG_NAME.match(name):
            continue
        if unit_key not in _UNIT_TO_MV:
            continue
        if _ECG_NAME.match(name) or unit_key in _ECG_UNITS:
            columns.append(i)
    return columns


def describe_no_ecg_lead(described: str, names: list[str], units: list[str | None]) -> str:
    """Why no signal of a record reads as an ECG lead (:func:`select_ecg_columns`): the message of its
    :class:`NoEcgLeadError`, naming ECG-named signals whose unit is not a voltage (a QA pass of session 51 got "expected
    at least one ECG lead (names such as MLII ...)" for leads named MLII and V5 in a unit written ``millivolt``)."""
    odd_units = [f"{name} in {unit!r}" for name, unit in zip(names, units)
                 if _ECG_NAME.match((name or "").strip()) and (unit or "").strip().lower() not in _UNIT_TO_MV]
    text = (f"{described}: received signals {names}; expected at least one ECG lead (names such as MLII, II, V1, ECG; "
            "units mV or uV)")
    if odd_units:
        text += (f". The ECG-named signals are in units not read as a voltage ({', '.join(odd_units)}): check the "
                 "header's units (mV, uV or V)")
    return text + "."


PREFERRED_PRIMARY_LEADS = ("MLII", "II", "ML2")
"""The primary lead by default, the first of these a record has: MIT-BIH's MLII, on which the classifier and its
rules were developed, or its standard-lead equivalents."""


def _choose_primary(sig_names: list[str], ecg_columns: list[int], lead: str | int | None, name: str) -> int:
    if lead is None:
        for preferred in PREFERRED_PRIMARY_LEADS:
            for c in ecg_columns:
                if sig_names[c].strip().upper() == preferred:
                    return c
        return ecg_columns[0]
    if isinstance(lead, int) or (isinstance(lead, str) and lead.isdigit()):
        index = int(lead)
        if index not in ecg_columns:
            raise NoEcgLeadError(
                f"Record {name}: received lead index {index}; expected one of the ECG columns {ecg_columns} "
                f"({[sig_names[c] for c in ecg_columns]})."
            )
        return index
    for c in ecg_columns:
        if sig_names[c].strip().lower() == lead.strip().lower():
            return c
    raise NoEcgLeadError(
        f"Record {name}: received lead {lead!r}; expected one of {[sig_names[c] for c in ecg_columns]}."
    )


def choose_leads(lead_names: tuple[str, ...], primary_lead: int, max_leads: int = ANALYSIS_LEADS,
                 has_signal: tuple[bool, ...] | None = None) -> list[int]:
    """Columns to analyse, in file order: the primary lead and the leads most like MIT-BIH's second lead.

    MIT-BIH's second lead, the classifier's second input, is V1 in 40 of its 48 records (V2, V4 or V5 in the
    others), so the precordial leads come next, V1 first and V6 last, then the other leads in file order. Leads
    without signal (``has_signal`` False: missing or flat throughout) come last.

    Examples
    --------
    >>> choose_leads(("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6"), 1)
    [1, 6]
    >>> choose_leads(("CM5", "CM1", "ML2"), 2)
    [1, 2]
    >>> choose_leads(("II", "V1", "V2"), 0, has_signal=(True, False, True))
    [0, 2]
    >>> choose_leads(("ECG1", "ECG2", "ECG3"), 0)
    [0, 1]
    """
    present = has_signal if has_signal is not None else (True,) * len(lead_names)
    others = [c for c in range(len(lead_names)) if c != primary_lead]
    others.sort(key=lambda c: (not present[c], _precordial_position(lead_names[c]), c))
    return sorted([primary_lead] + others[: max(max_leads - 1, 0)])


def _precordial_position(name: str) -> int:
    """1-6 for a precordial lead (V1 ... V6 and their Holter forms), 7 for any other lead."""
    match = _PRECORDIAL_NAME.match(name.strip().replace(" ", ""))
    return int(match.group(1)) if match else 7


def describe_tiny_leads(signal_mv: np.ndarray, names: tuple[str, ...]) -> str:
    """A hint when leads that are not constant vary by less than :data:`MIN_LEAD_PTP_MV`: their values move, so the
    header's gain or units may be wrong rather than the recording flat ("" when every lead is missing or constant).

    >>> describe_tiny_leads(np.array([[0.0, 1.0], [2e-6, 1.0]]), ("MLII", "V1"))
    ' MLII varies by 2e-06 mV only: if the recording is not flat, the header may give the wrong gain or units.'
    """
    tiny = [(name, span) for name, x in zip(names, np.asarray(signal_mv).T) if np.isfinite(x).any()
            and 0 < (span := float(np.nanmax(x) - np.nanmin(x))) < MIN_LEAD_PTP_MV]
    if not tiny:
        return ""
    several = len(tiny) > 1
    return (f" {', '.join(name for name, _ in tiny)} var{'y' if several else 'ies'} by "
            f"{max(span for _, span in tiny):.2g} mV {'at most' if several else 'only'}: if the recording is not "
            "flat, the header may give the wrong gain or units.")


MAX_PLAUSIBLE_QRS_MV = 8.0
"""A lead whose median QRS spans more than this is most likely mis-scaled (:func:`describe_outsized_qrs`): a human QRS
rarely reaches 5 mV (left ventricular hypertrophy, a young athlete's chest leads), MIT-BIH's largest median over every
lead of its 48 records is 4.0 mV (102's V2), and a header's gain ten times too small (20 for 200 adu/mV) read 100's
MLII at 10.8 mV, its noise limits (in mV) then marking 9 % of it unreadable with no word why (a QA pass, session
65). :data:`MAX_TYPICAL_PTP_MV` refuses larger errors."""


def describe_outsized_qrs(signal_mv: np.ndarray, fs_hz: float, beat_samples: np.ndarray,
                          names: tuple[str, ...]) -> str:
    """A note when the median QRS (peak to peak from 50 ms before to 80 ms after each beat, up to 2,000 beats) of a
    lead spans more than :data:`MAX_PLAUSIBLE_QRS_MV`: the header's gain or units are likely wrong; "" otherwise.

    >>> x = np.zeros((3600, 1)); x[::360] = 12.0
    >>> describe_outsized_qrs(x, 360.0, np.arange(360, 3600, 360), ("MLII",))[:62]
    'QRS complexes of a median 12 mV in MLII, above any human QRS ('
    """
    beats = np.asarray(beat_samples, np.int64)
    before, after = int(0.05 * fs_hz), int(0.08 * fs_hz)
    beats = beats[(beats >= before) & (beats + after < len(signal_mv))]
    if not len(beats):
        return ""
    beats = beats[::max(1, len(beats) // 2000)]
    windows = np.asarray(signal_mv)[beats[:, None] + np.arange(-before, after + 1)[None, :]]
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a lead missing throughout: all-NaN windows
        spans = np.nanmedian(np.nanmax(windows, axis=1) - np.nanmin(windows, axis=1), axis=0)
    large = [(name, float(span)) for name, span in zip(names, np.atleast_1d(spans)) if span > MAX_PLAUSIBLE_QRS_MV]
    if not large:
        return ""
    return (f"QRS complexes of a median {', '.join(f'{span:.3g} mV in {name}' for name, span in large)}, above any "
            f"human QRS (rarely over 5 mV): the header's gain or units are likely wrong (amplitudes, ST levels and "
            "the noise limits, which are in mV, are off with them); check its ADC gain and units.")


def find_leads_with_signal(signal_mv: np.ndarray) -> tuple[bool, ...]:
    """Per lead: not missing throughout and not flat (peak-to-peak of at least :data:`MIN_LEAD_PTP_MV`)."""
    return tuple(bool(np.isfinite(column).any() and np.nanmax(column) - np.nanmin(column) >= MIN_LEAD_PTP_MV)
                 for column in np.asarray(signal_mv).T)


def blank_dead_leads(signal_mv: np.ndarray, with_signal: tuple[bool, ...]) -> np.ndarray:
    """``signal_mv`` with the leads that ``with_signal`` (:func:`find_leads_with_signal`) calls dead set missing (NaN),
    so that beats are classified from the living lead as in a one-lead recording, and a summary says so; unchanged
    when every lead, or none, is dead.

    >>> x = np.column_stack([np.sin(np.arange(100.0)), np.zeros(100)])
    >>> np.isnan(blank_dead_leads(x, find_leads_with_signal(x))).all(axis=0).tolist()
    [False, True]
    """
    dead = ~np.asarray(with_signal, bool)
    if not dead.any() or dead.all():
        return signal_mv
    blanked = np.array(signal_mv, dtype=np.float32, copy=True)
    blanked[:, dead] = np.nan
    return blanked


def read_chosen_leads(read_leads, names: tuple[str, ...], primary: int, max_leads: int | None,
                      primary_chosen: bool = False) -> tuple[np.ndarray, list[int], int]:
    """The signal of the leads to analyse, their columns and the primary lead's column: all leads when ``max_leads``
    is None or not exceeded, else :func:`choose_leads`'s, reading no more leads than needed.

    ``read_leads(columns)`` gives the (n_samples, len(columns)) signal of those columns, so that a file's other leads
    are never read. A chosen lead found flat or missing throughout gives way to the next in rank, which is read in
    turn. So does a primary lead found so, unless the user chose it (``primary_chosen``): the next primary is
    :func:`next_primary_lead`'s, with a log line.
    """
    if max_leads is None or len(names) <= max_leads:  # every lead read at once; a dead primary gives way all the same
        kept = list(range(len(names)))
        signal_mv = read_leads(kept)
        flat = {c for c, ok in enumerate(find_leads_with_signal(signal_mv)) if not ok}
        replacement = None if primary_chosen or primary not in flat else replace_flat_primary(names, primary, flat)
        return signal_mv, kept, primary if replacement is None else replacement
    flat: set[int] = set()
    while True:
        kept = choose_leads(names, primary, max_leads, tuple(c not in flat for c in range(len(names))))
        signal_mv = read_leads(kept)
        newly_flat = {c for c, ok in zip(kept, find_leads_with_signal(signal_mv)) if not ok} - flat
        if primary_chosen:
            newly_flat.discard(primary)
        if not newly_flat:
            break
        flat |= newly_flat
        if primary in flat:
            replacement = replace_flat_primary(names, primary, flat)
            if replacement is None:
                break  # every lead flat: _build_record refuses the record (NoEcgLeadError)
            primary = replacement
    logger.info("analysing leads %s; %d other ECG leads left out", ", ".join(names[c] for c in kept),
                len(names) - len(kept))
    return signal_mv, kept, primary


def replace_flat_primary(names: tuple[str, ...], primary: int, flat: set[int]) -> int | None:
    """:func:`next_primary_lead` for a primary lead found flat or missing throughout, said in a log line when there is
    one."""
    replacement = next_primary_lead(names, flat)
    if replacement is not None:
        logger.warning("lead %s is flat or missing throughout; lead %s is analysed as the main lead instead",
                       names[primary], names[replacement])
    return replacement


def next_primary_lead(names: tuple[str, ...], flat: set[int]) -> int | None:
    """The lead to analyse as the main one when the usual one is flat: the first limb (non-precordial) lead in file
    order not in ``flat``, else the precordial lead farthest from V1 (V1 is the second lead's); None when every lead
    is in ``flat``.

    >>> next_primary_lead(("I", "II", "III", "V1", "V5"), {1})
    0
    >>> next_primary_lead(("II", "V1", "V2", "V5"), {0})
    3
    """
    left = [c for c in range(len(names)) if c not in flat]
    if not left:
        return None
    return min(left, key=lambda c: (_precordial_position(names[c]) != 7, -_precordial_position(names[c]), c))


def describe_leads(lead_names: tuple[str, ...], unused_leads: tuple[str, ...] = ()) -> str:
    """The leads analysed, and those of the file that are not.

    >>> describe_leads(("II", "V1"), ("I", "III"))
    'II, V1 (of 4 ECG leads; not analysed: I, III)'
    """
    text = ", ".join(lead_names)
    if unused_leads:
        text += f" (of {len(lead_names) + len(unused_leads)} ECG leads; not analysed: {', '.join(unused_leads)})"
    return text


def keep_leads(record: Record, max_leads: int = ANALYSIS_LEADS) -> Record:
    """The record with only the leads :func:`choose_leads` picks; the others are named in ``unused_leads``.

    For records built in memory; :func:`read_record` chooses the same way while reading. A record with
    ``max_leads`` leads or fewer is returned as it is.
    """
    if len(record.lead_names) <= max_leads:
        return record
    signal_mv, kept, primary = read_chosen_leads(lambda columns: record.signal_mv[:, columns], record.lead_names,
                                                 record.primary_lead, max_leads)
    unused = tuple(name for c, name in enumerate(record.lead_names) if c not in kept)
    return replace(record, signal_mv=np.ascontiguousarray(signal_mv),
                   lead_names=tuple(record.lead_names[c] for c in kept), primary_lead=kept.index(primary),
                   unused_leads=record.unused_leads + unused)


def _with_extension(path: Path, extension: str) -> Path:
    """``DIR/NAME.extension`` for record path ``DIR/NAME`` (appended, never ``with_suffix``)."""
    return path.parent / f"{path.name}.{extension}"


def check_sampling_rate(fs_hz: float, name: str) -> None:
    if not (MIN_FS_HZ <= float(fs_hz) <= MAX_FS_HZ):
        raise SamplingRateError(
            f"Record {name}: received a sampling rate of {float(fs_hz):g} Hz; expected {MIN_FS_HZ:g} to "
            f"{MAX_FS_HZ:g} Hz (check the header's rate; a recording outside this range must be resampled into it "
            "first, e.g. with wfdb.processing.resample_multichan)."
        )


def _check_duration(n_samples: int, fs_hz: float, min_duration_s: float, name: str) -> None:
    duration_s = n_samples / fs_hz
    if duration_s < min_duration_s:
        raise SignalTooShortError(
            f"Record {name}: received {n_samples} samples ({duration_s:.2f} s at {fs_hz:g} Hz); "
            f"expected at least {min_duration_s:g} s."
        )


def count_analysed_leads(n_ecg_leads: int, max_leads: int | None) -> int:
    """How many of a record's ECG leads are analysed (:func:`choose_leads`), at least one."""
    return max(min(n_ecg_leads, max_leads) if max_leads is not None else n_ecg_leads, 1)


def check_memory_need(n_samples: int, fs_hz: float, n_leads: int, name: str,
                      target_fs_hz: float = INTERNAL_FS_HZ, available_bytes: int | None = None,
                      file_signals: int = 0) -> None:
    """Refuse, before reading its signal, a record whose analysis needs more memory than is available
    (:data:`ANALYSIS_BYTES_PER_SAMPLE` per analysed lead and sample at ``target_fs_hz``; ``available_bytes`` defaults
    to :func:`read_available_memory`), rather than filling the machine's memory for minutes and failing there.

    Reading can need more than the analysis: wfdb decodes every signal of a file to take the leads asked for
    (``file_signals``, the samples per frame of those files' signals, :func:`count_file_signals`; ``n_samples`` frames
    at ``fs_hz``), :data:`READ_BYTES_PER_FILE_SAMPLE` each. A QA pass of session 51 measured a 3-hour 12-lead record at
    1,000 Hz peaking at 479 MB while read, against an estimate of 218 MB from its two analysed leads (now 324 MB).

    Raises
    ------
    RecordTooLargeError
        Naming the duration, the memory needed and available, and what to do.
    """
    available = read_available_memory() if available_bytes is None else available_bytes
    duration_s = n_samples / fs_hz
    need = max(ANALYSIS_BYTES_PER_SAMPLE * n_leads * duration_s * target_fs_hz,
               READ_BYTES_PER_FILE_SAMPLE * file_signals * n_samples)
    if available is not None and need > available:
        raise RecordTooLargeError(
            f"Record {name}: {duration_s / 3600:.1f} hours ({duration_s / 86400:.1f} days) of {n_leads} "
            f"lead{'s' if n_leads > 1 else ''}; analysing "
            f"it at once needs about {need / 1e9:.1f} GB of memory and {available / 1e9:.1f} GB are available. Split "
            "it into shorter records (e.g. 24 hours each; wfdb: rdrecord with sampfrom/sampto, then wrsamp) and "
            "score those, or use a machine with more memory.")


def read_available_memory() -> int | None:
    """Bytes of memory available to a new allocation: MemAvailable of ``/proc/meminfo`` (Linux), else the physical
    memory, else None."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


def _check_signal_files(path: Path, header: wfdb.Record) -> None:
    """Check formats, presence and size of each signal file against the header."""
    files: dict[str, list[int]] = {}
    for i, file_name in enumerate(header.file_name):
        files.setdefault(file_name, []).append(i)
    for file_name, columns in files.items():
        fmt = str(header.fmt[columns[0]])
        signal_path = _find_signal_file(path, file_name, fmt)
        frame_samples = sum(samples_per_frame(header, c) for c in columns)
        offset = int(header.byte_offset[columns[0]] or 0)
        expected_bytes = offset + int(np.ceil(header.sig_len * frame_samples * _FORMAT_BITS[fmt] / 8))
        actual_bytes = signal_path.stat().st_size
        got = max(int((actual_bytes - offset) * 8 / _FORMAT_BITS[fmt] / frame_samples), 0)
        fitting = [k for k in range(1, frame_samples)
                   if offset + int(np.ceil(header.sig_len * k * _FORMAT_BITS[fmt] / 8)) == actual_bytes]
        if actual_bytes < expected_bytes and fitting:  # whole frames of fewer signals: the header lists too many
            raise HeaderMismatchError(
                f"Record {path.name}: {file_name} holds {actual_bytes} bytes, exactly {header.sig_len} samples of "
                f"{fitting[0]} signal{'s' if fitting[0] > 1 else ''}; the header declares {frame_samples} signals in "
                f"it ({expected_bytes} bytes). The header does not match its signal file (check its number of "
                "signals)."
            )
        if actual_bytes < expected_bytes:  # a QA pass (session 65) found the two causes below read as a cut file
            if actual_bytes == 0:
                cause = "the file is empty (an interrupted copy or download? copy it again)"
            elif offset and offset >= actual_bytes:
                cause = (f"the header's byte offset ({offset}) lies past the file's end: check the offset after the "
                         "format (e.g. 16+24)")
            else:
                other = [f for f, bits in _FORMAT_BITS.items() if f != fmt and offset + int(np.ceil(
                    header.sig_len * frame_samples * bits / 8)) == actual_bytes]
                cause = (f"the file's size fits format {other[0]} exactly: check the header's format ({fmt})" if other
                         else "the file was cut short (copy or download it again)")
            raise TruncatedSignalError(
                f"Record {path.name}: {file_name} holds {actual_bytes} bytes (about {got} samples per "
                f"signal); the header declares {header.sig_len} samples ({expected_bytes} bytes): {cause}."
            )
        if actual_bytes > expected_bytes + int(np.ceil(frame_samples * _FORMAT_BITS[fmt] / 8)):
            raise HeaderMismatchError(
                f"Record {path.name}: {file_name} holds {actual_bytes} bytes (about {got} samples per signal); "
                f"the header declares {header.sig_len} samples ({expected_bytes} bytes). The header does not "
                "match its signal file."
            )


def _find_signal_file(path: Path, file_name: str, fmt: str) -> Path:
    """The signal file ``file_name`` of record ``path``, checked to exist and to be in a WFDB format we read."""
    if fmt not in _FORMAT_BITS:
        raise UnsupportedFormatError(
            f"Record {path.name}: signal file {file_name} uses WFDB format {fmt}; expected one of "
            f"{sorted(_FORMAT_BITS, key=int)}."
        )
    signal_path = path.parent / file_name
    if not signal_path.exists():
        raise MissingSignalFileError(
            f"Record {path.name}: the header names signal file {file_name}, which does not exist in "
            f"{path.parent}; expected it beside the header."
        )
    return signal_path


def samples_per_frame(header: wfdb.Record, column: int) -> int:
    """Samples of signal ``column`` in each frame of a WFDB record: 1, or more for a signal sampled faster than the
    header's frame rate (a multi-frequency record, format ``16x2`` in the header)."""
    return int(header.samps_per_frame[column] or 1) if header.samps_per_frame else 1


def count_file_signals(header: wfdb.Record, columns: list[int]) -> int:
    """Samples per frame of every signal in the files that hold ``columns``: what wfdb decodes to read them."""
    files = {header.file_name[c] for c in columns}
    return sum(samples_per_frame(header, c) for c, name in enumerate(header.file_name) if name in files)


def _read_signal_mv(path: Path, header: wfdb.Record, columns: list[int], source_fs_hz: float) -> np.ndarray:
    """Read the chosen columns as float32 millivolts at ``source_fs_hz``, NaN where samples are invalid.

    A signal of a multi-frequency record is read at its own rate (``samples_per_frame`` times the frame rate) and
    resampled to ``source_fs_hz``, the fastest ECG lead's; wfdb's default would average each frame's samples, reading
    a 360-Hz lead of a record framed at 180 Hz at 180 Hz (a QA pass of session 51 found such a record refused, its
    checksums taken on the averages)."""
    multi_frequency = any(samples_per_frame(header, c) > 1 for c in columns)
    try:
        rec = wfdb.rdrecord(str(path), channels=columns, physical=False, return_res=32,
                            smooth_frames=not multi_frequency)
    except Exception as exc:
        raise CorruptRecordError(f"Record {path.name}: the signal file cannot be decoded: {exc}") from exc
    digital = list(rec.e_d_signal) if multi_frequency else None if rec.d_signal is None else list(rec.d_signal.T)
    for column, c in zip(digital or [None], columns):
        expected = header.sig_len * samples_per_frame(header, c)
        if column is None or len(column) != expected:
            raise HeaderMismatchError(f"Record {path.name}: decoded {0 if column is None else len(column)} samples of "
                                      f"{header.sig_name[c]}; the header declares {expected}.")
    _check_checksums(path, header, columns, digital)
    signal_mv = np.empty((header.sig_len * round(source_fs_hz / header.fs), len(columns)), dtype=np.float32)
    for j, (c, column) in enumerate(zip(columns, digital)):
        gain = float(header.adc_gain[c] or 200.0)
        baseline = float(header.baseline[c] or 0)
        scale = _UNIT_TO_MV[(header.units[c] or "").strip().lower()]
        invalid = column == _FORMAT_INVALID[str(header.fmt[c])]
        lead_fs_hz = float(header.fs) * samples_per_frame(header, c)
        if lead_fs_hz == source_fs_hz:  # every sample read straight into place (a 24-hour record: no copy more)
            signal_mv[:, j] = (column - baseline) * (scale / gain)
            signal_mv[invalid, j] = np.nan
            continue
        lead_mv = ((column - baseline) * (scale / gain)).astype(np.float32)
        lead_mv[invalid] = np.nan
        signal_mv[:, j] = fit_length(resample_signal(lead_mv[:, None], lead_fs_hz, source_fs_hz)[:, 0],
                                     signal_mv.shape[0])
    return signal_mv


def fit_length(values: np.ndarray, n: int) -> np.ndarray:
    """``values`` cut or padded (with its last value) to ``n`` samples: a resampled lead's length made that of the
    others, from which it can differ by a sample."""
    return values[:n] if len(values) >= n else np.concatenate([values, np.full(n - len(values), values[-1])])


def _check_checksums(path: Path, header: wfdb.Record, columns: list[int], digital: list[np.ndarray]) -> None:
    for column, c in zip(digital, columns):
        expected = header.checksum[c] if header.checksum else None
        if expected is None:
            continue
        # A 16-bit checksum: written signed by the WFDB C library, unsigned by wfdb-python.
        actual = int(np.sum(column, dtype=np.int64))
        actual = (actual + 32768) % 65536 - 32768
        if actual % 65536 != int(expected) % 65536:
            raise HeaderMismatchError(
                f"Record {path.name}: signal {header.sig_name[c]} has checksum {actual}; the header declares "
                f"{expected}. The signal file does not match its header (corrupt or mislabelled)."
            )


def list_segment_names(header_path: str | Path) -> tuple[str, ...]:
    """The segment records a multi-segment header file names (:func:`parse_segment_names`); () if unreadable.

    Lets a directory listing leave out segments, which are parts of a record rather than records.
    """
    try:
        return parse_segment_names(Path(header_path).read_text(errors="replace"))
    except OSError:
        return ()


def parse_segment_names(header_text: str) -> tuple[str, ...]:
    """The segment records a multi-segment header names, gaps (``~``) left out; () for any other header.

    >>> parse_segment_names("ms/4 2 360 9000\\nms_layout 0\\nms_1 5000\\n~ 1000\\nms_2 3000\\n")
    ('ms_layout', 'ms_1', 'ms_2')
    >>> parse_segment_names("100 2 360 650000\\n100.dat 212 200 11 1024 995 -22131 0 MLII\\n")
    ()
    """
    lines = [line.split() for line in header_text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    if not lines or "/" not in lines[0][0]:
        return ()
    try:
        n_segments = int(lines[0][0].split("/")[1])
    except ValueError:
        return ()
    return tuple(line[0] for line in lines[1:1 + n_segments] if line[0] != "~")


def _read_multi_segment(path: Path, header: wfdb.MultiRecord, *, lead: str | int | None, annotator: str | None,
                        target_fs_hz: float, min_duration_s: float, max_leads: int | None) -> Record:
    """A multi-segment WFDB record (a master header naming segment records, ``~`` for gaps) read as one signal.

    Gaps are most common in variable-layout records (their first segment, of length 0, lists the signals), as in
    MIMIC; wfdb joins a fixed-layout record with gaps wrongly (it fails on the gap's missing segment), so such a
    record is joined here (:func:`join_fixed_segments`; a QA pass of session 47).

    Every segment is checked as a single record is (header, signal files, sizes); wfdb then joins them, with
    NaN where a segment lacks a signal and in gaps.
    """
    check_memory_need(int(header.sig_len), float(header.fs), count_analysed_leads(int(header.n_sig), max_leads),
                      path.name, target_fs_hz, file_signals=int(header.n_sig))  # before wfdb joins every segment
    check_segments(path, header)
    fixed_with_gaps = header.layout == "fixed" and "~" in header.seg_name
    try:
        joined = (join_fixed_segments(path, header) if fixed_with_gaps
                  else wfdb.rdrecord(str(path), m2s=True, physical=True, return_res=32))
    except EcgInputError:
        raise
    except Exception as exc:
        raise CorruptRecordError(f"Record {path.name}: its segments cannot be joined: {exc}") from exc
    return _record_from_physical(path.name, f"Record {path.name}", joined, lead=lead, target_fs_hz=target_fs_hz,
                                 min_duration_s=min_duration_s, max_leads=max_leads,
                                 annotations=_read_optional_annotations(path, annotator, float(header.fs),
                                                                        target_fs_hz, joined.sig_len))


def check_segments(path: Path, header: wfdb.MultiRecord) -> None:
    """Check each data segment of a multi-segment record as a single record (header, signal files, sizes) and against
    the master header: its sampling rate and length the master's, and in a fixed layout the first segment's signals.
    wfdb joins segments at other rates or with other signals as they come (a QA pass of session 51 read a 250-Hz
    segment at 360 Hz, and V1 as V5, without a word).

    Raises
    ------
    HeaderMismatchError
        Naming the segment and what differs.
    """
    first_signals = None
    for segment, length in zip(header.seg_name, header.seg_len):
        if segment == "~" or not length:  # "~" is a gap; a variable layout's layout segment has no samples
            continue
        segment_header = read_header(path.parent / segment)
        if isinstance(segment_header, wfdb.MultiRecord):
            raise HeaderMismatchError(f"Record {path.name}: segment {segment} is itself a multi-segment record; "
                                      "expected a single-segment record.")
        problem = None
        if float(segment_header.fs) != float(header.fs):
            problem = (f"is sampled at {float(segment_header.fs):g} Hz and the record at {float(header.fs):g} Hz; "
                       "every segment must be at the record's rate")
        elif int(segment_header.sig_len) != int(length):
            problem = (f"holds {segment_header.sig_len} samples by its header and {length} by the record's; the "
                       "two must agree")
        elif any(samples_per_frame(segment_header, c) > 1 for c in range(segment_header.n_sig)):
            problem = "has signals sampled faster than its frame rate, which is not read in a segment"
        elif header.layout == "fixed" and first_signals is not None and list(segment_header.sig_name) != first_signals:
            problem = (f"holds signals {list(segment_header.sig_name)}, not {first_signals} as a fixed layout (no "
                       "layout segment) requires")
        if problem:
            raise HeaderMismatchError(f"Record {path.name}: segment {segment} {problem}. Check the record's header "
                                      f"({path.name}.hea) and the segment's ({segment}.hea).")
        first_signals = list(segment_header.sig_name) if first_signals is None else first_signals
        _check_signal_files(path.parent / segment, segment_header)


def join_fixed_segments(path: Path, header: wfdb.MultiRecord) -> wfdb.Record:
    """A fixed-layout multi-segment record's segments joined in physical units, its gaps (``~``) as NaN: every
    segment holds the same signals, so the first one present names them.

    Raises
    ------
    HeaderMismatchError
        When every segment is a gap, or a segment holds other signals than the first.
    """
    read = {name: wfdb.rdrecord(str(path.parent / name), physical=True, return_res=32)
            for name in dict.fromkeys(header.seg_name) if name != "~"}
    if not read:
        raise HeaderMismatchError(f"Record {path.name}: received {len(header.seg_name)} segments, every one a gap "
                                  "(~); expected at least one segment record holding samples. Check the record's "
                                  f"header ({path.name}.hea).")
    first_name, first = next(iter(read.items()))
    for name, segment in read.items():
        if list(segment.sig_name) != list(first.sig_name):
            raise HeaderMismatchError(f"Record {path.name}: segment {name} holds signals {list(segment.sig_name)}; "
                                      f"expected {list(first.sig_name)} as segment {first_name} does, since a fixed "
                                      "layout (no layout segment) needs the same signals in every segment.")
    blocks = [np.full((int(length), first.n_sig), np.nan, np.float32) if name == "~"
              else read[name].p_signal.astype(np.float32) for name, length in zip(header.seg_name, header.seg_len)]
    signal = np.concatenate(blocks)
    return wfdb.Record(record_name=header.record_name, n_sig=first.n_sig, fs=header.fs, sig_len=len(signal),
                       p_signal=signal, sig_name=list(first.sig_name), units=list(first.units),
                       base_time=header.base_time)


def _record_from_physical(name: str, described: str, signals: wfdb.Record, *, lead: str | int | None,
                          target_fs_hz: float, min_duration_s: float, max_leads: int | None,
                          annotations: Annotations | None) -> Record:
    """The :class:`Record` of signals wfdb read in physical units (an EDF file, joined segments): its ECG leads in mV.

    ``described`` names the input in the messages ("EDF x.edf", "Record x").
    """
    return record_from_columns(name, described, list(signals.sig_name), list(signals.units), signals.p_signal.shape[0],
                                float(signals.fs), lambda columns: signals.p_signal[:, columns].astype(np.float32),
                                lead=lead, target_fs_hz=target_fs_hz, min_duration_s=min_duration_s,
                                max_leads=max_leads, annotations=annotations,
                                start_time=getattr(signals, "base_time", None))


def record_from_columns(name: str, described: str, names: list[str], units: list[str | None], n_samples: int,
                         fs_hz: float, read_columns, *, lead: str | int | None, target_fs_hz: float,
                         min_duration_s: float, max_leads: int | None, annotations: Annotations | None,
                         start_time: datetime.time | None, ecg_columns: list[int] | None = None) -> Record:
    """The :class:`Record` of a file's signals given by name and unit, of which ``read_columns(columns)`` returns the
    physical values (float32, the file's units) of the columns asked for: its ECG leads in mV (``ecg_columns``, by
    default those :func:`select_ecg_columns` finds), only the chosen ones read."""
    names = name_signals(names, len(names), "The record")
    ecg_columns = ecg_columns or select_ecg_columns(names, units)
    if not ecg_columns:
        raise NoEcgLeadError(describe_no_ecg_lead(described, names, units))
    primary = _choose_primary(names, ecg_columns, lead, name)
    scale = np.array([_UNIT_TO_MV[(units[c] or "").strip().lower()] for c in ecg_columns], dtype=np.float32)
    _check_duration(n_samples, fs_hz, min_duration_s, name)
    check_memory_need(n_samples, fs_hz, count_analysed_leads(len(ecg_columns), max_leads), name, target_fs_hz)
    columns = np.asarray(ecg_columns)
    return _build_record(name, lambda kept: read_columns(columns[kept]) * scale[kept],
                         tuple(names[c] for c in ecg_columns), ecg_columns.index(primary), fs_hz,
                         target_fs_hz, max_leads, annotations, start_time=start_time, primary_chosen=lead is not None)


def names_file_record(path: Path) -> bool:
    """The path names a record that is one file: an EDF file (whether it exists or not), or an ISHNE Holter file
    (``.ecg`` with the ISHNE magic number, not the product's WFDB annotation file of the same extension)."""
    suffix = path.suffix.lower()
    return suffix == ".edf" or (suffix == ".ecg" and is_ishne_file(path))


def is_file_record(path: Path) -> bool:
    """An existing record that is one file (:func:`names_file_record`)."""
    return path.is_file() and names_file_record(path)


def record_stem(path: Path) -> str:
    """A record's name: the file's stem for a one-file record (EDF, ISHNE), else the WFDB record's name."""
    return path.stem if names_file_record(path) else path.name


def _read_ishne(path: Path, *, lead: str | int | None, target_fs_hz: float, min_duration_s: float,
                max_leads: int | None, with_annotations: bool = True) -> Record:
    """An ISHNE Holter file (:mod:`pipeline.ishne`): only the chosen leads are decoded from the file's map; its
    ISHNE annotation file ``NAME.ann`` beside it, when there is one and ``with_annotations``, gives the reference
    labels."""
    if not path.is_file():
        raise RecordNotFoundError(f"ISHNE file {path} does not exist; expected an ISHNE Holter file NAME.ecg.")
    if not is_ishne_file(path):
        raise UnsupportedFormatError(f"File {path.name} is not an ISHNE Holter file (it does not start with "
                                     "ISHNE1.0): a NAME.ecg written by this tool holds annotations; give its record "
                                     "(DIR/NAME, or the .hea file) instead.")
    signal = read_ishne(path)
    check_sampling_rate(signal.fs_hz, path.name)
    mv_per_unit = signal.mv_per_unit.astype(np.float32)
    record = record_from_columns(
        path.stem, f"ISHNE file {path.name}", list(signal.lead_names), ["mV"] * len(signal.lead_names),
        signal.samples.shape[0], signal.fs_hz,
        lambda columns: np.asarray(signal.samples[:, columns], dtype=np.float32) * mv_per_unit[columns],
        lead=lead, target_fs_hz=target_fs_hz, min_duration_s=min_duration_s, max_leads=max_leads,
        annotations=_read_ishne_reference(path, signal, target_fs_hz) if with_annotations else None,
        start_time=signal.start_time)
    return replace(record, pacemaker=signal.pacemaker)


def _read_ishne_reference(path: Path, signal, target_fs_hz: float) -> Annotations | None:
    """The ISHNE annotation file beside an ISHNE Holter file (``NAME.ann``, any case), at ``target_fs_hz``; None
    when there is none.

    Raises
    ------
    HeaderMismatchError
        Its sampling rate is not the ECG's, or it has annotations after the ECG's end.
    """
    found = [p for p in (path.with_suffix(".ann"), path.with_suffix(".ANN")) if p.is_file()]
    if not found:
        return None
    samples, symbols, fs_hz = read_ishne_annotations(found[0])
    n_samples = signal.samples.shape[0]
    if fs_hz != signal.fs_hz:
        raise HeaderMismatchError(f"ISHNE annotation file {found[0].name} is at {fs_hz:g} Hz and {path.name} at "
                                  f"{signal.fs_hz:g} Hz; expected the annotations of this recording.")
    if len(samples) and samples[-1] >= n_samples:
        raise HeaderMismatchError(f"ISHNE annotation file {found[0].name} has an annotation at sample "
                                  f"{int(samples[-1])}; {path.name} ends at sample {n_samples} (another recording's "
                                  "annotations?).")
    if fs_hz != target_fs_hz:
        samples = np.round(samples * (target_fs_hz / fs_hz)).astype(np.int64)
    return Annotations(samples, symbols, np.full(len(samples), "", dtype=object))


def resample_signal(signal_mv: np.ndarray, source_fs_hz: float, target_fs_hz: float) -> np.ndarray:
    """Resample (n_samples, n_leads) to ``target_fs_hz`` with a polyphase filter, keeping NaN gaps.

    Gaps are bridged by linear interpolation for filtering and marked NaN again at the new rate.
    """
    if source_fs_hz == target_fs_hz:
        return signal_mv
    ratio = Fraction(target_fs_hz / source_fs_hz).limit_denominator(1000)
    missing = np.isnan(signal_mv)
    filled = fill_gaps(signal_mv.astype(np.float32)) if missing.any() else signal_mv
    out = scipy.signal.resample_poly(filled, ratio.numerator, ratio.denominator, axis=0).astype(np.float32)
    if missing.any():
        n_out = out.shape[0]
        source_index = np.minimum((np.arange(n_out) * source_fs_hz / target_fs_hz).astype(np.int64),
                                  signal_mv.shape[0] - 1)
        out[missing[source_index]] = np.nan
    return out


def read_annotations(
    path: str | Path, annotator: str, *, source_fs_hz: float, target_fs_hz: float = INTERNAL_FS_HZ
) -> Annotations:
    """Read ``path.<annotator>`` and rescale its sample indices to ``target_fs_hz``."""
    path = Path(path)
    if _with_extension(path, annotator).stat().st_size == 0:  # wfdb reads no bytes as no annotation
        raise CorruptRecordError(f"Annotation file {path.name}.{annotator} is empty (0 bytes): it was cut short or not "
                                 "written through (an annotation file with no annotation still holds its end mark). "
                                 f"Use the file as it was written (e.g. download NAME.{annotator} again).")
    try:
        ann = wfdb.rdann(str(path), annotator)
    except Exception as exc:
        raise CorruptRecordError(f"Annotation file {path.name}.{annotator} cannot be read: it is cut short or not a "
                                 f"WFDB annotation file ({type(exc).__name__}: {exc}).") from exc
    undefined = sum(not isinstance(symbol, str) for symbol in ann.symbol)
    if undefined:  # wfdb reads any bytes; codes outside its table come back as NaN
        raise CorruptRecordError(f"Annotation file {path.name}.{annotator} is damaged or not a WFDB annotation file: "
                                 f"{undefined} of its {len(ann.symbol)} annotations have a code no annotation type "
                                 f"defines. Use the file as it was written (e.g. download NAME.{annotator} again).")
    samples = np.asarray(ann.sample, dtype=np.int64)
    if source_fs_hz != target_fs_hz:
        samples = np.round(samples * (target_fs_hz / source_fs_hz)).astype(np.int64)
    aux = [(a or "").replace("\x00", "") for a in (ann.aux_note or [""] * len(samples))]
    subtypes = np.asarray(ann.subtype if ann.subtype is not None else np.zeros(len(samples)), dtype=np.int64)
    return Annotations(samples, np.asarray(ann.symbol, dtype="<U2"), np.asarray(aux, dtype=object),
                       subtypes if subtypes.any() else None)


EMPTY_ANNOTATION_FILE = b"\x00\x00"
"""A WFDB annotation file with no annotation: the end-of-file mark (annotation type 0, interval 0)."""


def write_annotations(
    out_dir: str | Path,
    record_name: str,
    annotator: str,
    annotations: Annotations,
    *,
    fs_hz: float,
) -> Path:
    """Write annotations as a standard WFDB annotation file ``out_dir/record_name.annotator``.

    The file is readable by wfdb's ``rdann`` and by WFDB tools such as ``bxb`` and ``rdann``; the
    annotations' subtypes (signal-quality marks) are written when any is set. With no annotation (a record in which no
    beat was found) the file holds the format's end mark alone, which those tools read as no annotation (``wrann``
    refuses to write it).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{record_name}.{annotator}"
    if len(annotations.samples) == 0:
        path.write_bytes(EMPTY_ANNOTATION_FILE)
        return path
    order = np.argsort(annotations.samples, kind="stable")
    aux = [str(a) for a in annotations.aux_notes[order]]
    subtypes = annotations.subtype_array()[order]
    options = dict(symbol=[str(s) for s in annotations.symbols[order]], subtype=subtypes if subtypes.any() else None,
                   aux_note=aux if any(aux) else None, fs=fs_hz)
    if _WFDB_NAME.fullmatch(record_name):
        wfdb.wrann(record_name, annotator, annotations.samples[order].astype(np.int64), write_dir=str(out_dir),
                   **options)
        return path
    # wrann takes record names of letters, digits, _ and - only; an EDF or ISHNE file's (holter.v2.edf, "rec (1).edf")
    # failed its record after the analysis (a QA pass, session 65). The file holds no name: written under a safe one.
    with tempfile.TemporaryDirectory(prefix=".ecg-ann-", dir=out_dir) as staging:
        wfdb.wrann("annotations", annotator, annotations.samples[order].astype(np.int64), write_dir=staging,
                   **options)
        os.replace(Path(staging) / f"annotations.{annotator}", path)
    return path


_WFDB_NAME = re.compile(r"[-\w]+")
"""A record name wfdb's ``wrann`` writes under (its own check)."""


def refuse_record_name(name: str) -> UnsupportedFormatError:
    """The error for a WFDB record named with characters a record name cannot hold, whose header wfdb's parser failed
    on its own terms: "signal file rcord.dat does not exist", "invalid syntax in record line", "unconverted data
    remains" (a QA pass, session 65). A file so named whose header names a valid record reads as before."""
    return UnsupportedFormatError(
        f"Record name {name!r} holds characters a WFDB record name cannot (letters A-Z and a-z, digits, _ and - only; "
        "no spaces, dots or accents): rename the record's files, and the name on its header's first line and signal "
        f"lines, e.g. to {suggest_record_name(name)!r}.")


def suggest_record_name(name: str) -> str:
    """A WFDB record name like ``name``: accents dropped, other characters outside it made ``_``.

    >>> suggest_record_name("récord 1"), suggest_record_name("holter.v2"), suggest_record_name("心电图")
    ('record_1', 'holter_v2', 'record')
    """
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^A-Za-z0-9_-]+", "_", ascii_name).strip("_") or "record"


_WFDB_RECORD_NAME = re.compile(r"[A-Za-z0-9_-]+")
"""A WFDB record name (PhysioNet's WFDB Applications Guide: letters, digits and underscores; ``-`` as wfdb reads)."""


def write_record(out_dir: str | Path, record_name: str, signal_mv: np.ndarray, fs_hz: float,
                 lead_names: tuple[str, ...], *, fmt: str = "212", adc_gain: float = 200.0) -> Path:
    """Write a signal (n_samples, n_leads) in mV as a WFDB record (used for excerpts and benchmarks)."""
    out_dir = Path(out_dir)
    if signal_mv.shape[0] == 0:
        raise SignalTooShortError(f"Record {record_name}: received 0 samples; expected at least one to write.")
    out_dir.mkdir(parents=True, exist_ok=True)
    n_leads = signal_mv.shape[1]
    limit = 2047 if fmt == "212" else 32767
    unclipped = np.round(np.nan_to_num(signal_mv, nan=0.0) * adc_gain) + 1024 * (fmt == "212")
    if np.any(np.abs(unclipped) > limit):
        logger.warning("Samples beyond the range of format %s at gain %g were clipped", fmt, adc_gain)
    digital = np.clip(unclipped, -limit, limit).astype(np.int32)
    digital[np.isnan(signal_mv)] = _FORMAT_INVALID[fmt]
    wfdb.wrsamp(
        record_name,
        fs=fs_hz,
        units=["mV"] * n_leads,
        sig_name=list(lead_names),
        d_signal=digital,
        fmt=[fmt] * n_leads,
        adc_gain=[adc_gain] * n_leads,
        baseline=[1024 * (fmt == "212")] * n_leads,
        write_dir=str(out_dir),
    )
    return out_dir / f"{record_name}.hea"


def download_database(db_name: str, out_dir: str | Path, records: list[str] | None = None) -> None:
    """Download a PhysioNet database with wfdb (the project's only network access, with
    :func:`download_database_files`).

    Raises :class:`pipeline.errors.DataDirectoryError` when PhysioNet cannot be reached or refuses (no connection,
    an unknown database): what to do instead is in the message.
    """
    try:
        wfdb.dl_database(db_name, str(out_dir), records=records or "all", annotators="all")
    except requests.exceptions.RequestException as error:
        raise DataDirectoryError(
            f"Could not download {db_name} from PhysioNet ({describe_request_error(error)}); expected a connection "
            f"to physionet.org. Files already fetched stay in {out_dir}; run the command again to resume, or take "
            "the records from a local copy with --from DIR.") from error


def download_database_files(db_name: str, out_dir: str | Path, files: list[str]) -> None:
    """Download named files of a PhysioNet database (e.g. its ``SHA256SUMS.txt``) with wfdb."""
    wfdb.dl_files(db_name, str(out_dir), files, keep_subdirs=False)


def describe_request_error(error: Exception) -> str:
    """A short reason for a failed request: ``no connection to physionet.org`` or ``HTTP 404 for URL``.

    >>> describe_request_error(requests.exceptions.ConnectionError("Max retries exceeded"))
    'no connection to physionet.org'
    """
    if isinstance(error, requests.exceptions.HTTPError) and error.response is not None:
        return f"HTTP {error.response.status_code} for {error.response.url}"
    if isinstance(error, (requests.exceptions.ConnectionError, requests.exceptions.Timeout)):
        return "no connection to physionet.org"
    return f"{type(error).__name__}: {error}"
