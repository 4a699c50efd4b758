"""Verification and fetching of the MIT-BIH database against the published checksums."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pipeline import database
from pipeline.database import fetch_mitdb, load_expected_checksums, verify_mitdb
from pipeline.errors import DataDirectoryError
from pipeline.splits import MITDB_RECORDS


def make_symlink_copy(source: Path, dest: Path) -> Path:
    """A directory of symbolic links to the 144 files of ``source`` (never writes into ``source``)."""
    dest.mkdir()
    for name in load_expected_checksums():
        (dest / name).symlink_to(source / name)
    return dest


def test_checksum_table_covers_every_record_file():
    expected = load_expected_checksums()
    assert len(expected) == 144
    assert set(expected) == {f"{r}.{ext}" for r in MITDB_RECORDS for ext in ("hea", "dat", "atr")}
    assert all(len(digest) == 64 for digest in expected.values())


def test_shared_copy_verifies(mitdb_dir):
    report = verify_mitdb(mitdb_dir)
    assert report.ok, report.describe()
    assert report.n_expected == 144


def test_missing_and_modified_files_are_reported(mitdb_dir, tmp_path):
    copy = make_symlink_copy(mitdb_dir, tmp_path / "mitdb")
    (copy / "101.atr").unlink()
    (copy / "203.hea").unlink()
    altered = bytearray((mitdb_dir / "203.hea").read_bytes())
    altered[-2] ^= 1
    (copy / "203.hea").write_bytes(bytes(altered))
    report = verify_mitdb(copy)
    assert not report.ok
    assert report.missing == ("101.atr",)
    assert report.mismatched == ("203.hea",)
    assert "101.atr" in report.describe() and "203.hea" in report.describe()


def test_fetch_from_a_local_mirror_links_the_files(mitdb_dir, tmp_path):
    dest = tmp_path / "data" / "mitdb"
    report = fetch_mitdb(dest, mitdb_dir)
    assert report.ok
    assert (dest / "100.dat").is_symlink()
    assert (dest / "100.dat").resolve() == (mitdb_dir / "100.dat").resolve()


def test_fetch_with_copy_replaces_a_corrupt_file(mitdb_dir, tmp_path):
    dest = make_symlink_copy(mitdb_dir, tmp_path / "mitdb")
    (dest / "100.atr").unlink()
    (dest / "100.atr").write_bytes(b"not an annotation file")
    report = fetch_mitdb(dest, mitdb_dir, copy=True)
    assert report.ok
    assert not (dest / "100.atr").is_symlink()


def test_fetch_refuses_a_mirror_that_fails_verification(mitdb_dir, tmp_path):
    mirror = make_symlink_copy(mitdb_dir, tmp_path / "mirror")
    (mirror / "232.dat").unlink()
    with pytest.raises(DataDirectoryError, match="232.dat"):
        fetch_mitdb(tmp_path / "dest", mirror)
    assert not (tmp_path / "dest").exists()


def test_fetch_without_source_downloads_then_verifies(mitdb_dir, tmp_path, monkeypatch):
    calls = []

    def fake_download(db_name, out_dir, records=None):
        # Stands in for PhysioNet (not reachable from the test machines): the same files, copied.
        calls.append(db_name)
        for name in load_expected_checksums():
            shutil.copyfile(mitdb_dir / name, Path(out_dir) / name)

    monkeypatch.setattr(database.records, "download_database", fake_download)
    report = fetch_mitdb(tmp_path / "downloaded")
    assert calls == ["mitdb"]
    assert report.ok
