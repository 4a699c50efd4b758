"""Full disclosure: the whole recording printed, one minute per line, 30 minutes per A4 page.

Holter reports offer it so that a reader can check any stretch on paper, and so that nothing the analysis left out
goes unseen. Each line is the primary lead in the monitoring bandwidth (0.5-40 Hz, :func:`pipeline.clean.clean_signal`,
so that baseline wander does not push a line into its neighbours; clipped so that they never overlap), with the
class of each beat that is not N above it (none inside ventricular flutter/fibrillation, whose waves ran together as
"VVWVV"), the flagged episodes shaded and named where they start (:data:`EPISODE_SHADES`), the unreadable stretches
shaded grey and the patient's diary entries marked; times are clock times when the header gives the start; each lead
is scaled once for the record so that its complexes fit their line (:func:`lead_scale`), the labels in a band of their
own above it, and the header states the print scale (3.1 mm/s, 3.6 mm/mV at most). A clinical read (session 48) found
none of the events marked, labels sitting on the line above, 77 % of record 208's QRS complexes clipped, elapsed times
only and no scale. With two leads (``leads=2``, a record's analysed pair), each minute prints
both, one above the other, and a page holds 15 minutes: artefact in one lead is then told from an arrhythmia, which
shows in both. The traces are drawn as images (:data:`RASTER_DPI`) so that the text stays text and a 24-hour record a
PDF of about 11 MB (one lead) or 20 MB (two; a QA pass, session 48).

Drawn with matplotlib's object API, headless; the PDF carries no creation date (same analysis, same bytes).
"""

from __future__ import annotations

import io
import math
import textwrap
from dataclasses import dataclass

import numpy as np
from matplotlib.backends.backend_pdf import FigureCanvasPdf, PdfPages
from matplotlib.figure import Figure

from app.analysis import RecordAnalysis, find_wave_detections
from app.report import DISCLAIMER, format_clock
from app.strips import A4_PORTRAIT_IN, CLASS_COLOURS, format_clock_suffix
from pipeline.clean import clean_signal
from pipeline.diary import format_clock_time
from pipeline.regions import Region

LINE_S = 60.0
"""Seconds of signal per line."""
LINES_PER_PAGE = 30
RASTER_DPI = 100
"""Resolution of the traces' image (matplotlib's default figure resolution, which the pages have always had: until
session 50 this said 200 and was not used). At 3.1 mm/s a pixel is 0.08 s; 200 dpi would take four times the memory
each page keeps until the PDF is closed (:data:`TRACE_ZORDER`)."""
LINE_SPACING_MV = 2.5
"""Vertical distance between two lines' baselines, in the page's mV (the trace is scaled: :func:`lead_scale`)."""
TRACE_BAND_MV = (-0.75, 1.05)
"""Where a line's trace may go around its baseline (page mV; clipped there), below a band of 0.7 for the beat labels
before the next line's: labels sat on the line above and hid its deflections (a clinical read, session 48)."""
LABEL_OFFSET_MV = 1.1
SCALE_BLOCKS = 60
"""Blocks of 10 s, evenly spread, whose cleaned extent sets a lead's scale (:func:`lead_scale`)."""
FILTER_MARGIN_S = 10.0
EPISODE_SHADES = {
    "ventricular_flutter_fibrillation": ("VF", "#e41a1c"),
    "ventricular_tachycardia": ("VT", "#e41a1c"),
    "idioventricular_rhythm": ("IVR", "#fb9a99"),
    "atrial_fibrillation": ("AF", "#984ea3"),
    "supraventricular_tachycardia": ("SVT", "#377eb8"),
    "pause": ("pause", "#ff7f00"),
    "av_block_2_to_1": ("AVB", "#a65628"),  # second-degree AV block: 2:1, or a dropped beat
    "dropped_beat": ("AVB", "#a65628"),
}
"""Episodes shaded behind the lines, with the short name written where each starts (a clinical read, session 48,
found none of the analysis's events marked: a reader could not check them in context)."""
DIARY_COLOUR = "#2ca02c"
"""A diary entry's line: green, not the blue of the S labels."""
HEADER_CHARS = 170
"""Width of the header's lines (6 pt on A4)."""
AXES_BOX = (0.09, 0.03, 0.89, 0.905)
"""The page's drawing area (fractions of the page): its size gives the print scale stated in the header."""
TRACE_ZORDER = 2.0
"""The traces' drawing order; nothing else is drawn at it. Matplotlib draws each unbroken run of rasterized artists
into an image of its own, which keeps a view of a whole-page raster (4 MB at the figure's 100 dpi) until the PDF is
closed: when the rules between the two-lead pages' minutes were drawn in the traces' order, a page made 14 images and
held 55 MB, and a 24-hour two-lead disclosure about 5 GB more than the analysis (a QA pass, session 50;
``benchmarks/disclosure_memory.py``). All the traces of a page now make one image."""
MAX_PAGES = 200
"""Longest full disclosure (100 hours at 30 minutes a page); a longer record gets its first pages and a note."""


def count_pages(duration_s: float, n_leads: int = 1) -> int:
    """Pages of a record's full disclosure of ``n_leads`` leads (before :data:`MAX_PAGES`)."""
    return max(math.ceil(duration_s / (LINE_S * minutes_per_page(n_leads))), 1)


def minutes_per_page(n_leads: int) -> int:
    """Minutes a page holds: :data:`LINES_PER_PAGE` traces, ``n_leads`` per minute."""
    return LINES_PER_PAGE // n_leads


def disclosure_leads(record, leads: int) -> tuple[int, ...]:
    """The columns printed: the primary lead, then (for ``leads=2``) the other analysed lead when there is one."""
    others = [k for k in range(record.signal_mv.shape[1]) if k != record.primary_lead]
    return (record.primary_lead, *others[:leads - 1])


@dataclass(frozen=True)
class LeadScale:
    """How a lead is printed: its millivolts times ``factor`` on the page, shifted by ``shift_mv`` (page mV) so that its
    typical complexes sit in :data:`TRACE_BAND_MV`."""

    factor: float
    shift_mv: float


def lead_scale(record, lead: int) -> LeadScale:
    """The lead's print scale: its 10-s stretches (over :data:`SCALE_BLOCKS` blocks, the cleaned signal's 0.2nd to
    99.8th percentile; the 10th percentile of the lows, the 90th of the highs) fitted into :data:`TRACE_BAND_MV`, never
    enlarged. One scale per lead for the whole record; a clinical read (session 48) found 2,340 of record 208's 2,956
    QRS complexes clipped at the former fixed scale (23 % whole; 94 % now, ``tests/test_disclosure.py``).

    >>> from pipeline.types import Record
    >>> t = np.arange(600 * 360) / 360
    >>> s = lead_scale(Record("r", (1.8 * np.sin(2 * np.pi * 5 * t))[:, None], 360.0, ("MLII",), 0, 360.0), 0)
    >>> round(s.factor, 2), round(s.shift_mv, 2)  # a 3.6-mV wave in 1.8 mV, centred in TRACE_BAND_MV
    (0.5, 0.15)
    """
    fs = record.fs_hz
    block_s = 10.0
    lows, highs = [], []
    for start_s in np.unique(np.linspace(0, max(record.duration_s - block_s, 0), SCALE_BLOCKS)):
        values, _ = page_trace(record, start_s, start_s + block_s, lead)  # cleaned as the page prints it
        values = values[np.isfinite(values)]
        if values.size >= 3 * fs:
            low, high = np.percentile(values, (0.2, 99.8))
            lows.append(low)
            highs.append(high)
    if not lows:
        return LeadScale(1.0, 0.0)
    low, high = float(np.percentile(lows, 10)), float(np.percentile(highs, 90))
    band_low, band_high = TRACE_BAND_MV
    factor = min(1.0, (band_high - band_low) / max(high - low, 1e-6))
    return LeadScale(factor, (band_low + band_high) / 2 - factor * (low + high) / 2)


def render_full_disclosure(analysis: RecordAnalysis, leads: int = 1) -> bytes:
    """The full disclosure of the record as PDF bytes, of one lead or of two (module docstring)."""
    buffer = io.BytesIO()
    columns = disclosure_leads(analysis.record, leads)
    n_pages = count_pages(analysis.record.duration_s, len(columns))
    scales = [lead_scale(analysis.record, lead) for lead in columns]  # one scale a lead for every page
    with PdfPages(buffer, metadata={"CreationDate": None, "Creator": "ecg-arrhythmia"}) as pages:
        for page in range(min(n_pages, MAX_PAGES)):
            pages.savefig(draw_disclosure_page(analysis, page, n_pages, columns, scales))
    return buffer.getvalue()


def page_trace(record, start_s: float, end_s: float, lead: int | None = None) -> tuple[np.ndarray, int]:
    """Lead ``lead`` (the primary one by default) from ``start_s`` to ``end_s``, cleaned (filtered with
    :data:`FILTER_MARGIN_S` of signal on each side, so that the page's edges carry no filter transient), and the
    sample it starts at."""
    fs = record.fs_hz
    lo, hi = int(start_s * fs), min(int(end_s * fs) + 1, record.n_samples)
    margin = int(FILTER_MARGIN_S * fs)
    a, b = max(lo - margin, 0), min(hi + margin, record.n_samples)
    chunk = record.signal_mv[a:b, record.primary_lead if lead is None else lead]
    if np.isfinite(chunk).sum() > 3 * fs:
        chunk = clean_signal(chunk, fs)
    return chunk[lo - a:hi - a], lo


def draw_disclosure_page(analysis: RecordAnalysis, page: int, n_pages: int, leads: tuple[int, ...] | None = None,
                         scales: list[LeadScale] | None = None) -> Figure:
    """Page ``page`` (0-based): a minute per line (a line per lead of ``leads``, the primary lead by default),
    :func:`minutes_per_page` minutes from the page's start, each lead at its ``scales`` (:func:`lead_scale` when
    None)."""
    record = analysis.record
    fs = record.fs_hz
    leads = (record.primary_lead,) if leads is None else leads
    figure = Figure(figsize=A4_PORTRAIT_IN, dpi=RASTER_DPI)
    FigureCanvasPdf(figure)
    start_s = page * LINE_S * minutes_per_page(len(leads))
    end_s = min(start_s + LINE_S * minutes_per_page(len(leads)), record.duration_s)
    clock = record.start_time
    figure.suptitle(f"Record {record.name}: full disclosure, {format_clock(start_s)}"
                    f"{format_clock_suffix(start_s, clock)} to {format_clock(end_s)}{format_clock_suffix(end_s, clock)} "
                    f"(page {page + 1} of {n_pages})",
                    fontsize=10, fontweight="bold", x=0.06, ha="left")
    names = " and ".join(record.lead_names[k] for k in leads)
    scales = [lead_scale(record, lead) for lead in leads] if scales is None else scales
    y_range_mv = (LINES_PER_PAGE + 0.1) * LINE_SPACING_MV
    mm_per_s = 25.4 * A4_PORTRAIT_IN[0] * AXES_BOX[2] / LINE_S
    mm_per_mv = 25.4 * A4_PORTRAIT_IN[1] * AXES_BOX[3] / y_range_mv
    gains = ", ".join(f"{record.lead_names[lead]} {mm_per_mv * scale.factor:.1f} mm/mV"
                      for lead, scale in zip(leads, scales))
    shades = ", ".join(f"{short} {colour_name(colour)}" for short, colour in dict(EPISODE_SHADES.values()).items())
    figure.text(0.06, 0.968, textwrap.fill(
        f"{names} (0.5-40 Hz), one minute per line{' each' if len(leads) > 1 else ''} ({mm_per_s:.1f} mm/s; "
        f"{gains}); beats other than N labelled with their class (none inside flutter/fibrillation); shaded: {shades}, "
        "unreadable grey; green line: a diary entry.", HEADER_CHARS), fontsize=6, color="#555555", va="top")
    figure.text(0.06, 0.946, DISCLAIMER, fontsize=6, color="#555555")
    ax = figure.add_axes(AXES_BOX)
    ax.set_xlim(0, LINE_S)
    ax.set_ylim(-(LINES_PER_PAGE - 0.5) * LINE_SPACING_MV, 0.6 * LINE_SPACING_MV)
    ax.axis("off")
    traces = [page_trace(record, start_s, end_s, lead) for lead in leads]
    samples, classes = analysis.predictions.samples, analysis.classes
    unreadable = [r for r in analysis.regions if r.kind == "unreadable"]
    episodes = [r for r in analysis.regions if r.kind in EPISODE_SHADES]
    lettered = lettered_beats(analysis)
    half = 0.5 * LINE_SPACING_MV
    for minute in range(minutes_per_page(len(leads))):
        line_start = start_s + minute * LINE_S
        if line_start >= record.duration_s:
            break
        lo, hi = int(line_start * fs), min(int((line_start + LINE_S) * fs), record.n_samples)
        top = -minute * len(leads) * LINE_SPACING_MV  # the minute's first trace
        bottom = top - (len(leads) - 1) * LINE_SPACING_MV
        for k, (lead, (trace_mv, offset), scale) in enumerate(zip(leads, traces, scales)):
            baseline = top - k * LINE_SPACING_MV
            trace = scale.factor * trace_mv[lo - offset:hi - offset] + scale.shift_mv
            ax.plot(np.arange(hi - lo) / fs, np.clip(trace, *TRACE_BAND_MV) + baseline, color="black",
                    linewidth=0.3, rasterized=True, zorder=TRACE_ZORDER)
            stamp = format_clock_time(line_start, clock) or format_clock(line_start)  # clock time when known
            label = stamp if k == 0 else ""
            if len(leads) > 1:
                label = f"{label} {record.lead_names[lead]}".strip()
            ax.text(-0.4, baseline, label, fontsize=5.5, ha="right", va="center", family="monospace")
        for region in unreadable:
            a, b = max(region.start, lo), min(region.stop, hi)
            if a < b:
                ax.fill_between([(a - lo) / fs, (b - lo) / fs], bottom - half, top + 1.2 * half,
                                color="#bdbdbd", alpha=0.5, linewidth=0)
        for region in episodes:
            shade_episode(ax, region, lo, hi, fs, bottom - half, top + half)  # bands that meet, not overlap
        if minute and len(leads) > 1:  # a faint rule between minutes: each minute's pair of leads reads as one
            ax.axhline(top + half, color="#cccccc", linewidth=0.4, zorder=TRACE_ZORDER - 0.5)
        inside = (samples >= lo) & (samples < hi) & lettered
        for sample, label in zip(samples[inside], classes[inside]):
            ax.text((sample - lo) / fs, top + LABEL_OFFSET_MV, label, fontsize=4, ha="center", va="bottom",
                    color=CLASS_COLOURS.get(label, "k"), fontweight="bold")  # bold: 4-pt letters told apart
        for entry in analysis.diary:
            if line_start <= entry.time_s < line_start + LINE_S:
                ax.plot([entry.time_s - line_start] * 2, [bottom - half, top + 1.2 * half], color=DIARY_COLOUR,
                        linewidth=0.8, zorder=TRACE_ZORDER + 0.5)
    return figure


def shade_episode(ax, region: Region, lo: int, hi: int, fs: float, low_mv: float, high_mv: float) -> None:
    """The part of an episode (:data:`EPISODE_SHADES`) on the line from sample ``lo`` to ``hi`` shaded in its colour,
    its short name (a pause's with its length) written where it starts."""
    short, colour = EPISODE_SHADES[region.kind]
    a, b = max(region.start, lo), min(region.stop, hi)
    if a >= b:
        return
    ax.fill_between([(a - lo) / fs, (b - lo) / fs], low_mv, high_mv, color=colour, alpha=0.15, linewidth=0)
    if lo <= region.start < hi:
        ax.text((region.start - lo) / fs, low_mv, name_episode(region, fs), fontsize=4, ha="left", va="bottom",
                color=colour)


def name_episode(region: Region, fs_hz: float) -> str:
    """An episode's short name on a full disclosure line (:data:`EPISODE_SHADES`), a pause's with its length.

    >>> name_episode(Region("pause", 0, 900, 10, 2, 24.0, 1.0), 360.0)
    'pause 2.5 s'
    """
    short, _ = EPISODE_SHADES[region.kind]
    return f"{short} {(region.stop - region.start) / fs_hz:.1f} s" if region.kind == "pause" else short


def lettered_beats(analysis: RecordAnalysis) -> np.ndarray:
    """Boolean per beat: labelled with its class on a full disclosure line (those other than N, none inside flutter or
    fibrillation, whose waves ran together as "VVWVV")."""
    return (analysis.classes != "N") & ~find_wave_detections(analysis)


def colour_name(colour: str) -> str:
    """The word for one of :data:`EPISODE_SHADES`'s colours, for the page's key."""
    return {"#e41a1c": "red", "#fb9a99": "pink", "#984ea3": "purple", "#377eb8": "blue", "#ff7f00": "orange",
            "#a65628": "brown"}[colour]
