"""The predominant rhythm (pipeline/rhythm.py) on real records: sinus, paced, atrial fibrillation, and its outputs."""

import csv
import json

import numpy as np
import pytest
from click.testing import CliRunner

from app.cli import cli
from pipeline.region_eval import evaluate_record, label_with_reference
from pipeline.rhythm import NOT_DETERMINED, find_predominant_rhythm, mean_rate_outside_bpm


def test_a_sinus_record_is_named_by_its_mean_heart_rate(excerpts_dir):
    """Record 100's first five minutes: sinus rhythm at about 75 bpm (MIT-BIH: normal sinus rhythm throughout), the
    rate the summary's heart-rate line gives (a QA pass, session 53: the rate of consecutive normal beats read above
    record 232's highest 1-minute rate)."""
    summary = evaluate_record(excerpts_dir / "100", label_with_reference).summary
    rhythm = summary.predominant_rhythm
    assert rhythm.name == "sinus rhythm" and rhythm.rate_bpm == summary.heart_rate_mean_bpm, rhythm
    assert 65 <= rhythm.rate_bpm <= 85
    assert rhythm.describe() == f"sinus rhythm, {rhythm.rate_bpm:.0f} bpm (sinus P waves before the normal beats; " \
                                "the mean heart rate)"


def test_sinus_bradycardia_and_tachycardia_are_fixed_definitions_not_alert_limits(excerpts_dir):
    """Under 50 bpm sinus bradycardia (the 2018 ACC/AHA/HRS guideline), over 100 sinus tachycardia, whatever the event
    settings' alert limits (a QA pass, session 53: --tachycardia-bpm 70 renamed a 74-bpm sinus rhythm)."""
    from pipeline.records import read_record
    from pipeline.region_eval import annotated_beats

    record = read_record(excerpts_dir / "100", annotator="atr")
    samples, classes = annotated_beats(record.annotations)
    named = [find_predominant_rhythm(record.signal_mv, record.fs_hz, samples, np.asarray(classes), 0.0, None,
                                     rate).name for rate in (45.0, 50.0, 100.0, 120.0)]
    assert named == ["sinus bradycardia", "sinus rhythm", "sinus rhythm", "sinus tachycardia"]
    assert find_predominant_rhythm(record.signal_mv, record.fs_hz, samples[:0], np.asarray(classes)[:0], float("nan"),
                                   None, float("nan")).basis == "no beats found"


def test_a_stated_pacemaker_pacing_most_beats_is_paced_rhythm(excerpts_dir):
    """Record 217's first five minutes: its pacemaker paces most beats (MIT-BIH `(P`). Without the pacemaker stated
    the rhythm is called paced from its pacing spikes only (session 56), and says that none was stated."""
    paced = evaluate_record(excerpts_dir / "217", label_with_reference, pacemaker=True).summary.predominant_rhythm
    assert paced.name == "paced rhythm" and paced.basis.startswith("a stated pacemaker"), paced
    unstated = evaluate_record(excerpts_dir / "217", label_with_reference).summary.predominant_rhythm
    assert unstated.name == "paced rhythm" and unstated.basis.startswith("pacing spikes before"), unstated
    assert "pacemaker not stated" in unstated.basis and 60 <= unstated.rate_bpm <= 90  # the mean rate


@pytest.mark.mitdb
def test_atrial_fibrillation_most_of_the_record_is_named_before_any_sinus_p_wave(mitdb_dir):
    """Record 210: atrial fibrillation for 98 % of its reference rhythm labels; 201: AF for a third of the record,
    sinus rhythm the rest (both DS1-independent checks of the rule, which reads the AF burden the summary reports)."""
    fibrillation = evaluate_record(mitdb_dir / "210", label_with_reference).summary
    assert fibrillation.predominant_rhythm.name == "atrial fibrillation/flutter"
    assert f"AF/flutter {fibrillation.af_burden_pct:.0f} % of the readable time" == \
        fibrillation.predominant_rhythm.basis
    assert evaluate_record(mitdb_dir / "201", label_with_reference).summary.predominant_rhythm.name.startswith("sinus")


@pytest.mark.mitdb
def test_a_sinus_rhythm_with_paroxysmal_af_is_named_by_its_rate_outside_the_af(mitdb_dir):
    """Record 201: AF/flutter for about a third of the record at a faster rate; a clinical read (session 57) found its
    sinus rhythm reported at the whole record's mean (64 bpm), its sinus stretches running at about 51."""
    summary = evaluate_record(mitdb_dir / "201", label_with_reference).summary
    rhythm = summary.predominant_rhythm
    assert 20 <= summary.af_burden_pct <= 50 and rhythm.name.startswith("sinus")
    assert rhythm.rate_bpm < summary.heart_rate_mean_bpm - 5 and 45 <= rhythm.rate_bpm <= 60
    assert rhythm.basis == "sinus P waves before the normal beats; the mean heart rate outside AF/flutter"


def test_no_consistent_p_wave_is_not_determined_with_the_reason():
    """Beats with nothing before them (a junctional rhythm, or P waves lost in noise) are not called sinus."""
    rng = np.random.default_rng(3)
    fs = 360.0
    beats = np.cumsum(rng.integers(250, 330, size=300)) + 400
    signal = rng.normal(0.0, 0.05, size=(int(beats[-1]) + 400, 1))
    for b in beats:
        signal[b - 10:b + 10, 0] += np.hanning(20) * 1.5
    rhythm = find_predominant_rhythm(signal, fs, beats, np.full(len(beats), "N"), 0.0, None, 75.0)
    assert rhythm.name == NOT_DETERMINED and rhythm.basis == "no consistent P wave before the normal beats"
    assert rhythm.to_dict() == {"name": NOT_DETERMINED, "rate_bpm": None,
                                "basis": "no consistent P wave before the normal beats", "wide_qrs_ms": None}


def test_the_predominant_rhythm_is_written_to_the_summary_and_the_batch_table(tmp_path, excerpts_dir):
    """With the dominant QRS width where it is wide, as the report's headline says it (232's right bundle branch
    block; a review of session 58 found it missing from the batch table)."""
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["score", str(excerpts_dir / "100"), str(excerpts_dir / "232"), "--out", str(out),
                                      "--format", "json"])
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "100" / "100_summary.json").read_text())
    assert summary["predominant_rhythm"]["name"] == "sinus rhythm"
    with open(out / "batch_summary.csv", newline="") as handle:
        rows = {row["record"]: row for row in csv.DictReader(handle)}
    row = rows["100"]
    assert row["predominant_rhythm"] == "sinus rhythm" and row["wide_qrs_ms"] == ""
    assert row["pacing_spike_pct"] == "0" and summary["pacing_spike_share"] < 0.05  # the share of beats with a spike
    wide = json.loads((out / "232" / "232_summary.json").read_text())["predominant_rhythm"]
    assert wide["name"].startswith("sinus") and wide["wide_qrs_ms"] > 120
    assert rows["232"]["wide_qrs_ms"] == str(wide["wide_qrs_ms"])
    # the main findings of page 1 (app.findings), as a list in the JSON and one cell of the batch table
    assert summary["main_findings"] == [] and row["main_findings"] == "none found in readable signal"
    findings = json.loads((out / "232" / "232_summary.json").read_text())["main_findings"]
    assert findings and rows["232"]["main_findings"] == "; ".join(findings)


def test_two_to_one_block_over_most_of_the_record_names_the_block_not_a_sinus_bradycardia(excerpts_dir):
    """A stretch of 231's 2:1 AV block read "sinus bradycardia, 36 bpm" (a QA pass, session 53), which points at the
    sinus node; with the block over half the readable time or more the rhythm is named with it, at the ventricular
    rate. Ventricular flutter/fibrillation over most of a record is named too (it read "fewer than 20 normal beats")."""
    from pipeline.records import read_record
    from pipeline.region_eval import annotated_beats

    record = read_record(excerpts_dir / "100", annotator="atr")
    samples, classes = annotated_beats(record.annotations)
    letters = np.asarray(classes)
    blocked = find_predominant_rhythm(record.signal_mv, record.fs_hz, samples, letters, 0.0, None, 36.0,
                                      av_block_share=0.9)
    assert blocked.describe() == ("sinus rhythm with 2:1 AV block, 36 bpm (every other sinus P wave not conducted for "
                                  "90 % of the readable time; the mean (ventricular) heart rate)")
    some = find_predominant_rhythm(record.signal_mv, record.fs_hz, samples, letters, 0.0, None, 36.0,
                                   av_block_share=0.3)
    assert some.name == "sinus bradycardia"  # a third of the time: the block is its own event
    fibrillation = find_predominant_rhythm(record.signal_mv, record.fs_hz, samples[:0], letters[:0], float("nan"),
                                           None, float("nan"), fibrillation_share=0.9)
    assert fibrillation.name == "ventricular flutter/fibrillation"


def test_the_rate_outside_af_leaves_out_every_interval_that_touches_an_excluded_stretch():
    """Beats every second (60 bpm) but faster (120 bpm) from 10 s to 20 s, the excluded stretch; an interval ending
    where the stretch starts is kept (stretches are [start, stop)), one starting at its stop too, one crossing it not."""
    fs = 100.0
    beats = np.concatenate([np.arange(0, 1000, 100), np.arange(1000, 2000, 50), np.arange(2000, 3100, 100)])
    assert round(mean_rate_outside_bpm(beats, fs, np.array([[1000, 2000]])), 6) == 60.0
    assert round(mean_rate_outside_bpm(beats, fs, np.empty((0, 2))), 1) == round(60 * 40 / 30.0, 1)  # all of it
    assert round(mean_rate_outside_bpm(beats, fs, np.array([[950, 2000]])), 6) == 60.0  # 900-1000 crosses it: out
    assert len(beats) - 1 == 40
    assert np.isnan(mean_rate_outside_bpm(beats[:1], fs, np.empty((0, 2))))
    assert np.isnan(mean_rate_outside_bpm(beats, fs, np.array([[0, 4000]])))  # nothing outside
