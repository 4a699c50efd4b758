"""Uploaded files -> a record: WFDB files (``.hea`` + ``.dat`` [+ ``.atr``]), one ``.zip`` of them, one ``.edf``, or
one ISHNE Holter ``.ecg`` (with its ISHNE annotation file ``NAME.ann``, the reference labels, when uploaded).

A ``NAME.ecg`` annotation file uploaded with the record (the file the dashboard and ``ecg score`` write)
brings back the beat labels of an earlier review (:func:`read_uploaded_review_labels`); a ``NAME.diary.csv``
brings the patient's diary (:func:`read_uploaded_diary`).

The files are written to a temporary directory only for as long as :func:`pipeline.records.read_record`
needs them; the directory is always removed. Every problem a user can cause raises an
:class:`UploadError` (an :class:`~pipeline.errors.EcgInputError`) whose message says what was
received and what is expected. Nothing here imports Streamlit.
"""

from __future__ import annotations

import io
import logging
import tempfile
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath

from pipeline.diary import DIARY_SUFFIX, decode_diary
from pipeline.errors import EcgInputError
from pipeline.ishne import MAGIC as ISHNE_MAGIC
from pipeline.records import parse_segment_names, read_annotations, read_record
from pipeline.types import Annotations, Record

logger = logging.getLogger(__name__)

MAX_UPLOAD_MB = 300
"""Largest upload accepted (also ``server.maxUploadSize`` in ``.streamlit/config.toml``): a 24-hour
two-lead Holter in MIT format 212 at 360 Hz is about 93 MB, at 1 kHz 16-bit about 350 MB as EDF."""
BYTES_PER_MB = 2 ** 20
"""Streamlit counts ``server.maxUploadSize`` in units of 2 ** 20 bytes; the app's own checks count the same way, so
that an upload Streamlit lets through is never refused here for its size."""

REVIEW_ANNOTATOR = "ecg"
"""Annotator of the product's own annotation file (``NAME.ecg``), uploaded to resume a review."""
WFDB_EXTENSIONS = (".hea", ".dat", ".atr", f".{REVIEW_ANNOTATOR}")
RECORD_EXTENSIONS = WFDB_EXTENSIONS + (".edf", ".ann")
"""Files of a record; ``.ann`` is an ISHNE Holter file's annotation file (its reference labels)."""
ACCEPTED_EXTENSIONS = RECORD_EXTENSIONS + (".zip",)
EXPECTED_TEXT = ("the record's .hea and .dat files (and .atr for reference labels, .ecg for the labels of an "
                 "earlier review, NAME.diary.csv for the patient's diary), one .zip holding them, one .edf file, or "
                 "one ISHNE Holter .ecg file (and its .ann for reference labels)")
ZIP_EXPECTED_TEXT = "a .zip holding one record's .hea and .dat files (and .atr), or an .edf file"


class UploadError(EcgInputError):
    """The uploaded files do not make up a readable record."""


@dataclass(frozen=True)
class UploadedData:
    """One uploaded file: its name (no directories) and content."""

    name: str
    data: bytes

    @property
    def extension(self) -> str:
        return PurePosixPath(self.name).suffix.lower()

    @property
    def stem(self) -> str:
        return PurePosixPath(self.name).stem


def check_upload_size(files: list[UploadedData], max_mb: float = MAX_UPLOAD_MB) -> None:
    """Raise :class:`UploadError` when the files together exceed ``max_mb`` megabytes."""
    total_mb = sum(len(f.data) for f in files) / BYTES_PER_MB
    if total_mb > max_mb:
        raise UploadError(f"Received {total_mb:.0f} MB of files; the limit is {max_mb:g} MB per upload.")


def expand_zip(upload: UploadedData, max_mb: float = MAX_UPLOAD_MB) -> list[UploadedData]:
    """The files inside a zip archive (folders flattened; folders and hidden files skipped)."""
    try:
        with zipfile.ZipFile(io.BytesIO(upload.data)) as archive:
            members = [m for m in archive.infolist() if not m.is_dir() and not is_hidden(m.filename)]
            total_mb = sum(m.file_size for m in members) / BYTES_PER_MB
            if total_mb > max_mb:
                raise UploadError(f"Received {upload.name} holding {total_mb:.0f} MB uncompressed; "
                                  f"the limit is {max_mb:g} MB.")
            return [UploadedData(PurePosixPath(m.filename).name, archive.read(m)) for m in members]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, NotImplementedError) as error:
        raise UploadError(f"Received {upload.name}, which is not a readable zip archive ({error}); "
                          f"expected {ZIP_EXPECTED_TEXT}.") from error


def is_hidden(path: str) -> bool:
    """True for macOS resource forks and hidden files (``__MACOSX/``, ``._x``, ``.DS_Store``)."""
    parts = PurePosixPath(path).parts
    return any(part.startswith(".") or part == "__MACOSX" for part in parts)


def collect_files(files: list[UploadedData], max_mb: float = MAX_UPLOAD_MB) -> list[UploadedData]:
    """Check the upload and expand a zip; returns the record files (accepted extensions only).

    Raises
    ------
    UploadError
        Nothing uploaded, too large, an unsupported extension, a zip among other files, a bad zip,
        or a zip holding no record file.
    """
    if not files:
        raise UploadError(f"Received no files; expected {EXPECTED_TEXT}.")
    check_upload_size(files, max_mb)
    unsupported = sorted({f.name for f in files if f.extension not in ACCEPTED_EXTENSIONS and not is_diary(f.name)})
    if unsupported:
        raise UploadError(f"Received {', '.join(unsupported)}: unsupported file type; expected {EXPECTED_TEXT}.")
    zips = [f for f in files if f.extension == ".zip"]
    if zips and len(files) > 1:
        raise UploadError(f"Received a .zip together with other files ({len(files)} files); upload either one "
                          ".zip or the record's files themselves.")
    if not zips:
        return match_name_case(list(files))
    inside = [f for f in expand_zip(zips[0], max_mb) if f.extension in RECORD_EXTENSIONS or is_diary(f.name)]
    if not any(f.extension == ".hea" or is_file_upload(f) for f in inside):
        raise UploadError(f"Received {zips[0].name} with no record in it (no .hea or .edf file); "
                          f"expected {ZIP_EXPECTED_TEXT}.")
    return match_name_case(inside)


def match_name_case(files: list[UploadedData]) -> list[UploadedData]:
    """The files with the names WFDB looks for, whatever the case a computer gave them (``119.HEA`` and ``119.DAT``
    from a Windows export): the extensions of headers and annotation files in lower case (WFDB reads ``NAME.hea``,
    ``NAME.atr``), and each signal file named as its header names it when only the case differs. Names already as
    wanted are kept.

    >>> [f.name for f in match_name_case([UploadedData("119.HEA", b"119 1 360 10\\n119.dat 16 200 11 0 0 0 0 MLII\\n"),
    ...                                   UploadedData("119.DAT", b""), UploadedData("119.Atr", b"")])]
    ['119.hea', '119.dat', '119.atr']
    """
    lowered = {".hea", ".atr", f".{REVIEW_ANNOTATOR}", ".ann", ".edf"}
    named = [replace(f, name=f"{f.stem}{f.extension}") if f.extension in lowered and not f.name.endswith(f.extension)
             else f for f in files]
    by_lower = {f.name.lower(): f.name for f in named}
    wanted = {name for f in named if f.extension == ".hea" for name in read_signal_file_names(f.data)}
    renames = {by_lower[name.lower()]: name for name in wanted
               if name not in by_lower.values() and name.lower() in by_lower}
    return [replace(f, name=renames.get(f.name, f.name)) for f in named]


def is_file_upload(upload: UploadedData) -> bool:
    """A record that is one file: an EDF file, or an ISHNE Holter file (``.ecg`` starting with the ISHNE magic
    number; the product's own ``NAME.ecg`` review files do not)."""
    return upload.extension == ".edf" or (upload.extension == ".ecg" and upload.data.startswith(ISHNE_MAGIC))


def is_diary(name: str) -> bool:
    """A patient's diary file, ``NAME.diary.csv`` (:mod:`pipeline.diary`)."""
    return name.lower().endswith(DIARY_SUFFIX)


def read_uploaded_diary(files: list[UploadedData], record: Record, max_mb: float = MAX_UPLOAD_MB) -> str | None:
    """The text of the uploaded ``NAME.diary.csv`` of ``record``, or None when the upload has none.

    Raises
    ------
    DiaryError
        The file is too large or not UTF-8 text.
    """
    wanted = f"{record.name}{DIARY_SUFFIX}".lower()
    found = [f for f in collect_files(files, max_mb) if f.name.lower() == wanted]
    if not found:
        return None
    return decode_diary(found[0].data, found[0].name)


def list_unused_files(files: list[UploadedData], record_names: list[str]) -> list[str]:
    """The reference, review and diary files of an upload that are named after none of its records, so that nothing
    reads them (a browser saves a second download of ``119.ecg`` as ``119 (1).ecg``), sorted.

    >>> list_unused_files([UploadedData("119.hea", b""), UploadedData("119 (1).ecg", b""),
    ...                    UploadedData("119.atr", b""), UploadedData("119.Diary.csv", b"")], ["119"])
    ['119 (1).ecg']
    """
    stems = {name.lower() for name in record_names} | {PurePosixPath(name).stem.lower() for name in record_names}
    unused = []
    for f in files:
        if is_diary(f.name):
            stem = f.name[:-len(DIARY_SUFFIX)]
        elif f.extension in (".atr", f".{REVIEW_ANNOTATOR}", ".ann") and not is_file_upload(f):
            stem = f.stem
        else:
            continue
        if stem.lower() not in stems:
            unused.append(f.name)
    return sorted(unused)


def list_record_names(files: list[UploadedData]) -> list[str]:
    """Records in the upload: the stem of each ``.hea`` (not the segments of a multi-segment record), and the name of
    each ``.edf`` and ISHNE ``.ecg`` file, sorted."""
    headers = [f for f in files if f.extension == ".hea"]
    segments = {name for f in headers for name in parse_segment_names(f.data.decode("latin-1"))}
    names = {f.stem for f in headers if f.stem not in segments} | {f.name for f in files if is_file_upload(f)}
    return sorted(names)


def check_record_files(files: list[UploadedData], record_name: str) -> None:
    """Raise :class:`UploadError` when the chosen record's header or its signal files are missing."""
    by_name = {f.name: f for f in files}
    if record_name in by_name and is_file_upload(by_name[record_name]):
        return
    header = by_name.get(f"{record_name}.hea")
    if header is None:
        raise UploadError(f"Received no header {record_name}.hea; expected {EXPECTED_TEXT}.")
    segments = parse_segment_names(header.data.decode("latin-1"))
    if segments:
        missing = [f"{name}.hea" for name in segments if f"{name}.hea" not in by_name]
        if missing:
            raise UploadError(f"Record {record_name} is a multi-segment record; its segment header "
                              f"{', '.join(missing)} was not uploaded: upload every segment's .hea and .dat with it.")
        for segment in segments:
            check_record_files(files, segment)
        return
    missing = [name for name in read_signal_file_names(header.data) if name not in by_name]
    if missing:
        raise UploadError(f"Record {record_name}: the header names the signal file {', '.join(missing)}, which "
                          f"was not uploaded; upload {record_name}.hea together with its .dat file.")


def read_signal_file_names(header_bytes: bytes) -> list[str]:
    """Signal file names listed in a WFDB header (first token of each signal line), in order, unique."""
    lines = [line.strip() for line in header_bytes.decode("latin-1").splitlines()]
    lines = [line for line in lines if line and not line.startswith("#")]
    if not lines:
        return []
    try:
        n_signals = int(lines[0].split()[1]) if len(lines[0].split()) > 1 else 0
    except ValueError:
        return []
    names = [line.split()[0] for line in lines[1:1 + n_signals] if line.split()]
    # "~": no signal file (the layout header of a multi-segment record)
    return list(dict.fromkeys(PurePosixPath(name).name for name in names if name != "~"))


def find_orphan_signal_files(files: list[UploadedData]) -> list[str]:
    """``.dat`` files uploaded without any header (``.hea``) to describe them."""
    if any(f.extension == ".hea" or is_file_upload(f) for f in files):
        return []
    return sorted(f.name for f in files if f.extension == ".dat")


def choose_record(files: list[UploadedData], record_name: str | None = None) -> str:
    """The record to read: ``record_name`` when given, else the only record in the upload.

    Raises
    ------
    UploadError
        No header in the upload, or several records and none chosen.
    """
    names = list_record_names(files)
    orphans = find_orphan_signal_files(files)
    if orphans:
        stems = ", ".join(f"{PurePosixPath(n).stem}.hea" for n in orphans)
        raise UploadError(f"Received {', '.join(orphans)} without its header ({stems}); upload the .hea file "
                          "together with the .dat (and .atr for reference labels).")
    if not names:
        raise UploadError(f"Received only {', '.join(sorted(f.name for f in files))}; expected {EXPECTED_TEXT}.")
    if record_name is not None:
        if record_name not in names:
            raise UploadError(f"Received record_name={record_name!r}; expected one of {names}.")
        return record_name
    if len(names) > 1:
        raise UploadError(f"Received several records ({', '.join(names)}); choose one to analyse.")
    return names[0]


def read_uploaded_record(files: list[UploadedData], record_name: str | None = None,
                         max_mb: float = MAX_UPLOAD_MB, lead: str | None = None) -> Record:
    """Read one record from uploaded files (a temporary directory is used and always removed).

    Parameters
    ----------
    files : list of UploadedData
        What was uploaded (several WFDB files, one zip, or one EDF).
    record_name : str, optional
        Which record to read when the upload holds several (a ``.hea`` stem or an ``.edf`` name).
    max_mb : float
        Upload size limit in megabytes.
    lead : str, optional
        Primary lead by name (default: MLII or II, else the first ECG lead).

    Returns
    -------
    Record
        As :func:`pipeline.records.read_record` returns it (reference annotations from ``.atr``).

    Raises
    ------
    EcgInputError
        :class:`UploadError` for a bad upload, or the reader's specific error (truncated signal,
        no ECG lead, too short, ...).
    """
    record_files = collect_files(files, max_mb)
    name = choose_record(record_files, record_name)
    check_record_files(record_files, name)
    with tempfile.TemporaryDirectory(prefix="ecg-upload-") as tmp:
        directory = Path(tmp)
        for upload in record_files:
            (directory / PurePosixPath(upload.name).name).write_bytes(upload.data)
        return read_with_clear_errors(directory / name, lead)


def read_with_clear_errors(path: Path, lead: str | None = None) -> Record:
    """:func:`read_record`, with a parsing failure the reader did not anticipate turned into an UploadError.

    The reference annotations are optional: when they are what fails (an ``.atr`` or ISHNE ``.ann`` that cannot be
    read, or that does not fit the signal), the record is read without them and ``Record.annotation_problem`` says
    why, so that the signal is still analysed.
    """
    try:
        return read_record(path, annotator="atr", lead=lead)
    except EcgInputError as error:
        record = read_without_annotations(path, lead)
        if record is None:
            raise
        logger.info("Upload's reference annotations left out (%s)", type(error).__name__)
        return replace(record, annotation_problem=str(error))
    except (ValueError, IndexError, KeyError, OSError, UnicodeDecodeError) as error:
        logger.info("Upload could not be parsed (%s)", type(error).__name__)
        raise UploadError(f"Record {path.name}: the files could not be read as a WFDB or EDF record "
                          f"({type(error).__name__}); expected {EXPECTED_TEXT}.") from error


def read_without_annotations(path: Path, lead: str | None) -> Record | None:
    """The record at ``path`` read without its annotation files; None when the signal itself cannot be read."""
    try:
        return read_record(path, annotator=None, lead=lead)
    except (EcgInputError, ValueError, IndexError, KeyError, OSError, UnicodeDecodeError):
        return None


def read_uploaded_review_labels(files: list[UploadedData], record: Record,
                                max_mb: float = MAX_UPLOAD_MB) -> Annotations | None:
    """The uploaded ``NAME.ecg`` of ``record`` (an earlier review's labels), at the record's internal rate.

    None when the upload has no such file. A file WFDB cannot read raises :class:`UploadError`.
    """
    wanted = f"{record.name}.{REVIEW_ANNOTATOR}"
    found = [f for f in collect_files(files, max_mb) if f.name == wanted and not is_file_upload(f)]
    if not found:
        return None
    with tempfile.TemporaryDirectory(prefix="ecg-upload-") as tmp:
        path = Path(tmp) / wanted
        path.write_bytes(found[0].data)
        try:
            return read_annotations(Path(tmp) / record.name, REVIEW_ANNOTATOR, source_fs_hz=record.source_fs_hz,
                                    target_fs_hz=record.fs_hz)
        except EcgInputError as error:
            raise UploadError(f"{wanted} could not be read as a WFDB annotation file ({error}); upload the file "
                              "the dashboard or ecg score wrote for this record, or leave it out.") from error
