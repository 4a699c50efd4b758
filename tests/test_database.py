"""Verification and fetching of the MIT-BIH database against the published checksums."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import requests

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


def fake_physionet_database(excerpts_dir: Path, folder: Path) -> Path:
    """A PhysioNet-like release of two records (copies of excerpts 100 and 232): RECORDS, an index page, and the
    SHA256SUMS.txt that lists every file, as PhysioNet publishes them."""
    folder.mkdir(parents=True)
    for name in ("100", "232"):
        for ext in ("hea", "dat", "atr"):
            shutil.copyfile(excerpts_dir / f"{name}.{ext}", folder / f"{name}.{ext}")
    (folder / "RECORDS").write_text("100\n232\n")
    (folder / "index.html").write_text("<html></html>\n")
    sums = [f"{database.compute_sha256(path)}  {path.name}" for path in sorted(folder.iterdir())]
    (folder / database.SUMS_FILE).write_text("\n".join(sums) + "\n")
    return folder


def test_another_database_is_fetched_from_a_mirror_and_checked_against_its_sums(excerpts_dir, tmp_path):
    from click.testing import CliRunner

    from app.cli import cli

    mirror = fake_physionet_database(excerpts_dir, tmp_path / "mirror")
    result = CliRunner().invoke(cli, ["data", "fetch", "--database", "svdb", "--from", str(mirror), "--data-dir",
                                      str(tmp_path / "svdb")])
    assert result.exit_code == 0, result.output
    assert "svdb, 2 records with their headers; 8 files with the SHA-256 of PhysioNet's SHA256SUMS.txt" in result.output
    assert (tmp_path / "svdb" / "232.dat").is_symlink()
    (mirror / "232.dat").write_bytes(b"\0" * 100)  # a truncated signal file
    result = CliRunner().invoke(cli, ["data", "fetch", "--database", "svdb", "--from", str(mirror), "--data-dir",
                                      str(tmp_path / "again"), "--copy"])
    assert result.exit_code == 1
    assert "1 file(s) with a SHA-256 that differs from SHA256SUMS.txt: 232.dat" in result.output


def test_another_database_needs_the_headers_of_its_records_and_a_proper_name(excerpts_dir, tmp_path):
    mirror = fake_physionet_database(excerpts_dir, tmp_path / "mirror")
    (mirror / "100.hea").unlink()
    with pytest.raises(DataDirectoryError, match="1 record\\(s\\) of RECORDS without a header: 100"):
        database.fetch_database("afdb", tmp_path / "afdb", mirror)
    with pytest.raises(DataDirectoryError, match="expected a PhysioNet database name"):
        database.fetch_database("../afdb", tmp_path / "x", mirror)
    (mirror / database.SUMS_FILE).unlink()
    (mirror / "RECORDS").write_text("232\n")
    report = database.verify_database(mirror, "afdb")  # without the list of sums: headers only, and it says so
    assert report.ok and "no SHA256SUMS.txt beside them, so no checksum was compared" in report.describe()


def test_another_database_is_downloaded_with_its_sums(excerpts_dir, tmp_path, monkeypatch):
    mirror = fake_physionet_database(excerpts_dir, tmp_path / "physionet")
    calls = []

    def fake_download(db_name, out_dir, records=None):  # stands in for PhysioNet: the record files, copied
        calls.append(("records", db_name))
        for path in mirror.iterdir():
            if path.suffix in (".hea", ".dat", ".atr") or path.name == "RECORDS":
                shutil.copyfile(path, Path(out_dir) / path.name)

    def fake_files(db_name, out_dir, files):
        calls.append(("files", db_name, tuple(files)))
        for name in files:
            shutil.copyfile(mirror / name, Path(out_dir) / name)

    monkeypatch.setattr(database.records, "download_database", fake_download)
    monkeypatch.setattr(database.records, "download_database_files", fake_files)
    report = database.fetch_database("incartdb", tmp_path / "incartdb")
    assert calls == [("records", "incartdb"), ("files", "incartdb", ("SHA256SUMS.txt",))]
    assert report.ok and report.checked == 7 and report.records == ("100", "232")  # the index page was not fetched


def test_a_database_without_its_sums_online_is_checked_on_its_headers(excerpts_dir, tmp_path, monkeypatch):
    mirror = fake_physionet_database(excerpts_dir, tmp_path / "physionet")

    def fake_download(db_name, out_dir, records=None):
        for name in ("100.hea", "100.dat", "232.hea", "232.dat", "RECORDS"):
            shutil.copyfile(mirror / name, Path(out_dir) / name)

    def missing_file(db_name, out_dir, files):
        raise OSError("404 Client Error: Not Found")  # what a release without the list gives

    monkeypatch.setattr(database.records, "download_database", fake_download)
    monkeypatch.setattr(database.records, "download_database_files", missing_file)
    report = database.fetch_database("nsrdb", tmp_path / "nsrdb")
    assert report.ok and not report.has_sums and report.checked == 0


@pytest.mark.parametrize("failure, reason", [
    (requests.exceptions.ConnectionError("Failed to resolve 'physionet.org'"), "no connection to physionet.org"),
    (requests.exceptions.ReadTimeout("read timed out"), "no connection to physionet.org"),
])
def test_a_download_that_cannot_reach_physionet_says_what_to_do(tmp_path, monkeypatch, failure, reason):
    """Offline (wfdb's request fails, as on the test machines): a DataDirectoryError naming the cause and the local
    alternative, not a traceback from the HTTP library."""
    def unreachable(*args, **kwargs):
        raise failure

    monkeypatch.setattr(database.records.wfdb, "dl_database", unreachable)
    with pytest.raises(DataDirectoryError, match=rf"Could not download svdb from PhysioNet \({reason}\).*--from DIR"):
        database.fetch_database("svdb", tmp_path / "svdb")
    with pytest.raises(DataDirectoryError, match=rf"Could not download mitdb from PhysioNet \({reason}\)"):
        fetch_mitdb(tmp_path / "mitdb")
