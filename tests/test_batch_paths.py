"""Expanding ``ecg score`` PATH arguments into records: list files none of whose lines is a record, and files that
exist but are no recording, are refused before any work with a message that names the file (and the line)."""

from __future__ import annotations

import pytest

from app.batch import BatchUsageError, find_record_sources
from tests.score_runs import copy_record, run_score


def test_a_text_file_given_as_path_names_its_line_that_is_no_record(tmp_path):
    (tmp_path / "notes.txt").write_text("hello\n")
    with pytest.raises(BatchUsageError, match=r"^notes.txt line 1: 'hello' is not a record \(no hello.hea"):
        find_record_sources([str(tmp_path / "notes.txt")])


def test_a_records_list_names_every_line_that_is_no_record_when_none_is(tmp_path):
    (tmp_path / "RECORDS").write_text("# a list of nothing\nnothere\n\n232\n")
    with pytest.raises(BatchUsageError, match=r"RECORDS line 2: 'nothere' is not a record .* Lines 4 name no record"):
        find_record_sources([str(tmp_path / "RECORDS")])


def test_a_records_list_with_missing_records_scores_the_others(tmp_path, excerpts_dir):
    """One bad record never stops a batch: the missing ones fail alone, each with its own row."""
    copy_record(excerpts_dir, "100", tmp_path / "in")
    (tmp_path / "in" / "RECORDS").write_text("100\nnothere\n")
    code, output = run_score(str(tmp_path / "in" / "RECORDS"), "--out", str(tmp_path / "out"), "--format", "json")
    assert code == 1 and "1 scored" in output and "1 failed" in output, output
    assert (tmp_path / "out" / "100" / "100_summary.json").is_file()


def test_a_records_list_line_naming_a_directory_stands_for_its_records(tmp_path, excerpts_dir):
    """PhysioNet's multi-level databases list directories ("p00/") in their top RECORDS file."""
    copy_record(excerpts_dir, "100", tmp_path / "p00")
    copy_record(excerpts_dir, "232", tmp_path)
    (tmp_path / "RECORDS").write_text("p00/\n232.hea\n")
    sources = find_record_sources([str(tmp_path / "RECORDS")])
    assert [(s.key, s.path) for s in sources] == [("p00/100", tmp_path / "p00" / "100"), ("232", tmp_path / "232")]


@pytest.mark.parametrize("name", ["export.csv", "recording.xml"])
def test_a_file_in_an_unsupported_format_is_called_that_not_missing(tmp_path, name):
    (tmp_path / name).write_text("time,MLII,V5\n0.0000,-0.145,-0.065\n")
    with pytest.raises(BatchUsageError, match=rf"{name} is not a supported recording format \(supported: WFDB"):
        find_record_sources([str(tmp_path / name)])


def test_ecg_score_refuses_a_csv_export_before_any_work(tmp_path):
    (tmp_path / "export.csv").write_text("time,MLII,V5\n0.0000,-0.145,-0.065\n")
    code, output = run_score(str(tmp_path / "export.csv"), "--out", str(tmp_path / "out"))
    assert code == 2 and "not a supported recording format" in output and "no such record" not in output
    assert not (tmp_path / "out").exists()


def test_a_records_list_of_absolute_or_outside_paths_writes_inside_the_output_folder(tmp_path, excerpts_dir):
    """A list naming its records by absolute path (or ../) once wrote each record's outputs beside the record, into the
    database's folder, which must stay untouched (session 58)."""
    data = tmp_path / "data"
    copy_record(excerpts_dir, "100", data)
    copy_record(excerpts_dir, "232", data / "p00")
    (tmp_path / "lists").mkdir()
    (tmp_path / "lists" / "RECORDS").write_text(f"{data / '100'}\n../data/p00/232\n{data / 'p00'}/\n")
    sources = find_record_sources([str(tmp_path / "lists" / "RECORDS")])
    assert [s.key for s in sources] == ["100", "232"]  # p00/232 is ../data/p00/232 again
    before = sorted(p.relative_to(data) for p in data.rglob("*"))
    code, output = run_score(str(tmp_path / "lists" / "RECORDS"), "--out", str(tmp_path / "out"), "--format", "json")
    assert code == 0 and "2 scored" in output, output
    assert sorted(p.relative_to(data) for p in data.rglob("*")) == before
    assert (tmp_path / "out" / "100" / "100_summary.json").is_file()
    assert (tmp_path / "out" / "232" / "232_summary.json").is_file()


def test_records_list_entries_with_dots_key_their_records_inside_the_output_folder(tmp_path, excerpts_dir):
    """``./100`` and ``p00/../100`` are record 100 (scored once, keyed ``100``); a ``.`` line is the list's own folder,
    its records keyed as found there; ``..`` names the folder above, whose records are keyed by their last part, never
    with a ``..`` that would leave ``--out`` (a review of session 58)."""
    copy_record(excerpts_dir, "100", tmp_path / "lists")
    copy_record(excerpts_dir, "232", tmp_path)
    (tmp_path / "lists" / "p00").mkdir()
    (tmp_path / "lists" / "RECORDS").write_text("./100\np00/../100\n.\n..\n")
    sources = find_record_sources([str(tmp_path / "lists" / "RECORDS")])
    assert sorted(s.key for s in sources) == ["100", "record/232"]
    assert all(".." not in s.key.split("/") for s in sources)


def test_a_record_named_twice_is_scored_once_and_logged_without_its_name(tmp_path, excerpts_dir, caplog):
    """A review of session 58: a record named again by another path was dropped with no word; the user may have meant
    two records. The log gives the count only (no record name leaves in a log)."""
    copy_record(excerpts_dir, "100", tmp_path / "data")
    (tmp_path / "data" / "RECORDS").write_text("100\n")
    with caplog.at_level("WARNING", logger="app.batch"):
        sources = find_record_sources([str(tmp_path / "data" / "RECORDS"), str(tmp_path / "data" / "100")])
    assert [s.key for s in sources] == ["100"]
    assert [r.getMessage() for r in caplog.records] == [
        "1 input(s) named a record already named; each record is scored once"]
    caplog.clear()
    with caplog.at_level("WARNING", logger="app.batch"):  # a glob of one record's files names it once
        sources = find_record_sources([str(tmp_path / "data" / "100.*")])
    assert [s.key for s in sources] == ["100"] and caplog.records == []
