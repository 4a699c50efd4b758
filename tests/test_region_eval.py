"""EC57 run-by-run (rxr) and episode (epicmp) comparisons on hand-made annotations, and the CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from app.cli import cli
from pipeline.records import read_annotations
from pipeline.region_eval import (
    EpisodeCounts,
    RunCounts,
    compare_episodes,
    compare_runs,
    label_with_detector,
    label_with_reference,
    map_run_codes,
)
from pipeline.types import Annotations, Record

FS = 360.0
START = int(300 * FS)


def annotations(*items: tuple[int, str, str] | tuple[int, str]) -> Annotations:
    """Annotations from (sample, symbol[, aux]) tuples."""
    samples = np.array([i[0] for i in items], dtype=np.int64)
    symbols = np.array([i[1] for i in items], dtype="<U2")
    aux = np.array([i[2] if len(i) > 2 else "" for i in items], dtype=object)
    return Annotations(samples, symbols, aux)


def beats(symbols: str, start: int = START + 3600, rr: int = 288) -> list[tuple[int, str]]:
    return [(start + k * rr, s) for k, s in enumerate(symbols)]


# ------------------------------------------------------------------------------------------------
# Episodes (epicmp)
# ------------------------------------------------------------------------------------------------

def test_any_overlap_matches_an_episode_and_durations_use_the_overlap():
    ref = np.array([[400 * 360, 500 * 360], [600 * 360, 620 * 360]])
    test = np.array([[450 * 360, 520 * 360], [700 * 360, 710 * 360]])
    c = compare_episodes(ref, test, FS)
    assert (c.detected, c.missed, c.confirmed, c.false) == (1, 1, 1, 1)
    assert c.reference_s == pytest.approx(120.0) and c.test_s == pytest.approx(80.0)
    assert c.duration_sensitivity == pytest.approx(50 / 120) and c.duration_predictivity == pytest.approx(50 / 80)


def test_episodes_are_scored_from_five_minutes():
    ref = np.array([[0, 200 * 360], [250 * 360, 400 * 360]])
    c = compare_episodes(ref, ref, FS)
    assert (c.detected, c.missed) == (1, 0)
    assert c.reference_s == pytest.approx(100.0)


def test_flutter_is_removed_from_test_episodes_for_ec57_af_predictivity():
    ref_af = np.array([[400 * 360, 500 * 360]])
    flutter = np.array([[500 * 360, 600 * 360]])
    test = np.array([[400 * 360, 600 * 360], [520 * 360, 580 * 360]])
    strict = compare_episodes(ref_af, test[:1], FS, excluded=flutter)
    assert strict.test_s == pytest.approx(100.0) and strict.duration_predictivity == pytest.approx(1.0)
    inside = compare_episodes(ref_af, test[1:], FS, excluded=flutter)
    assert (inside.confirmed, inside.false, inside.test_s) == (0, 0, 0.0)


def test_no_episodes_give_undefined_rates_and_counts_add_up():
    empty = compare_episodes(np.empty((0, 2)), np.empty((0, 2)), FS)
    assert np.isnan(empty.episode_sensitivity) and np.isnan(empty.duration_predictivity)
    one = compare_episodes(np.array([[START, START + 3600]]), np.array([[START, START + 3600]]), FS)
    assert (one + one).detected == 2 and (one + EpisodeCounts()).reference_s == one.reference_s


# ------------------------------------------------------------------------------------------------
# Runs (rxr)
# ------------------------------------------------------------------------------------------------

def test_ec57_codes_follow_rxr():
    ann = annotations((10, "N"), (20, "+", "(AFIB"), (30, "N"), (40, "L"), (50, "+", "(AFL"), (60, "+", "(N"),
                      (70, "N"), (80, "j"), (90, "E"), (100, "/"), (110, "["), (120, "!"), (130, "]"), (140, "~"))
    assert "".join(map_run_codes(ann)) == "N{SSO}NSVQ[O]O"


def test_matching_runs_are_true_positives_in_every_category():
    seq = "NNVVNNNVVVNNNVVVVVVVNNN"
    ref = annotations(*beats(seq))
    runs = compare_runs(ref, ref, FS, "ventricular")
    for category in ("couplet", "short", "long"):
        assert runs.counts(category) == (1, 0, 1, 0)


def test_shorter_test_runs_are_missed_and_longer_ones_are_false_in_their_category():
    ref = annotations(*beats("NNVVNNNVVVVVVVNNNVVVNNNN"))   # couplet, 7-beat run, 3-beat run
    test = annotations(*beats("NNVNNNNVVVVVNNNNNVVVVVVN"))  # single, 5-beat run, 6-beat run
    runs = compare_runs(ref, test, FS, "ventricular")
    assert runs.counts("couplet") == (0, 1, 0, 0)
    assert runs.counts("long") == (0, 1, 0, 1)
    assert runs.counts("short") == (1, 0, 1, 0)


def test_runs_before_five_minutes_are_not_scored():
    early = annotations(*beats("NNVVNNN", start=1000))
    runs = compare_runs(early, annotations(*beats("NNNNNNN", start=1000)), FS, "ventricular")
    assert runs.counts("couplet") == (0, 0, 0, 0)


def test_af_in_the_test_file_is_a_long_supraventricular_run():
    ref = annotations(*beats("N" * 25))
    test = annotations((START + 3500, "+", "(AFIB"), *beats("N" * 20), (START + 3600 + 20 * 288 - 10, "+", "(N"),
                       *beats("NNNNN", start=START + 3600 + 20 * 288))
    runs = compare_runs(ref, test, FS, "supraventricular")
    assert runs.counts("long") == (0, 0, 0, 1)
    assert compare_runs(test, test, FS, "supraventricular").counts("long") == (1, 0, 1, 0)


def test_run_counts_add():
    a = RunCounts()
    a.sensitivity[2, 2] = 1
    assert (a + a).sensitivity[2, 2] == 2


# ------------------------------------------------------------------------------------------------
# Labellers and the command line
# ------------------------------------------------------------------------------------------------

def test_reference_labeller_maps_symbols_to_aami_classes():
    ann = annotations((100, "N"), (200, "+", "(N"), (300, "V"), (400, "A"), (500, "/"), (600, "~"))
    record = Record("x", np.zeros((1000, 1), np.float32), FS, ("MLII",), 0, FS, ann)
    samples, classes = label_with_reference(record)
    assert samples.tolist() == [100, 300, 400, 500] and classes.tolist() == ["N", "V", "S", "Q"]


def test_detector_labeller_labels_every_beat_n(excerpts_dir):
    from pipeline.records import read_record

    samples, classes = label_with_detector(read_record(excerpts_dir / "100"))
    assert len(samples) > 300 and set(classes.tolist()) == {"N"}


def test_evaluate_regions_has_help():
    result = CliRunner().invoke(cli, ["evaluate-regions", "--help"])
    assert result.exit_code == 0 and "--labels" in result.output


def test_evaluate_regions_rejects_unknown_unreadable_kinds(mitdb_dir):
    result = CliRunner().invoke(cli, ["evaluate-regions", "--data-dir", str(mitdb_dir), "--records", "100",
                                      "--unreadable-kinds", "muscle"])
    assert result.exit_code == 2 and "unreadable_kinds" in result.output


def test_evaluate_regions_writes_standard_outputs(mitdb_dir, tmp_path):
    result = CliRunner().invoke(cli, ["evaluate-regions", "--data-dir", str(mitdb_dir), "--records", "119",
                                      "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "| V |" in result.output and "bigeminy" in result.output
    report = json.loads((tmp_path / "regions_report.json").read_text())
    assert report["gross"]["episodes"]["bigeminy"]["episode_sensitivity"] >= 0.9
    summary = json.loads((tmp_path / "119_summary.json").read_text())
    assert summary["beat_counts"]["V"] > 400 and summary["events"]["ventricular_bigeminy"]["count"] > 0
    header = (tmp_path / "119_regions.csv").read_text().splitlines()[0]
    assert header.startswith("kind,start_s,end_s")
    written = read_annotations(tmp_path / "119", "rhy", source_fs_hz=FS)
    assert "(B" in set(written.aux_notes.tolist()) and "V" in set(written.symbols.tolist())
