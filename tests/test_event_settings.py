"""Event thresholds set by a user: the TOML file, the command-line options, and their effect on real records."""

from __future__ import annotations

import dataclasses
import json
import os

import numpy as np
import pytest
from click.testing import CliRunner

from app.cli import cli
from app.event_settings import (
    EventSettingsError,
    describe_thresholds,
    format_event_settings,
    override_event_settings,
    read_event_settings,
)
from models.bundled import BUNDLED_MODEL
from pipeline.detect import detect_r_peaks
from pipeline.fibrillation import FibrillationSettings
from pipeline.quality import find_quality_spans
from pipeline.records import read_record
from pipeline.region_eval import annotated_beats, find_record_regions
from pipeline.regions import RegionSettings


def reference_regions(record, settings: RegionSettings, detected=None):
    """Regions and summary of a record from its reference beats and classes (the rules alone, no model)."""
    samples, classes = annotated_beats(record.annotations)
    spans = find_quality_spans(record.signal_mv, record.fs_hz)
    return find_record_regions(record, samples, classes, spans, settings, detected_samples=detected)


# ------------------------------------------------------------------------------------------------
# The file
# ------------------------------------------------------------------------------------------------

def test_the_printed_settings_read_back_unchanged(tmp_path):
    changed = RegionSettings(pause_s=3.0, bradycardia_bpm=40.0, run_min_beats=4, unreadable_kinds=("missing", "flat"),
                             fibrillation=FibrillationSettings(enabled=False, band_hz=(2.5, 6.0)))
    for settings in (RegionSettings(), changed):
        path = tmp_path / "events.toml"
        path.write_text(format_event_settings(settings))
        assert read_event_settings(path) == settings
    assert RegionSettings.from_dict(changed.to_dict()) == changed


def test_keys_left_out_keep_their_defaults(tmp_path):
    path = tmp_path / "events.toml"
    path.write_text("pause_s = 3  # a whole number is fine for seconds\n[fibrillation]\nenabled = false\n")
    settings = read_event_settings(path)
    assert settings == dataclasses.replace(RegionSettings(), pause_s=3.0,
                                           fibrillation=FibrillationSettings(enabled=False))
    assert isinstance(settings.pause_s, float)


@pytest.mark.parametrize("text, expected", [
    ("pause = 3\n", ["unknown setting(s) pause", "pause_s"]),
    ("[fibrillation]\nenable = false\n", ["[fibrillation]", "unknown setting(s) enable", "enabled"]),
    ('pause_s = "3"\n', ["pause_s='3'", "a number"]),
    ("pause_s = true\n", ["pause_s=True", "a number"]),
    ("run_min_beats = 3.5\n", ["run_min_beats=3.5", "a whole number"]),
    ("pause_s = -1\n", ["pause_s=-1.0", "a positive number"]),
    ("bradycardia_bpm = 120\n", ["bradycardia_bpm < tachycardia_bpm"]),
    ('unreadable_kinds = ["noise", "dust"]\n', ["unreadable_kinds"]),
    ("fibrillation = 3\n", ["fibrillation=3", "a table"]),
    ("[fibrillation]\nband_hz = [2.0]\n", ["band_hz"]),
    ("pause_s = \n", ["not valid TOML", "line 1"]),
])
def test_a_bad_file_names_the_key_and_what_was_expected(tmp_path, text, expected):
    path = tmp_path / "events.toml"
    path.write_text(text)
    with pytest.raises(EventSettingsError) as error:
        read_event_settings(path)
    message = str(error.value)
    assert str(path) in message
    for part in expected:
        assert part in message


def test_a_missing_file_says_so(tmp_path):
    with pytest.raises(EventSettingsError, match="does not exist"):
        read_event_settings(tmp_path / "none.toml")


def test_single_thresholds_override_the_file_settings():
    base = RegionSettings(pause_s=3.0, tachycardia_bpm=120.0)
    settings = override_event_settings(base, bradycardia_bpm=40.0, vf_detection=False)
    assert (settings.pause_s, settings.bradycardia_bpm, settings.tachycardia_bpm) == (3.0, 40.0, 120.0)
    assert not settings.fibrillation.enabled
    assert override_event_settings(base) is base
    with pytest.raises(ValueError, match="bradycardia_bpm < tachycardia_bpm"):
        override_event_settings(base, bradycardia_bpm=130.0)
    text = describe_thresholds(settings)
    assert "pause RR over 3 s" in text and "under 40 bpm" in text and "over 120 bpm" in text
    assert "detection off" in text
    assert text.endswith("; ST episodes 0.1 mV for 1 min or more from the record's own level.")


# ------------------------------------------------------------------------------------------------
# Effect on real records
# ------------------------------------------------------------------------------------------------

def test_the_pause_threshold_decides_which_long_intervals_are_pauses(excerpts_dir):
    """Record 232 (sinus bradycardia with long pauses): every pause is an RR interval longer than the threshold,
    and raising the threshold keeps only the longer ones."""
    record = read_record(excerpts_dir / "232", annotator="atr")
    samples, _ = annotated_beats(record.annotations)
    rr_s = np.diff(samples) / record.fs_hz
    found = {}
    for pause_s in (1.5, 2.0, 2.5, 3.0):
        regions, summary = reference_regions(record, RegionSettings(pause_s=pause_s))
        pauses = [r for r in regions if r.kind == "pause"]
        assert all(r.duration_s(record.fs_hz) > pause_s for r in pauses)
        assert len(pauses) <= int(np.sum(rr_s > pause_s))
        assert summary.event("pause").count == len(pauses)
        found[pause_s] = {r.start for r in pauses}
    assert len(found[1.5]) > len(found[2.0]) > 0  # the excerpt has pauses over 2 s, and more over 1.5 s
    assert found[3.0] <= found[2.5] <= found[2.0] <= found[1.5]


def test_rate_limits_decide_the_bradycardia_stretches(excerpts_dir):
    """Record 106's excerpt runs at 57-66 bpm: a higher limit finds more bradycardia, each stretch under it."""
    record = read_record(excerpts_dir / "106", annotator="atr")
    seconds = {}
    for limit in (50.0, 60.0, 70.0):
        regions, summary = reference_regions(record, RegionSettings(bradycardia_bpm=limit))
        stretches = [r for r in regions if r.kind == "bradycardia"]
        assert all(r.heart_rate_bpm < limit for r in stretches)
        seconds[limit] = summary.event("bradycardia").total_s
    assert seconds[50.0] < seconds[60.0] < seconds[70.0]


def test_flutter_detection_can_be_switched_off(mitdb_dir):
    """Record 207's ventricular flutter is found by default and not at all with the detector off."""
    record = read_record(mitdb_dir / "207", annotator="atr")
    detected = detect_r_peaks(record.signal_mv, record.fs_hz).samples
    kinds = {}
    for enabled in (True, False):
        settings = RegionSettings(fibrillation=FibrillationSettings(enabled=enabled))
        regions, _ = reference_regions(record, settings, detected)
        kinds[enabled] = [r.kind for r in regions]
    assert kinds[True].count("ventricular_flutter_fibrillation") >= 1
    assert "ventricular_flutter_fibrillation" not in kinds[False]


# ------------------------------------------------------------------------------------------------
# Command line
# ------------------------------------------------------------------------------------------------

def run(*args: str):
    result = CliRunner().invoke(cli, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def test_score_uses_the_thresholds_given_and_rescores_when_they_change(tmp_path, excerpts_dir):
    out = tmp_path / "out"
    events = tmp_path / "events.toml"
    events.write_text("pause_s = 1.5\n")
    common = ["score", "--quiet", "--model", str(BUNDLED_MODEL), "--format", "csv,json", "--out", str(out),
              str(excerpts_dir / "232")]
    summary_file = out / "232" / "232_summary.json"

    first = run(*common)
    assert first.exit_code == 0, first.output
    default = json.loads(summary_file.read_text())
    assert default["event_settings"] == RegionSettings().to_dict()

    second = run(*common, "--events", str(events))
    assert second.exit_code == 0 and "1 scored" in second.output, second.output
    lower = json.loads(summary_file.read_text())
    assert lower["event_settings"]["pause_s"] == 1.5
    assert lower["events"]["pause"]["count"] > default["events"]["pause"]["count"]

    third = run(*common, "--events", str(events), "--pause-s", "10", "--no-vf-detection")
    assert "1 scored" in third.output, third.output
    none = json.loads(summary_file.read_text())
    assert none["event_settings"]["pause_s"] == 10 and not none["event_settings"]["fibrillation"]["enabled"]
    assert none["events"]["pause"]["count"] == 0
    assert none["beat_counts"] == default["beat_counts"]  # the thresholds change events only

    again = run(*common, "--events", str(events), "--pause-s", "10", "--no-vf-detection")
    assert "1 already up to date" in again.output, again.output


def test_bad_event_options_are_usage_errors_before_any_work(tmp_path, excerpts_dir):
    events = tmp_path / "events.toml"
    events.write_text("pause_s = 2\ntachycardia = 120\n")
    out = tmp_path / "out"
    for extra, expected in ((["--events", str(events)], "tachycardia"),
                            (["--events", str(tmp_path / "none.toml")], "does not exist"),
                            (["--bradycardia-bpm", "150"], "bradycardia_bpm < tachycardia_bpm")):
        result = run("score", "--quiet", "--out", str(out), *extra, str(excerpts_dir / "100"))
        assert result.exit_code == 2, result.output
        assert expected in result.output
    assert not out.exists()


def test_event_settings_prints_a_file_that_score_and_evaluate_regions_accept(tmp_path, excerpts_dir):
    printed = run("event-settings")
    assert printed.exit_code == 0
    path = tmp_path / "events.toml"
    written = run("event-settings", "--pause-s", "2.5", "--out", str(path))
    assert written.exit_code == 0, written.output
    assert read_event_settings(path) == RegionSettings(pause_s=2.5)
    assert printed.output == format_event_settings()
    result = run("evaluate-regions", "--data-dir", str(excerpts_dir), "--records", "232", "--events", str(path),
                 "--unreadable-kinds", "missing,flat", "--out", str(tmp_path / "regions"))
    assert result.exit_code == 0, result.output
    assert "settings changed from the defaults: pause_s=2.5, unreadable_kinds=['missing', 'flat']" in result.output
    expected = RegionSettings(pause_s=2.5, unreadable_kinds=("missing", "flat"))
    report = json.loads((tmp_path / "regions" / "regions_report.json").read_text())
    assert report["settings"]["regions"] == expected.to_dict()
    summary = json.loads((tmp_path / "regions" / "232_summary.json").read_text())
    _, reference = reference_regions(read_record(excerpts_dir / "232", annotator="atr"), expected)
    assert summary["events"]["pause"]["count"] == reference.event("pause").count


def test_dashboard_checks_its_event_file_before_starting(tmp_path, monkeypatch):
    """``ecg dashboard --events``: a bad file is a usage error; a good one is handed to the server."""
    from app import dashboard_cli
    from app.event_settings import EVENTS_ENV

    started = {}
    monkeypatch.setattr(dashboard_cli.os, "execv", lambda path, argv: started.update(env=os.environ.get(EVENTS_ENV)))
    monkeypatch.setattr(dashboard_cli.os, "chdir", lambda path: None)
    monkeypatch.setenv(EVENTS_ENV, "")  # unset for the dashboard; the command's own setting is undone afterwards
    bad = tmp_path / "bad.toml"
    bad.write_text("pause = 3\n")
    result = run("dashboard", "--events", str(bad))
    assert result.exit_code == 2 and "unknown setting(s) pause" in result.output and not started
    good = tmp_path / "good.toml"
    good.write_text("pause_s = 3\n")
    result = run("dashboard", "--events", str(good))
    assert result.exit_code == 0, result.output
    assert started["env"] == str(good.resolve())
