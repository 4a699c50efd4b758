"""A reader's word on the atrial rhythm (pipeline.reader_rhythm) over the AF episodes find_regions finds, on synthetic
beat sequences whose rhythm is known: irregular (AF-like) and regular (sinus) RR intervals."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.reader_rhythm import check_af_edits, drop_overridden_af_edits
from pipeline.regions import RegionSettings, find_regions
from pipeline.types import QualitySpan

FS_HZ = 360.0


def irregular_beats(n_beats: int = 300, seed: int = 0) -> np.ndarray:
    """Beat samples with RR intervals drawn uniformly from 0.45-1.1 s (about 3.9 minutes for 300 beats)."""
    rr_s = np.random.default_rng(seed).uniform(0.45, 1.1, n_beats - 1)
    return np.concatenate([[FS_HZ], FS_HZ + np.cumsum(rr_s) * FS_HZ]).round().astype(np.int64)


def regular_beats(n_beats: int = 300) -> np.ndarray:
    """Beat samples at 75 bpm (0.8 s apart)."""
    return (FS_HZ + np.arange(n_beats) * 0.8 * FS_HZ).round().astype(np.int64)


def af_episodes(samples: np.ndarray, edits=(), spans=()) -> list[tuple[int, int, float]]:
    regions = find_regions(samples, np.array(["N"] * len(samples)), FS_HZ, list(spans), int(samples[-1] + FS_HZ),
                           n_leads=1, af_edits=edits)
    return [(r.first_beat, r.n_beats, r.confidence) for r in regions if r.kind == "atrial_fibrillation"]


def test_irregular_beats_are_af_until_the_reader_rules_it_out():
    samples = irregular_beats()
    found = af_episodes(samples)
    assert len(found) == 1 and found[0][1] > 250 and found[0][2] < 1.0
    assert af_episodes(samples, ((0, int(samples[-1] + 1), False),)) == []


def test_ruling_out_the_middle_leaves_two_episodes_and_drops_a_piece_shorter_than_the_minimum():
    samples = irregular_beats()
    (first, n_beats, _), = af_episodes(samples)
    middle = (int(samples[120]), int(samples[180]), False)
    pieces = af_episodes(samples, (middle,))
    assert len(pieces) == 2
    assert pieces[0][0] == first and pieces[0][0] + pieces[0][1] - 1 <= 120  # ends at or before the stretch
    assert pieces[1][0] >= 180 and pieces[1][0] + pieces[1][1] == first + n_beats
    most = (int(samples[first + 10]), int(samples[first + n_beats - 80]), False)  # 10 beats before, 80 after
    left = af_episodes(samples, (most,))
    assert len(left) == 1 and left[0][0] == first + n_beats - 80  # the piece of 10 beats before (under 30 s) is gone
    assert (samples[left[0][0] + left[0][1] - 1] - samples[left[0][0]]) / FS_HZ >= RegionSettings().af_min_duration_s


def test_a_regular_stretch_the_reader_states_is_one_episode_at_confidence_1_whatever_its_length():
    samples = regular_beats()
    assert af_episodes(samples) == []
    stated = (int(samples[100]) - 10, int(samples[112]) + 10, True)  # 13 beats, under 10 s: shorter than 30 s
    assert af_episodes(samples, (stated,)) == [(100, 13, 1.0)]


def test_windows_marked_one_after_another_join_into_one_episode_as_one_long_mark_does():
    """A code review (session 63): with intervals taken when both beats lay in the window, the interval across each
    edge belonged to neither, and three 10-s windows made three episodes."""
    samples = regular_beats()
    fs = int(FS_HZ)
    windows = tuple((t * fs, (t + 10) * fs, True) for t in (60, 70, 80))
    assert af_episodes(samples, windows) == af_episodes(samples, ((60 * fs, 90 * fs, True),))
    assert len(af_episodes(samples, windows)) == 1


def test_a_stated_window_that_starts_where_an_episode_ends_extends_it():
    irregular = irregular_beats(200)
    samples = np.concatenate([irregular, irregular[-1] + regular_beats(101)[1:] - regular_beats(101)[0]])
    (first, n_beats, _), = af_episodes(samples)
    end = int(samples[first + n_beats - 1]) + 1  # the episode's stop, as the dashboard shows it
    assert first + n_beats < len(samples) - 50
    (extended,) = af_episodes(samples, ((end, int(samples[-1]), True),))
    assert extended[0] == first and extended[0] + extended[1] == len(samples) and extended[2] == 1.0


def test_later_edits_override_earlier_ones_where_they_overlap():
    samples = regular_beats()
    stated = (int(samples[50]) - 10, int(samples[150]) + 10, True)
    ruled_out = (int(samples[90]), int(samples[110]), False)
    # beats 90 and 110 end AF intervals
    assert af_episodes(samples, (stated, ruled_out)) == [(50, 41, 1.0), (110, 41, 1.0)]
    assert af_episodes(samples, (ruled_out, stated)) == [(50, 101, 1.0)]


def test_a_stated_stretch_claims_no_af_inside_noise():
    samples = regular_beats()
    noise = QualitySpan("noise", 0, int(samples[60]) - 20, int(samples[80]) + 20)
    stated = (int(samples[40]) - 10, int(samples[100]) + 10, True)
    episodes = af_episodes(samples, (stated,), spans=(noise,))
    covered = {beat for first, n, _ in episodes for beat in range(first, first + n)}
    assert covered and not covered & set(range(60, 81))
    assert min(covered) == 40 and max(covered) == 100


@pytest.mark.parametrize("edits", [[(10, 5, True)], [(-1, 100, False)], [(0, 10 ** 9, True)], [(0, 100, "AF")],
                                   [(0, float("nan"), True)], [(0, 100)]])
def test_bad_rhythm_edits_are_refused(edits):
    with pytest.raises(ValueError, match="rhythm edit"):
        check_af_edits(edits, 100_000)


def test_an_edit_later_ones_cover_is_dropped_and_the_episodes_stay_the_same():
    samples = irregular_beats()
    edits = ((int(samples[50]), int(samples[100]), True), (int(samples[40]), int(samples[80]), False),
             (int(samples[70]), int(samples[120]), True))
    kept = drop_overridden_af_edits(edits)
    assert kept == edits[1:]
    assert af_episodes(samples, kept) == af_episodes(samples, edits)


def test_a_not_af_word_is_kept_after_a_later_af_word_over_it():
    """A code review (session 63): a later "AF" word sets the readable intervals only, so an earlier "not AF" still
    clears the unreadable ones an automatic episode bridges and must stay in the list."""
    samples = irregular_beats()
    noise = QualitySpan("noise", 0, int(samples[150]) + 20, int(samples[152]) - 20)  # inside the automatic episode
    stretch = (int(samples[100]), int(samples[200]))
    edits = ((*stretch, False), (*stretch, True))
    assert drop_overridden_af_edits(edits) == edits
    assert len(af_episodes(samples, edits, spans=(noise,))) == 2


@pytest.mark.parametrize("file_fs_hz", [128.0, 250.0, 360.0])
def test_rhythm_notes_come_back_from_a_file_at_the_record_s_own_rate(tmp_path, file_fs_hz):
    """A code review (session 63): written at 128 Hz, a note at sample 1 (a word from the record's start, the
    thresholds, the conclusion) became sample 0, which wfdb's rdann drops as a definition of the file's."""
    from pipeline.records import read_annotations
    from pipeline.rhythm_annotations import af_edit_notes, read_af_edit_notes, write_region_annotations
    from pipeline.types import Annotations

    edits = ((0, 3600, False), (1, 7200, True), (50_000, 60_000, True))
    notes = af_edit_notes(edits, FS_HZ)
    written = Annotations(np.array([s for s, _ in notes]), np.array(['"'] * len(notes)),
                          np.array([text for _, text in notes], dtype=object))
    write_region_annotations(tmp_path, "r", "ecg", written, FS_HZ, file_fs_hz)
    back = read_annotations(tmp_path / "r", "ecg", source_fs_hz=file_fs_hz, target_fs_hz=FS_HZ)
    restored = read_af_edit_notes(back.samples, back.aux_notes, FS_HZ, 100_000)
    assert [is_af for _, _, is_af in restored] == [False, True, True]
    step = FS_HZ / file_fs_hz  # one sample of the file
    assert all(abs(a - b) <= step + 1 and abs((a1 - a) - (b1 - b)) <= 1
               for (a, a1, _), (b, b1, _) in zip(restored, edits))
