"""Full disclosure: the whole recording printed, one minute per line, 30 minutes per A4 page.

Holter reports offer it so that a reader can check any stretch on paper, and so that nothing the analysis left out
goes unseen. Each line is the primary lead in the monitoring bandwidth (0.5-40 Hz, :func:`pipeline.clean.clean_signal`,
so that baseline wander does not push a line into its neighbours; clipped so that they never overlap), with the
class of each beat that is not N above it, the unreadable stretches shaded grey and the patient's diary entries
marked. With two leads (``leads=2``, a record's analysed pair), each minute prints both, one above the other, and a
page holds 15 minutes: artefact in one lead is then told from an arrhythmia, which shows in both. The traces are drawn
as images
(:data:`RASTER_DPI`) so that a 24-hour record stays a PDF of a few megabytes; the text stays text.

Drawn with matplotlib's object API, headless; the PDF carries no creation date (same analysis, same bytes).
"""

from __future__ import annotations

import io
import math

import numpy as np
from matplotlib.backends.backend_pdf import FigureCanvasPdf, PdfPages
from matplotlib.figure import Figure

from app.analysis import RecordAnalysis
from app.report import A4_PORTRAIT_IN, CLASS_COLOURS, DISCLAIMER, format_clock
from pipeline.clean import clean_signal

LINE_S = 60.0
"""Seconds of signal per line."""
LINES_PER_PAGE = 30
RASTER_DPI = 200
LINE_SPACING_MV = 2.5
"""Vertical distance between two lines' baselines, in mV of the trace: a line is clipped to +-0.5 of it around its
median, so R waves up to about 1.2 mV are whole."""
FILTER_MARGIN_S = 10.0
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


def render_full_disclosure(analysis: RecordAnalysis, leads: int = 1) -> bytes:
    """The full disclosure of the record as PDF bytes, of one lead or of two (module docstring)."""
    buffer = io.BytesIO()
    columns = disclosure_leads(analysis.record, leads)
    n_pages = count_pages(analysis.record.duration_s, len(columns))
    with PdfPages(buffer, metadata={"CreationDate": None, "Creator": "ecg-arrhythmia"}) as pages:
        for page in range(min(n_pages, MAX_PAGES)):
            pages.savefig(draw_disclosure_page(analysis, page, n_pages, columns))
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


def draw_disclosure_page(analysis: RecordAnalysis, page: int, n_pages: int, leads: tuple[int, ...] | None = None
                         ) -> Figure:
    """Page ``page`` (0-based): a minute per line (a line per lead of ``leads``, the primary lead by default),
    :func:`minutes_per_page` minutes from the page's start."""
    record = analysis.record
    fs = record.fs_hz
    leads = (record.primary_lead,) if leads is None else leads
    figure = Figure(figsize=A4_PORTRAIT_IN)
    FigureCanvasPdf(figure)
    start_s = page * LINE_S * minutes_per_page(len(leads))
    end_s = min(start_s + LINE_S * minutes_per_page(len(leads)), record.duration_s)
    figure.suptitle(f"Record {record.name}: full disclosure, {format_clock(start_s)} to {format_clock(end_s)} "
                    f"(page {page + 1} of {n_pages})", fontsize=10, fontweight="bold", x=0.06, ha="left")
    names = " and ".join(record.lead_names[k] for k in leads)
    figure.text(0.06, 0.962, f"{names} (0.5-40 Hz), one minute per line{' each' if len(leads) > 1 else ''}, "
                f"{LINE_SPACING_MV:g} mV between lines; beats other than N labelled with their class; grey: unreadable; "
                "blue line: a diary entry.", fontsize=6, color="#555555")
    figure.text(0.06, 0.952, DISCLAIMER, fontsize=6, color="#555555")
    ax = figure.add_axes((0.09, 0.03, 0.89, 0.91))
    ax.set_xlim(0, LINE_S)
    ax.set_ylim(-(LINES_PER_PAGE - 0.5) * LINE_SPACING_MV, 0.6 * LINE_SPACING_MV)
    ax.axis("off")
    traces = [page_trace(record, start_s, end_s, lead) for lead in leads]
    samples, classes = analysis.predictions.samples, analysis.classes
    unreadable = [r for r in analysis.regions if r.kind == "unreadable"]
    half = 0.5 * LINE_SPACING_MV
    for minute in range(minutes_per_page(len(leads))):
        line_start = start_s + minute * LINE_S
        if line_start >= record.duration_s:
            break
        lo, hi = int(line_start * fs), min(int((line_start + LINE_S) * fs), record.n_samples)
        top = -minute * len(leads) * LINE_SPACING_MV  # the minute's first trace
        bottom = top - (len(leads) - 1) * LINE_SPACING_MV
        for k, (lead, (trace_mv, offset)) in enumerate(zip(leads, traces)):
            baseline = top - k * LINE_SPACING_MV
            trace = trace_mv[lo - offset:hi - offset]
            finite = trace[np.isfinite(trace)]
            centre = float(np.median(finite)) if finite.size else 0.0  # about 0 once filtered
            ax.plot(np.arange(hi - lo) / fs, np.clip(trace - centre, -half, 1.2 * half) + baseline, color="black",
                    linewidth=0.3, rasterized=True)
            label = format_clock(line_start) if k == 0 else ""
            if len(leads) > 1:
                label = f"{label} {record.lead_names[lead]}".strip()
            ax.text(-0.4, baseline, label, fontsize=5.5, ha="right", va="center", family="monospace")
        for region in unreadable:
            a, b = max(region.start, lo), min(region.stop, hi)
            if a < b:
                ax.fill_between([(a - lo) / fs, (b - lo) / fs], bottom - half, top + 1.2 * half,
                                color="#bdbdbd", alpha=0.5, linewidth=0)
        inside = (samples >= lo) & (samples < hi) & (classes != "N")
        for sample, label in zip(samples[inside], classes[inside]):
            ax.text((sample - lo) / fs, top + 1.25 * half, label, fontsize=4, ha="center", va="bottom",
                    color=CLASS_COLOURS.get(label, "k"))
        for entry in analysis.diary:
            if line_start <= entry.time_s < line_start + LINE_S:
                ax.plot([entry.time_s - line_start] * 2, [bottom - half, top + 1.2 * half], color="#1f77b4",
                        linewidth=0.8)
    return figure
