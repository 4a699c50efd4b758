"""``ecg score``: per-record outputs, batch tables, bad input, resumability, parallel jobs."""

from __future__ import annotations

import json
import os
import signal
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from app import batch
from app.batch import (
    BATCH_ERRORS,
    BATCH_SUMMARY,
    MANIFEST,
    BatchUsageError,
    describe_saved_labels,
    find_record_sources,
    read_table,
)
from app.cli import cli
from benchmarks.detector_lead_gaps import blank_lead, find_gaps
from app.outputs import read_umask, write_atomic
from models.atrial_rule import DecisionRules
from models.bundled import BUNDLED_MODEL
from models.evaluate import reference_classes
from pipeline.edf import write_edf
from pipeline.labels import AAMI_CLASSES
from pipeline.records import read_annotations, read_record, write_record
from pipeline.rhythm_annotations import rhythm_intervals
from pipeline.scoring import compare_beats, compare_classes
from pipeline.types import Annotations
from tests.made_records import write_multi_segment, write_twelve_lead_record
from tests.score_runs import MODEL, copy_record, run_score

REPO_ROOT = Path(__file__).resolve().parent.parent
GOOD = ("119", "208")


def tree_bytes(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def scored(tmp_path_factory, excerpts_dir):
    """The bundled excerpts 100 and 208 scored once with every output."""
    inputs = tmp_path_factory.mktemp("inputs")
    for name in GOOD:
        copy_record(excerpts_dir, name, inputs)
    out = tmp_path_factory.mktemp("scored")
    code, output = run_score(str(inputs), "--out", str(out))
    assert code == 0, output
    return inputs, out


def test_every_output_is_written_and_consistent(scored):
    inputs, out = scored
    for name in GOOD:
        folder = out / name
        files = {p.name for p in folder.iterdir()}
        assert files == {f"{name}_beats.csv", f"{name}_regions.csv", f"{name}_hourly.csv", f"{name}_summary.json",
                         f"{name}.ecg", f"{name}_report.pdf", f"{name}_st.csv", f"{name}_st_episodes.csv", f"{name}_qt.csv",
                         MANIFEST}
        beats = read_table(folder / f"{name}_beats.csv")
        summary = json.loads((folder / f"{name}_summary.json").read_text())
        assert summary["n_beats"] == len(beats) > 300
        for k, c in enumerate(AAMI_CLASSES):
            assert summary["beat_counts"][c] == sum(row["class"] == c for row in beats)
        probabilities = np.array([[float(row[f"p_{c}"]) for c in AAMI_CLASSES] for row in beats])
        assert np.allclose(probabilities.sum(axis=1), 1.0, atol=2e-3)
        # with no rule flag the class is the network's top class (written to 4 decimals, so a near tie may read as a tie)
        top = probabilities == probabilities.max(axis=1, keepdims=True)
        network = [row["class"] if top[i, AAMI_CLASSES.index(row["class"])] else AAMI_CLASSES[int(top[i].argmax())]
                   for i, row in enumerate(beats)]
        final = ["N" if "True" in (row["af_rule"], row["family_rule"], row["fusion_rule"])
                 else "V" if row["wide_qrs_rule"] == "True"
                 else "S" if "True" in (row["atrial_rule"], row["run_rule"])
                 else "N" if row["conduction_rule"] == "True" else c for row, c in zip(beats, network)]
        assert final == [row["class"] for row in beats]
        # no reader in a batch: the model's classes, every beat in a morphology family when its window is complete
        assert all(row["model_class"] == row["class"] and row["reviewed"] == "False" for row in beats)
        families = np.array([int(row["family"]) for row in beats])
        assert families.min() >= -1 and np.mean(families >= 0) > 0.95 and np.sum(families == 0) > len(beats) / 3
        assert all(c == "N" for row, c in zip(beats, network) if "True" in (row["atrial_rule"], row["run_rule"]))
        assert all(c == "V" or row["wide_qrs_rule"] == "True"  # the family rule may take back a wide-QRS rule's V
                   for row, c in zip(beats, network) if "True" in (row["conduction_rule"], row["family_rule"]))
        assert all(c == "S" for row, c in zip(beats, network) if row["wide_qrs_rule"] == "True")
        assert all(c == "F" for row, c in zip(beats, network) if row["fusion_rule"] == "True")
        regions = read_table(folder / f"{name}_regions.csv")
        assert sum(e["count"] for e in summary["events"].values()) == len(regions)
        hourly = read_table(folder / f"{name}_hourly.csv")  # a 5-minute excerpt: one (short) hour
        assert len(hourly) == 1 and int(hourly[0]["beats"]) == len(beats)
        assert hourly[0]["clock_time"] == "" and summary["hourly"][0]["clock_time"] is None  # no start time
        assert [int(hourly[0][f"beats_{c}"]) for c in AAMI_CLASSES] == [summary["beat_counts"][c] for c in AAMI_CLASSES]
        assert int(hourly[0]["pauses"]) == summary["events"]["pause"]["count"]
        longest = max(float(row["rr_before_s"]) for row in beats[1:])
        assert summary["longest_rr_s"] <= longest + 1e-3 and summary["longest_rr_time_s"] < 300
        hrv = summary["hrv"]  # 5-minute excerpts: assessed, or not with the reason among the notes
        assert 0 < hrv["n_intervals"] < len(beats)
        assert (hrv["sdnn_ms"] is not None) != any(n.startswith("HRV not assessed") for n in summary["notes"])
        for key in ("sdnn_ms", "rmssd_ms", "pnn50_pct"):  # the only hour holds every NN interval of the record
            assert (float(hourly[0][key]) if hourly[0][key] else None) == hrv[key]
        st = summary["st"]  # narrow QRS complexes: ST assessed, one row per 15 s, levels near the reference
        levels = read_table(folder / f"{name}_st.csv")
        assert st["assessed"] and len(levels) == 20 and levels[-1]["end_s"] == "300.0"
        deviations = [float(row["deviation_MLII_mv"]) for row in levels if row["deviation_MLII_mv"]]
        assert len(deviations) >= 15 and abs(np.median(deviations)) < 1e-3
        assert len(read_table(folder / f"{name}_st_episodes.csv")) == len(st["episodes"])
        assert st["points"]["qrs_ms"] < 120 and st["points"]["iso_ms"] < st["points"]["qrs_onset_ms"] < 0
        qt, qt_rows = summary["qt"], read_table(folder / f"{name}_qt.csv")  # one row per minute
        assert qt["assessed"] and len(qt_rows) == 5 and qt["measured_windows"] >= 3
        measured = [float(row["qtc_fridericia_ms"]) for row in qt_rows if row["qtc_fridericia_ms"]]
        assert qt["qtc_fridericia_ms"] == round(float(np.median(measured))) and 300 < qt["qt_ms"] < 480
        # the one (short) hour of the hourly table holds the whole record's ST changes and QTc
        changes = [float(row[key]) for row in levels for key in row if key.startswith("deviation_") and row[key]]
        assert float(hourly[0]["st_lowest_mv"]) == pytest.approx(min(changes), abs=1e-3) and min(changes) <= 0
        assert float(hourly[0]["st_highest_mv"]) == pytest.approx(max(changes), abs=1e-3) and max(changes) >= 0
        assert float(hourly[0]["qtc_fridericia_ms"]) == qt["qtc_fridericia_ms"]
        assert (folder / f"{name}_report.pdf").read_bytes().startswith(b"%PDF")
        assert summary["model"]["source"] == MODEL and len(summary["model"]["weights_sha256"]) == 64


def test_outputs_get_the_usual_permissions_and_a_replaced_file_keeps_its_own(scored, tmp_path):
    _, out = scored
    expected = 0o666 & ~read_umask()
    modes = {p.name: oct(p.stat().st_mode & 0o777) for p in out.rglob("*") if p.is_file()}
    assert set(modes.values()) == {oct(expected)}, modes  # not the temporary file's 0600
    kept = tmp_path / "kept.csv"
    kept.write_text("old")
    kept.chmod(0o640)
    write_atomic(kept, b"new")
    assert kept.read_bytes() == b"new" and kept.stat().st_mode & 0o777 == 0o640
    previous = os.umask(0o077)
    try:
        assert read_umask() == 0o077
        assert write_atomic(tmp_path / "private.csv", b"x").stat().st_mode & 0o777 == 0o600
    finally:
        os.umask(previous)


def test_annotation_file_round_trips_through_wfdb(scored):
    inputs, out = scored
    name = "119"
    beats = read_table(out / name / f"{name}_beats.csv")
    regions = read_table(out / name / f"{name}_regions.csv")
    annotations = read_annotations(out / name / name, "ecg", source_fs_hz=360.0, target_fs_hz=360.0)
    is_beat = np.isin(annotations.symbols, list(AAMI_CLASSES))
    assert annotations.samples[is_beat].tolist() == [int(row["sample"]) for row in beats]
    assert annotations.symbols[is_beat].tolist() == [row["class"] for row in beats]
    # every bigeminy region is inside a "(B" episode of the file
    episodes = rhythm_intervals(annotations, "(B", int(300 * 360))
    bigeminy = [r for r in regions if r["kind"] == "ventricular_bigeminy"]
    assert bigeminy, "119 has ventricular bigeminy"
    for region in bigeminy:
        start = int(region["start_sample"])
        assert any(lo <= start + 1 and start < hi for lo, hi in episodes)


def test_a_twelve_lead_record_is_scored_on_ii_and_v1_like_the_two_lead_excerpt(scored, tmp_path, excerpts_dir):
    """INCART-like input: the classifier takes two leads, II and V1 here, and the summary names the ten others."""
    _, out = scored
    write_twelve_lead_record(excerpts_dir, tmp_path / "in", name="twelve")
    code, output = run_score(str(tmp_path / "in"), "--out", str(tmp_path / "out"), "--format", "csv,json")
    assert code == 0, output
    twelve = read_table(tmp_path / "out" / "twelve" / "twelve_beats.csv")
    two = read_table(out / "119" / "119_beats.csv")
    assert [(row["sample"], row["class"]) for row in twelve] == [(row["sample"], row["class"]) for row in two]
    summary = json.loads((tmp_path / "out" / "twelve" / "twelve_summary.json").read_text())
    assert summary["leads"] == ["II", "V1"] and summary["primary_lead"] == "II" and len(summary["unused_leads"]) == 10


def test_a_lead_flat_throughout_is_read_as_missing_and_a_flat_record_as_unreadable(scored, tmp_path, excerpts_dir):
    """A two-lead record whose second lead is zero throughout: its beats were classified with a flat lead as if it
    were signal, and nothing said so; they are now classified from the other lead alone, as where a lead comes off,
    and the summary says so. A 12-lead record whose II (the primary lead) is zero throughout is analysed from I and V1
    (session 31; it was analysed from V1 alone). A record scaled to 2 % (under 0.05 mV peak to peak: the detector
    calls it flat) was called 100 % readable; it was then scored as unreadable throughout, and since session 37 it
    fails with the reason (a record without signal is bad input, not a result)."""
    _, out = scored
    excerpt = read_record(excerpts_dir / "100")
    one_flat = excerpt.signal_mv.copy()
    one_flat[:, 1] = 0.0
    write_record(tmp_path / "in", "oneflat", one_flat, excerpt.fs_hz, excerpt.lead_names)
    write_twelve_lead_record(excerpts_dir, tmp_path / "in", name="twelve", flat=("II",))
    write_record(tmp_path / "in", "tiny", 0.02 * excerpt.signal_mv[:60 * 360], excerpt.fs_hz, excerpt.lead_names)
    code, output = run_score(str(tmp_path / "in"), "--out", str(tmp_path / "out"), "--format", "csv,json")
    assert code == 1, output  # tiny failed, alone
    beats = read_table(tmp_path / "out" / "oneflat" / "oneflat_beats.csv")
    assert len(beats) > 300 and all(row["one_lead"] == "True" for row in beats)
    summary = json.loads((tmp_path / "out" / "oneflat" / "oneflat_summary.json").read_text())
    assert any(note.startswith(f"{len(beats)} beats where one lead was missing or flat") and "check the beat marks" in
               note for note in summary["notes"])  # the detector's caveat for one lead too (QA pass, session 47)
    twelve = read_table(tmp_path / "out" / "twelve" / "twelve_beats.csv")
    assert len(twelve) > 300 and not any(row["one_lead"] == "True" for row in twelve)
    twelve_summary = json.loads((tmp_path / "out" / "twelve" / "twelve_summary.json").read_text())
    assert not any("one lead was missing" in note for note in twelve_summary["notes"])
    assert twelve_summary["leads"] == ["I", "V1"] and "II" in twelve_summary["unused_leads"]
    errors = {row["record"]: row for row in read_table(tmp_path / "out" / "errors.csv")}
    assert list(errors) == ["tiny"] and errors["tiny"]["error_type"] == "NoEcgLeadError"
    assert "every lead analysed (MLII, V5) is missing or flat throughout" in errors["tiny"]["message"]
    # its values move, though by little: the message points at the gain or units too (QA pass, session 45)
    assert "MLII, V5 vary by" in errors["tiny"]["message"] and "wrong gain or units" in errors["tiny"]["message"]
    assert not (tmp_path / "out" / "tiny" / "tiny_summary.json").exists()


def test_beats_after_a_stretch_held_at_the_rail_keep_their_classes(tmp_path, excerpts_dir):
    """Two minutes of 100 with both leads held at the rail (10.2 mV) from 30 to 60 s: the steps rang through the
    classifier's baseline filter and the beat after the rail was called V; the beats after it now get the classes
    they get without the rail, and no V appears."""
    excerpt = read_record(excerpts_dir / "100")
    signal = excerpt.signal_mv[:120 * 360].copy()
    write_record(tmp_path / "in", "plain", signal, excerpt.fs_hz, excerpt.lead_names)
    signal[30 * 360:60 * 360] = 10.235
    write_record(tmp_path / "in", "rail", signal, excerpt.fs_hz, excerpt.lead_names)
    code, output = run_score(str(tmp_path / "in"), "--out", str(tmp_path / "out"), "--format", "csv")
    assert code == 0, output
    plain, rail = ({row["sample"]: row["class"] for row in read_table(tmp_path / "out" / n / f"{n}_beats.csv")}
                   for n in ("plain", "rail"))
    after = [k for k in rail if int(k) > 61 * 360]
    assert len(after) > 70 and all(rail[k] == plain.get(k) for k in after)
    assert "V" not in rail.values()


def test_a_one_lead_record_is_scored_from_that_lead_and_its_summary_says_so(scored, tmp_path, excerpts_dir):
    """A Holter channel on its own: classified from the one lead (read as both of the network's), noted in the summary.
    Before, the per-lead features of the missing lead were left out and the record failed with a settings mismatch."""
    _, out = scored
    excerpt = read_record(excerpts_dir / "119")
    write_record(tmp_path / "in", "mlii", excerpt.signal_mv[:, :1], excerpt.fs_hz, excerpt.lead_names[:1])
    code, output = run_score(str(tmp_path / "in"), "--out", str(tmp_path / "out"), "--format", "csv,json")
    assert code == 0, output
    one = {row["sample"]: row["class"] for row in read_table(tmp_path / "out" / "mlii" / "mlii_beats.csv")}
    two = {row["sample"]: row["class"] for row in read_table(out / "119" / "119_beats.csv")}
    shared = one.keys() & two.keys()
    assert len(shared) >= 0.95 * len(two)  # the same beats found
    assert np.mean([one[k] == two[k] for k in shared]) >= 0.95  # and mostly the same classes (119: its PVCs are V)
    assert sum(one[k] == "V" for k in shared) >= 0.9 * sum(two[k] == "V" for k in shared) > 50
    summary = json.loads((tmp_path / "out" / "mlii" / "mlii_summary.json").read_text())
    assert summary["leads"] == ["MLII"]
    assert any(note.startswith("beats classified from one lead") and "208 from V1 alone" in note
               for note in summary["notes"])
    two_lead = json.loads((out / "119" / "119_summary.json").read_text())
    assert not any("one lead" in note for note in two_lead["notes"])


def test_beats_where_one_lead_came_off_are_marked_counted_and_not_called_s(scored, tmp_path, excerpts_dir):
    """A two-lead record whose second lead (V1) is missing for 10 s of every minute (a loose electrode): the beats
    there are found, classified from the primary lead alone, marked in the beat table's one_lead column, counted in a
    note, and called as in the intact record. With the primary lead missing, V1 alone finds and classifies less well
    (``benchmarks/detector_lead_gaps.py``; ``tests/test_bundled_model.py`` holds the classes at the reference
    positions)."""
    excerpt = read_record(excerpts_dir / "106")
    gap = find_gaps(excerpt.n_samples, excerpt.fs_hz)
    write_record(tmp_path / "in", "leadoff", blank_lead(excerpt, 1).signal_mv, excerpt.fs_hz, excerpt.lead_names)
    copy_record(excerpts_dir, "106", tmp_path / "in")
    code, output = run_score(str(tmp_path / "in"), "--out", str(tmp_path / "out"), "--format", "csv,json")
    assert code == 0, output
    rows = read_table(tmp_path / "out" / "leadoff" / "leadoff_beats.csv")
    intact = {row["sample"]: row for row in read_table(tmp_path / "out" / "106" / "106_beats.csv")}
    marked = [row for row in rows if row["one_lead"] == "True"]
    in_gap = [row for row in rows if gap[int(row["sample"])]]
    assert {row["sample"] for row in in_gap} <= {row["sample"] for row in marked}  # every beat in a gap, and
    assert len(marked) <= len(in_gap) + 2 * 5  # at most the beats whose window reaches into one (two per gap)
    # the same beats (the detector reads the other lead in the gaps: positions within 150 ms, as EC57 matches them)
    positions = np.array(sorted(int(k) for k in intact))
    nearest = {row["sample"]: positions[np.argmin(np.abs(positions - int(row["sample"])))] for row in in_gap}
    pairs = [(row["class"], intact[str(nearest[row["sample"]])]["class"]) for row in in_gap
             if abs(nearest[row["sample"]] - int(row["sample"])) <= 0.15 * excerpt.fs_hz]
    assert len(pairs) >= 0.95 * len(in_gap)
    assert np.mean([a == b for a, b in pairs]) >= 0.9
    assert sum(a == "S" for a, _ in pairs) <= sum(b == "S" for _, b in pairs) + 1
    summary = json.loads((tmp_path / "out" / "leadoff" / "leadoff_summary.json").read_text())
    assert any(note.startswith(f"{len(marked)} beats where one lead was missing or flat") and "beat marks" not in note
               for note in summary["notes"])  # a few gaps: no caveat on the detector, which reads the other lead there
    assert not any(row["one_lead"] == "True" for row in intact.values())


def test_a_record_of_noise_alone_is_scored_unreadable_with_no_beat(tmp_path):
    """Broadband noise (no QRS anywhere): a scored record, not a failed one. The summary says no beat was found and,
    since the detector finds no QRS standing out of the noise, that none of it is readable (the noise rule, relative
    to the record's own floor, cannot see noise from end to end); the WFDB annotation file, which wfdb reads back,
    holds no beat, only the signal-quality marks of the unreadable stretch (noise from the start, clean at the end)."""
    noise = np.random.default_rng(0).normal(0.0, 1.0, size=(60 * 360, 2))
    write_record(tmp_path / "in", "noise", noise, 360.0, ("MLII", "V1"))
    code, output = run_score(str(tmp_path / "in"), "--out", str(tmp_path / "out"), "--format", "json,wfdb")
    assert code == 0 and "1 scored" in output, output
    # ... and the command and the batch table say that it holds no beat (QA pass, session 45)
    assert "noise: scored, no beat found: no QRS complexes distinguishable from noise" in output
    from app.batch import read_table
    (row,) = read_table(tmp_path / "out" / "batch_summary.csv")
    assert row["status"] == "scored" and row["message"].startswith("no beat found")
    summary = json.loads((tmp_path / "out" / "noise" / "noise_summary.json").read_text())
    assert summary["n_beats"] == 0 and any(note.startswith("no beats found") for note in summary["notes"])
    assert summary["readable_pct"] == 0.0 and summary["detection_note"] == "no QRS complexes distinguishable from noise"
    assert any(note.startswith("mostly unreadable signal: 0% readable") for note in summary["notes"])
    annotations = read_annotations(tmp_path / "out" / "noise" / "noise", "ecg", source_fs_hz=360.0)
    assert set(annotations.symbols.tolist()) == {"~", '"'}  # quality marks and the file's end note only, no beat
    assert annotations.aux_notes[annotations.symbols == '"'].tolist() == ["end of the review file"]
    marks = annotations.select(annotations.symbols == "~")
    assert marks.samples.tolist() == [0] and marks.subtypes[0] != 0  # no closing mark past the end
    from pipeline.rhythm_annotations import quality_mark_intervals
    assert quality_mark_intervals(annotations, 60 * 360).tolist() == [[0, 60 * 360]]  # open to the end: read whole


def test_batch_summary_lists_each_record(scored):
    _, out = scored
    rows = read_table(out / BATCH_SUMMARY)
    assert [r["record"] for r in rows] == list(GOOD)
    assert all(r["status"] == "scored" for r in rows)
    assert int(rows[1]["V"]) > 100  # 208: frequent PVCs
    for row in rows:
        summary = json.loads((out / row["record"] / f"{row['record']}_summary.json").read_text())
        assert row["heart_rate_mean_bpm"].isdigit()  # whole bpm, as Holter reports give them, without a ".0"
        assert float(row["heart_rate_min_bpm"]) == round(summary["heart_rate_bpm"]["min"])
        assert float(row["heart_rate_max_bpm"]) == round(summary["heart_rate_bpm"]["max"])
        assert float(row["longest_rr_s"]) == round(summary["longest_rr_s"], 2)
        assert int(row["pauses"]) == summary["events"]["pause"]["count"]
        assert int(row["ventricular_tachycardia"]) == summary["events"]["ventricular_tachycardia"]["count"]
        assert int(row["ventricular_couplets"]) == summary["events"]["ventricular_couplet"]["count"]
        # episodes: not the isolated beats and couplets, which are counted (a QA pass, session 50, read 119's 507
        # "events" as mostly isolated VPCs)
        episodes = {k: e["count"] for k, e in summary["events"].items() if k != "unreadable"
                    and not k.startswith("isolated_") and not k.endswith("_couplet")}
        assert int(row["episodes"]) == sum(episodes.values())
        assert int(row["st_episodes"]) == len(summary["st"]["episodes"])
        assert float(row["qtc_fridericia_ms"]) == summary["qt"]["qtc_fridericia_ms"]
        assert float(row["pr_ms"]) == summary["pr"]["pr_ms"] and 100 < summary["pr"]["pr_ms"] < 300
    assert read_table(out / BATCH_ERRORS) == []


def test_rerun_skips_up_to_date_records_and_force_rescores(scored, tmp_path):
    inputs, out = scored
    before = tree_bytes(out / "119")
    code, output = run_score(str(inputs), "--out", str(out))
    assert code == 0 and "0 scored, 2 already up to date" in output
    assert tree_bytes(out / "119") == before
    (out / "119" / "119_beats.csv").write_text("tampered")
    code, output = run_score(str(inputs), "--out", str(out))
    assert "1 scored, 1 already up to date" in output
    assert tree_bytes(out / "119") == before
    code, output = run_score(str(inputs), "--out", str(out), "--force")
    assert "2 scored" in output


def test_a_chosen_primary_lead_applies_to_every_record_and_one_without_it_fails_alone(tmp_path, excerpts_dir):
    write_twelve_lead_record(excerpts_dir, tmp_path / "in", name="twelve")
    copy_record(excerpts_dir, "100", tmp_path / "in")  # leads MLII and V5: no aVF
    code, output = run_score(str(tmp_path / "in"), "--out", str(tmp_path / "out"), "--format", "json", "--lead", "aVF")
    assert code == 1 and "1 scored" in output and "1 failed" in output, output
    summary = json.loads((tmp_path / "out" / "twelve" / "twelve_summary.json").read_text())
    assert summary["primary_lead"] == "aVF" and summary["leads"] == ["aVF", "V1"]
    errors = read_table(tmp_path / "out" / BATCH_ERRORS)
    assert [row["record"] for row in errors] == ["100"] and "aVF" in errors[0]["message"]
    manifest = json.loads((tmp_path / "out" / "twelve" / MANIFEST).read_text())
    assert manifest["settings"]["lead"] == "aVF"


def test_a_multi_segment_record_in_a_directory_is_scored_once_with_its_gap(tmp_path, excerpts_dir):
    """Its segment headers are parts of it, not records; the gap is missing signal, not beats."""
    write_multi_segment(tmp_path / "in", read_record(excerpts_dir / "100"))
    code, output = run_score(str(tmp_path / "in"), "--out", str(tmp_path / "out"), "--format", "csv,json")
    assert code == 0 and "1 scored" in output, output
    assert sorted(p.name for p in (tmp_path / "out").iterdir() if p.is_dir()) == ["ms"]
    beats = read_table(tmp_path / "out" / "ms" / "ms_beats.csv")
    times = np.array([float(row["time_s"]) for row in beats])
    assert len(beats) > 140 and not np.any((times > 60.2) & (times < 69.8))  # no beat in the 10 s gap
    summary = json.loads((tmp_path / "out" / "ms" / "ms_summary.json").read_text())
    assert summary["readable_pct"] == pytest.approx(100 * 120 / 130, abs=0.5)  # 120 s of signal in 130 s


def test_rerun_rescores_when_the_model_settings_or_the_analysis_code_change(tmp_path, excerpts_dir, monkeypatch):
    """The weights alone do not fix the outputs: a rules-only model change or another code version rescores."""
    model = tmp_path / "model" / "model.keras"
    model.parent.mkdir()
    shutil.copyfile(BUNDLED_MODEL, model)
    settings = json.loads(BUNDLED_MODEL.with_suffix(".json").read_text())
    model.with_suffix(".json").write_text(json.dumps(settings))
    copy_record(excerpts_dir, "119", tmp_path / "in")

    def score() -> str:
        result = CliRunner().invoke(cli, ["score", "--quiet", "--model", str(model), "--format", "csv",
                                          str(tmp_path / "in"), "--out", str(tmp_path / "out")])
        assert result.exit_code == 0, result.output
        return result.output

    assert "1 scored" in score()
    assert "0 scored, 1 already up to date" in score()
    settings["atrial_rule"]["corr_max"] = 0.3  # the atrial-origin rule relabels more beats; same weights
    model.with_suffix(".json").write_text(json.dumps(settings))
    assert "1 scored" in score()
    assert "0 scored, 1 already up to date" in score()
    monkeypatch.setattr(batch, "fingerprint_code", lambda: "another version of the analysis code")
    assert "1 scored" in score()


def make_bad_records(folder: Path, excerpts_dir: Path) -> dict[str, str]:
    """Bad inputs beside good ones; returns record key -> expected error type."""
    truncated = copy_record(excerpts_dir, "232", folder, "truncated")
    data = (folder / "truncated.dat").read_bytes()
    (folder / "truncated.dat").write_bytes(data[: len(data) // 3])
    copy_record(excerpts_dir, "106", folder, "nodat")
    (folder / "nodat.dat").unlink()
    (folder / "empty.hea").write_bytes(b"")
    header = (excerpts_dir / "100.hea").read_text().replace("100", "resp", 1).replace("100.dat", "resp.dat")
    header = header.replace("MLII", "RESP").replace("V5", "PLETH")
    (folder / "resp.hea").write_text(header)
    shutil.copyfile(excerpts_dir / "100.dat", folder / "resp.dat")
    (folder / "notes.edf").write_text("this is not an EDF file\n")
    assert truncated.with_suffix(".hea").exists()
    return {"truncated": "TruncatedSignalError", "nodat": "MissingSignalFileError", "empty": "",
            "resp": "NoEcgLeadError", "notes": ""}


def test_mixed_batch_scores_good_records_and_reports_each_bad_one(tmp_path, excerpts_dir):
    inputs = tmp_path / "in"
    for name in GOOD:
        copy_record(excerpts_dir, name, inputs)
    expected = make_bad_records(inputs, excerpts_dir)
    excerpt = read_record(excerpts_dir / "100", annotator=None)
    write_edf(inputs / "edf100.edf", excerpt.signal_mv, excerpt.fs_hz, excerpt.lead_names)
    out = tmp_path / "out"
    code, output = run_score(str(inputs), "--out", str(out), "--format", "csv,json,wfdb")
    assert code == 1
    rows = {r["record"]: r for r in read_table(out / BATCH_SUMMARY)}
    assert {k for k, r in rows.items() if r["status"] == "scored"} == set(GOOD) | {"edf100"}
    assert abs(int(rows["edf100"]["beats"]) - 371) <= 2  # the excerpt of 100 as EDF: same beats
    errors = {r["record"]: r for r in read_table(out / BATCH_ERRORS)}
    assert set(errors) == set(expected)
    for key, error_type in expected.items():
        if error_type:
            assert errors[key]["error_type"] == error_type
        assert len(errors[key]["message"]) > 20, errors[key]
        assert not (out / key / MANIFEST).exists()
    assert "nodat" in errors["nodat"]["message"] and ".dat" in errors["nodat"]["message"]
    for name in GOOD:
        assert (out / name / MANIFEST).exists()


def test_labels_from_an_extension_no_record_has_is_said(tmp_path):
    """A mistyped --labels-from extension (or another case, .ECG for .ecg) scored the whole batch with the model's
    labels without a word (QA pass, session 47): now a warning says so; none when every record has the file."""
    copy_record(REPO_ROOT / "data" / "excerpts", "100", tmp_path)
    (tmp_path / "100.ecg").write_bytes((REPO_ROOT / "data" / "excerpts" / "100.atr").read_bytes())
    sources = find_record_sources([str(tmp_path)])
    assert describe_saved_labels(sources, "xyz").startswith("Warning: --labels-from xyz: no record has a NAME.xyz")
    assert describe_saved_labels(sources, "ecg") == describe_saved_labels(sources, None) == ""


def test_reviewed_labels_beside_a_record_replace_the_model_labels(tmp_path, scored):
    """A first run's NAME.ecg, edited as a reader would, put beside the record: --labels-from ecg scores with it;
    a record without the file keeps the model's labels; a corrupt one fails alone."""
    _, first = scored
    inputs = tmp_path / "in"
    for name in GOOD:
        copy_record(REPO_ROOT / "data" / "excerpts", name, inputs)
    copy_record(REPO_ROOT / "data" / "excerpts", "100", inputs, "bad")
    saved = read_annotations(first / "119" / "119", "ecg", source_fs_hz=360.0, target_fs_hz=360.0)
    symbols = saved.symbols.copy()
    called_v = np.flatnonzero(symbols == "V")[:10]
    symbols[called_v] = "N"  # the reader calls ten of the model's V beats normal
    from pipeline.records import write_annotations

    # ... and marks 60-90 s as artefact (signal-quality marks, as the dashboard saves them)
    marks = np.array([60 * 360, 90 * 360])
    subtypes = saved.subtypes if saved.subtypes is not None else np.zeros(len(saved), np.int64)
    order = np.argsort(np.concatenate([saved.samples, marks]), kind="stable")
    edited = Annotations(np.concatenate([saved.samples, marks])[order], np.concatenate([symbols, ["~", "~"]])[order],
                         np.concatenate([saved.aux_notes, ["", ""]])[order],
                         np.concatenate([subtypes, [3, 0]])[order])
    write_annotations(inputs, "119", "ecg", edited, fs_hz=360.0)
    (inputs / "bad.ecg").write_bytes(b"\x00\x01garbage")
    copy_record(REPO_ROOT / "data" / "excerpts", "100", inputs, "noise")  # bytes wfdb reads, as undefined codes
    (inputs / "noise.ecg").write_bytes(np.random.default_rng(3).bytes(300))
    copy_record(REPO_ROOT / "data" / "excerpts", "100", inputs, "other")  # another record's labels (QA, session 45)
    (inputs / "other.ecg").write_bytes((REPO_ROOT / "data" / "excerpts" / "208.atr").read_bytes())
    out = tmp_path / "out"
    code, output = run_score(str(inputs), "--out", str(out), "--format", "csv,json", "--labels-from", "ecg")
    assert code == 1  # the corrupt files fail their records only
    assert f"--labels-from ecg: 4 of {len(GOOD) + 3} records have a NAME.ecg file" in output
    rows = {r["record"]: r for r in read_table(out / BATCH_SUMMARY)}
    assert rows["bad"]["status"] == rows["noise"]["status"] == "failed"
    assert "noise.ecg is damaged or not a WFDB annotation file" in rows["noise"]["message"]
    before = {r["record"]: r for r in read_table(first / BATCH_SUMMARY)}
    assert rows["119"]["status"] == "scored" and int(rows["119"]["reviewed_beats"]) == 10
    assert int(rows["208"]["reviewed_beats"]) == 0 and rows["208"]["V"] == before["208"]["V"]
    beats = read_table(out / "119" / "119_beats.csv")
    assert sum(row["reviewed"] == "True" for row in beats) == 10
    # the counts leave out the beats of the artefact the reader marked (they keep their class in the beat table)
    readable = [row for row in beats if row["unreadable"] == "False"]
    marked = [row for row in beats if row["unreadable"] == "True"]
    assert len(marked) > 30 and all(60.0 <= float(row["time_s"]) < 90.0 for row in marked)
    assert int(rows["119"]["unreadable_beats"]) == len(marked) and int(rows["119"]["beats"]) == len(readable)
    relabelled = [row for row in readable if row["reviewed"] == "True"]
    assert int(rows["119"]["V"]) == sum(row["class"] == "V" for row in readable)
    assert int(rows["119"]["V"]) == int(before["119"]["V"]) - len(relabelled) - sum(r["class"] == "V" for r in marked)
    summary = json.loads((out / "119" / "119_summary.json").read_text())
    assert summary["reviewed_beats"] == 10 and summary["readable_pct"] == pytest.approx(90.0, abs=0.1)
    unreadable = [r for r in read_table(out / "119" / "119_regions.csv") if r["kind"] == "unreadable"]
    assert [(float(r["start_s"]), float(r["end_s"])) for r in unreadable] == [(60.0, 90.0)]
    errors = {r["record"]: r for r in read_table(out / BATCH_ERRORS)}
    assert set(errors) == {"bad", "noise", "other"} and "bad.ecg" in errors["bad"]["message"]
    assert errors["other"]["error_type"] == "ReviewFileMismatchError"
    assert "does not fit this recording" in errors["other"]["message"]
    code, output = run_score(str(inputs / "119"), "--out", str(out), "--labels-from", "e.cg")
    assert code == 2 and "--labels-from" in output


def test_a_path_naming_no_record_fails_alone_beside_the_records(tmp_path, excerpts_dir):
    """One typo in a list of paths cost the whole batch (a QA pass, session 50): it now fails alone, with its reason in
    the errors table, as a record list's bad line does; the batch exits 1."""
    (tmp_path / "export.csv").write_text("time,MLII,V5\n0.0000,-0.145,-0.065\n")
    out = tmp_path / "out"
    code, output = run_score(str(excerpts_dir / "100"), str(tmp_path / "nothing-here"), str(tmp_path / "export.csv"),
                             "--out", str(out), "--format", "json")
    assert code == 1, output
    assert [(r["record"], r["status"]) for r in read_table(out / BATCH_SUMMARY)] == [
        ("100", "scored"), ("nothing-here", "failed"), ("export.csv", "failed")]
    errors = {r["record"]: r for r in read_table(out / BATCH_ERRORS)}
    assert "no such record" in errors["nothing-here"]["message"]
    assert "not a supported recording format" in errors["export.csv"]["message"]
    assert (out / "100" / "100_summary.json").is_file() and not (out / "nothing-here").exists()


def test_usage_errors_exit_2_before_any_work(tmp_path, excerpts_dir):
    code, output = run_score(str(tmp_path / "nothing-here"), "--out", str(tmp_path / "o1"))
    assert code == 2 and "no such record" in output
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, output = run_score(str(excerpts_dir / "100"), "--out", str(blocker / "sub"))
    assert code == 2 and "not writable" in output
    (tmp_path / "dangling").symlink_to(tmp_path / "gone")  # said "not writable: File exists" (QA, session 65)
    code, output = run_score(str(excerpts_dir / "100"), "--out", str(tmp_path / "dangling"))
    assert code == 2 and "which does not exist: create that folder" in " ".join(output.split())
    result = CliRunner().invoke(cli, ["score", str(excerpts_dir / "100"), "--model", str(tmp_path / "missing.keras"),
                                      "--out", str(tmp_path / "o2")])
    assert result.exit_code == 2 and "Cannot load the model" in result.output
    assert not (tmp_path / "o2" / "100").exists()
    code, output = run_score(str(excerpts_dir / "100"), "--format", "csv,docx", "--out", str(tmp_path / "o3"))
    assert code == 2 and "docx" in output


def test_record_finding_accepts_records_directories_globs_and_lists(tmp_path, excerpts_dir):
    for sub in ("a", "b"):
        copy_record(excerpts_dir, "100", tmp_path / sub)
    (tmp_path / "RECORDS").write_text("a/100\nb/100\n")
    by_dir = find_record_sources([str(tmp_path)])
    assert [s.key for s in by_dir] == ["a/100", "b/100"]
    assert [s.key for s in find_record_sources([str(tmp_path / "RECORDS")])] == ["a/100", "b/100"]
    by_glob = find_record_sources([str(tmp_path / "*" / "100.*")])
    assert [s.key for s in by_glob] == ["100", "100_2"]
    single = find_record_sources([str(tmp_path / "a" / "100")])
    assert [(s.key, s.path) for s in single] == [("100", tmp_path / "a" / "100")]
    with pytest.raises(BatchUsageError):
        find_record_sources([str(tmp_path / "*.nothing")])
    # a list saved by Notepad (UTF-8 with a byte-order mark, CRLF): its first line was "\ufeffa/100", not found
    (tmp_path / "RECORDS").write_bytes("a/100\r\nb/100\r\n".encode("utf-8-sig"))
    assert [s.key for s in find_record_sources([str(tmp_path / "RECORDS")])] == ["a/100", "b/100"]
    # a multi-segment header naming itself as a segment was left out as a segment: no row in either table (QA, s65)
    (tmp_path / "self").mkdir()
    (tmp_path / "self" / "ms.hea").write_text("ms/2 2 360 43200\nms 21600\nms 21600\n")
    assert [s.key for s in find_record_sources([str(tmp_path / "self")])] == ["ms"]
    # an empty argument (an unset "$DIR") is refused: as Path(""), the working folder, it scored all of it
    with pytest.raises(BatchUsageError, match="empty path"):
        find_record_sources([str(tmp_path / "a" / "100"), ""])


@pytest.mark.slow
def test_one_and_two_jobs_give_identical_outputs(tmp_path, excerpts_dir):
    inputs = tmp_path / "in"
    for name in ("100", "119", "208", "232"):
        copy_record(excerpts_dir, name, inputs)
    outs = []
    for jobs in ("1", "2"):
        out = tmp_path / f"out{jobs}"
        code, output = run_score(str(inputs), "--out", str(out), "--jobs", jobs)
        assert code == 0, output
        outs.append(tree_bytes(out))
    assert outs[0].keys() == outs[1].keys()
    assert outs[0] == outs[1]


@pytest.mark.slow
def test_the_console_command_with_two_jobs_matches_one_job_in_process(tmp_path, excerpts_dir):
    """The path users take: a fresh ``ecg`` process forks its worker before TensorFlow loads, preloads the
    model file there and ends without interpreter teardown; outputs and exit code are still exact."""
    inputs = tmp_path / "in"
    for name in ("100", "119", "208"):
        copy_record(excerpts_dir, name, inputs)
    truncated = copy_record(excerpts_dir, "232", inputs, "truncated")
    data = truncated.with_suffix(".dat").read_bytes()
    truncated.with_suffix(".dat").write_bytes(data[: len(data) // 3])
    code, output = run_score(str(inputs), "--out", str(tmp_path / "inprocess"), "--jobs", "1")
    assert code == 1, output
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    result = subprocess.run([sys.executable, "-m", "app.cli", "score", "-q", "--model", MODEL, "--jobs", "2",
                             "--out", str(tmp_path / "console"), str(inputs)],
                            cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 1, result.stderr[-2000:]  # one record failed: the code survives the fast exit
    assert "3 scored, 0 already up to date, 1 failed" in result.stdout
    assert "truncated: TruncatedSignalError" in result.stderr
    assert tree_bytes(tmp_path / "console") == tree_bytes(tmp_path / "inprocess")


@pytest.mark.slow
def test_a_killed_batch_resumes_to_the_same_outputs(tmp_path, excerpts_dir):
    inputs = tmp_path / "in"
    for name in ("100", "106", "119", "201", "208", "232"):
        copy_record(excerpts_dir, name, inputs)
    command = [sys.executable, "-m", "app.cli", "score", "-q", "--model", MODEL, str(inputs)]
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    killed = tmp_path / "killed"
    process = subprocess.Popen(command + ["--out", str(killed)], cwd=REPO_ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not list(killed.glob(f"*/{MANIFEST}")):
        time.sleep(0.02)
    process.kill()
    process.wait()
    done_before = len(list(killed.glob(f"*/{MANIFEST}")))
    assert 1 <= done_before < 6, "the kill should land mid-batch"
    subprocess.run(command + ["--out", str(killed)], cwd=REPO_ROOT, env=env, check=True, capture_output=True)
    clean = tmp_path / "clean"
    subprocess.run(command + ["--out", str(clean)], cwd=REPO_ROOT, env=env, check=True, capture_output=True)
    resumed, uninterrupted = tree_bytes(killed), tree_bytes(clean)
    assert not [k for k in resumed if k.endswith(".tmp")]
    per_record = {k: v for k, v in resumed.items() if "/" in k}
    assert per_record == {k: v for k, v in uninterrupted.items() if "/" in k}
    summary = read_table(killed / BATCH_SUMMARY)
    assert sum(r["status"] == "skipped" for r in summary) >= done_before
    assert all(r["status"] in ("scored", "skipped") for r in summary)


@pytest.mark.parametrize("stop, said", [(signal.SIGTERM, "SIGTERM"), (signal.SIGINT, "Ctrl-C")])
def test_a_terminated_batch_writes_its_tables_for_the_records_done(tmp_path, excerpts_dir, stop, said):
    """SIGTERM (a scheduler stopping the job) mid-batch: the batch tables are written for the records scored so far
    (the default action ended the process without them), and the exit status says it was terminated. Ctrl-C
    (SIGINT) likewise: it ended in click's "Aborted!" and exit 1, which says a record failed (a QA pass, session
    65)."""
    inputs = tmp_path / "in"
    for name in ("100", "106", "119", "201", "208", "232"):
        copy_record(excerpts_dir, name, inputs)
    out = tmp_path / "out"
    command = [sys.executable, "-m", "app.cli", "score", "-q", "--model", MODEL, str(inputs), "--out", str(out)]
    process = subprocess.Popen(command, cwd=REPO_ROOT, env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not list(out.glob(f"*/{MANIFEST}")):
        time.sleep(0.02)
    process.send_signal(stop)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 128 + stop
    assert f"Stopped by {said}" in stderr and "run the same command again" in stderr  # the user is told
    done = {p.parent.name for p in out.glob(f"*/{MANIFEST}")}
    assert 1 <= len(done) < 6, "the stop should land mid-batch"
    rows = read_table(out / BATCH_SUMMARY)
    assert {r["record"] for r in rows} == done and all(r["status"] == "scored" for r in rows)


def test_a_second_run_keeps_the_other_records_rows_and_leaves_no_stale_file(tmp_path, excerpts_dir):
    """A batch with a bad record, then one good record scored again with fewer formats: the tables keep the rows of
    the records not scored again (the bad one's error too), and the record's folder holds only this run's files
    (an annotation file and PDF left from the first run would disagree with the new tables)."""
    inputs = tmp_path / "in"
    for name in ("100", "119"):
        copy_record(excerpts_dir, name, inputs)
    (inputs / "bad.hea").write_text("bad 2 360 1000\nbad.dat 16 200 11 0 0 0 0 MLII\n")
    out = tmp_path / "out"
    code, _ = run_score(str(inputs), "--out", str(out), "--format", "csv,json,wfdb")
    assert code == 1 and (out / "119" / "119.ecg").is_file()
    code, output = run_score(str(inputs / "119"), "--out", str(out), "--format", "csv,json", "--force")
    assert code == 0, output
    assert [r["record"] for r in read_table(out / BATCH_SUMMARY)] == ["100", "119", "bad"]
    assert [r["record"] for r in read_table(out / BATCH_ERRORS)] == ["bad"]
    listed = set(json.loads((out / "119" / MANIFEST).read_text())["files"])
    assert {p.name for p in (out / "119").iterdir()} == listed | {MANIFEST} and "119.ecg" not in listed
    (out / "119" / MANIFEST).write_text("{not json")  # a damaged manifest: the record is scored again, not failed
    code, output = run_score(str(inputs / "119"), "--out", str(out), "--format", "csv,json")
    assert code == 0 and "1 scored" in output, output
    data = (inputs / "119.dat").read_bytes()  # the record damaged since: it fails, its earlier files stay, said so
    (inputs / "119.dat").write_bytes(data[: len(data) // 2])
    code, output = run_score(str(inputs / "119"), "--out", str(out), "--format", "csv,json")
    assert code == 1 and (out / "119" / "119_beats.csv").is_file()
    message = {r["record"]: r for r in read_table(out / BATCH_ERRORS)}["119"]["message"]
    assert message.endswith("(the files in 119/ are an earlier run's, of the record as it was then)")


@pytest.mark.parametrize("name", ["100", "202", "208", "213"])
def test_written_labels_rescore_like_ecg_evaluate(tmp_path, mitdb_dir, name):
    """The .ecg labels, read back with wfdb and matched to the .atr, give ecg evaluate's end-to-end matrix (202: with
    the atrial-fibrillation rule changing S calls inside its AF, as both apply it)."""
    from models.evaluate import evaluate_record
    from models.prepare import InputSettings
    from models.registry import load_model

    code, output = run_score(str(mitdb_dir / name), "--out", str(tmp_path), "--format", "wfdb")
    assert code == 0, output
    record = read_record(mitdb_dir / name)
    written = read_annotations(tmp_path / name / name, "ecg", source_fs_hz=360.0, target_fs_hz=record.fs_hz)
    beats = np.isin(written.symbols, list(AAMI_CLASSES))
    samples = written.samples[beats]
    test_classes = np.array([AAMI_CLASSES.index(s) for s in written.symbols[beats]])
    match = compare_beats(record.annotations, samples, record.fs_hz, record.n_samples, start_s=0.0)
    rescored = compare_classes(match, reference_classes(record.annotations), test_classes)
    loaded = load_model(MODEL)
    counts, _, _ = evaluate_record(loaded.model, record, InputSettings.from_dict(loaded.settings["inputs"]),
                                   None, "cls", DecisionRules.from_settings(loaded.settings))
    assert np.array_equal(rescored.matrix, counts["end_to_end"].matrix)


def test_long_records_are_classified_in_chunks_without_dropping_or_repeating_beats(mitdb_dir):
    """Chunked classification (as for 24 h recordings) keeps every beat once and nearly every label."""
    from models.predict import classify_record
    from models.prepare import InputSettings
    from models.registry import load_model
    from pipeline.detect import detect_record_peaks

    loaded = load_model(MODEL)
    settings = InputSettings.from_dict(loaded.settings["inputs"])
    record = read_record(mitdb_dir / "208", annotator=None)
    peaks = detect_record_peaks(record).samples
    whole = classify_record(loaded.model, settings, record, peaks)
    chunked = classify_record(loaded.model, settings, record, peaks, chunk_s=420.0, margin_s=30.0)
    assert np.array_equal(chunked.samples, whole.samples)
    assert np.array_equal(chunked.detected_samples, peaks)
    assert np.mean(chunked.classes == whole.classes) > 0.97


@pytest.mark.slow
def test_a_dead_worker_does_not_lose_records(tmp_path, excerpts_dir):
    """A worker killed (e.g. by the out-of-memory killer) leaves its records to the main process."""
    import signal

    from app.batch import ScoreSettings, score_records, start_worker_pool
    from app.score_cli import load_scoring_model

    inputs = tmp_path / "in"
    for name in ("100", "119", "208"):
        copy_record(excerpts_dir, name, inputs)
    pool = start_worker_pool(2)
    deadline = time.monotonic() + 60
    while not pool._processes and time.monotonic() < deadline:
        time.sleep(0.05)
    for pid in list(pool._processes):
        os.kill(pid, signal.SIGKILL)
    loaded, identity = load_scoring_model(MODEL, None)
    results = score_records(find_record_sources([str(inputs)]), loaded, identity, ScoreSettings(formats=("csv",)),
                            tmp_path / "out", jobs=2, progress=False, pool=pool)
    assert [r.status for r in results] == ["scored"] * 3
    assert all((tmp_path / "out" / name / MANIFEST).exists() for name in ("100", "119", "208"))


def test_blas_threads_are_limited_for_parallel_jobs():
    """Each scoring process of a --jobs batch keeps BLAS to its share of the cores (no spinning threads)."""
    from threadpoolctl import threadpool_info, threadpool_limits

    from app.batch import limit_blas_threads

    before = {info["filepath"]: info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"}
    assert before, "numpy's BLAS is not visible to threadpoolctl"
    try:
        limit_blas_threads(1)
        assert [info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"] == [1] * len(before)
    finally:
        threadpool_limits(limits=max(before.values()), user_api="blas")


def test_heart_rate_turbulence_is_written_where_it_was_measured(tmp_path, excerpts_dir):
    """The 106 excerpt: one isolated PVC with a clean sinus tachogram around it (pipeline/hrt.py)."""
    copy_record(excerpts_dir, "106", tmp_path / "in")
    code, output = run_score(str(tmp_path / "in"), "--out", str(tmp_path / "out"), "--format", "csv,json")
    assert code == 0, output
    summary = json.loads((tmp_path / "out" / "106" / "106_summary.json").read_text())
    hrt, rows = summary["hrt"], read_table(tmp_path / "out" / "106" / "106_hrt.csv")
    assert hrt["assessed"] and hrt["n_vpcs"] == summary["beat_counts"]["V"] and len(rows) == hrt["n_qualifying"] >= 1
    assert [float(r["time_s"]) for r in rows] == [v["time_s"] for v in hrt["vpcs"]]
    beats = read_table(tmp_path / "out" / "106" / "106_beats.csv")
    times = np.array([float(b["time_s"]) for b in beats])
    assert all(beats[int(np.argmin(np.abs(times - float(r["time_s"]))))]["class"] == "V" for r in rows)
    onsets = [float(r["turbulence_onset_pct"]) for r in rows]
    assert hrt["turbulence_onset_pct"] == pytest.approx(np.mean(onsets), abs=0.01)
    assert len(hrt["tachogram_ms"]) == 22 and hrt["category"] in ("HRT0", "HRT1", "HRT2")
    (row,) = read_table(tmp_path / "out" / BATCH_SUMMARY)
    assert float(row["turbulence_onset_pct"]) == hrt["turbulence_onset_pct"] and row["hrt_category"] == hrt["category"]
    slope = hrt["turbulence_slope_ms_per_rr"]
    assert float(row["turbulence_slope_ms_per_rr"]) == round(slope, 2)  # 2.46 and 2.54 not both 2.5
    # how many VPCs the category rests on, and, under five, the caution the report gives (QA pass, session 50)
    assert int(row["hrt_vpcs"]) == hrt["n_qualifying"]
    caution = f"heart-rate turbulence from {hrt['n_qualifying']} VPCs: {hrt['note']}"
    assert (caution in row["message"]) == bool(hrt["note"])
    assert hrt["n_qualifying"] >= 5 or "too few for a category" in row["message"]


def test_a_worker_names_the_model_as_the_batch_does(monkeypatch):
    """A --jobs worker reads the registered model's .keras file straight from the artifact store; its outputs (the
    PDF's "Model:" line, the beat table's model column) must still name the model as the main process does."""
    from app import batch
    from app.batch import ModelIdentity, fingerprint_weights, load_worker_model
    from models.loading import load_local

    monkeypatch.setattr(batch, "_worker_state", {})
    weights = fingerprint_weights(load_local(Path(MODEL)).model)
    identity = ModelIdentity(uri="models:/ecg-beat-classifier/7", source="models:/ecg-beat-classifier/7",
                             weights_sha256=weights, settings_sha256="", local_path=MODEL)
    loaded = load_worker_model(identity, None)
    assert loaded.source == "models:/ecg-beat-classifier/7" and loaded.local_path == str(Path(MODEL).resolve())
    assert load_worker_model(identity, None).source == identity.source  # the second record: the same name


def test_a_worker_given_other_weights_than_the_batchs_says_which_it_received_and_expected(monkeypatch):
    """A bare RuntimeError ("changed while the batch was starting; rerun") ended the command with a traceback; a
    ModelError is reported as a message (a code review of session 54)."""
    import re

    from app import batch
    from app.batch import ModelChangedError, ModelIdentity, fingerprint_weights, load_worker_model
    from models.errors import ModelError
    from models.loading import load_local

    monkeypatch.setattr(batch, "_worker_state", {})
    weights = fingerprint_weights(load_local(Path(MODEL)).model)
    identity = ModelIdentity(uri="models:/ecg-beat-classifier/7", source="models:/ecg-beat-classifier/7",
                             weights_sha256="0" * 64, settings_sha256="", local_path=MODEL)
    with pytest.raises(ModelChangedError, match=re.escape(
            f"a worker received weights {weights[:12]}...; expected 000000000000..., those the batch started with")):
        load_worker_model(identity, None)
    assert issubclass(ModelChangedError, ModelError)


def test_a_record_of_the_same_name_from_another_folder_never_overwrites_earlier_results(tmp_path, excerpts_dir):
    """Two runs into one --out, the second over another patient's record named like the first: the first's results
    stay, the second's go to NAME_2, and each input keeps its own folder on the next runs."""
    from app.batch import read_table

    first = copy_record(excerpts_dir, "100", tmp_path / "ward_a", "rec")
    second = copy_record(excerpts_dir, "208", tmp_path / "ward_b", "rec")
    out = tmp_path / "out"
    for inputs in (first, second):
        code, output = run_score(str(inputs), "--out", str(out), "--format", "csv")
        assert code == 0 and "1 scored" in output, output
    alone = tmp_path / "alone"
    code, output = run_score(str(first), "--out", str(alone), "--format", "csv")
    assert code == 0, output
    assert (out / "rec" / "rec_beats.csv").read_bytes() == (alone / "rec" / "rec_beats.csv").read_bytes()
    assert (out / "rec_2" / "rec_beats.csv").read_bytes() != (alone / "rec" / "rec_beats.csv").read_bytes()
    rows = read_table(out / "batch_summary.csv")
    assert [row["record"] for row in rows] == ["rec", "rec_2"]
    # the table names each row's input, which the output key alone does not (QA pass, session 45)
    assert [row["path"] for row in rows] == [str(tmp_path / "ward_a" / "rec"), str(tmp_path / "ward_b" / "rec")]
    for inputs in (first, second):  # each input finds its own folder up to date
        code, output = run_score(str(inputs), "--out", str(out), "--format", "csv")
        assert code == 0 and "1 already up to date" in output, output
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == ["rec", "rec_2"]


@pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning")  # the lost exit is not reported
def test_a_sigterm_whose_exit_is_swallowed_still_stops_the_batch():
    """The handler's SystemExit is lost when SIGTERM lands while Python runs a finaliser or weak-reference callback
    (it printed "Exception ignored in ... SystemExit: 143", which looked like a crash to a QA pass of session 51): a QA
    pass (session 50) saw a batch so stopped score on and exit 0. The check the batch makes after each record stops
    it all the same, and the lost exit is not reported as an ignored exception."""
    from app.batch import stopping_on_sigterm

    class Finalised:
        def __del__(self):
            os.kill(os.getpid(), signal.SIGTERM)
            for _ in range(10_000):  # the handler runs within these bytecodes, and its exception is ignored here
                pass

    went_on = False
    with pytest.raises(SystemExit) as stop:
        with stopping_on_sigterm() as check_stop:
            Finalised()
            went_on = True
            check_stop()
    assert went_on and stop.value.code == 128 + signal.SIGTERM  # the handler's own exit was lost, the check's was not
    with stopping_on_sigterm() as check_stop:  # no signal: the check lets the batch go on
        check_stop()


def test_a_review_file_with_deleted_and_added_beats_is_scored_with_the_reader_s_beats(tmp_path):
    """The NAME.ecg the dashboard saves after a reader deleted a detection and added a beat on a T wave: ecg score
    --labels-from ecg applies both before its labels (session 64), so the batch counts the reader's beats."""
    from app.analysis import analyse_record, edit_beats
    from app.outputs import annotation_file_bytes
    from models.loading import load_local

    inputs = tmp_path / "in"
    copy_record(REPO_ROOT / "data" / "excerpts", "100", inputs)
    model = load_local(BUNDLED_MODEL)
    analysis = analyse_record(read_record(inputs / "100"), model)
    detected, fs = analysis.predictions.detected_samples, analysis.record.fs_hz
    edited = edit_beats(analysis, model, [(int(detected[40]), False), (int(detected[80] + 0.3 * fs), True)])
    assert len(edited.beat_edits) == 2 and len(edited.predictions) == len(analysis.predictions)
    (inputs / "100.ecg").write_bytes(annotation_file_bytes(edited))
    out = tmp_path / "out"
    code, output = run_score(str(inputs), "--out", str(out), "--format", "csv,json", "--labels-from", "ecg")
    assert code == 0, output
    (row,) = read_table(out / BATCH_SUMMARY)
    assert int(row["reader_beat_edits"]) == 2 and int(row["reviewed_beats"]) == 0
    assert [int(row[c]) for c in AAMI_CLASSES] == list(edited.summary.beat_counts)
    beats = read_table(out / "100" / "100_beats.csv")
    assert len(beats) == len(edited.predictions)
    assert [b["class"] for b in beats] == list(edited.classes)
    summary = json.loads((out / "100" / "100_summary.json").read_text())
    assert [e["added"] for e in summary["reader_beat_edits"]] == [False, True]


def test_edf_files_named_with_dots_spaces_or_brackets_are_scored_with_their_annotation_file(tmp_path, excerpts_dir):
    """wfdb writes annotation files only under names of letters, digits, _ and -: EDF files named holter.v2.edf or
    'rec (1).edf' failed after their analysis, and ecg ingest --out stopped with a traceback before the records after
    them (a QA pass, session 65). Now each gets its NAME.ecg, which reads back."""
    record = read_record(excerpts_dir / "100")
    one_minute = record.signal_mv[:int(60 * record.fs_hz)]
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("holter.v2", "rec (1)"):
        write_edf(folder / f"{name}.edf", one_minute, record.fs_hz, record.lead_names)
    code, output = run_score(str(folder), "--out", str(tmp_path / "out"), "--format", "csv,wfdb")
    assert code == 0, output
    for name in ("holter.v2", "rec (1)"):
        saved = read_annotations(tmp_path / "out" / name / name, "ecg", source_fs_hz=record.fs_hz,
                                 target_fs_hz=record.fs_hz)
        assert np.sum(saved.symbols == "N") > 60
    result = CliRunner().invoke(cli, ["ingest", str(folder / "rec (1).edf"), str(excerpts_dir / "100"),
                                      "--out", str(tmp_path / "ingested")])
    assert result.exit_code == 0, result.output
    assert {p.name for p in (tmp_path / "ingested").iterdir()} >= {"rec (1).json", "100.json"}
