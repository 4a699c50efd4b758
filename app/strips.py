"""The ECG strips of a report, printed as an electrocardiograph prints them: 7.5 s of the primary lead, and of the other
analysed lead in a band under it for a two-lead record (:func:`strip_leads`, session 57), at 25 mm/s (what an
A4 page's width holds) on 1-mm and 5-mm squares, at one standard gain for the report (:func:`report_gain_mm_per_mv`),
each placed on the page in millimetres (:func:`place_strip_box`); how an event's strip is framed (its onset, a pause
centred, an episode that began with the recording at its end, a second strip at a long episode's end) and how strips
that show the same stretch become one (:func:`merge_repeated_strips`). Session 48, after a clinical read of the PDF
reports found 10-s strips squeezed to 19 mm/s at 8-9 mm/mV (:mod:`app.report` chooses the strips and lays out the
pages).
"""

from __future__ import annotations

import datetime
import math
import textwrap
from dataclasses import dataclass, replace

import numpy as np
from matplotlib.figure import Figure
from matplotlib.transforms import Bbox, TransformedBbox, blended_transform_factory

from app import ecg_paper as paper
from app.analysis import RecordAnalysis, find_blocked_p_samples, find_paced_beats_left, find_wave_detections
from app.reader_strips import READER_STRIP_S
from pipeline.diary import format_clock_time
from pipeline.diary import format_elapsed as format_clock
from pipeline.regions import (AF_END_PAUSE_S, BLOCKED_KINDS, Region, describe_region, describe_region_measure,
                              describe_region_size, region_intervals)
from pipeline.wording import count_noun


A4_PORTRAIT_IN = (8.27, 11.69)

STRIP_S = READER_STRIP_S
"""Length of every strip (seconds): 7.5 s at the standard 25 mm/s is 187.5 mm, what an A4 page's width holds."""

PAPER_SPEED_MM_S = 25.0
"""Paper speed of every strip on the printed page, the standard one (a clinical read of the PDF reports, session 47,
found 10-s strips squeezed to 19 mm/s, so that a reader's ECG ruler and calipers measured them wrong)."""

STANDARD_GAINS_MM_PER_MV = (20.0, 10.0, 5.0, 2.5)
"""The gains an electrocardiograph offers (10 mm/mV standard, 20 double, 5 and 2.5 half and quarter): a record's
strips take the largest its signal fits at (:func:`strip_gain_mm_per_mv`)."""

STRIP_LEFT_MM = 14.0
"""Left edge of every strip's trace on the page (the lead's name and millivolts to its left)."""

STRIP_HEIGHT_MM = 31.0
"""Height of a strip's box on the page: its trace, then :data:`STRIP_LABEL_MM` for the beat classes above it."""

STRIP_LABEL_MM = 4.0
LEAD_BAND_MM = STRIP_HEIGHT_MM - STRIP_LABEL_MM
"""Height of the second lead's band, under the first lead's trace, on a strip of a two-lead record
(:func:`strip_leads`)."""

STRIP_TIMES_MM = 6.0
"""Under a strip's box: its times."""

STRIP_PITCH_MM = STRIP_HEIGHT_MM + 13.0
"""From one strip's top to the next one's on a strip page: the box, the times under it, the next title."""

PAGE_TOP_MM, PAGE_BOTTOM_MM = 24.0, 12.0
"""Where a strip page's first box starts under the page title, and the margin its last box keeps to the foot."""

CLASS_COLOURS = {"N": "#2b2b2b", "S": "#1f77b4", "V": "#d62728", "F": "#a6611a", "Q": "#7f7f7f", "P": "#7f7f7f"}
"""Printed beat labels: S blue, V red, F brown (it was purple, which beside blue at 4 pt a read of the full
disclosure could not tell from S: session 48), Q and paced grey."""

PACED_LABEL = "P"
"""A paced beat's label on the strips (its class is Q, which a reader takes for "unclassifiable": a clinical read,
session 48)."""
BLOCKED_P_LABEL = "p"
"""A non-conducted P wave's label on the strips, above the P wave (WFDB's code for a P-wave peak is ``p``)."""
BLOCKED_P_COLOUR = "#2166ac"
"""The colour of a blocked P wave's mark, on the strips and the dashboard's charts (its 2:1 AV block's region
colour)."""


def format_at(seconds: float, start_time: datetime.time | None = None) -> str:
    """`` at hh:mm:ss`` for a time in the record, with its clock time when the start time is known
    (:func:`format_clock_suffix`); empty when the time is unknown."""
    if not math.isfinite(seconds):
        return ""
    return f" at {format_clock(seconds)}{format_clock_suffix(seconds, start_time)}"


def format_clock_suffix(seconds: float, start_time: datetime.time | None) -> str:
    """`` (14:17:30)``: the clock time of a time in the record when the header gives the start time; else empty."""
    clock = format_clock_time(seconds, start_time) if math.isfinite(seconds) else ""
    return f" ({clock})" if clock else ""


MIN_SHADE_S = 0.3
"""A strip's event is shaded at least this wide, centred on it, so that a single beat's event shows which beat is
meant (its region spans one sample)."""


@dataclass(frozen=True)
class Strip:
    """A strip (:data:`STRIP_S` of the primary lead, and of the second analysed lead under it: :func:`strip_leads`):
    where it starts, its title, and the stretch to shade (seconds)."""

    start_s: float
    title: str
    shaded: tuple[float, float] | None = None
    marker_s: float | None = None
    """A time to mark with a vertical line (a diary entry)."""
    name: str = ""
    """What the strip shows, short, for the title of another strip that shows the same stretch
    (:func:`merge_repeated_strips`)."""
    also_shaded: tuple[tuple[float, float], ...] = ()
    """More stretches to shade: those of strips merged into this one whose stretch lies apart from its own
    (:func:`merge_repeated_strips`)."""


def count_beats(n: int) -> str:
    """``"1 beat"``, ``"3 beats"``."""
    return count_noun(n, "beat")


def event_strip(region: Region, fs_hz: float, start_time: datetime.time | None = None, regions=(),
                duration_s: float = math.inf, noisy_leads: tuple[str, ...] = ()) -> Strip:
    """The strip of a flagged region (:func:`strip_start_s`; the record's ``duration_s`` tells whether an episode
    that began with the recording ends within it), the region shaded; titled as
    :func:`pipeline.regions.describe_region` names it among the record's ``regions``, with the leads noisy over it
    (``noisy_leads``: :func:`app.analysis.noisy_lead_names`)."""
    measure = describe_region_measure(region)
    kind = describe_region(region, fs_hz, region_intervals(regions, "atrial_fibrillation"))
    start_s = strip_start_s(region, fs_hz, duration_s)
    shows_end = start_s > region.start / fs_hz  # an episode that began with the recording: its end is shown
    details = [part for part in (describe_region_size(region, fs_hz), measure) if part]
    title = (f"{kind}{format_at(region.start / fs_hz, start_time)}, {', '.join(details + [''])}"
             f"confidence {region.confidence:.2f}"
             + (f"; noise flagged on {', '.join(noisy_leads)}" if noisy_leads else "")
             + (f"; its end{format_at(region.stop / fs_hz, start_time)} shown" if shows_end else ""))
    middle_s, half_s = (region.start + region.stop) / 2 / fs_hz, max((region.stop - region.start) / 2 / fs_hz,
                                                                      MIN_SHADE_S / 2)
    name = f"{kind}{format_at(region.start / fs_hz, start_time)}"  # short: another title holds it
    return Strip(start_s, title, (middle_s - half_s, middle_s + half_s), name=name)


ENDED_KINDS = ("ventricular_flutter_fibrillation", "ventricular_tachycardia", "atrial_fibrillation",
               "supraventricular_tachycardia", "idioventricular_rhythm")
"""Episodes whose end a report shows on a strip of its own when their strip cannot (a Holter report's onset and
termination strips: an AF episode ending in a pause is the tachycardia-bradycardia finding; a clinical read,
session 48)."""

END_STRIP_MIN_UNSHOWN = 0.5
"""An episode's end gets a strip when at least this share of a strip's length of it lies past its onset strip (205's
8-s flutter/fibrillation had two strips sharing 4 s: a clinical read, session 48)."""


def end_strip(region: Region, strip: Strip, fs_hz: float, start_time: datetime.time | None = None, regions=(),
              duration_s: float = math.inf) -> Strip | None:
    """The strip of an episode's end (:data:`ENDED_KINDS`), :data:`STRIP_CONTEXT_S` after it, the episode's last part
    shaded: None when its own ``strip`` shows the end or nearly (:data:`END_STRIP_MIN_UNSHOWN`) or when it runs to the
    end of the record. Where a pause follows the end (one of ``regions`` starting within
    :data:`pipeline.regions.AF_END_PAUSE_S` of it), the strip runs on to the beat that ends the pause
    (:func:`show_end_after_s`)."""
    stop_s = region.stop / fs_hz
    if (region.kind not in ENDED_KINDS or stop_s <= strip.start_s + STRIP_S * (1 + END_STRIP_MIN_UNSHOWN)
            or stop_s + STRIP_CONTEXT_S > duration_s):
        return None
    kind = describe_region(region, fs_hz, region_intervals(regions, "atrial_fibrillation"))
    first_s = stop_s + min(show_end_after_s(region, fs_hz, regions), duration_s - stop_s) - STRIP_S
    return Strip(first_s, f"{kind}: its end{format_at(stop_s, start_time)} (from"
                          f"{format_at(region.start / fs_hz, start_time).removeprefix(' at')}, "
                          f"{describe_region_size(region, fs_hz)})",
                 (max(region.start / fs_hz, first_s), stop_s), name=f"the end of the {kind}")


END_SHOWN_MIN_S = 2.0
"""An end strip shows at least this much of its episode before the end (:func:`show_end_after_s`)."""


def show_end_after_s(region: Region, fs_hz: float, regions=()) -> float:
    """How much an episode's end strip shows after the end (s): :data:`STRIP_CONTEXT_S`, or, where a pause among
    ``regions`` starts within :data:`pipeline.regions.AF_END_PAUSE_S` of the end, up to half a second past the beat
    that ends the pause, keeping :data:`END_SHOWN_MIN_S` of the episode. A second clinical read of session 58 found
    219's AF-end strip stopping inside the 2.6-s pause that followed it, before the first sinus beat.

    >>> af = Region("atrial_fibrillation", 0, 3600, 0, 50, 80.0, 0.9)
    >>> show_end_after_s(af, 360.0), show_end_after_s(af, 360.0, [Region("pause", 3600, 4536, 50, 2, 60 / 2.6, 0.9)])
    (1.5, 3.1)
    """
    stop_s = region.stop / fs_hz
    resumed_s = [r.stop / fs_hz for r in regions if r.kind == "pause" and r.start >= region.start
                 and r.start / fs_hz <= stop_s + AF_END_PAUSE_S and r.stop / fs_hz > stop_s]
    if not resumed_s:
        return STRIP_CONTEXT_S
    return round(min(STRIP_S - END_SHOWN_MIN_S, max(STRIP_CONTEXT_S, min(resumed_s) - stop_s + 0.5)), 6)


def draw_ecg_paper(ax, start_s: float, stop_s: float, low_mv: float, high_mv: float,
                   gain_mm_per_mv: float = 10.0) -> None:
    """ECG paper under a strip (:mod:`app.ecg_paper`): squares of 1 mm and 5 mm, that is 0.04 s and 0.2 s across at
    25 mm/s, and 0.1 mV and 0.5 mV high at 10 mm/mV (0.2 mV and 1 mV at 5 mm/mV, as paper printed at half gain)."""
    small_mv = 1.0 / gain_mm_per_mv
    for step_s, step_mv, colour, width in (
            (paper.SMALL_SQUARE_S, small_mv, paper.SMALL_LINE_COLOUR, 0.25),
            (paper.LARGE_SQUARE_S, 5 * small_mv, paper.LARGE_LINE_COLOUR, 0.45)):
        times = np.arange(np.ceil(start_s / step_s - 1e-9), np.floor(stop_s / step_s + 1e-9) + 1) * step_s
        levels = np.arange(np.ceil(low_mv / step_mv - 1e-9), np.floor(high_mv / step_mv + 1e-9) + 1) * step_mv
        ax.vlines(times, low_mv, high_mv, colors=colour, linewidth=width, zorder=0)
        ax.hlines(levels, start_s, stop_s, colors=colour, linewidth=width, zorder=0)
    ax.set_ylim(low_mv, high_mv)
    ax.set_xlim(start_s, stop_s)


STRIP_BLOCKS = 200
"""At most this many blocks of :data:`STRIP_S`, evenly spread over the record, set its strips' gain
(:func:`strip_gain_mm_per_mv`)."""


def strip_gain_mm_per_mv(record) -> float:
    """The gain every strip of a record is printed at: the largest of :data:`STANDARD_GAINS_MM_PER_MV` at which the
    primary lead's typical strip (the 75th percentile of its extent, highest less lowest value, over strip-long
    blocks) fits the strip's trace (:data:`STRIP_HEIGHT_MM` less the label band), else the smallest; a stretch of
    larger extent (noise, a tall ectopic beat) runs off its strip's box, as on paper. One gain per record, as ECG
    paper has: a clinical read of the PDF reports (session 47) found each strip scaled to its own trace, so that beats
    of one record could not be compared from strip to strip, and at gains no electrocardiograph uses. On MIT-BIH's 48
    records: 10 mm/mV for 24 (their typical strip spans 1.5 to 2.6 mV), 5 mm/mV for the other 24 (up to 5.2 mV).

    >>> from pipeline.types import Record
    >>> t = np.arange(60 * 360) / 360
    >>> strip_gain_mm_per_mv(Record("r", (1.5 * (np.sin(2 * np.pi * t) > 0.99))[:, None], 360.0, ("MLII",), 0, 360.0))
    10.0
    >>> strip_gain_mm_per_mv(Record("r", (4.0 * (np.sin(2 * np.pi * t) > 0.99))[:, None], 360.0, ("MLII",), 0, 360.0))
    5.0
    """
    lead = record.signal_mv[:, record.primary_lead]
    block = int(STRIP_S * record.fs_hz)
    starts = np.unique(np.linspace(0, max(len(lead) - block, 0), min(STRIP_BLOCKS, max(len(lead) // block, 1)))
                       .astype(np.int64))
    extents = []
    for start in starts:
        values = lead[start:start + block]
        values = values[np.isfinite(values)]
        if values.size:
            extents.append(float(np.ptp(values)))
    extent_mv = float(np.percentile(extents, 75)) if extents else 1.0
    return largest_gain_fitting(extent_mv, STRIP_HEIGHT_MM - STRIP_LABEL_MM)


def largest_gain_fitting(extent_mv: float, height_mm: float) -> float:
    """The largest of :data:`STANDARD_GAINS_MM_PER_MV` at which ``extent_mv`` fits ``height_mm``, else the smallest.

    >>> largest_gain_fitting(2.5, 27.0), largest_gain_fitting(3.0, 27.0), largest_gain_fitting(20.0, 27.0)
    (10.0, 5.0, 2.5)
    """
    return next((gain for gain in STANDARD_GAINS_MM_PER_MV if extent_mv * gain <= height_mm),
                STANDARD_GAINS_MM_PER_MV[-1])


def strip_leads(record) -> tuple[int, ...]:
    """The leads a strip prints, top to bottom: the primary lead, then the record's other analysed lead when it has
    one. A clinical read of session 57 found strips of the primary lead alone hiding what made a beat's call: 115's
    "ventricular" beat was an artefact on V1, and 113's aberrated atrial premature beats showed their right bundle
    branch block shape on V1 only; a Holter report's event strips print two or three channels."""
    others = [k for k in range(record.signal_mv.shape[1]) if k != record.primary_lead and shows_signal(record, k)]
    return (record.primary_lead, *others[:1])


LEAD_CHECK_SAMPLES = 20_000
"""Samples, evenly spread, that tell whether a lead holds a signal at all (:func:`shows_signal`)."""


def shows_signal(record, lead: int) -> bool:
    """Whether ``lead`` varies anywhere (over :data:`LEAD_CHECK_SAMPLES` samples spread over the record): a second lead
    missing or flat throughout, which a file may keep, would print an empty band (a review of session 57).

    >>> from pipeline.types import Record
    >>> x = np.zeros((3600, 2), np.float32); x[::360, 0] = 1.0
    >>> record = Record("r", x, 360.0, ("II", "V1"), 0, 360.0)
    >>> shows_signal(record, 1), shows_signal(record, 0), strip_leads(record)
    (False, True, (0,))
    """
    column = record.signal_mv[:, lead]
    step = max(len(column) // LEAD_CHECK_SAMPLES, 1)
    values = column[::step]
    values = values[np.isfinite(values)]
    return bool(values.size) and float(np.ptp(values)) > 0.0


def strip_height_mm(n_leads: int = 1) -> float:
    """Height of a strip's box printing ``n_leads`` leads: :data:`STRIP_HEIGHT_MM`, and :data:`LEAD_BAND_MM` for each
    lead under the first.

    >>> strip_height_mm(1), strip_height_mm(2)
    (31.0, 58.0)
    """
    return STRIP_HEIGHT_MM + (n_leads - 1) * LEAD_BAND_MM


def strip_pitch_mm(n_leads: int = 1) -> float:
    """From one strip's top to the next one's on a page (:data:`STRIP_PITCH_MM` for a one-lead strip)."""
    return strip_height_mm(n_leads) + STRIP_PITCH_MM - STRIP_HEIGHT_MM


def place_strip_box(ax, height_mm: float = STRIP_HEIGHT_MM) -> None:
    """Make a strip's axes its printed size, :data:`STRIP_S` at :data:`PAPER_SPEED_MM_S` across and ``height_mm``
    high (:func:`strip_height_mm`), from :data:`STRIP_LEFT_MM` and the top of the space it was given (a grid cell at
    least that high)."""
    width_mm, page_mm = (25.4 * size for size in ax.figure.get_size_inches())
    top = ax.get_position().y1
    height = height_mm / page_mm
    ax.set_position([STRIP_LEFT_MM / width_mm, top - height, STRIP_S * PAPER_SPEED_MM_S / width_mm, height])


def add_strip_axes(figure: Figure, top_mm: float):
    """A strip's axes whose box starts ``top_mm`` below the top of the page (:func:`place_strip_box`)."""
    ax = figure.add_axes((0.0, 0.0, 1.0, 1.0 - top_mm / (25.4 * figure.get_size_inches()[1])))
    place_strip_box(ax)
    return ax


def draw_strip_column(figure: Figure, analysis: RecordAnalysis, strips: list[Strip], top_mm: float,
                      gain_mm_per_mv: float | None = None) -> None:
    """``strips`` one under the other, :func:`strip_pitch_mm` apart, the first box ``top_mm`` below the top of the
    page (:func:`add_strip_axes`, :func:`draw_strip`)."""
    pitch_mm = strip_pitch_mm(len(strip_leads(analysis.record)))
    for k, strip in enumerate(strips):
        draw_strip(add_strip_axes(figure, top_mm + k * pitch_mm), analysis, strip, gain_mm_per_mv)


def fit_strips(top_mm: float, bottom_mm: float = 25.4 * A4_PORTRAIT_IN[1] - PAGE_BOTTOM_MM, n_leads: int = 1) -> int:
    """How many strips of ``n_leads`` leads a page holds from ``top_mm`` down, :func:`strip_pitch_mm` apart, none of
    their boxes reaching below ``bottom_mm`` (mm from the top of the page; an A4 page less its bottom margin).

    >>> fit_strips(24.0), fit_strips(24.0, 54.9), fit_strips(24.0, 55.0), fit_strips(24.0, n_leads=2)
    (6, 0, 1, 3)
    """
    height_mm = strip_height_mm(n_leads)
    return max(0, int((bottom_mm - top_mm - height_mm) // strip_pitch_mm(n_leads)) + 1)


def describe_strip_scale(ax) -> str:
    """The strip's paper speed and gain as printed, measured from its box on the page: ``"25 mm/s, 10 mm/mV"``."""
    box = ax.get_position()
    width_in, height_in = ax.figure.get_size_inches()
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    return (f"{25.4 * box.width * width_in / (x1 - x0):.3g} mm/s, "
            f"{25.4 * box.height * height_in / (y1 - y0):.3g} mm/mV")


def strip_window(record, strip: Strip) -> tuple[int, int]:
    """First and last (excluded) sample a strip shows: :data:`STRIP_S` from its start, kept within the record."""
    lo = int(min(max(strip.start_s, 0), max(record.duration_s - STRIP_S, 0)) * record.fs_hz)
    return lo, min(lo + int(STRIP_S * record.fs_hz), record.n_samples)


def strip_extent_mv(record, strip: Strip, lead: int | None = None) -> tuple[float, float]:
    """Lowest and highest value a strip's trace of ``lead`` (the primary lead by default) reaches, its 0.2nd and 99.8th
    percentiles (a lone spike of a sample or two left out; a QRS complex, tens of samples, kept); NaN, NaN when the
    strip has no signal."""
    lo, hi = strip_window(record, strip)
    values = record.signal_mv[lo:hi, record.primary_lead if lead is None else lead]
    values = values[np.isfinite(values)]
    if not values.size:
        return float("nan"), float("nan")
    low, high = np.percentile(values, (0.2, 99.8))
    return float(low), float(high)


def report_gain_mm_per_mv(record, strips: list[Strip]) -> float:
    """The gain of a report's strips: the largest of :data:`STANDARD_GAINS_MM_PER_MV` at which every strip it prints
    fits its box (:func:`strip_extent_mv`; a tall one reaching into the band of beat labels), but not under 5 mm/mV
    unless the record's typical gain is (:func:`strip_gain_mm_per_mv`; the tallest strips of a record of tall complexes
    then run off their box rather than every strip shrink to 2.5 mm/mV), nor over the standard 10 mm/mV unless it is
    (a low-voltage record). A clinical read (session 48) found 231's couplet clipped at the record's typical
    gain, the strip's reason cut off. The primary lead sets it: a second lead is clipped to its band
    (:func:`draw_lower_lead`; a read of session 57 found five of eight reports halved to 5 mm/mV when its extent
    counted too, P waves half a millimetre high)."""
    typical = strip_gain_mm_per_mv(record)
    extents = [high - low for low, high in (strip_extent_mv(record, s) for s in strips) if math.isfinite(high - low)]
    if not extents:
        return typical
    fitting = largest_gain_fitting(max(extents), STRIP_HEIGHT_MM - 1.0)  # into the label band, 1 mm under the top
    return min(max(fitting, min(typical, MIN_REPORT_GAIN_MM_PER_MV)), max(typical, STANDARD_GAIN_MM_PER_MV))


STANDARD_GAIN_MM_PER_MV = 10.0

MIN_REPORT_GAIN_MM_PER_MV = 5.0
"""Half the standard gain: printed strips too tall for it still take it, unless the whole record is (none of
MIT-BIH's)."""

STRIP_TITLE_CHARS = 100
"""Width of a strip's title lines (8 pt), leaving the strip's scale at the right (a merged title ran into it)."""


def draw_strip(ax, analysis: RecordAnalysis, strip: Strip, gain_mm_per_mv: float | None = None) -> None:
    """Primary lead from the strip's start for :data:`STRIP_S`, beats marked with their class, its stretch shaded; at
    25 mm/s and the report's gain (``gain_mm_per_mv``; the record's typical, :func:`strip_gain_mm_per_mv`, when None)
    on ECG paper, the box placed by :func:`place_strip_box`."""
    record = analysis.record
    fs = record.fs_hz
    lo, hi = strip_window(record, strip)
    t = np.arange(lo, hi) / fs
    lead = record.signal_mv[lo:hi, record.primary_lead]
    leads = strip_leads(record)
    place_strip_box(ax, strip_height_mm(len(leads)))
    (first_trace,) = ax.plot(t, lead, color="black", linewidth=0.5)
    for shaded in ((strip.shaded,) if strip.shaded is not None else ()) + strip.also_shaded:
        ax.axvspan(*shaded, color="#ffbf00", alpha=0.25, linewidth=0)
    if strip.marker_s is not None:
        ax.axvline(strip.marker_s, color="#1f77b4", linewidth=1.0, linestyle="--")
    samples = analysis.predictions.samples
    classes = np.where(find_paced_beats_left(analysis.predictions, analysis.classes), PACED_LABEL, analysis.classes)
    inside = (samples >= lo) & (samples < hi) & ~find_wave_detections(analysis)  # no letters on fibrillation waves
    lowest, highest = strip_extent_mv(record, strip)
    middle = (lowest + highest) / 2 if math.isfinite(highest - lowest) else 0.0
    gain = strip_gain_mm_per_mv(record) if gain_mm_per_mv is None else gain_mm_per_mv  # one for every strip
    half_mv = (STRIP_HEIGHT_MM - STRIP_LABEL_MM) / 2 / gain
    low = min(middle - half_mv, lowest) if math.isfinite(lowest) else middle - half_mv  # a tall trace: up to the labels
    high = low + 2 * half_mv
    for sample, label in zip(samples[inside], classes[inside]):
        ax.text(sample / fs, high + 0.5 / gain, label, fontsize=6.5, ha="center", va="bottom",
                color=CLASS_COLOURS.get(label, "k"), clip_on=True)  # none straddling the box's edge
    for sample in find_strip_blocked_p(analysis, lo, hi):
        ax.text(sample / fs, high + 0.5 / gain, BLOCKED_P_LABEL, fontsize=6.5, ha="center", va="bottom",
                color=BLOCKED_P_COLOUR, style="italic", clip_on=True)
    ticks = [(float(v), float(v) + 0.0) for v in np.arange(np.ceil(low), np.floor(high) + 1)]  # (position, mV; no -0)
    bottom = low
    for other in leads[1:]:  # each further lead in its band under the first, at the same gain (module docstring)
        bottom, band_ticks = draw_lower_lead(ax, analysis, strip, other, t, bottom, gain)
        ticks += band_ticks
    if len(leads) > 1:  # a deep deflection stops at its band rather than cross the next lead's (a review of s57)
        clip_to_band(ax, first_trace, t, low, high + STRIP_LABEL_MM / gain)
    ax.tick_params(labelsize=6.5)
    draw_ecg_paper(ax, lo / fs, lo / fs + STRIP_S, bottom, high + STRIP_LABEL_MM / gain, gain)
    ax.set_yticks([p for p, _ in ticks], labels=[f"{v:g}" for _, v in ticks])
    if len(leads) == 1:
        ax.set_ylabel(f"{record.primary_lead_name} (mV)", fontsize=7)
    else:  # each lead named beside its band
        name_lead(ax, record.primary_lead_name, (low + high) / 2)
    ticks = ax.get_xticks()
    ax.set_xticks(ticks)
    ax.set_xticklabels([format_clock(x) for x in ticks])
    ax.set_xlim(lo / fs, lo / fs + STRIP_S)
    ax.text(1.0, 1.02, describe_strip_scale(ax), transform=ax.transAxes, fontsize=6, ha="right", va="bottom",
            color="#555555")
    title = textwrap.fill(textwrap.shorten(strip.title, 2 * STRIP_TITLE_CHARS, placeholder=" ..."), STRIP_TITLE_CHARS)
    ax.set_title(title, fontsize=8 if "\n" not in title else 7, loc="left")  # two lines fit the gap at 7 pt


def draw_lower_lead(ax, analysis: RecordAnalysis, strip: Strip, lead: int, t: np.ndarray, top: float, gain: float
                    ) -> tuple[float, list[tuple[float, float]]]:
    """Lead ``lead`` of the strip in a band of :data:`LEAD_BAND_MM` under ``top`` (in the first lead's millivolts),
    centred on the middle of its trace to the nearest large square, named beside it; returns the band's bottom and its
    ticks (position, the lead's own mV)."""
    record = analysis.record
    lo, hi = strip_window(record, strip)
    band_mv = LEAD_BAND_MM / gain
    lowest, highest = strip_extent_mv(record, strip, lead)
    middle = (lowest + highest) / 2 if math.isfinite(highest - lowest) else 0.0
    large_mv = 5.0 / gain  # moved by whole large squares, so that its millivolts fall on the paper's thick lines
    shift = round((top - band_mv / 2 - middle) / large_mv) * large_mv
    (trace,) = ax.plot(t, record.signal_mv[lo:hi, lead] + shift, color="black", linewidth=0.5)
    clip_to_band(ax, trace, t, top - band_mv, top)  # the report's gain is the first lead's: this one keeps to its band
    ax.axhline(top, color="#b0b0b0", linewidth=0.6, zorder=1)  # where one lead's band ends and the next begins
    ticks = [(float(v + shift), float(v) + 0.0) for v in np.arange(np.ceil(top - band_mv - shift + 1e-9),
                                                                   np.floor(top - shift - 1e-9) + 1)]
    name_lead(ax, record.lead_names[lead], top - band_mv / 2)
    return top - band_mv, ticks


def clip_to_band(ax, trace, t: np.ndarray, low: float, high: float) -> None:
    """Clip ``trace`` (a line of ``ax``) to the band from ``low`` to ``high`` (the axes' units) over the times ``t``."""
    x0, x1 = (float(t[0]), float(t[-1])) if len(t) else (0.0, 1.0)
    trace.set_clip_box(TransformedBbox(Bbox([[x0, low], [x1, high]]), ax.transData))


def name_lead(ax, name: str, at_mv: float) -> None:
    """The lead's name and unit beside its band of a two-lead strip, where a one-lead strip has its axis label."""
    ax.text(-0.045, at_mv, f"{name} (mV)", rotation=90, fontsize=7, ha="center", va="center",
            transform=blended_transform_factory(ax.transAxes, ax.transData))


def find_strip_blocked_p(analysis: RecordAnalysis, lo: int, hi: int) -> np.ndarray:
    """The non-conducted P waves in samples ``[lo, hi)`` (:func:`app.analysis.find_blocked_p_samples`, looked for only
    when an AV-block region reaches the strip)."""
    if not any(r.kind in BLOCKED_KINDS and r.start < hi and r.stop > lo for r in analysis.regions):
        return np.zeros(0, np.int64)
    blocked = find_blocked_p_samples(analysis)
    return blocked[(blocked >= lo) & (blocked < hi)]


STRIP_CONTEXT_S = 1.5
"""Signal a strip shows before an event's onset when the event does not fit whole."""

EVENT_MARGIN_S, PAUSE_MARGIN_S = 0.5, 0.2
"""Signal a strip keeps on each side of an event it centres: a pause needs only the QRS complexes that bound it, so
one of up to 7.1 s is shown whole (a clinical read, session 48, noted 6.5-7.4-s pauses losing their closing beat)."""


def show_stretch_s(start_s: float, stop_s: float, margin_s: float = EVENT_MARGIN_S) -> float:
    """Start of a strip that shows a stretch: centred when it fits with ``margin_s`` to spare on each side (a pause
    with the beats that bound it), else from :data:`STRIP_CONTEXT_S` before its onset.

    >>> show_stretch_s(10.0, 16.0), show_stretch_s(10.0, 17.0), show_stretch_s(10.0, 17.0, PAUSE_MARGIN_S)
    (9.25, 8.5, 9.75)
    """
    if stop_s - start_s <= STRIP_S - 2 * margin_s:
        return (start_s + stop_s) / 2 - STRIP_S / 2
    return start_s - STRIP_CONTEXT_S


def strip_start_s(region: Region, fs_hz: float, duration_s: float = math.inf) -> float:
    """Start of the strip of a region (:func:`show_stretch_s`). An episode longer than a strip that began with the
    recording (within :data:`STRIP_CONTEXT_S`) has no onset to show: its end is shown instead when it ends within the
    record's ``duration_s`` (a clinical read, session 48, found 201's first strip 7.5 s of atrial fibrillation from the
    first second, while the episode's end, into a 3.7-s pause, was shown nowhere)."""
    start_s, stop_s = region.start / fs_hz, region.stop / fs_hz
    margin_s = PAUSE_MARGIN_S if region.kind == "pause" else EVENT_MARGIN_S
    if (start_s < STRIP_CONTEXT_S and stop_s - start_s > STRIP_S - 2 * margin_s
            and stop_s + STRIP_CONTEXT_S <= duration_s):
        return stop_s + STRIP_CONTEXT_S - STRIP_S
    return show_stretch_s(start_s, stop_s, margin_s)


REPEAT_OVERLAP = 0.6
"""Share of a strip's length another must show as well to be left out as a repeat (:func:`merge_repeated_strips`)."""

SHADE_GAP_S = 0.3
"""Shaded stretches this close or overlapping are one finding (a ventricular beat and the long interval after it)."""


def repeats(strip: Strip, other: Strip) -> bool:
    """Whether two strips show the same thing: :data:`REPEAT_OVERLAP` of the same stretch or more, and shaded
    stretches, where both have one, that overlap or touch (:func:`shades_touch`) or that both strips show whole (an
    isolated beat a few seconds from a run, off the run's strip, keeps a strip that marks it; a clinical read of
    session 57 found 121's supraventricular beat and its longest RR interval, 2 s apart, on two strips of the same
    7 s)."""
    if STRIP_S - abs(other.start_s - strip.start_s) < REPEAT_OVERLAP * STRIP_S:
        return False
    if strip.shaded is None or other.shaded is None or shades_touch(strip, other):
        return True
    return all(shows_whole(s, shaded) for s in (strip, other) for shaded in (strip.shaded, other.shaded))


def shades_touch(strip: Strip, other: Strip) -> bool:
    """Whether the two strips' shaded stretches overlap or lie within :data:`SHADE_GAP_S` of each other."""
    (a0, a1), (b0, b1) = strip.shaded, other.shaded
    return a0 <= b1 + SHADE_GAP_S and b0 <= a1 + SHADE_GAP_S


def shows_whole(strip: Strip, stretch: tuple[float, float]) -> bool:
    """Whether ``stretch`` (seconds) lies inside the strip, :data:`SHADE_GAP_S` from its edges."""
    return strip.start_s + SHADE_GAP_S <= stretch[0] and stretch[1] <= strip.start_s + STRIP_S - SHADE_GAP_S


def shaded_s(strip: Strip) -> float:
    """How long a stretch the strip shades (seconds); -1 when it shades none."""
    return -1.0 if strip.shaded is None else strip.shaded[1] - strip.shaded[0]


def merge_repeated_strips(strips: list[Strip]) -> list[Strip]:
    """``strips`` without those that repeat an earlier one (:func:`repeats`): the two become one, in the earlier's
    place, that shows the one with the longer shaded stretch, shades both and is titled with both ("...; also the
    longest RR interval (2.40 s)"). Clinical reads (session 48) found 207's longest-RR strip printed under its pause
    strip, its lowest-rate minute over its idioventricular rhythm's, and 202's longest RR beside the isolated
    ventricular beat before it: the same 7.5 s twice.

    >>> merged = merge_repeated_strips([Strip(10.0, "pause", (11.0, 14.0), name="pause"),
    ...                                 Strip(11.0, "RR", (11.0, 14.0), name="the longest RR"),
    ...                                 Strip(12.0, "beat", (16.0, 16.3)), Strip(12.5, "rate", name="the lowest rate"),
    ...                                 Strip(40.0, "lowest", name="the lowest"), Strip(41.0, "run", (42.0, 47.0)),
    ...                                 Strip(41.5, "V", (41.8, 42.1), name="a V beat")])
    >>> [(strip.start_s, strip.title, strip.shaded) for strip in merged]  # doctest: +NORMALIZE_WHITESPACE
    [(10.0, 'pause; also the longest RR; also the lowest rate', (11.0, 14.0)), (12.0, 'beat', (16.0, 16.3)),
     (41.0, 'run; also the lowest; also a V beat', (41.8, 47.0))]

    Two findings 2 s apart that both strips show whole: one strip, each stretch shaded (121, session 57).

    >>> one = merge_repeated_strips([Strip(1010.7, "RR", (1013.5, 1015.1), name="the longest RR"),
    ...                              Strip(1008.1, "S beat", (1011.7, 1012.0), name="an S beat")])
    >>> [(strip.title, strip.shaded, strip.also_shaded) for strip in one]
    [('RR; also an S beat', (1013.5, 1015.1), ((1011.7, 1012.0),))]
    >>> merge_repeated_strips(one + [Strip(1011.0, "V beat", (1013.5, 1013.8), name="a V beat")])[0].title
    'RR; also an S beat; also a V beat'

    A strip whose longer stretch would show it but not an S beat merged into the other before keeps its own strip.

    >>> kept = merge_repeated_strips([Strip(10.0, "V", (15.0, 15.3), also_shaded=((10.5, 10.8),)),
    ...                               Strip(12.5, "run", (14.0, 16.5))])
    >>> [(strip.start_s, strip.title) for strip in kept]
    [(10.0, 'V'), (12.5, 'run')]
    """
    kept: list[Strip] = []
    for strip in strips:
        merged = next(((k, m) for k, other in enumerate(kept) if repeats(strip, other)
                       for m in [merge_strips(strip, other)] if m is not None), None)
        if merged is None:
            kept.append(strip)
        else:
            kept[merged[0]] = merged[1]
    return kept


def merge_strips(strip: Strip, other: Strip) -> Strip | None:
    """One strip for two that repeat each other (:func:`repeats`): the one with the longer shaded stretch, titled with
    both; the other's stretch joined to its shading where they touch, else shaded on its own
    (:attr:`Strip.also_shaded`).
    None when a stretch either had shaded would fall outside the strip shown (one merged before from a third strip:
    a review of session 57), so that nothing its title names is off it."""
    shown, named = (strip, other) if shaded_s(strip) > shaded_s(other) else (other, strip)
    shaded, also = shown.shaded, shown.also_shaded + named.also_shaded
    if named.shaded is not None and shades_touch(shown, named):
        shaded = (min(shown.shaded[0], named.shaded[0]), max(shown.shaded[1], named.shaded[1]))
    elif named.shaded is not None:  # apart on the same strip: each shaded on its own
        also += (named.shaded,)
    if any(not shows_whole(shown, stretch) for stretch in also):
        return None
    return replace(shown, title=f"{shown.title}; also {named.name or named.title}",
                   name="; also ".join(part for part in (shown.name, named.name) if part), shaded=shaded,
                   also_shaded=also)  # a strip merged twice names all three (121, session 57)
