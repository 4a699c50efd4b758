"""Verify and fetch the MIT-BIH Arrhythmia Database (48 records, ``.hea``/``.dat``/``.atr`` each).

A directory is valid when every one of the 144 files is present and its SHA-256 equals the
checksum of the same file in the PhysioNet release v1.0.0 (stored in the package data file
``pipeline/mitdb_sha256.csv``, taken from ``../shared/data/mitdb/SOURCE.md``).

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
import shutil
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from tqdm import tqdm

from pipeline import records
from pipeline.errors import DataDirectoryError

logger = logging.getLogger(__name__)

MITDB_NAME = "mitdb"
CHECKSUM_FILE = "mitdb_sha256.csv"
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
        lines = [f"{self.directory}: MIT-BIH verification failed."]
        if self.missing:
            lines.append(f"  {len(self.missing)} missing: {_shorten(self.missing)}")
        if self.mismatched:
            lines.append(f"  {len(self.mismatched)} with a SHA-256 that differs from PhysioNet v1.0.0: "
                         f"{_shorten(self.mismatched)}")
        return "\n".join(lines)


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


def _shorten(names: tuple[str, ...], limit: int = 12) -> str:
    shown = ", ".join(names[:limit])
    return shown if len(names) <= limit else f"{shown}, ... ({len(names) - limit} more)"
