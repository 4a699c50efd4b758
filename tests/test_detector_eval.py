"""Detector evaluation on full MIT-BIH records (EC57 beat matching) and its written outputs."""

from __future__ import annotations

import json

import numpy as np
import pytest

from pipeline.detector_eval import evaluate_detector, format_table, write_report
from pipeline.records import read_annotations
from pipeline.scoring import reference_beats

# Clean sinus-rhythm records; any sound detector finds their beats (published detectors > 99.9 %).
EASY_RECORDS = ("100", "117", "234")


@pytest.fixture(scope="module")
def report(mitdb_dir):
    return evaluate_detector(mitdb_dir, EASY_RECORDS)


@pytest.fixture(scope="module")
def written(report, tmp_path_factory):
    out_dir = tmp_path_factory.mktemp("detector_report")
    write_report(report, out_dir, "qrs")
    return out_dir


def test_gross_sensitivity_and_predictivity_above_99_percent(report):
    assert not report.failures
    assert report.gross.sensitivity > 0.99
    assert report.gross.positive_predictivity > 0.99


def test_counts_cover_the_scored_reference_beats_and_gross_pools_every_record(report, mitdb_dir):
    """Each record's TP + FN is its reference beats from 5 minutes on, counted from its .atr; the gross counts pool
    every record (a mutation audit, session 54, found a gross that dropped a record passing every test)."""
    scored = {name: int((reference_beats(read_annotations(mitdb_dir / name, "atr", source_fs_hz=360.0))
                         >= 300 * 360).sum()) for name in EASY_RECORDS}
    by_record = {e.record: e.counts for e in report.evaluations}
    assert {name: c.tp + c.fn for name, c in by_record.items()} == scored
    assert report.gross.tp + report.gross.fn == sum(scored.values())
    assert report.gross.fp == sum(c.fp for c in by_record.values())


def test_json_report_holds_records_gross_and_settings(written, report):
    content = json.loads((written / "detector_report.json").read_text())
    assert [r["record"] for r in content["records"]] == list(EASY_RECORDS)
    assert content["gross"]["tp"] == report.gross.tp
    settings = content["settings"]
    assert settings["match_window_ms"] == 150.0
    assert settings["score_start_s"] == 300.0
    assert settings["vf_excluded"] is True
    assert settings["output_annotator"] == "qrs"
    assert settings["detector"]["function"] == "pipeline.detect.detect_record_peaks"
    assert "package_version" in settings and "git_commit" in settings
    assert "| **gross** |" in (written / "detector_report.md").read_text()


@pytest.mark.parametrize("record", EASY_RECORDS)
def test_annotation_files_read_back_with_identical_samples(written, report, record):
    evaluation = next(e for e in report.evaluations if e.record == record)
    back = read_annotations(written / record, "qrs", source_fs_hz=360.0)
    np.testing.assert_array_equal(back.samples, evaluation.detection.samples)
    assert set(back.symbols.tolist()) == {"N"}


def test_a_failing_record_is_reported_and_the_others_go_on(mitdb_dir):
    report = evaluate_detector(mitdb_dir, ["100", "999"])
    assert [e.record for e in report.evaluations] == ["100"]
    assert report.failures[0].record == "999"
    assert "RecordNotFoundError" in report.failures[0].error
    assert "FAILED 999" in format_table(report)
