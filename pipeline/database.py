"""Verify and fetch the MIT-BIH Arrhythmia Database (48 records, ``.hea``/``.dat``/``.atr`` each), and other
PhysioNet databases of WFDB records.

A MIT-BIH directory is valid when every one of the 144 files is present and its SHA-256 equals the
checksum of the same file in the PhysioNet release v1.0.0 (stored in the package data file
``pipeline/mitdb_sha256.csv``, taken from ``../shared/data/mitdb/SOURCE.md``).

Another database (``svdb``, ``afdb``, ``incartdb``, ...) is checked against the ``SHA256SUMS.txt`` that PhysioNet
publishes with every release, fetched with the records: every file it lists that is present must match, and every
record of the directory's ``RECORDS`` list must have its header. A record may lack its signal file (two records of
the MIT-BIH Atrial Fibrillation Database are annotations only); analysing it then fails that record alone.

Data directories may be read-only: nothing here writes into a source directory.

References
----------
Moody GB, Mark RG, "The impact of the MIT-BIH Arrhythmia Database", IEEE Eng Med Biol
20(3):45-50, 2001. Goldberger AL et al., "PhysioBank, PhysioToolkit, and PhysioNet",
Circulation 101(23):e215-e220, 2000. https://physionet.org/content/mitdb/1.0.0/
"""

from __future__ import annotations

import csv
import hashlib
import logging
import re
import shutil
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from tqdm import tqdm

from pipeline import records
from pipeline.errors import DataDirectoryError, EcgInputError
from pipeline.splits import list_directory_records

logger = logging.getLogger(__name__)

MITDB_NAME = "mitdb"
CHECKSUM_FILE = "mitdb_sha256.csv"
SUMS_FILE = "SHA256SUMS.txt"
"""The checksum list PhysioNet publishes with every release of a database."""
DATABASE_NAME = re.compile(r"[a-z0-9][a-z0-9-]*(/[0-9][0-9.]*)?")
"""A PhysioNet database as wfdb names it: its slug, optionally with a version (``svdb``, ``afdb/1.0.0``)."""
_CHUNK_BYTES = 1 << 20


@dataclass(frozen=True)
class VerificationReport:
    """Outcome of checking a MIT-BIH directory against the published checksums.

    Attributes
    ----------
    directory : Path
        Directory that was checked.
    n_expected : int
        Number of files the database should hold (144).
    missing : tuple of str
        File names absent from ``directory``.
    mismatched : tuple of str
        File names present whose SHA-256 differs from the published one.
    """

    directory: Path
    n_expected: int
    missing: tuple[str, ...]
    mismatched: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.missing and not self.mismatched

    def describe(self) -> str:
        """One paragraph for a person: what was checked and what is wrong."""
        if self.ok:
            return f"{self.directory}: all {self.n_expected} MIT-BIH files present, SHA-256 as published (v1.0.0)."
        return describe_failure(f"{self.directory}: MIT-BIH verification failed.",
                                (("missing", self.missing),
                                 ("with a SHA-256 that differs from PhysioNet v1.0.0", self.mismatched)))


def load_expected_checksums() -> dict[str, str]:
    """Published SHA-256 of each MIT-BIH file, keyed by file name (``"100.dat"``)."""
    text = resources.files("pipeline").joinpath(CHECKSUM_FILE).read_text(encoding="ascii")
    return {row["file"]: row["sha256"] for row in csv.DictReader(text.splitlines())}


def compute_sha256(path: Path) -> str:
    """Hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK_BYTES), b""):
            digest.update(chunk)
    return digest.hexdigest()


def find_mitdb_copies(directory: str | Path, names: tuple[str, ...]) -> tuple[str, ...]:
    """Records of ``directory`` whose signal file is a byte-for-byte copy of an MIT-BIH record's, whatever their name.

    Another database joined to DS1 for training must not hold MIT-BIH records: a DS2 record would leak the test set,
    a DS1 one would put a patient on both sides of a validation fold.

    Examples
    --------
    >>> find_mitdb_copies("data/excerpts", ("100",))  # an excerpt, not the published file
    ()
    """
    published = set(load_expected_checksums().values())
    copies = []
    for name in names:
        path = Path(directory) / name
        try:
            signal_files = {path.parent / file for file in records.read_header(path).file_name or ()}
        except EcgInputError:  # no or a broken header: not a copy; reading the record reports it
            continue
        if any(file.is_file() and compute_sha256(file) in published for file in signal_files):
            copies.append(name)
    return tuple(copies)


def verify_mitdb(directory: str | Path, *, progress: bool = False) -> VerificationReport:
    """Check that ``directory`` holds the 144 MIT-BIH files with their published checksums.

    Parameters
    ----------
    directory : str or Path
        Directory holding ``100.hea``, ``100.dat``, ``100.atr``, ... (symbolic links allowed).
    progress : bool
        Show a progress bar on stderr.

    Returns
    -------
    VerificationReport
        Lists the missing and the mismatched files; ``report.ok`` is true when there are none.

    Examples
    --------
    >>> verify_mitdb("../shared/data/mitdb").ok  # doctest: +SKIP
    True
    """
    directory = Path(directory)
    expected = load_expected_checksums()
    missing, mismatched = [], []
    for name in tqdm(sorted(expected), desc="verify mitdb", unit="file", disable=not progress):
        path = directory / name
        if not path.is_file():
            missing.append(name)
        elif compute_sha256(path) != expected[name]:
            mismatched.append(name)
    logger.info("verified %s: %d missing, %d mismatched", directory, len(missing), len(mismatched))
    return VerificationReport(directory, len(expected), tuple(missing), tuple(mismatched))


def require_valid_mitdb(directory: str | Path, *, progress: bool = False) -> VerificationReport:
    """Verify ``directory`` and raise :class:`DataDirectoryError` when it fails."""
    report = verify_mitdb(directory, progress=progress)
    if not report.ok:
        raise DataDirectoryError(report.describe())
    return report


def fetch_mitdb(
    dest: str | Path,
    source_dir: str | Path | None = None,
    *,
    copy: bool = False,
    progress: bool = False,
) -> VerificationReport:
    """Put a verified MIT-BIH database in ``dest``.

    Parameters
    ----------
    dest : str or Path
        Directory to fill (created when missing).
    source_dir : str or Path, optional
        Local mirror to take the files from; it is verified first and never written to.
        Without it, the database is downloaded from PhysioNet.
    copy : bool
        With ``source_dir``: copy the files instead of creating symbolic links.
    progress : bool
        Show progress bars on stderr.

    Returns
    -------
    VerificationReport
        The verification of ``dest`` after fetching (always ``ok``).

    Raises
    ------
    DataDirectoryError
        When the source or the fetched result fails verification.
    """
    dest = Path(dest)
    if dest.is_dir():
        report = verify_mitdb(dest, progress=progress)
        if report.ok:
            logger.info("%s already holds a verified MIT-BIH database", dest)
            return report
    if source_dir is None:
        download_mitdb(dest)
    else:
        mirror_mitdb(Path(source_dir), dest, copy=copy, progress=progress)
    return require_valid_mitdb(dest, progress=progress)


def download_mitdb(dest: Path) -> None:
    """Download all 48 MIT-BIH records from PhysioNet into ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    logger.info("downloading %s from PhysioNet into %s", MITDB_NAME, dest)
    records.download_database(MITDB_NAME, dest)


def mirror_mitdb(source_dir: Path, dest: Path, *, copy: bool, progress: bool) -> None:
    """Link (or copy) the 144 files of a verified local mirror into ``dest``."""
    if not source_dir.is_dir():
        raise DataDirectoryError(f"Received --from {source_dir}, which is not a directory; expected a "
                                 "directory holding the 48 MIT-BIH records (100.hea, 100.dat, 100.atr, ...).")
    require_valid_mitdb(source_dir, progress=progress)
    if dest.resolve() == source_dir.resolve():
        return
    dest.mkdir(parents=True, exist_ok=True)
    action = "copy" if copy else "link"
    for name in tqdm(sorted(load_expected_checksums()), desc=f"{action} mitdb", unit="file",
                     disable=not progress):
        place_file(source_dir / name, dest / name, copy=copy)


def place_file(source: Path, target: Path, *, copy: bool) -> None:
    """Replace ``target`` with a copy of, or an absolute symbolic link to, ``source``."""
    if target.is_symlink() or target.exists():
        target.unlink()
    if copy:
        shutil.copyfile(source, target)
    else:
        target.symlink_to(source.resolve())


@dataclass(frozen=True)
class DatabaseReport:
    """Outcome of checking a directory of another PhysioNet database (module docstring).

    ``records`` are those its ``RECORDS`` list names (else its headers); ``missing`` the records without a header;
    ``checked`` the files compared with ``SHA256SUMS.txt`` and ``mismatched`` those that differ; ``has_sums`` is
    False when the directory has no ``SHA256SUMS.txt`` (nothing could be compared).
    """

    directory: Path
    database: str
    records: tuple[str, ...]
    missing: tuple[str, ...]
    checked: int
    mismatched: tuple[str, ...]
    has_sums: bool

    @property
    def ok(self) -> bool:
        return bool(self.records) and not self.missing and not self.mismatched

    def describe(self) -> str:
        """One paragraph for a person: what was checked and what is wrong."""
        if self.ok:
            sums = (f"{self.checked} files with the SHA-256 of PhysioNet's {SUMS_FILE}" if self.has_sums
                    else f"no {SUMS_FILE} beside them, so no checksum was compared")
            return f"{self.directory}: {self.database}, {len(self.records)} records with their headers; {sums}."
        found = "" if self.records else "\n  no record found (no RECORDS list and no .hea file)."
        return describe_failure(f"{self.directory}: {self.database} verification failed.{found}",
                                (("record(s) of RECORDS without a header", self.missing),
                                 (f"file(s) with a SHA-256 that differs from {SUMS_FILE}", self.mismatched)))


def check_database_name(database: str) -> str:
    """The PhysioNet database name, checked (lower case letters, digits and hyphens, optionally ``/VERSION``).

    >>> check_database_name("svdb"), check_database_name("afdb/1.0.0")
    ('svdb', 'afdb/1.0.0')
    """
    if not DATABASE_NAME.fullmatch(database):
        raise DataDirectoryError(f"Received database {database!r}; expected a PhysioNet database name such as "
                                 "'svdb', 'afdb' or 'incartdb' (optionally with its version, 'afdb/1.0.0').")
    return database


def read_sha256sums(path: Path) -> dict[str, str]:
    """``SHA256SUMS.txt`` as {file path relative to the database: hex SHA-256} (lines ``HASH  PATH``).

    >>> import tempfile
    >>> sums = Path(tempfile.mkdtemp()) / "SHA256SUMS.txt"
    >>> _ = sums.write_text("ab12  RECORDS\\ncd34 *04015.hea\\n\\n")
    >>> read_sha256sums(sums)
    {'RECORDS': 'ab12', '04015.hea': 'cd34'}
    """
    sums = {}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        parts = line.strip().split(maxsplit=1)
        if len(parts) == 2:
            sums[parts[1].lstrip("*")] = parts[0].lower()
    return sums


def verify_database(directory: str | Path, database: str, *, progress: bool = False) -> DatabaseReport:
    """Check a directory of another PhysioNet database (module docstring)."""
    directory = Path(directory)
    names = list_directory_records(directory) if directory.is_dir() else ()
    missing = tuple(name for name in names if not (directory / f"{name}.hea").is_file())
    sums_path = directory / SUMS_FILE
    sums = read_sha256sums(sums_path) if sums_path.is_file() else {}
    present = [name for name in sorted(sums) if name != SUMS_FILE and (directory / name).is_file()]
    mismatched = tuple(name for name in tqdm(present, desc=f"verify {database}", unit="file", disable=not progress)
                       if compute_sha256(directory / name) != sums[name])
    return DatabaseReport(directory, database, tuple(names), missing, len(present), mismatched, bool(sums))


def fetch_database(database: str, dest: str | Path, source_dir: str | Path | None = None, *, copy: bool = False,
                   progress: bool = False) -> DatabaseReport:
    """Put a checked copy of a PhysioNet database other than MIT-BIH in ``dest``: downloaded with wfdb (records,
    annotations and ``SHA256SUMS.txt``), or linked (copied) from the files of a local mirror ``source_dir``.

    Raises
    ------
    DataDirectoryError
        A bad database name, a mirror that is not a directory, or a result that fails :func:`verify_database`.
    """
    database, dest = check_database_name(database), Path(dest)
    if source_dir is None:
        dest.mkdir(parents=True, exist_ok=True)
        logger.info("downloading %s from PhysioNet into %s", database, dest)
        records.download_database(database, dest)
        try:
            records.download_database_files(database, dest, [SUMS_FILE])
        except Exception as error:  # network boundary: without the list, the report says no checksum was compared
            logger.warning("%s: PhysioNet's %s could not be fetched (%s); only the headers are checked",
                           database, SUMS_FILE, error)
    else:
        source_dir = Path(source_dir)
        if not source_dir.is_dir():
            raise DataDirectoryError(f"Received --from {source_dir}, which is not a directory; expected a directory "
                                     f"of the {database} records.")
        if dest.resolve() != source_dir.resolve():
            dest.mkdir(parents=True, exist_ok=True)
            files = sorted(p for p in source_dir.iterdir() if p.is_file())
            for path in tqdm(files, desc=f"{'copy' if copy else 'link'} {database}", unit="file",
                             disable=not progress):
                place_file(path, dest / path.name, copy=copy)
    report = verify_database(dest, database, progress=progress)
    if not report.ok:
        raise DataDirectoryError(report.describe())
    return report


def describe_failure(title: str, problems) -> str:
    """A failed verification for a person: the title, then a line per kind of problem that occurred (``(what,
    names)`` pairs: ``"  3 missing: 100.dat, ..."``)."""
    return "\n".join([title] + [f"  {len(names)} {what}: {_shorten(names)}" for what, names in problems if names])


def _shorten(names: tuple[str, ...], limit: int = 12) -> str:
    shown = ", ".join(names[:limit])
    return shown if len(names) <= limit else f"{shown}, ... ({len(names) - limit} more)"
