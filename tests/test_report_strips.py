"""Which event each report strip shows (app.report.choose_strip_events): a clear example of its kind first."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from app.analysis import analyse_record
from app.report import STRIP_CONFIDENCE_MIN, choose_strip_events
from benchmarks.report_strips import match_reference_classes
from models.bundled import load_default_model
from pipeline.labels import AAMI_CLASSES
from pipeline.records import read_record
from pipeline.regions import Region, describe_region, ends_af, is_in_af, region_intervals
from pipeline.wording import format_share

V = AAMI_CLASSES.index("V")


def region(kind: str, start: int, stop: int, confidence: float) -> Region:
    return Region(kind, start, stop, 0, 3, 120.0, confidence)


def test_the_longest_clear_region_of_a_kind_is_shown_else_the_longest():
    doubtful = region("supraventricular_tachycardia", 0, 3000, 0.3)
    clear = region("supraventricular_tachycardia", 5000, 6000, 0.9)
    shorter_clear = region("supraventricular_tachycardia", 8000, 8500, 0.95)
    pause = region("pause", 10000, 11000, 0.2)
    assert choose_strip_events([doubtful, clear, shorter_clear, pause], 3) == [clear, pause]
    assert choose_strip_events([doubtful, clear], 3, confidence_min=0.0) == [doubtful]
    assert choose_strip_events([doubtful, region("supraventricular_tachycardia", 0, 2000, 0.4)], 3) == [doubtful]


def test_every_flutter_fibrillation_and_tachycardia_episode_gets_a_strip():
    """205's second flutter/fibrillation episode was on no strip (a clinical read, session 48): every episode of it is
    shown, the clear ones first, the other kinds one each; so is every ventricular tachycardia, up to four."""
    first = region("ventricular_flutter_fibrillation", 0, 3000, 0.9)
    second = region("ventricular_flutter_fibrillation", 9000, 9900, 0.4)
    pause = region("pause", 20000, 21000, 0.9)
    assert choose_strip_events([second, pause, first], 8) == [first, second, pause]
    assert choose_strip_events([second, pause, first], 2) == [first, second]
    # and of ventricular tachycardia, up to four (208's second, a read of session 57), the clear and longer first
    vts = [region("ventricular_tachycardia", 30000 + 2000 * k, 30300 + 2000 * k + 10 * k, 0.9 - 0.6 * (k == 4))
           for k in range(5)]
    assert choose_strip_events(vts + [pause], 8) == [vts[3], vts[2], vts[1], vts[0], pause]
    # the two kinds share the four: with two flutter episodes, two tachycardias (a review of session 57)
    assert choose_strip_events(vts + [pause, first, second], 8) == [first, second, vts[3], vts[2], pause]


def test_the_report_gain_fits_the_printed_strips_between_half_and_standard_gain(excerpts_dir):
    """One gain for a report's strips: the largest standard one at which every printed strip fits its box (231's
    couplet was clipped at the record's typical gain: a clinical read, session 48), but not under 5 mm/mV (a record's
    tallest strip runs off its box instead) nor over 10 (unless the record's own typical gain is)."""
    from app.strips import Strip, report_gain_mm_per_mv, strip_gain_mm_per_mv

    record = read_record(excerpts_dir / "100", annotator=None)
    assert strip_gain_mm_per_mv(record) == 10.0
    quiet = [Strip(20.0, "a"), Strip(100.0, "b")]
    assert report_gain_mm_per_mv(record, quiet) == 10.0
    signal = record.signal_mv.copy()
    signal[int(102 * 360), record.primary_lead] += 2.0  # one spike: left out (the strip's 0.5-99.5th percentiles)
    assert report_gain_mm_per_mv(replace(record, signal_mv=signal), quiet) == 10.0
    signal[int(100 * 360):int(108 * 360), record.primary_lead] *= 2.5  # one strip of tall complexes: half gain
    assert report_gain_mm_per_mv(replace(record, signal_mv=signal), quiet) == 5.0
    signal[int(100 * 360):int(108 * 360), record.primary_lead] *= 4.0  # taller: no lower than 5
    assert report_gain_mm_per_mv(replace(record, signal_mv=signal), quiet) == 5.0
    small = replace(record, signal_mv=0.3 * record.signal_mv)  # a low-voltage record's own gain is 20
    assert strip_gain_mm_per_mv(small) == 20.0 and report_gain_mm_per_mv(small, quiet) == 20.0


def test_an_isolated_beat_strip_is_taken_outside_bigeminy_and_shows_which_beat_it_is():
    """201's and 223's "isolated ventricular" strips showed 10 s of their own trigeminy and bigeminy, and no beat was
    marked (a clinical read of the PDF reports, session 47)."""
    from app.strips import MIN_SHADE_S, event_strip

    bigeminy = region("ventricular_bigeminy", 1000, 9000, 0.9)
    inside = region("isolated_ventricular", 3000, 3001, 0.99)
    alone = region("isolated_ventricular", 20000, 20001, 0.9)
    assert choose_strip_events([bigeminy, inside, alone], 3) == [bigeminy, alone]
    assert choose_strip_events([bigeminy, inside], 3) == [bigeminy, inside]  # none outside: the one there is
    low, high = event_strip(alone, 360.0).shaded
    assert high - low == pytest.approx(MIN_SHADE_S) and low < 20000 / 360 < high


def test_record_207s_tachycardia_strip_shows_ventricular_beats_not_flutter_waves(mitdb_dir):
    """In 207 the longest "ventricular tachycardia" is flutter waves called V at low confidence; the strip shows a
    clear run instead, whose V calls the reference confirms."""
    record = read_record(mitdb_dir / "207")
    analysis = analyse_record(record, load_default_model())
    tachycardias = [r for r in analysis.regions if r.kind == "ventricular_tachycardia"]
    shown = next(r for r in choose_strip_events(analysis.regions, 8) if r.kind == "ventricular_tachycardia")
    assert shown.confidence >= STRIP_CONFIDENCE_MIN
    assert any(r.stop - r.start > shown.stop - shown.start and r.confidence < STRIP_CONFIDENCE_MIN
               for r in tachycardias)  # the old rule, the longest of the kind, would have shown another
    samples, classes = analysis.predictions.samples, analysis.predictions.class_indices
    truth = match_reference_classes(record, samples)
    called_v = (samples >= shown.start) & (samples < shown.stop) & (classes == V)
    assert called_v.sum() >= 3 and np.mean(truth[called_v] == V) > 0.5


def test_a_strip_repeating_another_is_left_out_and_named_in_its_title(excerpts_dir):
    """207's longest-RR strip was its pause strip printed again (a clinical read, session 48): 232's excerpt, whose
    longest RR interval is its longest pause, prints the stretch once, titled with both."""
    from app.report import format_clock, plan_strips

    analysis = analyse_record(read_record(excerpts_dir / "232", annotator=None), load_default_model())
    first, more = plan_strips(analysis)
    titles = [strip.title for strip in first + more]
    pause = next(title for title in titles if title.startswith("pause at "))
    s = analysis.summary
    at = format_clock(s.longest_rr_time_s)
    assert pause.endswith(f"; also the longest RR interval ({s.longest_rr_s:.2f} s at {at})")
    assert not any(title.startswith("Longest RR interval") for title in titles)
    assert any(title.startswith("Lowest heart rate") for title in titles)  # a stretch of its own: still printed


@pytest.mark.mitdb
def test_findings_apart_that_one_strip_shows_whole_share_it_each_shaded(mitdb_dir):
    """121's supraventricular beat, 2 s before its PVC and longest RR interval, was printed on a strip of its own that
    showed the same 7 s again (a clinical read, session 57): one strip names all three and shades each stretch."""
    from app.report import plan_strips

    analysis = analyse_record(read_record(mitdb_dir / "121"), load_default_model())
    first, more = plan_strips(analysis)
    strip = next(strip for strip in first if strip.title.startswith("Longest RR interval"))
    assert "; also isolated ventricular at " in strip.title and "; also isolated supraventricular at " in strip.title
    s_beat = next(r for r in analysis.regions if r.kind == "isolated_supraventricular")
    fs = analysis.record.fs_hz
    assert any(a <= s_beat.start / fs and s_beat.stop / fs <= b for a, b in strip.also_shaded)
    assert not any(other is not strip and abs(other.start_s - strip.start_s) < 3.0 for other in first + more)

def test_an_episode_that_began_with_the_recording_shows_its_end():
    """201's first strip was 7.5 s of atrial fibrillation from the first second, while its end, into a pause, was
    shown nowhere (a clinical read, session 48): such an episode's strip shows its end, an ongoing one its start."""
    from app.strips import STRIP_CONTEXT_S, STRIP_S, event_strip

    af = Region("atrial_fibrillation", 100, 381 * 360, 0, 400, 95.0, 0.9)
    strip = event_strip(af, 360.0, None, (af,), duration_s=1800.0)
    assert strip.start_s == pytest.approx(381.0 + STRIP_CONTEXT_S - STRIP_S)
    assert strip.title.endswith("; its end at 00:06:21 shown")
    ongoing = event_strip(replace(af, stop=1800 * 360), 360.0, None, (af,), duration_s=1800.0)
    assert ongoing.start_s < 0 and "its end" not in ongoing.title
    later = event_strip(replace(af, start=600 * 360, stop=900 * 360), 360.0, None, (af,), duration_s=1800.0)
    assert later.start_s == pytest.approx(600.0 - STRIP_CONTEXT_S) and "its end" not in later.title


def test_a_long_episode_gets_a_strip_of_its_end():
    """Onset and termination strips, as a Holter report has them (an AF episode ending in a pause is the
    tachycardia-bradycardia finding): an episode longer than its strip gets a second strip at its end, none when its
    own strip shows the end or when it runs to the end of the record, none for a bigeminy."""
    from app.strips import STRIP_CONTEXT_S, STRIP_S, end_strip, event_strip

    af = Region("atrial_fibrillation", 600 * 360, 900 * 360, 500, 400, 95.0, 0.9)
    end = end_strip(af, event_strip(af, 360.0, None, (af,), 1800.0), 360.0, None, (af,), 1800.0)
    assert end.start_s == pytest.approx(900.0 + STRIP_CONTEXT_S - STRIP_S) and end.shaded == (end.start_s, 900.0)
    assert end.title == "atrial fibrillation/flutter: its end at 00:15:00 (from 00:10:00, 400 beats)"
    from_start = replace(af, start=100)  # its own strip shows its end
    assert end_strip(from_start, event_strip(from_start, 360.0, None, (af,), 1800.0), 360.0, None, (af,), 1800.0) \
        is None
    ongoing = replace(af, stop=1800 * 360)
    assert end_strip(ongoing, event_strip(ongoing, 360.0, None, (af,), 1800.0), 360.0, None, (af,), 1800.0) is None
    bigeminy = replace(af, kind="ventricular_bigeminy")
    assert end_strip(bigeminy, event_strip(bigeminy, 360.0), 360.0, None, (), 1800.0) is None


def test_a_page_1_strip_moved_to_the_strip_page_is_followed_by_its_end(mitdb_dir):
    """207 (three flutter/fibrillation episodes): page 1 holds what fits, the others move to the strip page each with
    its end strip right after it (session 48: the ends once came after all the moved strips), then page 1's ends."""
    from app.report import plan_strips

    analysis = analyse_record(read_record(mitdb_dir / "207"), load_default_model())
    first, more = plan_strips(analysis)  # how many fit on page 1 depends on the summary's length: 1 or 2
    assert 1 <= len(first) <= 2 and all(s.title.startswith("ventricular flutter/fibrillation at") for s in first)
    for k in range(3 - len(first)):  # each moved episode, then its end
        moved, its_end = more[2 * k], more[2 * k + 1]
        assert moved.title.startswith("ventricular flutter/fibrillation at")
        assert its_end.title.startswith("ventricular flutter/fibrillation: its end")
        # its end's strip, which may also shade the ventricular tachycardia right after the flutter (every VT has a
        # strip since session 57, and one showing the same seconds joins it)
        assert moved.shaded[1] <= its_end.shaded[1] < moved.shaded[1] + 1.0
    rest = more[2 * (3 - len(first)):]
    ends = sorted(e.shaded[1] for e in rest[:len(first)])  # then page 1's ends
    assert all(a <= b < a + 1.0 for a, b in zip(sorted(s.shaded[1] for s in first), ends))


def test_strip_titles_give_a_pauses_length_and_an_isolated_beats_coupling_interval():
    from app.strips import end_strip, event_strip

    pause = Region("pause", 3600, 3600 + 2113, 10, 2, 60 / 5.87, 0.9)
    assert event_strip(pause, 360.0).title == "pause at 00:00:10, 5.87 s, confidence 0.90"  # not "2 beats"
    isolated = Region("isolated_ventricular", 7200, 7201, 20, 1, 150.0, 0.8)
    assert "coupling interval 400 ms" in event_strip(isolated, 360.0).title
    run = Region("ventricular_tachycardia", 0, 360 * 3, 0, 6, 120.0, 0.7)
    assert event_strip(run, 360.0).title.startswith("non-sustained ventricular tachycardia at 00:00:00, 6 beats, "
                                                    "120 bpm")
    assert event_strip(replace(run, stop=360 * 31), 360.0).title.startswith("sustained ventricular tachycardia")
    # flutter/fibrillation: its detections are waves, so its length, not "330 beats, 204 bpm" (QA pass, session 50)
    flutter = Region("ventricular_flutter_fibrillation", 3600, 3600 + 33120, 10, 330, 204.0, 0.9)
    assert event_strip(flutter, 360.0).title == ("ventricular flutter/fibrillation at 00:00:10, 92.0 s, "
                                                 "confidence 0.90")
    assert end_strip(flutter, event_strip(flutter, 360.0), 360.0).title == (
        "ventricular flutter/fibrillation: its end at 00:01:42 (from 00:00:10, 92.0 s)")


def test_a_flutter_strip_prints_no_beat_letters_on_its_waves(mitdb_dir):
    """The full disclosure writes no beat letter inside flutter/fibrillation; a QA pass (session 50) found N and V
    on 207's flutter waves in its strips. The beats around an episode keep theirs."""
    from matplotlib.figure import Figure

    from app.analysis import find_wave_detections
    from app.strips import STRIP_S, Strip, add_strip_axes, draw_strip

    analysis = analyse_record(read_record(mitdb_dir / "207"), load_default_model())
    flutter = next(r for r in analysis.regions if r.kind == "ventricular_flutter_fibrillation")
    fs = analysis.record.fs_hz
    strip = Strip(flutter.start / fs - 3.0, "flutter's onset")
    ax = add_strip_axes(Figure(figsize=(8.27, 11.69)), 20.0)
    draw_strip(ax, analysis, strip)
    letters = [t for t in ax.texts if t.get_text() in AAMI_CLASSES]
    samples = analysis.predictions.samples
    shown = (samples >= strip.start_s * fs) & (samples < (strip.start_s + STRIP_S) * fs)
    waves = find_wave_detections(analysis)
    assert (shown & waves).sum() >= 5 and (shown & ~waves).sum() >= 2  # waves in the strip, and beats before them
    assert len(letters) == (shown & ~waves).sum()
    assert all(t.get_position()[0] < flutter.start / fs for t in letters)


def test_the_event_tally_puts_the_urgent_kinds_first_unreadable_last_and_counts_sustained_vt(excerpts_dir):
    from app.report import EVENT_LINE_CHARS, event_lines

    analysis = analyse_record(read_record(excerpts_dir / "232", annotator=None), load_default_model())
    fs = analysis.record.fs_hz
    sustained = Region("ventricular_tachycardia", 0, int(40 * fs), 0, 80, 120.0, 0.9)
    brief = Region("ventricular_tachycardia", int(50 * fs), int(52 * fs), 90, 4, 120.0, 0.9)
    unreadable = Region("unreadable", int(60 * fs), int(62 * fs), -1, 0, float("nan"), 1.0)
    couplets = tuple(Region("ventricular_couplet", int(k * fs), int((k + 0.4) * fs), 0, 2, 150.0, 0.9)
                     for k in range(100, 110))
    slow = (Region("bradycardia", int(120 * fs), int(135 * fs), 0, 11, 44.2, 0.9),
            Region("bradycardia", int(150 * fs), int(170 * fs), 0, 12, 37.6, 0.9))
    ivr = (Region("idioventricular_rhythm", int(180 * fs), int(190 * fs), 0, 6, 35.0, 0.9),
           Region("idioventricular_rhythm", int(200 * fs), int(205 * fs), 0, 6, 72.0, 0.9))
    regions = (*analysis.regions, sustained, brief, unreadable, *couplets, *slow, *ivr)
    from pipeline.summary import tally_events
    edited = replace(analysis, regions=regions,
                     summary=replace(analysis.summary, events=tally_events(list(regions), fs)))
    lines = event_lines(edited)
    assert all(len(line) <= EVENT_LINE_CHARS for line in lines)  # two columns on page 1
    text = "\n".join(lines).replace("\n  ", " ")  # the wrapped lines joined again
    entries = text.split("\n")
    assert entries[0] == "ventricular tachycardia: 2 (total 00:00:42), 1 sustained"
    assert entries[-2].startswith("unreadable: 1")
    assert "ventricular couplet: 10" in entries  # counted, not timed: a sum of couplet lengths means nothing
    readable_s = analysis.summary.duration_s * analysis.summary.readable_fraction
    share = f"{format_share(100 * 35 / readable_s, 0)} % of the readable time"  # what the count does not say (s57)
    # the stretch's own rate, beside the summary's 1-minute rates
    assert f"bradycardia: 2 (total 00:00:35, {share}), slowest stretch 38 bpm (its mean)" in entries
    assert "idioventricular rhythm: 2 (total 00:00:15), 1 accelerated" in entries  # as the strips name them
    # the kinds a reader must not miss are named when none was found
    assert entries[-1].startswith("none found: ventricular flutter/fibrillation, atrial fibrillation/flutter")
    absent = entries[-1].removeprefix("none found: ").split(", ")
    assert "ventricular tachycardia" not in absent and not any(kind.startswith("pause") for kind in absent)
    plain = replace(analysis, summary=replace(analysis.summary, events=tally_events(list(analysis.regions), fs)))
    assert "ventricular tachycardia" in "\n".join(event_lines(plain)).replace("\n  ", " ").split("\n")[-1]
    pauses = next(line for line in entries if line.startswith("pause"))  # 232: long sinus pauses
    assert pauses.startswith("pause: ")
    lengths = [60.0 / r.heart_rate_bpm for r in analysis.regions if r.kind == "pause"]
    long = sum(length >= 3.0 for length in lengths)  # the tally tells the long pauses from those just over 2 s
    share = "none" if long == 0 else "all" if long == len(lengths) else str(long)
    assert f", longest {max(lengths):.2f} s, {share} lasting 3 s or more" in pauses, pauses


def test_the_isolated_beat_tally_says_how_many_belong_to_a_bigeminy_or_trigeminy(excerpts_dir):
    """A clinical read (session 54) took 228's "isolated ventricular: 360" beside "ventricular bigeminy: 20" for 360
    PVCs besides the bigeminies: the line says how many of them are the bigeminies' and trigeminies' ectopic beats."""
    from app.report import event_lines
    from pipeline.summary import tally_events

    analysis = analyse_record(read_record(excerpts_dir / "100", annotator=None), load_default_model())
    fs = analysis.record.fs_hz
    beats = [Region("isolated_ventricular", int(t * fs), int(t * fs) + 1, 0, 1, float("nan"), 0.9)
             for t in (21.0, 23.0, 25.0, 61.0, 81.0)]
    patterns = (Region("ventricular_bigeminy", int(20 * fs), int(26 * fs), 0, 8, 70.0, 0.9),
                Region("ventricular_trigeminy", int(80 * fs), int(83 * fs), 0, 4, 70.0, 0.9),
                Region("supraventricular_bigeminy", int(60 * fs), int(62 * fs), 0, 4, 70.0, 0.9))
    kept = tuple(r for r in analysis.regions if not r.kind.startswith(("isolated_", "ventricular_b", "ventricular_t")))

    def tally(regions) -> str:
        edited = replace(analysis, regions=regions, summary=replace(analysis.summary,
                                                                    events=tally_events(list(regions), fs)))
        return "\n".join(event_lines(edited)).replace("\n  ", " ")

    assert "isolated ventricular: 5, 4 in bi-/trigeminy" in tally((*kept, *beats, *patterns))
    assert "isolated ventricular: 5\n" in tally((*kept, *beats, patterns[2]))  # an S pattern holds no V beat
    every = tally((*kept, *beats[:3], patterns[0]))
    assert "isolated ventricular: 3, all in bigeminy" in every


def test_the_hrv_line_says_how_much_of_the_record_its_intervals_cover(excerpts_dir):
    """A clinical read (session 47) found HRV printed for 232, where intervals between two normal beats cover a fifth
    of the record, as if it described all of it: the line gives their minutes and share of the readable time."""
    from app.report import summary_lines

    analysis = analyse_record(read_record(excerpts_dir / "100", annotator=None), load_default_model())
    s = analysis.summary
    assert s.hrv.assessed and s.readable_fraction > 0.9
    share = 100 * s.hrv.nn_total_s / (s.duration_s * s.readable_fraction)
    lines = summary_lines(analysis)
    first = next(k for k, line in enumerate(lines) if line.startswith("HRV"))
    line = " ".join([lines[first]] + [part.strip() for part in lines[first + 1:first + 4] if part.startswith("  ")])
    assert line.startswith(f"HRV (normal-to-normal intervals, {s.hrv.nn_total_s / 60:.1f} min, {share:.0f} % of "
                           "the readable time; short-term: not comparable with 24-hour norms): SDNN ")  # (s57)
    unassessed = analyse_record(read_record(excerpts_dir / "208", annotator=None), load_default_model())
    assert not unassessed.summary.hrv.assessed
    assert next(line for line in summary_lines(unassessed) if line.startswith("HRV")).startswith(
        "HRV (normal-to-normal intervals): SDNN n/a")


def test_rate_stretches_inside_af_are_named_as_its_ventricular_response(mitdb_dir):
    """MIT-BIH 203 (atrial fibrillation and flutter throughout): its tachycardia stretches are the ventricular
    response to AF, which the tally, the strips and the dashboard's event list say; a stretch outside AF is a plain
    tachycardia."""
    from app.dashboard.tables import region_table
    from app.report import event_lines
    from app.strips import event_strip

    analysis = analyse_record(read_record(mitdb_dir / "203"), load_default_model())
    fs = analysis.record.fs_hz
    fast = [r for r in analysis.regions if r.kind == "tachycardia"]
    af = region_intervals(analysis.regions, "atrial_fibrillation")
    assert fast and all(is_in_af(r, af) for r in fast)
    tally = "\n".join(event_lines(analysis)).replace("\n  ", " ").split("\n")
    fastest = max(r.heart_rate_bpm for r in fast)  # the summary's rates are 1-minute averages: the stretch's own
    assert f"fastest stretch {fastest:.0f} bpm (its mean), all in AF/flutter" in next(line for line in tally
                                                                      if line.startswith("tachycardia: "))
    title = event_strip(fast[0], fs, None, analysis.regions).title
    assert title.startswith("tachycardia in atrial fibrillation/flutter")
    events = region_table(analysis.regions, fs)["event"].tolist()
    assert events.count("Tachycardia in atrial fibrillation/flutter") == len(fast)
    elsewhere = replace(fast[0], start=analysis.record.n_samples + 10, stop=analysis.record.n_samples + 3610)
    assert not is_in_af(elsewhere, af)


def test_pauses_where_af_stops_are_named_conversion_pauses(mitdb_dir):
    """MIT-BIH 219: each of its three pauses comes where an AF episode stops (the reference marks them PSE), which a
    clinical read (session 58) found reported as bare pauses: the tally, the strips and the dashboard's event list say
    so; the same pause far from any AF episode is a plain pause."""
    from app.dashboard.tables import region_table
    from app.report import event_lines
    from app.strips import event_strip

    analysis = analyse_record(read_record(mitdb_dir / "219"), load_default_model())
    fs = analysis.record.fs_hz
    pauses = [r for r in analysis.regions if r.kind == "pause"]
    af = region_intervals(analysis.regions, "atrial_fibrillation")
    assert len(pauses) == 3 and all(ends_af(r, af, fs) for r in pauses)
    tally = "\n".join(event_lines(analysis)).replace("\n  ", " ").split("\n")
    line = next(line for line in tally if line.startswith("pause: "))
    # first; and no total, which a sum of pause lengths is not (a clinical read of the dashboard, session 60)
    assert line.startswith("pause: 3, all at the end of atrial fibrillation/flutter, longest ")
    assert event_strip(pauses[0], fs, None, analysis.regions).title.startswith(
        "pause at the end of atrial fibrillation/flutter")
    events = region_table(analysis.regions, fs)["event"].tolist()
    assert events.count("Pause at the end of atrial fibrillation/flutter") == 3
    apart = replace(pauses[0], start=analysis.record.n_samples + 3600, stop=analysis.record.n_samples + 4600)
    assert describe_region(apart, fs, af) == "pause"
    # each AF end strip runs on to the beat that ends the pause after it (a second read of session 58 found 219's
    # stopping inside the pause), with the end of the episode still on it
    from app.report import plan_strips
    from app.strips import STRIP_S
    ends = [s for page in plan_strips(analysis) for s in page if s.title.startswith("atrial fibrillation/flutter: its")]
    resumed = [(strip, r.stop / fs) for strip in ends for r in pauses
               if strip.shaded[1] - 0.01 <= r.start / fs <= strip.shaded[1] + 3.0]
    assert resumed and all(strip.start_s <= strip.shaded[1] - 2.0 and first_s < strip.start_s + STRIP_S
                           for strip, first_s in resumed)


def test_a_sinus_rhythm_with_wide_dominant_beats_says_so_in_its_headline(mitdb_dir, excerpts_dir):
    """214 (left bundle branch block): a clinical read of session 58 found "sinus rhythm, 75 bpm" on top, the wide
    QRS only in a note further down; record 100's narrow beats add nothing."""
    from app.report import summary_lines

    model = load_default_model()
    wide = analyse_record(read_record(mitdb_dir / "214"), model)
    qrs_ms = wide.summary.st.fiducials.qrs_ms
    line = next(line for line in summary_lines(wide) if line.startswith("Predominant rhythm: "))
    assert line.startswith(f"Predominant rhythm: sinus rhythm with a wide QRS ({qrs_ms:.0f} ms), ") and qrs_ms > 120
    note = next(n for n in wide.summary.notes if n.startswith("the dominant beats are wide"))  # sinus P waves: not a
    assert "with sinus P waves before them" in note and "ventricular rhythm" not in note  # ventricular rhythm (review)
    text = " ".join(" ".join(summary_lines(wide)).split())  # the width twice (headline, the note), not three times
    assert text.count(f"{qrs_ms:.0f} ms") == 2 and "ST and QT are not assessed on such beats" in note
    narrow = analyse_record(read_record(excerpts_dir / "100"), model)
    line = next(line for line in summary_lines(narrow) if line.startswith("Predominant rhythm: "))
    assert line.startswith("Predominant rhythm: sinus rhythm, ") and "wide" not in line


def test_the_readable_share_names_a_lead_noisy_for_part_of_the_record(mitdb_dir, excerpts_dir):
    """108's V1 is noisy for about a seventh of the record while one lead or the other stays readable: page 1 read
    "readable signal 99.3 %" alone (a clinical read of session 58, of 105); each lead's share under a quality span now
    follows it, and a clean record (100) has none."""
    from app.report import summary_lines
    from pipeline.quality import summarize_quality

    model = load_default_model()
    noisy = analyse_record(read_record(mitdb_dir / "108"), model)
    record = noisy.record
    v1 = summarize_quality(list(noisy.quality_spans), record.n_samples, record.fs_hz, 2)[1]
    line = summary_lines(noisy)[0]
    assert f", V1 {100 * (1 - v1.usable_fraction):.1f} %)" in line and "(MLII noisy or unusable " in line
    assert 1 - v1.usable_fraction > 0.05
    spaced = replace(noisy, record=replace(record, lead_names=("ECG 1", "ECG 2")))  # EDF labels hold spaces
    assert "(ECG 1 noisy or unusable " in summary_lines(spaced)[0]
    clean = analyse_record(read_record(excerpts_dir / "100"), model)
    assert summary_lines(clean)[0].endswith("readable signal 100.0 %")


def test_a_doubtful_fastest_run_is_marked_in_the_summary(excerpts_dir):
    """The summary's fastest run is quoted with its doubt when its region is under the strips' confidence: a
    236-bpm "VT" of three beats in 203's artefact read as a fact on page 1."""
    from app.report import summary_lines

    analysis = analyse_record(read_record(excerpts_dir / "119", annotator=None), load_default_model())
    fs = analysis.record.fs_hz
    run = Region("ventricular_tachycardia", int(100 * fs), int(101 * fs), 10, 3, 236.0, 0.29)
    summary = replace(analysis.summary, fastest_ventricular_run_bpm=236.0, fastest_ventricular_run_time_s=100.0)
    doubtful = replace(analysis, regions=(*analysis.regions, run), summary=summary)
    text = " ".join(" ".join(summary_lines(doubtful)).split())
    assert "ventricular 236 bpm at 00:01:40 (low confidence, 0.29), supraventricular" in text
    sure = replace(doubtful, regions=(*analysis.regions, replace(run, confidence=0.9)))
    assert "ventricular 236 bpm at 00:01:40, supraventricular" in " ".join(" ".join(summary_lines(sure)).split())
    from app.dashboard.tables import describe_extremes  # the dashboard's overview says the same
    assert "fastest ventricular run (3 beats or more) 236 bpm at 00:01:40 (low confidence, 0.29)" in describe_extremes(
        doubtful)
    assert "236 bpm at 00:01:40;" in describe_extremes(sure) or describe_extremes(sure).endswith("236 bpm at 00:01:40.")


def test_couplets_and_runs_holding_a_fusion_beat_are_noted(excerpts_dir, mitdb_dir):
    """MIT-BIH 208 (fusion beats among frequent PVCs): the summary says how many ventricular couplets and runs hold an
    F beat, which EC57 counts with the ventricular beats of a run (a clinical read took its fusion-led couplets for
    two PVCs); record 100, without fusion beats, has no such note."""
    model = load_default_model()
    analysis = analyse_record(read_record(mitdb_dir / "208", annotator=None), model)
    classes = analysis.predictions.class_indices
    runs = [r for r in analysis.regions if r.kind in ("ventricular_couplet", "ventricular_tachycardia")]
    fused = sum(bool(np.any(classes[r.beats] == AAMI_CLASSES.index("F"))) for r in runs)
    assert fused > 0
    note = next(n for n in analysis.summary.notes if "fusion beat" in n)
    assert note.startswith(f"{fused} of the {len(runs)} ventricular couplets and runs ")
    plain = analyse_record(read_record(excerpts_dir / "100", annotator=None), model)
    assert not any("fusion beat" in n for n in plain.summary.notes)
    # 208's ventricular burden (about 40 %) is a main finding, with what it can mean (a clinical read of session 60
    # found it a bare number); 100's is not
    from app.findings import list_main_findings
    burden = analysis.summary.ventricular_burden_pct
    assert burden > 30 and f"ventricular burden {burden:.1f} % (from 10 %, PVC-induced cardiomyopathy is possible)" in \
        list_main_findings(analysis)
    assert not any(f.startswith("ventricular burden") for f in list_main_findings(plain))


def test_a_long_summary_moves_the_first_page_strips_to_the_strip_page(excerpts_dir):
    """A 24-h record's seven notes squeezed the first page's strips to about 15 px (QA pass, session 45): strips
    that do not fit at their printed size go to the strip page, which the report then holds."""
    from app.report import count_first_page_strips, render_pdf_report
    from tests.score_runs import count_pdf_pages
    analysis = analyse_record(read_record(excerpts_dir / "119", annotator=None), load_default_model())
    fitting = count_first_page_strips(analysis, 3)
    assert fitting == 2  # at their printed size (25 mm/s, session 48), both leads (session 57), families elsewhere
    notes = tuple(f"note {k}: " + "a long explanation of what could not be assessed and why " * 3 for k in range(9))
    wordy = replace(analysis, summary=replace(analysis.summary, notes=analysis.summary.notes + notes))
    assert count_first_page_strips(wordy, 3) < fitting
    assert count_pdf_pages(render_pdf_report(wordy)) >= count_pdf_pages(render_pdf_report(analysis))


def test_st_episode_titles_side_by_side_do_not_run_into_each_other(mitdb_dir):
    """A 24-h QA pass found the titles of the ST page's episode plots, side by side, running into each other: they are
    wrapped to the half page (record 230's pre-excitation gives ST episodes)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from app.report import draw_st_page
    analysis = analyse_record(read_record(mitdb_dir / "230", annotator=None), load_default_model())
    assert len(analysis.summary.st.episodes) >= 2
    figure = draw_st_page(analysis)
    renderer = FigureCanvasAgg(figure).get_renderer()
    titles = [ax._left_title for ax in figure.axes]  # the Text of each title set with loc="left"
    boxes = [t.get_window_extent(renderer) for t in titles if t.get_text().startswith(analysis.record.lead_names)]
    assert len(boxes) >= 2
    assert not any(a.overlaps(b) for k, a in enumerate(boxes) for b in boxes[k + 1:])


def test_kinds_the_record_did_not_allow_to_assess_are_not_reported_as_none_found(excerpts_dir):
    """20 s of a record (too few RR intervals for the AF decision) and a minute of noise (no beat): the report's
    tally said "none found: ..., atrial fibrillation/flutter, ..." beside notes saying it could not be assessed, and
    the annotation file opened a rhythm stream with ``(N``, normal sinus rhythm (a QA pass of session 51)."""
    from app.outputs import output_annotations
    from app.report import event_lines

    model = load_default_model()
    whole = read_record(excerpts_dir / "201", annotator=None)
    fs = whole.fs_hz
    short = analyse_record(replace(whole, signal_mv=whole.signal_mv[:int(20 * fs)]), model)
    assert np.isnan(short.summary.af_burden_pct) and short.summary.n_beats > 10
    text = "\n".join(event_lines(short)).replace("\n  ", " ").split("\n")
    assert text[-1] == "not assessed: atrial fibrillation/flutter (too few usable RR intervals)"
    assert text[-2].startswith("none found: ventricular flutter/fibrillation") and "atrial" not in text[-2]
    assert "+" not in output_annotations(short).symbols.tolist()  # no "(N" where the rhythm was not assessed
    noise = np.random.default_rng(3).normal(0.0, 0.3, (int(60 * fs), 2)).astype(np.float32)
    empty = analyse_record(replace(whole, signal_mv=noise), model)
    assert empty.summary.n_beats == 0
    text = "\n".join(event_lines(empty)).replace("\n  ", " ").split("\n")
    assert text[-2:] == ["none found: ventricular flutter/fibrillation",  # looked for in the signal itself
                         "not assessed: ventricular tachycardia, atrial fibrillation/flutter, supraventricular "
                         "tachycardia, pause (no beats found)"]
    full = analyse_record(whole, model)  # 5 minutes: assessed, the rhythm stream written
    assert np.isfinite(full.summary.af_burden_pct) and "+" in output_annotations(full).symbols.tolist()
    assert not any(line.startswith("not assessed") for line in event_lines(full))


def test_beats_closer_than_any_heart_s_are_marked_on_page_1_as_on_the_strips(excerpts_dir):
    """A second clinical read of session 58: the strips and the event list marked 105's "couplet" at 366 bpm and 200's
    supraventricular couplet at 360 bpm as artefact?, while page 1's tallies and headline runs counted them plain."""
    from app.dashboard.tables import describe_extremes
    from app.report import describe_tally_detail, summary_lines

    analysis = analyse_record(read_record(excerpts_dir / "119", annotator=None), load_default_model())
    fs = analysis.record.fs_hz
    couplet = Region("supraventricular_couplet", int(100 * fs), int(100.17 * fs), 10, 2, 360.0, 0.9)
    run = Region("ventricular_tachycardia", int(200 * fs), int(200.4 * fs), 20, 3, 366.0, 0.9)
    summary = replace(analysis.summary, longest_supraventricular_run=2, longest_supraventricular_run_time_s=100.0,
                      fastest_ventricular_run_bpm=366.0, fastest_ventricular_run_time_s=200.0)
    edited = replace(analysis, regions=(*analysis.regions, couplet, run), summary=summary)
    text = " ".join(" ".join(summary_lines(edited)).split())
    assert "supraventricular 2 beats (a couplet) at 00:01:40 (beats under 200 ms apart: artefact?);" in text
    assert "ventricular 366 bpm at 00:03:20 (beats under 200 ms apart: artefact?), supraventricular" in text
    assert "fastest ventricular run (3 beats or more) 366 bpm at 00:03:20 (beats under 200 ms apart: artefact?)" in \
        describe_extremes(edited)
    assert describe_tally_detail("supraventricular_couplet", edited).endswith(
        ", 1 with beats under 200 ms apart (artefact?)")
    doubtful = replace(edited, regions=(*analysis.regions, couplet, replace(run, confidence=0.3)))
    assert "366 bpm at 00:03:20 (low confidence, 0.30; beats under 200 ms apart: artefact?)" in \
        " ".join(" ".join(summary_lines(doubtful)).split())
    plain = replace(edited, regions=(*analysis.regions, replace(couplet, heart_rate_bpm=150.0),
                                     replace(run, heart_rate_bpm=150.0)))
    text = " ".join(" ".join(summary_lines(plain)).split())
    assert "artefact?" not in text and "artefact?" not in describe_tally_detail("supraventricular_couplet", plain)


def test_the_longest_run_is_named_by_the_rhythm_it_was_called(excerpts_dir):
    """A clinical read (session 51) took record 207's "Longest runs: ventricular 55 beats" for sustained ventricular
    tachycardia: it was an escape rhythm at 59 bpm. The longest run of 3 beats or more now says what it was called."""
    from app.dashboard.tables import describe_extremes
    from app.report import summary_lines

    analysis = analyse_record(read_record(excerpts_dir / "119", annotator=None), load_default_model())
    fs = analysis.record.fs_hz
    escape = Region("idioventricular_rhythm", int(100 * fs), int(160 * fs), 0, 55, 59.0, 0.9)
    edited = replace(analysis, regions=(*analysis.regions, escape),
                     summary=replace(analysis.summary, longest_ventricular_run=55, longest_ventricular_run_time_s=100.0))
    text = " ".join(" ".join(summary_lines(edited)).split())  # the wrapped lines as one
    assert "Longest runs: ventricular 55 beats at 00:01:40 (accelerated idioventricular rhythm, 59 bpm)," in text
    assert "longest ventricular run 55 beats at 00:01:40 (accelerated idioventricular rhythm, 59 bpm)" in \
        describe_extremes(edited)
    # one of low confidence says so, as the fastest run does (116's 3 beats at 0.18 on a lead off its scale, s60)
    doubtful = replace(edited, regions=(*analysis.regions, replace(escape, confidence=0.18)))
    assert "ventricular 55 beats at 00:01:40 (accelerated idioventricular rhythm, 59 bpm; low confidence, 0.18)," in \
        " ".join(" ".join(summary_lines(doubtful)).split())


def test_events_in_noise_on_one_lead_are_said_so_in_the_tally_the_strip_and_the_table(excerpts_dir):
    """A clinical read (session 54) found five of MIT-BIH 105's seven false ventricular tachycardias inside noise the
    quality module flags on MLII alone; nothing on the report said so. The tally counts them, the strip's title and
    the region table's ``noisy_leads`` name the lead; noise on every lead is unreadable signal, not a lead's noise."""
    from app.analysis import region_rows
    from app.report import event_lines
    from app.strips import event_strip
    from pipeline.summary import tally_events
    from pipeline.types import QualitySpan

    analysis = analyse_record(read_record(excerpts_dir / "100", annotator=None), load_default_model())
    fs = analysis.record.fs_hz
    couplets = (Region("ventricular_couplet", int(30 * fs), int(30.5 * fs), 0, 2, 150.0, 0.9),
                Region("ventricular_couplet", int(90 * fs), int(90.5 * fs), 0, 2, 150.0, 0.9))
    noise = (QualitySpan("noise", 0, int(29 * fs), int(31 * fs)),)

    def edit(spans):
        regions = (*analysis.regions, *couplets)
        return replace(analysis, regions=regions, quality_spans=tuple(analysis.quality_spans) + spans,
                       summary=replace(analysis.summary, events=tally_events(list(regions), fs)))

    noisy = edit(noise)
    lines = "\n".join(event_lines(noisy)).replace("\n  ", " ").split("\n")
    assert "ventricular couplet: 2, 1 with noise flagged on MLII" in lines
    rows = {row["start_s"]: row["noisy_leads"] for row in region_rows(noisy)}
    assert rows[30.0] == "MLII" and rows[90.0] == ""
    assert event_strip(couplets[0], fs, noisy_leads=("MLII",)).title.endswith("confidence 0.90; noise flagged on MLII")
    both = edit(noise + (QualitySpan("noise", 1, int(29 * fs), int(31 * fs)),))
    assert "ventricular couplet: 2" in "\n".join(event_lines(both)).split("\n")
    assert {row["noisy_leads"] for row in region_rows(both)} == {""}


def test_the_footer_says_what_the_report_never_looks_for_and_page_1_gives_the_pr_interval(excerpts_dir):
    """A clinical read (session 54): 108, 228 and 232 have first-degree AV block, which the report did not mention,
    so its silence read as normal conduction. The PR interval is measured since session 59."""
    from app.report import first_page_text

    analysis = analyse_record(read_record(excerpts_dir / "100", annotator=None), load_default_model())
    pages = first_page_text(analysis)
    footer = pages[3].replace("\n", " ")
    assert footer.endswith("Not assessed: Mobitz type, complete AV block; the PR interval is the median beat's, not "
                           "beat by beat.")
    pr = analysis.summary.pr
    assert pr.assessed and 120 <= pr.pr_ms <= 200 and not pr.first_degree_block
    assert f"PR interval: {pr.pr_ms:.0f} ms (MLII)" in pages[0]


@pytest.mark.mitdb
def test_runs_called_ventricular_in_unreadable_signal_are_shown_for_checking_not_counted(mitdb_dir):
    """200: the noise rule flags runs of wide beats of changing shape as noise, and a clinical read (session 54) found
    three of its reference ventricular tachycardias (18:20, 18:53, 24:54) in such stretches while the report said
    "none found: ventricular tachycardia". They are now named in the tally and shown on a strip, not counted."""
    from app.analysis import find_hidden_ventricular_runs
    from app.report import event_lines, plan_strips

    analysis = analyse_record(read_record(mitdb_dir / "200"), load_default_model())
    fs = analysis.record.fs_hz
    hidden = find_hidden_ventricular_runs(analysis)
    starts_s = [region.start / fs for region, _ in hidden]
    assert all(any(abs(s - t) < 3 for s in starts_s) for t in (1100, 1133, 1494))
    assert all(region.kind == "unreadable" and longest >= 3 for region, longest in hidden)
    assert not any(r.kind == "ventricular_tachycardia" and any(r.start < h.stop and r.stop > h.start
                                                               for h, _ in hidden) for r in analysis.regions)
    lines = "\n".join(event_lines(analysis)).replace("\n  ", " ").split("\n")
    unreadable = next(line for line in lines if line.startswith("unreadable:"))
    assert f"{len(hidden)} with 3 or more beats called V in a row (not counted" in unreadable
    assert lines[-1].startswith("none found in readable signal: ventricular flutter/fibrillation, ventricular "
                                "tachycardia")
    first, more = plan_strips(analysis)
    shown = [s for s in first + more if "beats called V in a row: check for a ventricular run (not counted)" in s.title]
    assert len(shown) == 1 and shown[0].title.startswith("unreadable signal at ")


def test_a_record_without_events_keeps_its_negative_findings_within_the_column(excerpts_dir):
    """122's "none found: ..." line ran off the page beside "No events flagged." (a clinical read, session 54): the
    lines of a record without events are wrapped as the others are."""
    from app.report import EVENT_LINE_CHARS, event_lines
    from pipeline.summary import tally_events

    analysis = analyse_record(read_record(excerpts_dir / "100", annotator=None), load_default_model())
    quiet = replace(analysis, regions=(), summary=replace(analysis.summary,
                                                          events=tally_events([], analysis.record.fs_hz)))
    lines = event_lines(quiet)
    assert lines[0] == "No events flagged." and all(len(line) <= EVENT_LINE_CHARS for line in lines)
    assert " ".join(line.strip() for line in lines[1:]).startswith("none found: ventricular flutter/fibrillation, "
                                                                   "ventricular tachycardia")


@pytest.mark.mitdb
def test_the_st_line_gives_a_lead_level_that_lasts_the_whole_record(mitdb_dir):
    """112's header: "S-T segment depression in the upper channel"; its report read "no depression episode", the
    depression being the record's own level (a clinical read, session 54)."""
    from app.report import summary_lines

    analysis = analyse_record(read_record(mitdb_dir / "112"), load_default_model())
    level = analysis.summary.st.reference_mv[0]
    assert level <= -0.1
    st_line = " ".join(line.strip() for line in summary_lines(analysis) if line.startswith(("ST segment", "  ")))
    assert (
        f"persistent ST depression in MLII: the record's median ST level lies {-level:.2f} mV ({-10 * level:.1f} mm at "
        "10 mm/mV) below the baseline before the QRS (not an episode; episodes are changes from it); no depression "
        "episode") in st_line


def test_the_longest_rr_line_says_it_is_read_between_readable_beats_when_some_signal_is_not(excerpts_dir):
    """A clinical read (session 57) found 101's longest RR interval, 1.27 s, beside a reference one of 1.89 s inside
    its noise, with nothing to say that intervals across unreadable signal are left out."""
    from app.report import summary_lines

    analysis = analyse_record(read_record(excerpts_dir / "100", annotator=None), load_default_model())

    def runs_line(a):
        return next(line for line in summary_lines(a) if line.startswith("Longest runs"))

    assert analysis.summary.readable_fraction == 1.0 and "; longest RR interval 1.00 s" in runs_line(analysis)
    noisy = replace(analysis, summary=replace(analysis.summary, readable_fraction=0.9))
    assert "; longest RR interval between readable beats 1.00 s" in runs_line(noisy)


def test_a_two_lead_record_s_strips_print_both_leads_at_one_gain(excerpts_dir):
    """A clinical read (session 57) found strips of the primary lead alone hiding what made a beat's call (115's
    "ventricular" beat an artefact on V1; 113's aberrated beats' shape on V1): a two-lead record's strips print the
    second lead in a band under the first, at the same gain, on whole large squares, named beside it."""
    from matplotlib.figure import Figure

    from app.strips import (A4_PORTRAIT_IN, STRIP_S, Strip, add_strip_axes, describe_strip_scale, draw_strip,
                            strip_height_mm, strip_window)

    analysis = analyse_record(read_record(excerpts_dir / "119", annotator=None), load_default_model())
    record = analysis.record
    assert record.lead_names == ("MLII", "V1")
    ax = add_strip_axes(Figure(figsize=A4_PORTRAIT_IN), 20.0)
    draw_strip(ax, analysis, Strip(20.0, "a strip"), 10.0)
    assert ax.get_position().height * 25.4 * A4_PORTRAIT_IN[1] == pytest.approx(strip_height_mm(2)) == 58.0
    assert describe_strip_scale(ax) == "25 mm/s, 10 mm/mV" and ax.get_xlim()[1] - ax.get_xlim()[0] == STRIP_S
    first, second, divider = ax.get_lines()
    lo, hi = strip_window(record, Strip(20.0, ""))
    assert np.array_equal(first.get_ydata(), record.signal_mv[lo:hi, 0])
    shift = second.get_ydata() - record.signal_mv[lo:hi, 1]
    bottom = ax.get_ylim()[0]  # the second band: 27 mm under the first lead's, 2.7 mV at 10 mm/mV
    assert np.ptp(shift) < 1e-5 and bottom < np.median(second.get_ydata()) < bottom + 2.7 < np.median(first.get_ydata())
    assert list(divider.get_ydata()) == pytest.approx([bottom + 2.7] * 2)  # a line between the bands
    clip = second.get_clip_box().transformed(ax.transData.inverted())  # the second lead kept to its band
    assert (clip.y0, clip.y1) == pytest.approx((bottom, bottom + 2.7))
    assert round(shift[0] / 0.5, 4) == round(shift[0] / 0.5)  # by whole 5-mm squares at 10 mm/mV
    assert [t.get_text() for t in ax.texts if t.get_text().endswith("(mV)")] == ["V1 (mV)", "MLII (mV)"]
    one = replace(analysis, record=replace(record, signal_mv=record.signal_mv[:, :1], lead_names=("MLII",)))
    ax = add_strip_axes(Figure(figsize=A4_PORTRAIT_IN), 20.0)
    draw_strip(ax, one, Strip(20.0, "a strip"), 10.0)
    assert len(ax.get_lines()) == 1 and ax.get_ylabel() == "MLII (mV)"
    assert ax.get_position().height * 25.4 * A4_PORTRAIT_IN[1] == pytest.approx(31.0)
