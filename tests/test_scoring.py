"""EC57 beat-by-beat comparison: exact counts on synthetic cases and agreement with wfdb on a real record."""

from __future__ import annotations

import numpy as np
import pytest
import wfdb.processing  # cross-check only: the pipeline itself imports wfdb in pipeline.records alone

from pipeline.records import read_record
from pipeline.scoring import (
    NO_BEAT,
    BeatMatch,
    ClassificationCounts,
    DetectionCounts,
    compare_beats,
    compare_classes,
    count_classes,
    count_detections,
    excluded_intervals,
    match_beats,
    reference_beats,
)
from pipeline.types import Annotations

FS_HZ = 360.0
START = 108_000  # 5 minutes at 360 Hz


def annotations(samples: list[int], symbols: list[str] | None = None) -> Annotations:
    symbols = symbols or ["N"] * len(samples)
    return Annotations(np.asarray(samples, np.int64), np.asarray(symbols, dtype="<U2"),
                       np.asarray([""] * len(samples), dtype=object))


def counts(reference: Annotations, test: list[int], n_samples: int = 1_000_000, start_s: float = 0.0):
    match = compare_beats(reference, np.asarray(test, np.int64), FS_HZ, n_samples, start_s=start_s)
    c = count_detections(match)
    return c.tp, c.fn, c.fp


# --- matching -----------------------------------------------------------------------------------------------


def test_150_ms_is_inside_the_window_and_one_sample_more_is_not():
    # 150 ms is exactly 54 samples at 360 Hz.
    reference = annotations([1000, 2000, 3000, 4000])
    assert counts(reference, [1054, 1946, 3055, 3945]) == (2, 2, 2)


def test_window_at_250_hz_is_37_5_samples():
    ref_index, _ = match_beats(np.array([1000, 2000]), np.array([1037, 2038]), 250.0)
    assert ref_index.tolist() == [0]


def test_each_beat_is_used_once():
    assert counts(annotations([1000]), [990, 1010]) == (1, 0, 1)
    assert counts(annotations([1000, 1010]), [1005]) == (1, 1, 0)


def test_nearest_pairs_are_matched_first():
    # 1050 is 50 samples from both references; pairing 1100 with 1120 first lets 1000 take 1050.
    ref_index, test_index = match_beats(np.array([1000, 1100]), np.array([1050, 1120]), FS_HZ)
    assert ref_index.tolist() == [0, 1] and test_index.tolist() == [0, 1]
    # A test beat between two references goes to the nearer one.
    ref_index, _ = match_beats(np.array([1000, 1070]), np.array([1040]), FS_HZ)
    assert ref_index.tolist() == [1]


def test_unsorted_inputs_are_matched_by_value():
    ref_index, test_index = match_beats(np.array([3000, 1000, 2000]), np.array([2010, 990, 3020]), FS_HZ)
    assert sorted(zip(ref_index.tolist(), test_index.tolist())) == [(0, 2), (1, 1), (2, 0)]


def test_empty_inputs_give_no_pairs():
    assert counts(annotations([]), [1000]) == (0, 0, 1)
    assert counts(annotations([1000]), []) == (0, 1, 0)


def test_non_beat_annotations_are_not_reference_beats():
    reference = annotations([500, 1000, 1500, 2000, 2500], ["+", "N", "~", "V", "|"])
    assert reference_beats(reference).tolist() == [1000, 2000]
    assert counts(reference, [500, 1000, 1500, 2000, 2500]) == (2, 0, 3)


def test_match_indices_refer_to_the_reference_annotations():
    reference = annotations([500, 1000, 2000], ["+", "N", "N"])
    match = compare_beats(reference, np.array([1002, 3000]), FS_HZ, 10_000, start_s=0.0)
    assert match.ref_index.tolist() == [1] and match.test_index.tolist() == [0]
    assert match.missed.tolist() == [2] and match.extra.tolist() == [1]


# --- scored interval ----------------------------------------------------------------------------------------


def test_scoring_starts_five_minutes_in():
    reference = annotations([1000, START - 1, START, START + 1000])
    # Before 5 minutes nothing counts, neither misses nor extras; from sample 108000 on, everything does.
    assert counts(reference, [1000, 50_000, START + 1000, START + 5000], start_s=300.0) == (1, 1, 1)


def test_pair_straddling_the_start_counts_by_its_reference_beat():
    assert counts(annotations([START - 10]), [START + 10], start_s=300.0) == (0, 0, 0)
    assert counts(annotations([START + 10]), [START - 10], start_s=300.0) == (1, 0, 0)


def test_ventricular_flutter_between_brackets_is_excluded():
    samples = [200_000, 205_000, 210_000, 215_000, 220_000, 225_000]
    reference = annotations(samples, ["N", "[", "V", "]", "N", "N"])
    test = [200_000, 207_000, 212_000, 215_000, 220_000]  # 207000 and 212000 fall inside the excluded stretch
    assert counts(reference, test) == (2, 1, 1)  # 225000 missed; 215000 (at ']') is outside and extra


def test_unclosed_bracket_excludes_to_the_end():
    reference = annotations([1000, 2000, 3000, 4000], ["N", "[", "V", "N"])
    assert excluded_intervals(reference, 9000).tolist() == [[2000, 9000]]
    assert counts(reference, [1000, 3000, 5000], n_samples=9000) == (1, 0, 0)


# --- counts -------------------------------------------------------------------------------------------------


def test_detection_counts_give_se_and_positive_predictivity():
    c = DetectionCounts(tp=90, fn=10, fp=30)
    assert c.sensitivity == pytest.approx(0.9) and c.positive_predictivity == pytest.approx(0.75)
    assert c + DetectionCounts(10, 0, 0) == DetectionCounts(100, 10, 30)
    assert np.isnan(DetectionCounts(0, 0, 0).sensitivity) and np.isnan(DetectionCounts(0, 0, 0).positive_predictivity)


# --- agreement with wfdb on a real record -------------------------------------------------------------------


@pytest.mark.parametrize("name, seed", [("100", 0), ("100", 1), ("203", 2)])
def test_counts_agree_with_wfdb_compare_annotations(mitdb_dir, name, seed):
    """Reference beats jittered (sd 20 samples), 2 % dropped, 1 % extra: same TP/FN/FP as wfdb.

    wfdb matches when the distance is strictly below ``window_width``, so 150 ms inclusive at
    360 Hz (54 samples) is ``window_width=55``. Neither record has ventricular flutter.
    """
    record = read_record(mitdb_dir / name)
    assert "[" not in record.annotations.symbols
    reference = reference_beats(record.annotations)
    rng = np.random.default_rng(seed)
    kept = reference[rng.random(reference.size) > 0.02]
    test = kept + np.round(rng.normal(0.0, 20.0, kept.size)).astype(np.int64)
    extra = rng.integers(0, record.n_samples, reference.size // 100)
    test = np.unique(np.clip(np.concatenate([test, extra]), 0, record.n_samples - 1))

    ours = count_detections(compare_beats(record.annotations, test, FS_HZ, record.n_samples, start_s=0.0))
    theirs = wfdb.processing.compare_annotations(reference, test, 55)

    assert abs(ours.tp - theirs.tp) <= 1
    assert abs(ours.fn - theirs.fn) <= 1 and abs(ours.fp - theirs.fp) <= 1
    assert ours.fn > 0 and ours.fp > 0  # the case exercises all three counts


# --- classification matrix (EC57 layout) -------------------------------------------------------


def test_classification_counts_follow_ec57_definitions():
    # reference: N N N S S V Q ; labelled: N S N S N V V
    counts = count_classes(np.array([0, 0, 0, 1, 1, 2, 4]), np.array([0, 1, 0, 1, 0, 2, 2]))
    assert counts.matrix[0, 0] == 2 and counts.matrix[0, 1] == 1 and counts.matrix[4, 2] == 1
    assert counts.sensitivity(1) == pytest.approx(0.5)
    assert counts.positive_predictivity(1) == pytest.approx(0.5)
    # The Q reference beat labelled V does not count against V's +P (EC57, de Chazal 2004).
    assert counts.positive_predictivity(2) == pytest.approx(1.0)
    assert counts.accuracy() == pytest.approx(4 / 7)


def test_f1_is_zero_for_a_class_entirely_missed_and_undefined_only_without_any_of_its_beats():
    # reference: N N F F ; labelled: N N N N (no F label at all: +P undefined, Se 0)
    counts = count_classes(np.array([0, 0, 3, 3]), np.array([0, 0, 0, 0]))
    assert counts.f1(3) == 0.0  # was NaN, which wrote a bare NaN (invalid JSON) into the bundled model.json
    assert counts.f1(0) == pytest.approx(2 * 1.0 * 0.5 / 1.5)
    assert counts.f1(1) != counts.f1(1)  # no S beat and none labelled S: undefined
    wrong = count_classes(np.array([0, 0]), np.array([0, 1]))  # an S label with no S beat: Se undefined, +P 0
    assert wrong.f1(1) == 0.0


def test_missed_and_extra_beats_count_against_se_and_ppv():
    match = BeatMatch(ref_index=np.array([0, 1]), test_index=np.array([0, 1]),
                      missed=np.array([2]), extra=np.array([2]))
    counts = compare_classes(match, ref_classes=np.array([2, 0, 2]), test_classes=np.array([2, 0, 2]))
    assert counts.sensitivity(2) == pytest.approx(0.5)  # one V missed by the detector
    assert counts.positive_predictivity(2) == pytest.approx(0.5)  # one extra detection labelled V
    assert counts.accuracy() == pytest.approx(2 / 3)


def test_counts_pool_by_addition():
    a = count_classes(np.array([0, 1]), np.array([0, 1]))
    b = count_classes(np.array([1]), np.array([NO_BEAT]))
    total = a + b
    assert total.matrix.sum() == 3 and total.sensitivity(1) == pytest.approx(0.5)
    assert ClassificationCounts.empty().matrix.shape == (6, 6)
