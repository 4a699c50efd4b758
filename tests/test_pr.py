"""PR interval and first-degree AV block (pipeline/pr.py): beats of known shape, and real records.

MIT-BIH has no reference PR annotations, so the measurement is checked on synthetic beats whose P wave is moved by a
known time (the measured PR moves by as much), and on records whose headers state first-degree AV block (109) or
whose rhythm gives no P wave to measure (221, atrial fibrillation throughout).
"""

import dataclasses

import numpy as np
import pytest

from pipeline.pr import FIRST_DEGREE_MS, PrSettings, PrSummary, analyse_pr, describe_pr, find_p_wave, long_pr_note
from pipeline.quality import find_quality_spans
from pipeline.records import read_record
from pipeline.region_eval import annotated_beats, episode_intervals
from pipeline.regions import RegionSettings
from pipeline.st import analyse_st

FS_HZ = 360.0


def beat_train(p_before_r_s: float, rr_s: float = 0.9, p_mv: float = 0.15, minutes: float = 2.0,
               t_after_r_s: float = 0.28):
    """A two-lead record of identical beats: a Gaussian P wave ``p_before_r_s`` before each R wave, a narrow QRS and a
    T wave peaking ``t_after_r_s`` after it; the second lead the first at half the size."""
    rr = int(rr_s * FS_HZ)
    n = int(minutes * 60 * FS_HZ)
    beats = np.arange(rr, n - rr, rr)
    t = np.arange(-int(0.6 * FS_HZ), int(0.6 * FS_HZ)) / FS_HZ
    beat = (np.exp(-0.5 * (t / 0.012) ** 2) + p_mv * np.exp(-0.5 * ((t + p_before_r_s) / 0.02) ** 2)
            + 0.3 * np.exp(-0.5 * ((t - t_after_r_s) / 0.04) ** 2))
    lead = np.zeros(n)
    for b in beats:
        lo, hi = max(0, b - int(0.6 * FS_HZ)), min(n, b + int(0.6 * FS_HZ))
        lead[lo:hi] += beat[lo - b + int(0.6 * FS_HZ):hi - b + int(0.6 * FS_HZ)]
    return np.column_stack([lead, 0.5 * lead]), beats, np.full(len(beats), "N")


def measure(signal, beats, classes, **kwargs):
    st = analyse_st(signal, FS_HZ, beats, classes, lead_names=("II", "V1"))
    return analyse_pr(signal, FS_HZ, beats, classes, st, **kwargs)


def test_the_measured_pr_moves_with_the_p_wave_and_over_200_ms_reads_as_first_degree_block():
    normal = measure(*beat_train(0.16))
    long = measure(*beat_train(0.26))
    assert normal.assessed and long.assessed and normal.lead_name == "II"  # the taller P wave's lead
    assert long.pr_ms - normal.pr_ms == pytest.approx(100, abs=3)
    assert 120 < normal.pr_ms <= FIRST_DEGREE_MS < long.pr_ms
    assert not normal.first_degree_block and long.first_degree_block
    assert long_pr_note(normal) == ()
    assert long_pr_note(long)[0].startswith(f"PR interval {long.pr_ms:.0f} ms on the median beat (II), over 200 ms: "
                                            "first-degree AV block?")
    assert describe_pr(long).endswith("ms (II), over 200 ms: first-degree AV block?")
    # the P onset and the QRS onset the dashboard marks lie on the median beat it shows
    assert long.p_wave.onset_ms < long.p_wave.peak_ms == pytest.approx(-260, abs=3)
    assert long.qrs_onset_ms - long.p_wave.onset_ms == pytest.approx(long.pr_ms)
    assert len(long.beat_mv) == int(0.6 * FS_HZ) + int(0.1 * FS_HZ) + 1
    assert long.to_dict()["first_degree_av_block"] is True and long.to_dict()["pr_ms"] == round(long.pr_ms)


def test_the_previous_t_wave_is_not_taken_for_the_p_wave():
    # at 110 bpm the previous beat's T wave (peaking 0.2 s after its R, 0.345 s before the next) lies in the P-wave
    # search window, twice the P wave's size
    signal, beats, classes = beat_train(0.16, rr_s=0.545, t_after_r_s=0.2)
    pr = measure(signal, beats, classes)
    assert pr.assessed and pr.p_wave.peak_ms == pytest.approx(-160, abs=3)
    wide_open = measure(signal, beats, classes, settings=PrSettings(after_rr_fraction=0.1))
    assert wide_open.p_wave.peak_ms < -200  # without the limit the T wave is the largest wave


def test_no_p_wave_no_pacemaker_and_too_few_beats_are_not_assessed():
    no_p = measure(*beat_train(0.16, p_mv=0.0))
    assert not no_p.assessed and no_p.note == "PR not assessed: no P wave found before the dominant QRS"
    assert describe_pr(no_p) == "not assessed (no P wave found before the dominant QRS)"
    assert no_p.to_dict()["pr_ms"] is None and not no_p.first_degree_block
    paced = measure(*beat_train(0.16), pacemaker="pacemaker")
    assert not paced.assessed and paced.note.startswith("PR not assessed: pacemaker")
    signal, beats, classes = beat_train(0.16, minutes=0.25)
    few = measure(signal, beats, classes)
    assert not few.assessed and few.note.startswith("PR not assessed: fewer than 20 readable normal beats")


def test_a_p_wave_that_rises_out_of_the_search_window_is_not_measured():
    x = np.zeros(400)
    x[:150] = np.linspace(0.3, 0.2, 150)  # still falling where the search begins: no base to rise from
    assert find_p_wave(x, FS_HZ, 200, PrSettings()) is None


def test_settings_are_checked_and_travel_with_the_event_settings():
    with pytest.raises(ValueError, match="onset_fraction"):
        PrSettings(onset_fraction=1.0)
    with pytest.raises(ValueError, match="gap_ms"):
        PrSettings(gap_ms=500.0)
    changed = dataclasses.replace(RegionSettings(), pr=PrSettings(search_ms=400.0))
    assert RegionSettings.from_dict(changed.to_dict()) == changed
    assert changed.to_dict()["pr"]["search_ms"] == 400.0


def reference_pr(path) -> PrSummary:
    """A record's PR on its reference beats, its reference AF/flutter left out."""
    record = read_record(path, annotator="atr")
    samples, classes = annotated_beats(record.annotations)
    spans = find_quality_spans(record.signal_mv, record.fs_hz)
    st = analyse_st(record.signal_mv, record.fs_hz, samples, classes, spans, record.lead_names)
    af = np.concatenate([episode_intervals(record.annotations, label, record.n_samples).reshape(-1, 2)
                         for label in ("(AFIB", "(AFL")])
    return analyse_pr(record.signal_mv, record.fs_hz, samples, classes, st, spans, af)


@pytest.mark.slow
def test_first_degree_block_stated_in_the_header_is_measured_and_af_has_no_pr(mitdb_dir):
    block = reference_pr(mitdb_dir / "109")  # "There is first degree AV block."
    assert block.assessed and block.lead_name == "MLII" and block.pr_ms > 300 and block.first_degree_block
    normal = reference_pr(mitdb_dir / "100")  # no conduction disorder stated
    assert normal.assessed and 150 <= normal.pr_ms <= FIRST_DEGREE_MS
    fibrillation = reference_pr(mitdb_dir / "221")  # atrial fibrillation throughout
    assert not fibrillation.assessed


def test_a_notched_p_wave_is_measured_from_its_first_hump():
    """A bifid P wave (two humps 55 ms apart, the second taller, as with left atrial enlargement) is one wave: its onset
    is the first hump's, not the notch (a review of session 59 found the walk stopping at the notch: 53 ms short
    here)."""
    fs, qrs_onset = 360.0, 300
    t = (np.arange(400) - qrs_onset) / fs
    first = 0.10 * np.exp(-0.5 * ((t + 0.175) / 0.015) ** 2)
    bifid = first + 0.15 * np.exp(-0.5 * ((t + 0.12) / 0.015) ** 2)
    onset_first, _, _ = find_p_wave(first, fs, qrs_onset, PrSettings())
    onset_bifid, peak_bifid, _ = find_p_wave(bifid, fs, qrs_onset, PrSettings())
    assert abs(onset_bifid - onset_first) <= 2 and (peak_bifid - qrs_onset) / fs == pytest.approx(-0.12, abs=0.005)


def test_a_fast_rate_is_not_assessed():
    # at 150 bpm the P wave runs into the previous T wave: no PR, rather than the T wave's
    fast = measure(*beat_train(0.14, rr_s=0.4, t_after_r_s=0.18))
    assert not fast.assessed and fast.note == ("PR not assessed: heart rate over 120 bpm, where the P wave runs into "
                                               "the previous T wave")
    assert fast.to_dict()["first_degree_av_block"] is None  # not "no block"


def test_pacing_spikes_without_a_stated_pacemaker_leave_the_pr_out(excerpts_dir):
    """A review of session 59: paced records with no pacemaker stated (MIT-BIH 104, 107) read "first-degree AV
    block?" from the spike-to-QRS time; with pacing spikes found, as for heart-rate variability, the PR is not
    measured."""
    from app.analysis import analyse_record
    from models.bundled import load_default_model

    analysis = analyse_record(read_record(excerpts_dir / "217", annotator=None), load_default_model())
    assert analysis.summary.pacing_spike_share >= 0.25  # reads as paced
    pr = analysis.summary.pr
    assert not pr.assessed and pr.note.startswith("PR not assessed: pacemaker")
    assert not any(note.startswith("PR interval") for note in analysis.summary.notes)


def test_a_p_wave_peaks_after_the_previous_t_end_where_the_qt_was_measured():
    """A reader's check (session 59) found 213's PR measured from its previous beat's large T wave, which peaked after
    45 % of the RR interval; where the QT was measured, the P wave is looked for after that T wave's end."""
    from pipeline.qt import QtSummary

    signal, beats, classes = beat_train(0.16, rr_s=0.6, t_after_r_s=0.3)  # T peak 300 ms before the next R wave
    st = analyse_st(signal, FS_HZ, beats, classes, lead_names=("II", "V1"))
    without = analyse_pr(signal, FS_HZ, beats, classes, st)
    assert without.p_wave.peak_ms == pytest.approx(-300, abs=3)  # the T wave
    qt = QtSummary(True, "", "II", 60.0, (390.0,) * 3, (0.6,) * 3)  # T end 390 ms after the QRS onset
    measured = analyse_pr(signal, FS_HZ, beats, classes, st, qt_summary=qt)
    assert measured.p_wave.peak_ms == pytest.approx(-160, abs=3) and not measured.first_degree_block
