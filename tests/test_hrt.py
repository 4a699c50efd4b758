"""Heart-rate turbulence (pipeline/hrt.py): the consensus definitions on made sequences, its filter rules, and real
records on their reference beats and end to end."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.hrt import HrtSettings, check_vpc_tachograms, classify_turbulence, compute_hrt, describe_hrt, hrt_rows
from pipeline.records import read_record
from pipeline.region_eval import annotated_beats
from pipeline.regions import Region, RegionSettings, prepare_beats
from pipeline.types import QualitySpan

FS_HZ = 1000.0  # beat times in ms exactly


def tachogram(rng, reference_ms: float, onset_pct: float, slope_ms: float) -> tuple[list[float], list[str]]:
    """One VPC cycle: 8 sinus intervals around ``reference_ms``, the coupling and compensatory intervals, then
    20 sinus intervals that start ``onset_pct`` off the reference and rise by ``slope_ms`` per interval for five;
    the classes of the beats that close each interval (the VPC closes the coupling interval)."""
    before = list(reference_ms + rng.integers(-8, 9, 8))
    first = reference_ms * (1 + onset_pct / 100)
    after = [first + slope_ms * min(k, 6) + int(rng.integers(-3, 4)) for k in range(20)]
    intervals = before + [round(0.6 * reference_ms), round(1.45 * reference_ms)] + after
    classes = ["N"] * 8 + ["V"] + ["N"] * 21
    return intervals, classes


def build_beats(cycles):
    """Beat samples and classes of consecutive cycles (interval lists and the classes of their closing beats)."""
    intervals = [v for cycle in cycles for v in cycle[0]]
    classes = ["N"] + [c for cycle in cycles for c in cycle[1]]
    samples = np.r_[0, np.cumsum(np.round(np.asarray(intervals) * FS_HZ / 1000))].astype(np.int64)
    return samples, np.array(classes)


def context_of(samples, classes, spans=()):
    return prepare_beats(samples, classes, FS_HZ, list(spans), int(samples[-1]) + 1)


def expected_figures(samples, vpcs, before=5, after=15, span=5):
    """TO and TS written out from the definitions (Schmidt 1999), with numpy's polynomial fit for the slopes."""
    rr = np.diff(samples).astype(float)
    onsets, posts = [], []
    for v in vpcs:
        pre = rr[v - before - 1:v - 1]
        post = rr[v + 1:v + 1 + after]
        onsets.append(100 * (post[0] + post[1] - pre[-2] - pre[-1]) / (pre[-2] + pre[-1]))
        posts.append(post)
    average = np.mean(posts, axis=0)
    slopes = [np.polyfit(np.arange(span), average[k:k + span], 1)[0] for k in range(after - span + 1)]
    return float(np.mean(onsets)), float(max(slopes)), int(np.argmax(slopes)) + 1


def test_onset_slope_and_timing_follow_their_definitions():
    rng = np.random.default_rng(3)
    cycles = [tachogram(rng, float(rng.integers(700, 1000)), float(rng.uniform(-4, 1)), float(rng.uniform(2, 9)))
              for _ in range(8)]
    samples, classes = build_beats(cycles)
    hrt = compute_hrt(context_of(samples, classes), [])
    vpcs = np.flatnonzero(classes == "V")
    assert hrt.assessed and hrt.vpc_beats == tuple(vpcs) and hrt.n_vpcs == 8 and hrt.note == ""
    onset, slope, timing = expected_figures(samples, vpcs)
    assert hrt.turbulence_onset_pct == pytest.approx(onset, abs=1e-9)
    assert hrt.turbulence_slope_ms_per_rr == pytest.approx(slope, abs=1e-9) and hrt.turbulence_timing == timing
    assert hrt.category == classify_turbulence(onset, slope)
    rows = hrt_rows(hrt)
    assert [r["time_s"] for r in rows] == [round(samples[v] / FS_HZ, 3) for v in vpcs]
    assert all(r["coupling_ms"] < 0.8 * r["reference_ms"] < 1.2 * r["reference_ms"] < r["compensatory_ms"]
               for r in rows)
    assert len(hrt.tachogram_ms) == 5 + 2 + 15 and describe_hrt(hrt).startswith(f"TO {onset:.2f} %, TS ")
    assert f"TS {hrt.turbulence_slope_ms_per_rr:.2f} ms/RR" in describe_hrt(hrt) and " V beat" in describe_hrt(hrt)


def test_a_healthy_and_a_blunted_response_fall_in_the_right_category():
    rng = np.random.default_rng(5)
    healthy = compute_hrt(context_of(*build_beats([tachogram(rng, 850.0, -3.0, 6.0) for _ in range(6)])), [])
    blunted = compute_hrt(context_of(*build_beats([tachogram(rng, 850.0, 1.5, 0.0) for _ in range(6)])), [])
    assert healthy.turbulence_onset_pct < 0 and healthy.turbulence_slope_ms_per_rr > 2.5 and healthy.category == "HRT0"
    assert blunted.turbulence_onset_pct > 0 and blunted.turbulence_slope_ms_per_rr < 2.5 and blunted.category == "HRT2"
    assert classify_turbulence(-1.0, 2.0) == classify_turbulence(0.5, 7.0) == "HRT1"


def broken(kind: str, rng):
    """A VPC cycle that breaks one rule of the consensus's filter (reference 1200 ms)."""
    intervals, classes = tachogram(rng, 1200.0, -2.0, 5.0)
    if kind == "couplet":
        classes[9] = "V"
    elif kind == "supraventricular beat after":
        classes[15] = "S"
    elif kind == "not premature":
        intervals[8] = 0.85 * 1200
    elif kind == "no compensatory pause":
        intervals[9] = 1.1 * 1200
    elif kind == "a 210 ms step":
        intervals[16:] = [v + 210 for v in intervals[16:]]
    elif kind == "an interval 25 % off":
        intervals[5] = 0.75 * 1200
    elif kind == "too short to follow":
        intervals[:] = intervals[:14]
        classes[:] = classes[:14]
    return intervals, classes


BROKEN_RULES = {"couplet": "ectopy", "supraventricular beat after": "ectopy", "not premature": "timing",
                "no compensatory pause": "timing", "a 210 ms step": "sinus", "an interval 25 % off": "sinus",
                "too short to follow": "edge"}


@pytest.mark.parametrize("kind", list(BROKEN_RULES))
def test_a_tachogram_that_breaks_a_rule_is_left_out_whole(kind):
    rng = np.random.default_rng(11)
    good = [tachogram(rng, 1200.0, -2.0, 5.0) for _ in range(3)]
    samples, classes = build_beats(good + [broken(kind, rng)])
    hrt = compute_hrt(context_of(samples, classes), [])
    vpcs = np.flatnonzero(classes == "V")
    assert hrt.vpc_beats == tuple(vpcs[:3]) and hrt.n_vpcs == len(vpcs)
    line = describe_hrt(hrt)
    assert "no category (from 3 of" in line and "HRT" not in line  # no label from three VPCs (a read of session 57)
    assert line.endswith("; from fewer than 5 VPCs TO and TS are unsteady and TS is biased upwards: too few for a "
                         "category")  # not "no category ... so the category is not reliable" (s57)
    considered, reasons = check_vpc_tachograms(context_of(samples, classes), [])
    assert considered.tolist() == vpcs.tolist() and list(reasons[:3]) == ["", "", ""]
    assert set(reasons[3:]) == {BROKEN_RULES[kind]}  # the rule it breaks is named


def test_the_note_says_why_no_vpc_qualifies():
    rng = np.random.default_rng(4)
    samples, classes = build_beats([tachogram(rng, 900.0, -2.0, 5.0) for _ in range(3)]
                                   + [broken("couplet", rng), broken("not premature", rng)])
    af = Region("atrial_fibrillation", 0, int(samples[-1]) + 1, 0, len(samples), 70.0, 1.0)
    in_af = compute_hrt(context_of(samples, classes), [af])
    assert not in_af.assessed and in_af.note == ("HRT not assessed: none of the 6 ventricular premature beats is "
                                                 "isolated with steady sinus rhythm around it (6 in or next to atrial "
                                                 "fibrillation)")
    mixed = compute_hrt(context_of(*build_beats([broken("couplet", rng), broken("not premature", rng)])), [])
    assert mixed.note.endswith("(2 with another non-normal beat in the tachogram, 1 not premature enough or "
                               "without a compensatory pause)")


def test_unreadable_signal_atrial_fibrillation_and_a_pacemaker_leave_tachograms_out():
    rng = np.random.default_rng(2)
    samples, classes = build_beats([tachogram(rng, 900.0, -2.0, 5.0) for _ in range(4)])
    vpcs = np.flatnonzero(classes == "V")
    noise = QualitySpan("noise", 0, int(samples[vpcs[1] + 10]), int(samples[vpcs[1] + 10]) + 500)
    assert compute_hrt(context_of(samples, classes, [noise]), []).vpc_beats == (vpcs[0], vpcs[2], vpcs[3])
    on_vpc = QualitySpan("noise", 0, int(samples[vpcs[2]]) - 100, int(samples[vpcs[2]]) + 100)
    in_noise = compute_hrt(context_of(samples, classes, [on_vpc]), [])
    assert in_noise.n_vpcs == 3 and vpcs[2] not in in_noise.vpc_beats  # a V call in noise is not a VPC the summary counts
    first = int(vpcs[3] - 3)  # atrial fibrillation from three beats before the last VPC to the end
    af = Region("atrial_fibrillation", int(samples[first]), int(samples[-1]) + 1, first, len(samples) - first, 70.0,
                1.0)
    assert compute_hrt(context_of(samples, classes), [af]).vpc_beats == tuple(vpcs[:3])
    paced = compute_hrt(context_of(samples, classes), [], pacemaker="dual chamber")
    assert not paced.assessed and "pacemaker" in paced.note and paced.n_qualifying == 0
    none = compute_hrt(context_of(samples, np.where(classes == "V", "N", classes)), [])
    assert not none.assessed and none.note == "HRT not assessed: no ventricular premature beats"


def test_settings_are_checked_and_read_from_an_events_table():
    assert HrtSettings.from_dict(HrtSettings().to_dict()) == HrtSettings()
    assert RegionSettings.from_dict({"hrt": {"slope_limit_ms": 3.0}}).hrt.slope_limit_ms == 3.0
    with pytest.raises(ValueError, match="slope_intervals"):
        HrtSettings(slope_intervals=20)
    with pytest.raises(ValueError, match="coupling_max_fraction"):
        HrtSettings(coupling_max_fraction=1.1)
    with pytest.raises(ValueError, match=r"\[hrt\].*unknown"):
        RegionSettings.from_dict({"hrt": {"onset": 1}})


def loop_qualifying(samples: np.ndarray, classes: np.ndarray, fs_hz: float) -> list[int]:
    """The consensus's filter written as a plain loop over the beats (no quality spans, no AF)."""
    rr = np.diff(samples) / fs_hz
    chosen = []
    for v in range(6, len(classes) - 16):
        if classes[v] != "V" or any(classes[b] != "N" for b in range(v - 6, v + 17) if b != v):
            continue
        pre, post = rr[v - 6:v - 1], rr[v + 1:v + 16]
        reference = pre.mean()
        ok = rr[v - 1] <= 0.8 * reference and rr[v] >= 1.2 * reference
        for block in (pre, post):
            ok = ok and all(0.3 <= x <= 2.0 and abs(x - reference) <= 0.2 * reference for x in block)
            ok = ok and all(abs(b - a) <= 0.2 for a, b in zip(block[:-1], block[1:]))
        if ok:
            chosen.append(v)
    return chosen


def test_a_real_record_s_qualifying_vpcs_are_the_ones_the_rules_select(mitdb_dir):
    record = read_record(mitdb_dir / "116")  # 109 isolated PVCs among sinus beats
    samples, classes = annotated_beats(record.annotations)
    hrt = compute_hrt(prepare_beats(samples, classes, record.fs_hz, [], record.n_samples), [])
    expected = loop_qualifying(samples, classes, record.fs_hz)
    assert len(expected) >= 25 and list(hrt.vpc_beats) == expected
    onset, slope, timing = expected_figures(samples, expected)
    assert hrt.turbulence_onset_pct == pytest.approx(onset)
    assert hrt.turbulence_slope_ms_per_rr == pytest.approx(slope * 1000 / record.fs_hz)
    assert hrt.turbulence_timing == timing


def test_end_to_end_hrt_agrees_with_the_reference_beats(mitdb_dir):
    from app.analysis import analyse_record
    from models.bundled import load_default_model
    from pipeline.region_eval import evaluate_record, label_with_reference

    reference = evaluate_record(mitdb_dir / "116", label_with_reference).summary.hrt
    product = analyse_record(read_record(mitdb_dir / "116", annotator=None), load_default_model()).summary.hrt
    assert reference.assessed and product.assessed and product.category == reference.category
    assert abs(product.turbulence_onset_pct - reference.turbulence_onset_pct) < 0.5
    assert abs(product.turbulence_slope_ms_per_rr - reference.turbulence_slope_ms_per_rr) < 0.5
    found = [t for t in reference.vpc_times_s if np.min(np.abs(np.asarray(product.vpc_times_s) - t)) <= 0.15]
    assert len(found) >= 0.8 * reference.n_qualifying


def test_the_report_draws_the_averaged_tachogram_with_the_slope_line():
    from matplotlib.figure import Figure

    from app.report import draw_tachogram

    rng = np.random.default_rng(5)
    hrt = compute_hrt(context_of(*build_beats([tachogram(rng, 850.0, -3.0, 6.0) for _ in range(6)])), [])
    ax = Figure().add_subplot()
    draw_tachogram(ax, hrt, HrtSettings())
    tachogram_line, slope_line = ax.lines[0], ax.lines[-1]
    assert np.allclose(tachogram_line.get_ydata(), hrt.tachogram_ms)
    x, y = slope_line.get_xdata(), slope_line.get_ydata()
    assert len(x) == 5 and x[0] == hrt.turbulence_timing + 1  # positions: the first sinus interval after P is 2
    assert np.polyfit(x, y, 1)[0] == pytest.approx(hrt.turbulence_slope_ms_per_rr)
    assert ax.get_title(loc="left").replace("\n", " ") == f"Heart-rate turbulence: {describe_hrt(hrt)}"  # wrapped


def test_a_category_from_a_short_recording_says_its_risk_figures_are_from_24_hours(mitdb_dir):
    """124 (30 minutes) has its HRT category from enough VPCs: a clinical read of session 58 found such categories
    (105's HRT2) printed with none of the HRV line's short-term word; a day-long recording has none."""
    from dataclasses import replace

    from app.analysis import analyse_record
    from app.report import summary_lines
    from models.bundled import load_default_model
    from pipeline.records import read_record

    analysis = analyse_record(read_record(mitdb_dir / "124"), load_default_model())
    assert analysis.summary.hrt.assessed and not analysis.summary.hrt.note
    text = " ".join(" ".join(summary_lines(analysis)).split())  # the summary's lines are wrapped
    hrt = analysis.summary.hrt
    assert (f"{hrt.category} (from {hrt.n_qualifying} of {hrt.n_vpcs} V beats); short recording: the categories were "
            "validated on 24-hour Holter recordings" in text)
    day = replace(analysis, summary=replace(analysis.summary, duration_s=24 * 3600.0))
    assert f"{hrt.n_vpcs} V beats) " in " ".join(" ".join(summary_lines(day)).split())
    assert "short recording" not in " ".join(" ".join(summary_lines(day)).split())
    from matplotlib.figure import Figure

    from app.report import draw_tachogram
    ax = Figure().add_subplot()
    draw_tachogram(ax, hrt, analysis.region_settings.hrt, analysis.summary.duration_s)  # the tachogram page's title too
    assert ax.get_title(loc="left").replace("\n", " ").endswith("; short recording: the categories were validated on "
                                                                 "24-hour Holter recordings")
