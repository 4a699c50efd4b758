"""Full disclosure: the whole recording printed, one minute per line, 30 minutes per A4 page.

Holter reports offer it so that a reader can check any stretch on paper, and so that nothing the analysis left out
goes unseen. Each line is the primary lead in the monitoring bandwidth (0.5-40 Hz, :func:`pipeline.clean.clean_signal`,
so that baseline wander does not push a line into its neighbours; clipped so that they never overlap), with the
class of each beat that is not N above it, the unreadable stretches shaded grey and the patient's diary entries
marked. The traces are drawn as images
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


def count_pages(duration_s: float) -> int:
    """Pages of a record's full disclosure (before :data:`MAX_PAGES`)."""
    return max(math.ceil(duration_s / (LINE_S * LINES_PER_PAGE)), 1)


def render_full_disclosure(analysis: RecordAnalysis) -> bytes:
    """The full disclosure of the record as PDF bytes (module docstring)."""
    buffer = io.BytesIO()
    n_pages = count_pages(analysis.record.duration_s)
    with PdfPages(buffer, metadata={"CreationDate": None, "Creator": "ecg-arrhythmia"}) as pages:
        for page in range(min(n_pages, MAX_PAGES)):
            pages.savefig(draw_disclosure_page(analysis, page, n_pages))
    return buffer.getvalue()


def page_trace(record, start_s: float, end_s: float) -> tuple[np.ndarray, int]:
    """The primary lead from ``start_s`` to ``end_s``, cleaned (filtered with :data:`FILTER_MARGIN_S` of signal on
    each side, so that the page's edges carry no filter transient), and the sample it starts at."""
    fs = record.fs_hz
    lo, hi = int(start_s * fs), min(int(end_s * fs) + 1, record.n_samples)
    margin = int(FILTER_MARGIN_S * fs)
    a, b = max(lo - margin, 0), min(hi + margin, record.n_samples)
    chunk = record.signal_mv[a:b, record.primary_lead]
    if np.isfinite(chunk).sum() > 3 * fs:
        chunk = clean_signal(chunk, fs)
    return chunk[lo - a:hi - a], lo


def draw_disclosure_page(analysis: RecordAnalysis, page: int, n_pages: int) -> Figure:
    """Page ``page`` (0-based): lines of :data:`LINE_S` seconds from ``page`` * 30 minutes."""
    record = analysis.record
    fs = record.fs_hz
    figure = Figure(figsize=A4_PORTRAIT_IN)
    FigureCanvasPdf(figure)
    start_s = page * LINE_S * LINES_PER_PAGE
    end_s = min(start_s + LINE_S * LINES_PER_PAGE, record.duration_s)
    figure.suptitle(f"Record {record.name}: full disclosure, {format_clock(start_s)} to {format_clock(end_s)} "
                    f"(page {page + 1} of {n_pages})", fontsize=10, fontweight="bold", x=0.06, ha="left")
    figure.text(0.06, 0.962, f"{record.primary_lead_name} (0.5-40 Hz), one minute per line, {LINE_SPACING_MV:g} mV "
                "between lines; beats other than N labelled with their class; grey: unreadable; blue line: a diary "
                "entry.", fontsize=6, color="#555555")
    figure.text(0.06, 0.952, DISCLAIMER, fontsize=6, color="#555555")
    ax = figure.add_axes((0.09, 0.03, 0.89, 0.91))
    ax.set_xlim(0, LINE_S)
    ax.set_ylim(-(LINES_PER_PAGE - 0.5) * LINE_SPACING_MV, 0.6 * LINE_SPACING_MV)
    ax.axis("off")
    lead, offset = page_trace(record, start_s, end_s)
    samples, classes = analysis.predictions.samples, analysis.classes
    unreadable = [r for r in analysis.regions if r.kind == "unreadable"]
    for line in range(LINES_PER_PAGE):
        line_start = start_s + line * LINE_S
        if line_start >= record.duration_s:
            break
        lo, hi = int(line_start * fs), min(int((line_start + LINE_S) * fs), record.n_samples)
        baseline = -line * LINE_SPACING_MV
        trace = lead[lo - offset:hi - offset]
        finite = trace[np.isfinite(trace)]
        centre = float(np.median(finite)) if finite.size else 0.0  # about 0 once filtered
        half = 0.5 * LINE_SPACING_MV
        ax.plot(np.arange(hi - lo) / fs, np.clip(trace - centre, -half, 1.2 * half) + baseline, color="black",
                linewidth=0.3, rasterized=True)
        ax.text(-0.4, baseline, format_clock(line_start), fontsize=5.5, ha="right", va="center", family="monospace")
        for region in unreadable:
            a, b = max(region.start, lo), min(region.stop, hi)
            if a < b:
                ax.fill_between([(a - lo) / fs, (b - lo) / fs], baseline - half, baseline + 1.2 * half,
                                color="#bdbdbd", alpha=0.5, linewidth=0)
        inside = (samples >= lo) & (samples < hi) & (classes != "N")
        for sample, label in zip(samples[inside], classes[inside]):
            ax.text((sample - lo) / fs, baseline + 1.25 * half, label, fontsize=4, ha="center", va="bottom",
                    color=CLASS_COLOURS.get(label, "k"))
        for entry in analysis.diary:
            if line_start <= entry.time_s < line_start + LINE_S:
                ax.plot([entry.time_s - line_start] * 2, [baseline - half, baseline + 1.2 * half], color="#1f77b4",
                        linewidth=0.8)
    return figure
