"""Plotly figures of the dashboard: whole-record overview, detail window, heart-rate trend, attention.

SVG traces only (no WebGL: it is missing in some browsers and mis-drew date axes in headless chromium).

Times go on Plotly date axes as milliseconds from 00:00:00, so that tick labels read hh:mm:ss at
every zoom level. A long record is never sent whole to the browser: the overview is a min/max
envelope of a few thousand points (:func:`decimate_minmax`) and only the detail window (at most
:data:`MAX_WINDOW_S`) is drawn at full resolution. Nothing here imports Streamlit.
"""

from __future__ import annotations

import textwrap

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from app import disclosure, ecg_paper as paper
from app.analysis import UNCOUNTED_KINDS
from app.strips import BLOCKED_P_COLOUR, STANDARD_GAIN_MM_PER_MV, largest_gain_fitting
from pipeline.families import beat_windows, median_beat, window_offsets
from pipeline.labels import AAMI_CLASSES
from pipeline.hrt import slope_line, tachogram_labels
from pipeline.qt import LONG_QTC_MS
from pipeline.st import template_offsets_ms
from pipeline.wording import capitalise_first, format_hms
from pipeline.regions import REGION_KINDS, Region, describe_kind, merge_intervals

MAX_WINDOW_S = 60.0
"""Longest detail window drawn at full resolution."""

MAX_OVERLAY_BEATS = 60
"""Beats superimposed in a family's overlay."""

OVERVIEW_BINS = 2000
"""Bins of the overview envelope (two points each: at most 4,000 points per lead)."""

CLASS_COLOURS = {"N": "#2b7bba", "S": "#e69f00", "V": "#d62728", "F": "#9467bd", "Q": "#7f7f7f"}
CLASS_NAMES = {"N": "N (normal)", "S": "S (supraventricular ectopic)", "V": "V (ventricular ectopic)",
               "F": "F (fusion)", "Q": "Q (paced or unclassifiable)"}
REGION_COLOURS = {
    "unreadable": "#9e9e9e",
    "ventricular_flutter_fibrillation": "#1a1a1a",
    "atrial_fibrillation": "#7b3294",
    "paced_rhythm": "#4d9221",
    "ventricular_tachycardia": "#b2182b",
    "idioventricular_rhythm": "#d6604d",
    "ventricular_couplet": "#f4a582",
    "isolated_ventricular": "#fddbc7",
    "ventricular_bigeminy": "#e7298a",
    "ventricular_trigeminy": "#f1b6da",
    "supraventricular_tachycardia": "#b35806",
    "supraventricular_run": "#e08214",
    "supraventricular_couplet": "#fdb863",
    "isolated_supraventricular": "#fee0b6",
    "supraventricular_bigeminy": "#bf812d",
    "supraventricular_trigeminy": "#dfc27d",
    "av_block_2_to_1": BLOCKED_P_COLOUR,  # its blocked P waves' marks take its colour
    "dropped_beat": "#92c5de",
    "pause": "#8c510a",
    "bradycardia": "#35978f",
    "tachycardia": "#01665e",
}
DIARY_COLOUR = "#1f77b4"
TIME_FORMAT = "%H:%M:%S"
HOVER_TIME = "%{x|%H:%M:%S.%L}"
DAY_S = 86_400.0
DAY_TIME_FORMAT = "day %-d, %H:%M:%S"
"""Times on charts that reach past 24 h: a date axis's hh:mm:ss starts again at 00:00:00 there, so the day is named
(day 1 the first 24 h of the record: :data:`AXIS_ORIGIN_MS` is the first of a month)."""
DAY_HOVER_TIME = "%{x|day %-d, %H:%M:%S.%L}"
TIME_TITLE, DAY_TIME_TITLE = "Time (hh:mm:ss)", "Time (day, hh:mm:ss; day 1 is the first 24 h)"
AXIS_ORIGIN_MS = 946_684_800_000.0
"""2000-01-01 00:00:00 UTC in ms: time zero of every chart (see :func:`to_axis_ms`)."""
_CHART_MARGIN = {"l": 50, "r": 20, "t": 30, "b": 30}


def kind_label(kind: str) -> str:
    """A region kind as words: ``"ventricular_couplet"`` -> ``"Ventricular couplet"``."""
    return capitalise_first(describe_kind(kind))


def label_days(figure: go.Figure, end_s: float, milliseconds: bool = False) -> go.Figure:
    """The figure with its time ticks, axis titles and hover times naming the day when it reaches past 24 h from the
    record's start (``end_s``; a QA pass found a 26-h trend's ticks reading 21:00:00 then 00:00:00); unchanged
    otherwise. ``milliseconds``: ticks to the millisecond."""
    if end_s <= DAY_S:
        return figure
    figure.update_xaxes(tickformat=DAY_TIME_FORMAT + (".%L" if milliseconds else ""))
    figure.for_each_xaxis(lambda axis: axis.update(title_text=DAY_TIME_TITLE) if axis.title.text == TIME_TITLE
                          else None)
    for trace in figure.data:
        if trace.hovertemplate:
            trace.hovertemplate = trace.hovertemplate.replace(HOVER_TIME, DAY_HOVER_TIME)
    return figure


def to_axis_ms(seconds) -> np.ndarray:
    """Seconds from the record start as date-axis values: milliseconds after :data:`AXIS_ORIGIN_MS`.

    Plotly.js reads small numbers on a date axis as years (2000 -> the year 2000), so times are
    counted from a midnight well away from the epoch; ticks then read hh:mm:ss from the record start.
    """
    return AXIS_ORIGIN_MS + np.asarray(seconds, dtype=np.float64) * 1000.0


def axis_list(seconds) -> np.ndarray:
    """Date-axis values for a trace (a new C-contiguous array, see :func:`contiguous`)."""
    return contiguous(to_axis_ms(seconds))


def contiguous(values) -> np.ndarray:
    """``values`` as a C-contiguous array: Plotly sends arrays as raw bytes, and a strided view (one
    lead of a multi-lead signal) must not be sent as its underlying, interleaved buffer."""
    return np.ascontiguousarray(values)


def decimate_minmax(values: np.ndarray, n_bins: int = OVERVIEW_BINS) -> tuple[np.ndarray, np.ndarray]:
    """Min/max envelope: per bin, the lowest and highest sample in time order.

    Keeps every peak (an R wave or an artefact stays visible at any length); a bin that is all
    NaN (missing signal) gives NaN, which draws as a gap.

    Parameters
    ----------
    values : np.ndarray
        (n_samples,) signal.
    n_bins : int
        Number of bins; the result has at most ``2 * n_bins`` points. A signal of at most that
        many samples is returned whole.

    Returns
    -------
    indices : np.ndarray
        int64 sample index of each point, ascending.
    envelope : np.ndarray
        float64 value of each point.
    """
    values = np.asarray(values, dtype=np.float64)
    n = len(values)
    if n <= 2 * n_bins:
        return np.arange(n, dtype=np.int64), values.copy()
    bin_size = int(np.ceil(n / n_bins))
    n_full = int(np.ceil(n / bin_size))
    padded = np.full(n_full * bin_size, np.nan)
    padded[:n] = values
    blocks = padded.reshape(n_full, bin_size)
    missing = np.isnan(blocks)
    lo = np.where(missing, np.inf, blocks).argmin(axis=1)
    hi = np.where(missing, -np.inf, blocks).argmax(axis=1)
    first, second = np.minimum(lo, hi), np.maximum(lo, hi)
    offsets = np.arange(n_full) * bin_size
    indices = np.stack([offsets + first, offsets + second], axis=1).reshape(-1)
    envelope = padded[indices]
    all_missing = np.repeat(missing.all(axis=1), 2)
    envelope[all_missing] = np.nan
    indices = np.minimum(indices, n - 1)
    return indices.astype(np.int64), envelope


def clamp_window(start_s: float, window_s: float, duration_s: float) -> tuple[float, float]:
    """Window start and length inside the record (length at most :data:`MAX_WINDOW_S` and the record)."""
    window_s = float(min(max(window_s, 1.0), MAX_WINDOW_S, duration_s))
    start_s = float(min(max(start_s, 0.0), max(duration_s - window_s, 0.0)))
    return start_s, window_s


def overview_figure(signal_mv: np.ndarray, fs_hz: float, lead_name: str, regions: tuple[Region, ...],
                    window: tuple[float, float] | None = None, n_bins: int = OVERVIEW_BINS,
                    diary: tuple[tuple[float, str], ...] = (),
                    envelope: tuple[np.ndarray, np.ndarray] | None = None) -> go.Figure:
    """Whole record at low resolution (one lead's envelope) with an event lane and the detail window.

    Parameters
    ----------
    signal_mv : np.ndarray
        (n_samples,) one lead in mV.
    fs_hz : float
        Sampling rate of ``signal_mv``.
    lead_name : str
        Shown on the y axis.
    regions : tuple of Region
        Flagged events, drawn as bars in a lane under the signal, one colour per kind.
    window : (start_s, window_s), optional
        The detail window, shaded.
    n_bins : int
        Envelope bins (see :func:`decimate_minmax`).
    diary : tuple of (time_s, text)
        The patient's diary entries, marked under the event lane (their text on hover).
    envelope : (indices, values), optional
        :func:`decimate_minmax` of ``signal_mv`` when already computed (a 24-h record's takes 0.2-0.9 s).
    """
    indices, envelope = decimate_minmax(signal_mv, n_bins) if envelope is None else envelope
    duration_s = len(signal_mv) / fs_hz
    figure = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.75, 0.25], vertical_spacing=0.04)
    figure.add_trace(go.Scatter(x=axis_list(indices / fs_hz), y=envelope, mode="lines", name=lead_name,
                                  line={"color": "#333333", "width": 1}, hovertemplate=HOVER_TIME + "<br>%{y:.2f} mV",
                                  showlegend=False), row=1, col=1)
    lanes = event_lane_traces(regions, fs_hz, duration_s)
    for trace in lanes:
        figure.add_trace(trace, row=2, col=1)
    if diary:
        figure.add_trace(go.Scatter(x=axis_list([t for t, _ in diary]), y=np.full(len(diary), -float(len(lanes))),
                                    mode="markers", name="Diary", text=[text for _, text in diary],
                                    marker={"symbol": "triangle-down", "size": 10, "color": DIARY_COLOUR},
                                    hovertemplate=HOVER_TIME + "<br>%{text}<extra>Diary</extra>"), row=2, col=1)
    if window is not None:
        start_s, window_s = window
        add_shapes(figure, span_shapes(figure, to_axis_ms(start_s), to_axis_ms(start_s + window_s), "all",
                                       fillcolor="#1f77b4", opacity=0.25, line={"width": 0}))
    figure.update_xaxes(type="date", tickformat=TIME_FORMAT, range=[to_axis_ms(0.0), to_axis_ms(duration_s)])
    figure.update_yaxes(title_text=f"{lead_name} (mV)", row=1, col=1)
    figure.update_yaxes(showticklabels=False, fixedrange=True, row=2, col=1)
    figure.update_layout(height=300, margin=_CHART_MARGIN, legend={"orientation": "h", "y": -0.25})
    return label_days(figure, duration_s)


def event_lane_traces(regions: tuple[Region, ...], fs_hz: float, duration_s: float) -> list[go.Scatter]:
    """One bar trace per region kind (x pairs separated by gaps); short events widened to stay visible, and bars
    that then overlap or touch drawn as one (the same picture: a 24-h record's 21,000 isolated V beats made 73,000
    points, 1.9 MB sent with every window move, where 500 bars show the same)."""
    min_width = int(np.ceil(duration_s / 500.0 * fs_hz))
    traces = []
    for level, kind in enumerate(kind for kind in REGION_KINDS if any(r.kind == kind for r in regions)):
        starts = np.array([r.start for r in regions if r.kind == kind], np.int64)
        stops = np.maximum(np.array([r.stop for r in regions if r.kind == kind], np.int64), starts + min_width)
        bars = merge_intervals(np.stack([starts, stops], axis=1)) / fs_hz
        x = np.concatenate([bars, np.full((len(bars), 1), np.nan)], axis=1).reshape(-1)
        traces.append(go.Scatter(x=axis_list(x), y=np.full(len(x), -level, dtype=float), mode="lines",
                                 name=kind_label(kind),
                                   line={"color": REGION_COLOURS[kind], "width": 8}, hoverinfo="name",
                                   legendgroup=kind))
    return traces


ROW_S = 10.0
"""Seconds per row of a longer detail window: it shows the primary lead in stacked rows of this length at one scale,
as a Holter page does, instead of squeezing up to a minute into one chart width."""

ROW_HEIGHT_PX = 170
"""Height of one stacked row."""

LEAD_ROW_PX = 220
"""Height per lead of a detail window of :data:`ROW_S` or less (every lead)."""

DETAIL_MARGIN = {**_CHART_MARGIN, "b": 40, "t": 60}

PX_PER_MM = 4.4
"""The detail chart's nominal scale on screen: a :data:`ROW_S` row 1,100 pixels wide is 250 mm of paper at 25 mm/s,
and millivolts are drawn at the window's gain on the same pixels per millimetre, so that at that width the squares
are square. A wider or narrower screen stretches time only; the amplitude scale stays the record's (a QA pass of
session 49 found it rescaled to each window's trace: 1 mV 106 px in one window of 232 and 59 px in one of 207, with
squares 2.8 times taller than wide)."""


def count_rows(window_s: float) -> int:
    """Stacked rows of a detail window of ``window_s``: 1 (every lead) up to :data:`ROW_S`, else one per
    :data:`ROW_S` begun (the last one may be shorter).

    >>> count_rows(5.0), count_rows(10.0), count_rows(15.0), count_rows(60.0)
    (1, 1, 2, 6)
    """
    return max(int(np.ceil(window_s / ROW_S - 1e-9)), 1)


def row_span_mv(height_px: float, n_rows: int, spacing: float, gain_mm_per_mv: float) -> float:
    """Millivolts one row of a detail chart ``height_px`` high with ``n_rows`` rows (``spacing``: the gap between
    rows, a share of the plot's height) spans at ``gain_mm_per_mv`` on :data:`PX_PER_MM`.

    >>> round(row_span_mv(2 * LEAD_ROW_PX + 110, 2, 0.03, 10.0), 2), round(row_span_mv(6 * ROW_HEIGHT_PX + 110, 6,
    ...                                                                              0.25 / 6, 10.0), 2)
    (4.96, 3.09)
    """
    plot_px = height_px - DETAIL_MARGIN["t"] - DETAIL_MARGIN["b"]
    row_px = plot_px * (1 - (n_rows - 1) * spacing) / n_rows
    return row_px / (gain_mm_per_mv * PX_PER_MM)


def detail_layout(window_s: float, n_leads: int) -> tuple[int, int, float]:
    """A detail window's rows, height (px) and gap between rows (a share of the plot's height): one row per lead up
    to :data:`ROW_S`, else one per :data:`ROW_S` of the primary lead (:func:`count_rows`).

    >>> detail_layout(10.0, 2), detail_layout(60.0, 2)
    ((2, 550, 0.03), (6, 1130, 0.041666666666666664))
    """
    rows = count_rows(window_s)
    if rows > 1:
        return rows, ROW_HEIGHT_PX * rows + 110, 0.25 / rows
    return n_leads, LEAD_ROW_PX * n_leads + 110, 0.03


def trace_extent(values: np.ndarray, room_mv: float = 0.0) -> tuple[float, float]:
    """Lowest and highest value of a row's trace, with ``room_mv`` above it (for beat letters); (0, 0) when the row
    holds no finite value."""
    finite = values[np.isfinite(values)]
    if not finite.size:
        return 0.0, room_mv
    return float(finite.min()), float(finite.max()) + room_mv


def centred_range(low: float, high: float, span_mv: float) -> list[float]:
    """A row's millivolt range: ``span_mv`` wide, centred on ``[low, high]``."""
    middle = (low + high) / 2
    return [middle - span_mv / 2, middle + span_mv / 2]


def window_gain_mm_per_mv(signal_mv: np.ndarray, fs_hz: float, start_s: float, window_s: float, primary_lead: int,
                          record_gain_mm_per_mv: float = STANDARD_GAIN_MM_PER_MV) -> float:
    """The gain a detail window is drawn at: the record's (:func:`app.strips.strip_gain_mm_per_mv`, what its report's
    strips use), or the next lower standard gain at which every row's trace fits its row (a tall artefact or ectopic
    beat; the caption then says so), down to the lowest.

    >>> t = np.arange(3600) / 360.0
    >>> tall = np.stack([5.0 * (np.sin(2 * np.pi * t) > 0.99), np.zeros(3600)], axis=1)
    >>> window_gain_mm_per_mv(tall, 360.0, 0.0, 10.0, 0), window_gain_mm_per_mv(tall / 4, 360.0, 0.0, 10.0, 0)
    (5.0, 10.0)
    """
    n_samples, n_leads = signal_mv.shape
    start_s, window_s = clamp_window(start_s, window_s, n_samples / fs_hz)
    lo, hi = int(start_s * fs_hz), min(int(np.ceil((start_s + window_s) * fs_hz)), n_samples)
    leads = [primary_lead] if count_rows(window_s) > 1 else list(range(n_leads))
    needed = max(float(np.subtract(*trace_extent(signal_mv[lo:hi, lead],
                                                    LABEL_ROOM_MV if lead == primary_lead else 0.0)[::-1]))
                 for lead in leads)
    rows, height, spacing = detail_layout(window_s, n_leads)
    row_mm = row_span_mv(height, rows, spacing, 1.0)  # millivolts at 1 mm/mV: the row's height in mm
    return min(record_gain_mm_per_mv, largest_gain_fitting(needed, row_mm))


def detail_figure(signal_mv: np.ndarray, fs_hz: float, lead_names: tuple[str, ...], start_s: float,
                  window_s: float, beat_samples: np.ndarray, beat_classes: np.ndarray,
                  regions: tuple[Region, ...], primary_lead: int = 0,
                  disagreements: list[tuple[int, str]] | None = None,
                  reviewed: np.ndarray | None = None, diary: tuple[tuple[float, str], ...] = (),
                  gain_mm_per_mv: float | None = None, blocked_p_samples: np.ndarray | None = None,
                  chosen: Region | None = None, chosen_beat: int | None = None,
                  calipers_s: tuple[float, float] | None = None, added: np.ndarray | None = None,
                  deleted_samples: np.ndarray | None = None,
                  af_words: dict[bool, np.ndarray] | None = None) -> go.Figure:
    """Full-resolution view of one window, flagged regions shaded and the beat labels per class on the primary lead.

    A window of up to :data:`ROW_S` shows every lead, the primary one on top; a longer one shows the primary lead in
    stacked rows of :data:`ROW_S` (the last one may be shorter), each on ECG paper at the same scale: the gain
    ``gain_mm_per_mv`` (:func:`window_gain_mm_per_mv` of the window at the standard 10 mm/mV when None) on
    :data:`PX_PER_MM`, every row centred on its trace.

    Parameters
    ----------
    signal_mv : np.ndarray
        (n_samples, n_leads) in mV.
    fs_hz : float
        Sampling rate.
    lead_names : tuple of str
        One per column.
    start_s, window_s : float
        The window (clamped to the record and to :data:`MAX_WINDOW_S`).
    beat_samples, beat_classes : np.ndarray
        R peaks (samples) and their class letters.
    regions : tuple of Region
        Flagged events; those overlapping the window are shaded in their kind's colour.
    primary_lead : int
        Lead the beat labels are drawn on.
    disagreements : list of (sample, text), optional
        Beats where the reference annotation differs (marked with a cross and the reference label).
    reviewed : np.ndarray, optional
        Boolean per beat: a reader corrected its class (its letter gets an asterisk).
    diary : tuple of (time_s, text)
        The patient's diary entries; those in the window are dashed lines with their text.
    gain_mm_per_mv : float, optional
        One of the standard gains (:data:`app.strips.STANDARD_GAINS_MM_PER_MV`).
    blocked_p_samples : np.ndarray, optional
        Non-conducted P waves (:func:`app.analysis.find_blocked_p_samples`), marked ``p`` above them on the primary
        lead.
    chosen : Region, optional
        The event chosen in the picker or the event list, outlined (:func:`outline_chosen`).
    chosen_beat : int, optional
        The sample of the beat chosen in the beat panel, marked on every lead shown (:func:`mark_chosen_beat`).
    calipers_s : (float, float), optional
        A span (s into the recording) measured with the calipers, drawn with its length (:func:`draw_calipers`).
    added : np.ndarray, optional
        Boolean per beat: a reader added the beat (its letter gets a ``+``).
    deleted_samples : np.ndarray, optional
        Where a reader deleted a detection (a grey cross and "deleted" above the trace, :func:`deleted_beat_trace`).
    af_words : dict, optional
        The stretches a reader stated atrial fibrillation/flutter (True) or ruled it out (False)
        (:func:`app.analysis.net_af_edits`), a bar at the top of the primary lead's rows (:func:`mark_af_words`).

    With Streamlit's ``on_select``, a click gives a point (the beat's sample is the ``customdata`` of its letter,
    :func:`beat_label_traces`), and a drag with the toolbar's Box Select tool a span across the chart's whole height
    (``selectdirection="h"``) for the calipers. A drag zooms until that tool is chosen, and measures again while
    calipers are shown (``dragmode``): Streamlit turns a click into a selection only while a drag zooms or pans, and
    sets the tool the figure names at every rerun.
    """
    n_samples, n_leads = signal_mv.shape
    start_s, window_s = clamp_window(start_s, window_s, n_samples / fs_hz)
    lo, hi = int(start_s * fs_hz), min(int(np.ceil((start_s + window_s) * fs_hz)), n_samples)
    if gain_mm_per_mv is None:
        gain_mm_per_mv = window_gain_mm_per_mv(signal_mv, fs_hz, start_s, window_s, primary_lead)
    primary, n_rows = signal_mv[:, primary_lead], count_rows(window_s)
    stacked = n_rows > 1
    if stacked:  # rows counted from the window's length, not its samples, which rounding at a fractional start can
        row_n = int(round(ROW_S * fs_hz))  # make one more than a whole number of rows
        spans = [(lo + k * row_n, min(lo + (k + 1) * row_n, hi)) for k in range(n_rows)]
        _, height, spacing = detail_layout(window_s, n_leads)
        figure = make_subplots(rows=len(spans), cols=1, vertical_spacing=spacing)
        rr_labels = []
        for row, (row_lo, row_hi) in enumerate(spans, start=1):
            add_lead_trace(figure, row, primary, fs_hz, row_lo, row_hi, lead_names[primary_lead])
            mark_beats(figure, row, primary, fs_hz, row_lo, row_hi, beat_samples, beat_classes, disagreements,
                       reviewed, added, deleted_samples)
            rr_labels += list_rr_labels(row, fs_hz, row_lo, row_hi, beat_samples, regions)
            mark_af_words(figure, af_words, fs_hz, row_lo, row_hi, row)
            mark_blocked_p(figure, row, primary, fs_hz, row_lo, row_hi, blocked_p_samples)
            shade_regions(figure, regions, fs_hz, row_lo, row_hi, row=row)
            outline_chosen(figure, chosen, fs_hz, row_lo, row_hi, row=row)
            mark_chosen_beat(figure, chosen_beat, fs_hz, row_lo, row_hi, row=row)
            draw_calipers(figure, calipers_s, fs_hz, row_lo, row_lo + row_n, row=row)
            mark_diary(figure, diary, fs_hz, row_lo, row_hi, row=row)
            figure.update_xaxes(type="date", range=[to_axis_ms(row_lo / fs_hz), to_axis_ms(row_lo / fs_hz + ROW_S)],
                                row=row, col=1)
            draw_ecg_paper(figure, row_lo / fs_hz, row_lo / fs_hz + ROW_S, row=row, gain_mm_per_mv=gain_mm_per_mv)
        hide_repeated_legend_entries(figure)
        figure.update_yaxes(title_text=f"{lead_names[primary_lead]} (mV)", row=1, col=1)
        span_mv = row_span_mv(height, len(spans), spacing, gain_mm_per_mv)
        low, high = trace_extent(primary[lo:hi], LABEL_ROOM_MV)
        for row in range(1, len(spans) + 1):  # every row at one scale and one level, as on a Holter page
            figure.update_yaxes(range=centred_range(low, high, span_mv), row=row, col=1)
    else:
        _, height, spacing = detail_layout(window_s, n_leads)
        figure = make_subplots(rows=n_leads, cols=1, shared_xaxes=True, vertical_spacing=spacing)
        order = [primary_lead] + [lead for lead in range(n_leads) if lead != primary_lead]
        for row, lead in enumerate(order, start=1):
            add_lead_trace(figure, row, signal_mv[:, lead], fs_hz, lo, hi, lead_names[lead])
            figure.update_yaxes(title_text=f"{lead_names[lead]} (mV)", row=row, col=1)
        mark_beats(figure, 1, primary, fs_hz, lo, hi, beat_samples, beat_classes, disagreements, reviewed, added,
                   deleted_samples)
        rr_labels = list_rr_labels(1, fs_hz, lo, hi, beat_samples, regions)
        mark_af_words(figure, af_words, fs_hz, lo, hi, 1)
        mark_blocked_p(figure, 1, primary, fs_hz, lo, hi, blocked_p_samples)
        shade_regions(figure, regions, fs_hz, lo, hi)
        outline_chosen(figure, chosen, fs_hz, lo, hi)
        mark_chosen_beat(figure, chosen_beat, fs_hz, lo, hi)
        draw_calipers(figure, calipers_s, fs_hz, lo, hi)
        mark_diary(figure, diary, fs_hz, lo, hi)
        figure.update_xaxes(type="date", range=[to_axis_ms(lo / fs_hz), to_axis_ms(hi / fs_hz)])
        draw_ecg_paper(figure, lo / fs_hz, hi / fs_hz, gain_mm_per_mv=gain_mm_per_mv)
        span_mv = row_span_mv(height, n_leads, spacing, gain_mm_per_mv)
        for row, lead in enumerate(order, start=1):  # room above the primary lead's beat letters
            low, high = trace_extent(signal_mv[lo:hi, lead], LABEL_ROOM_MV if lead == primary_lead else 0.0)
            figure.update_yaxes(range=centred_range(low, high, span_mv), row=row, col=1)
    figure.update_layout(height=height, margin=DETAIL_MARGIN, selectdirection="h",
                         dragmode="zoom" if calipers_s is None else "select",
                         legend={"orientation": "h", "x": 0, "y": 1.03, "yanchor": "bottom"},  # above: clear of times
                         annotations=[*figure.layout.annotations, *rr_labels])
    keep_undimmed(figure)
    return label_days(figure, hi / fs_hz)


def add_lead_trace(figure: go.Figure, row: int, lead_mv: np.ndarray, fs_hz: float, lo: int, hi: int,
                   name: str) -> None:
    """One lead's samples ``[lo, hi)`` as a black line on ``row``."""
    figure.add_trace(go.Scatter(x=axis_list(np.arange(lo, hi) / fs_hz), y=contiguous(lead_mv[lo:hi]), mode="lines",
                                name=name, line={"color": "#222222", "width": 1}, showlegend=False,
                                hovertemplate=HOVER_TIME + "<br>%{y:.3f} mV"), row=row, col=1)


def mark_beats(figure: go.Figure, row: int, lead_mv: np.ndarray, fs_hz: float, lo: int, hi: int,
               beat_samples: np.ndarray, beat_classes: np.ndarray, disagreements: list[tuple[int, str]] | None,
               reviewed: np.ndarray | None, added: np.ndarray | None = None,
               deleted_samples: np.ndarray | None = None) -> None:
    """The beat letters of samples ``[lo, hi)`` on ``row``, the reference's disagreements when given, and where a
    reader deleted a detection."""
    in_window = (beat_samples >= lo) & (beat_samples < hi)
    for trace in beat_label_traces(lead_mv, fs_hz, beat_samples[in_window], np.asarray(beat_classes)[in_window],
                                   None if reviewed is None else np.asarray(reviewed)[in_window],
                                   None if added is None else np.asarray(added)[in_window]):
        figure.add_trace(trace, row=row, col=1)
    deleted = np.asarray([] if deleted_samples is None else deleted_samples, np.int64)
    if np.any((deleted >= lo) & (deleted < hi)):
        figure.add_trace(deleted_beat_trace(lead_mv, fs_hz, deleted[(deleted >= lo) & (deleted < hi)]), row=row, col=1)
    if disagreements and any(lo <= s < hi for s, _ in disagreements):
        figure.add_trace(disagreement_trace(lead_mv, fs_hz, disagreements, lo, hi), row=row, col=1)


RR_TEXT_COLOUR = "#555555"
RR_TEXT_BACKING = "rgba(255, 255, 255, 0.8)"
"""Behind each RR label: on the grid and an event's shading (AF with a tachycardia over it) the grey figures were lost
(a clinical read through a browser, session 61)."""
RR_EDGE_S = 0.12
"""A label whose interval's middle lies this close to the row's end is set flush right of it, not centred."""


def list_rr_labels(row: int, fs_hz: float, lo: int, hi: int, beat_samples: np.ndarray,
                   regions: tuple[Region, ...] = ()) -> list[dict]:
    """The RR intervals (ms) whose middle lies in samples ``[lo, hi)``, as annotations for the foot of ``row`` under
    the middle of each interval, as a Holter strip prints them (a clinical read of the dashboard, session 60: no RR
    values on the chart); none whose middle lies in a region of :data:`app.analysis.UNCOUNTED_KINDS` (flutter or
    fibrillation waves, unreadable signal: an interval across it reads as a pause never flagged). Plain dicts, added to the
    figure at once: one ``add_annotation`` each took 2.9 s for a 60-s window at 200 bpm (a code review, session 61)."""
    samples = np.asarray(beat_samples, np.int64)
    middles = (samples[:-1] + samples[1:]) / 2
    keep = (middles >= lo) & (middles < hi)
    for region in regions:
        if region.kind in UNCOUNTED_KINDS:
            keep &= ~((middles >= region.start) & (middles < region.stop))
    axis = "" if row == 1 else str(row)
    near_end = hi - RR_EDGE_S * fs_hz  # a label centred there ran off the chart's right edge (session 61)
    return [{"x": to_axis_ms(middles[k] / fs_hz), "xref": f"x{axis}", "y": 0.0, "yref": f"y{axis} domain",
             "text": f"{1000 * (samples[k + 1] - samples[k]) / fs_hz:.0f}", "showarrow": False, "yanchor": "bottom",
             "xanchor": "right" if middles[k] > near_end else "center", "bgcolor": RR_TEXT_BACKING,
             "font": {"color": RR_TEXT_COLOUR, "size": 10}} for k in np.flatnonzero(keep).tolist()]


AF_WORD_STYLES = {True: ("Atrial fib./flutter stated by the reader", "#7b3294"),
                  False: ("Atrial fib./flutter ruled out by the reader", "#888888")}
"""Legend name and colour of the bar over a stretch where a reader stated atrial fibrillation/flutter or ruled it out
(:func:`mark_af_words`)."""


def mark_af_words(figure: go.Figure, af_words: dict[bool, np.ndarray] | None, fs_hz: float, lo: int, hi: int,
                  row: int) -> None:
    """A bar along the top of ``row`` over each stretch of samples ``[lo, hi)`` where a reader stated AF/flutter or
    ruled it out, named in the legend (words on the chart overlapped each other and the beat letters: a code review):
    a stated episode was drawn as the analysis's own and a ruled-out stretch not at all (session 63's notes)."""
    if not af_words:
        return
    axis = "" if row == 1 else str(row)
    shapes = []
    for is_af, stretches in af_words.items():
        name, colour = AF_WORD_STYLES[is_af]
        inside = [(a, b) for a, b in np.asarray(stretches, np.int64).reshape(-1, 2).tolist() if b > lo and a < hi]
        shapes += [{"type": "rect", "xref": f"x{axis}", "yref": f"y{axis} domain",
                    "x0": to_axis_ms(max(a, lo) / fs_hz), "x1": to_axis_ms(min(b, hi) / fs_hz), "y0": 0.965,
                    "y1": 1.0, "fillcolor": colour, "opacity": 0.8, "line": {"width": 0}, "layer": "above"}
                   for a, b in inside]
        if inside:
            figure.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=name, legendgroup=name,
                                        legendrank=48, marker={"symbol": "square", "size": 12, "color": colour}),
                             row=row, col=1)
    add_shapes(figure, shapes)


def mark_blocked_p(figure: go.Figure, row: int, lead_mv: np.ndarray, fs_hz: float, lo: int, hi: int,
                   blocked_p_samples: np.ndarray | None) -> None:
    """An italic ``p`` over each non-conducted P wave of samples ``[lo, hi)`` on ``row``, nothing when none."""
    samples = np.asarray([] if blocked_p_samples is None else blocked_p_samples, np.int64)
    samples = samples[(samples >= lo) & (samples < hi)]
    if not len(samples):
        return
    figure.add_trace(go.Scatter(x=axis_list(samples / fs_hz), y=label_heights(lead_mv, samples), mode="text",
                                text=["<i>p</i>"] * len(samples), textposition="top center", cliponaxis=False,
                                textfont={"color": BLOCKED_P_COLOUR, "size": 13}, name="non-conducted P wave",
                                legendgroup="blocked_p",
                                hovertemplate=HOVER_TIME + "<br>non-conducted P wave (AV block)<extra></extra>"),
                     row=row, col=1)


def mark_diary(figure: go.Figure, diary: tuple[tuple[float, str], ...], fs_hz: float, lo: int, hi: int,
               row: int | str = "all") -> None:
    """The diary entries within samples ``[lo, hi)``: a dashed line (on ``row``, every row by default) and the
    entry's text at the bottom of the first row it is drawn on, without a backing (the whole entry on hover). At the
    top, where it was until session 35, its white backing hid the class letters of the beats beside it; at the bottom
    a backing hid the reference's disagreement crosses. The line is drawn under the traces, clear of the letters."""
    for time_s, text in diary:
        if lo / fs_hz <= time_s < hi / fs_hz:
            figure.add_vline(x=to_axis_ms(time_s), line={"color": DIARY_COLOUR, "dash": "dash", "width": 1.5},
                             layer="below", row=row, col=1)
            first = 1 if row == "all" else row
            figure.add_annotation(x=to_axis_ms(time_s), y=0.0, yref=f"y{'' if first == 1 else first} domain",
                                  text=f"Diary: {textwrap.shorten(text, 40)}", showarrow=False, xanchor="left",
                                  yanchor="bottom", font={"color": DIARY_COLOUR}, hovertext=text,
                                  row=first, col=1)  # under the trace, clear of the beat letters above it


def hide_repeated_legend_entries(figure: go.Figure) -> None:
    """One legend entry per name: the stacked rows repeat the class and region traces."""
    seen = set()
    for trace in figure.data:
        if trace.showlegend is False:
            continue
        if trace.name in seen:
            trace.showlegend = False
        seen.add(trace.name)


def draw_ecg_paper(figure: go.Figure, start_s: float, stop_s: float, row: int | None = None,
                   gain_mm_per_mv: float = STANDARD_GAIN_MM_PER_MV) -> None:
    """ECG paper (:mod:`app.ecg_paper`) on ``row`` (every subplot by default): large squares of 0.2 s by 5 mm (0.5 mV
    at the standard 10 mm/mV, 1 mV at 5 mm/mV), small ones of 0.04 s by 1 mm, times labelled every second (hh:mm:ss).
    A drawn span is at most :data:`ROW_S` long, so the small squares stay readable."""
    large_mv = paper.LARGE_SQUARE_MV * STANDARD_GAIN_MM_PER_MV / gain_mm_per_mv
    small_mv = paper.SMALL_SQUARE_MV * STANDARD_GAIN_MM_PER_MV / gain_mm_per_mv
    ticks = np.arange(np.ceil(start_s / paper.LARGE_SQUARE_S - 1e-9),
                      np.floor(stop_s / paper.LARGE_SQUARE_S + 1e-9) + 1) * paper.LARGE_SQUARE_S
    labelled = np.isclose(np.remainder(ticks + 1e-9, 1.0), 0.0, atol=1e-6)
    text = [format_hms(t) if keep else "" for t, keep in zip(ticks, labelled)]
    where = {} if row is None else {"row": row, "col": 1}
    figure.update_xaxes(tickmode="array", tickvals=axis_list(ticks).tolist(), ticktext=text, showgrid=True,
                        gridcolor=paper.LARGE_LINE_COLOUR, minor={"dtick": 1000 * paper.SMALL_SQUARE_S,
                                                                  "tick0": AXIS_ORIGIN_MS, "showgrid": True,
                                                                  "gridcolor": paper.SMALL_LINE_COLOUR}, **where)
    figure.update_yaxes(dtick=large_mv, tick0=0.0, showgrid=True, gridcolor=paper.LARGE_LINE_COLOUR,
                        zeroline=False, minor={"dtick": small_mv, "gridcolor": paper.SMALL_LINE_COLOUR,
                                               "showgrid": True}, **where)
    figure.update_layout(plot_bgcolor="#ffffff")


LABEL_ROOM_MV = 0.8
"""Space above the primary lead's highest point in the detail chart for the beat letters (0.15 mV above the peak,
:func:`label_heights`, then the letter itself)."""


def beat_label_traces(lead_mv: np.ndarray, fs_hz: float, samples: np.ndarray, classes: np.ndarray,
                      reviewed: np.ndarray | None = None, added: np.ndarray | None = None) -> list[go.Scatter]:
    """One marker-and-letter trace per class, placed just above each R peak (``+``: added by a reader, ``*``: class
    corrected by a reader); each point's ``customdata`` is its beat's sample."""
    heights = label_heights(lead_mv, samples)
    none = np.zeros(len(samples), bool)
    marks = np.char.add(np.where(none if added is None else added, "+", ""),
                        np.where(none if reviewed is None else reviewed, "*", ""))
    traces = []
    for letter in AAMI_CLASSES:
        chosen = classes == letter
        if not np.any(chosen):
            continue
        traces.append(go.Scatter(x=axis_list(samples[chosen] / fs_hz), y=heights[chosen], mode="markers+text",
                                 customdata=np.asarray(samples[chosen], np.int64),  # the beat, for a click on it
                                 text=[letter + mark for mark in marks[chosen]], textposition="top center",
                                 cliponaxis=False,
                                 textfont={"color": CLASS_COLOURS[letter], "size": 13},
                                 marker={"color": CLASS_COLOURS[letter], "size": 7, "symbol": "triangle-down"},
                                 name=CLASS_NAMES[letter], legendgroup=f"class_{letter}",
                                 legendrank=1 + AAMI_CLASSES.index(letter),  # classes first, in their order
                                 hovertemplate=HOVER_TIME + f"<br>beat {letter}<extra></extra>"))
    return traces


def deleted_beat_trace(lead_mv: np.ndarray, fs_hz: float, samples: np.ndarray) -> go.Scatter:
    """Grey crosses where a reader deleted a detection, with "deleted" above them: the complex, now without a letter,
    is told from one the detector missed (a clinical read, session 64)."""
    return go.Scatter(x=axis_list(samples / fs_hz), y=label_heights(lead_mv, samples), mode="markers+text",
                      text=["deleted"] * len(samples), textposition="top center", cliponaxis=False,
                      textfont={"color": "#888888", "size": 11}, marker={"symbol": "x-thin-open", "size": 9,
                                                                          "color": "#888888", "line": {"width": 2}},
                      name="Deleted by the reader", legendgroup="deleted_by_reader", legendrank=49,
                      hovertemplate=HOVER_TIME + "<br>detection deleted by the reader<extra></extra>")


def label_heights(lead_mv: np.ndarray, samples: np.ndarray, half_width: int = 20) -> np.ndarray:
    """Height for each beat's label: a little above the highest point near its R peak (0 when missing)."""
    heights = np.zeros(len(samples))
    for k, sample in enumerate(samples):
        segment = lead_mv[max(sample - half_width, 0): sample + half_width + 1]
        top = np.nanmax(segment) if np.any(np.isfinite(segment)) else 0.0
        heights[k] = top + 0.15
    return heights


def disagreement_trace(lead_mv: np.ndarray, fs_hz: float, disagreements: list[tuple[int, str]],
                       lo: int, hi: int) -> go.Scatter:
    """Crosses under the beats where the reference differs, with the reference's label."""
    chosen = [(s, text) for s, text in disagreements if lo <= s < hi]
    samples = np.array([s for s, _ in chosen], dtype=np.int64)
    lows = np.array([np.nanmin(lead_mv[max(s - 20, 0): s + 21]) if np.any(np.isfinite(lead_mv[max(s - 20, 0): s + 21]))
                     else 0.0 for s in samples]) - 0.2
    return go.Scatter(x=axis_list(samples / fs_hz), y=lows, mode="markers+text", text=[t for _, t in chosen],
                      textposition="bottom center", marker={"symbol": "x", "size": 10, "color": "#000000"},
                      textfont={"size": 11}, name="Reference disagrees", legendgroup="reference_disagrees",
                      legendrank=50,  # after the beat classes, before the regions
                      hovertemplate=HOVER_TIME + "<br>%{text}")  # one group: the legend hides it on every row


SHADE_OPACITY = 0.35
"""Opacity of a region's shading in the detail chart, and of its legend square, so that the two look alike."""

OUTLINED_KINDS = {"ventricular_flutter_fibrillation": "#d62728"}
"""Kinds whose shading is also outlined, in this colour: ventricular flutter/fibrillation, dark with a red edge, so
that it cannot be read for ventricular tachycardia's red at a glance (a QA pass, session 49, found the two pale pinks
alike)."""

MIN_SHADE_S = 0.2
"""Narrowest shading of a region in the detail chart (about a QRS complex and its surroundings)."""


def shaded_span(region: Region, fs_hz: float, lo: int, hi: int) -> tuple[float, float]:
    """The samples a region's shading covers within ``[lo, hi)``: the region, widened about its middle to at least
    :data:`MIN_SHADE_S` (an isolated beat's region is one sample)."""
    pad = max(MIN_SHADE_S * fs_hz - (region.stop - region.start), 0) / 2
    return max(region.start - pad, lo), min(region.stop + pad, hi)


def span_shapes(figure: go.Figure, x0, x1, row: int | str = "all", **style) -> list[dict]:
    """The rectangles Plotly's ``add_vrect(x0=x0, x1=x1, row=row, col=1, **style)`` adds to a one-column grid of
    subplots (over the whole height of ``row``, or of every subplot holding a trace when ``"all"``), as plain shapes
    for :func:`add_shapes`: its per-call work, about 30 ms a rectangle, was a third of the detail chart's time on
    every step through the beats (session 63's profile)."""
    if row == "all":
        rows = sorted({int(trace.yaxis[1:] or 1) for trace in figure.data if trace.yaxis})
    else:
        rows = [row]
    return [{"type": "rect", "xref": f"x{'' if r == 1 else r}", "yref": f"y{'' if r == 1 else r} domain", "x0": x0,
             "x1": x1, "y0": 0, "y1": 1, **style} for r in rows]


def add_shapes(figure: go.Figure, shapes: list[dict]) -> None:
    """Add ``shapes`` to the figure's layout at once (assigned: ``update_layout`` took about 20 times as long)."""
    if shapes:
        figure.layout.shapes = (*figure.layout.shapes, *shapes)


def shade_regions(figure: go.Figure, regions: tuple[Region, ...], fs_hz: float, lo: int, hi: int,
                  row: int | str = "all") -> None:
    """Shade the regions overlapping samples ``[lo, hi)`` on ``row`` (every subplot by default), at least
    :data:`MIN_SHADE_S` wide (an isolated beat's region is one sample); one legend entry per kind."""
    shown, shapes = [], []
    for region in regions:
        if region.stop <= lo or region.start >= hi:
            continue
        start, stop = shaded_span(region, fs_hz, lo, hi)
        edge = OUTLINED_KINDS.get(region.kind)
        shapes += span_shapes(figure, to_axis_ms(start / fs_hz), to_axis_ms(stop / fs_hz), row,
                              fillcolor=REGION_COLOURS.get(region.kind, "#cccccc"), opacity=SHADE_OPACITY,
                              line={"width": 2, "color": edge} if edge else {"width": 0}, layer="below")
        if region.kind not in shown:
            shown.append(region.kind)
    add_shapes(figure, shapes)
    for kind in shown:
        figure.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=kind_label(kind),
                                    marker={"symbol": "square", "size": 12, "color": REGION_COLOURS.get(kind),
                                            "opacity": SHADE_OPACITY,
                                            "line": {"color": OUTLINED_KINDS.get(kind, "#555555"),
                                                     "width": 2 if kind in OUTLINED_KINDS else 1}},
                                    legendgroup=kind, legendrank=legend_rank(kind)), row=1 if row == "all" else row,
                         col=1)


CHOSEN_OUTLINE = {"width": 2, "color": "#000000", "dash": "dot"}
"""The chosen event's outline, unlike any kind's shading or edge (a clinical read through a browser, session 61: the
chosen event looked the same as its neighbours, which Holter review software outlines)."""


def outline_chosen(figure: go.Figure, chosen: Region | None, fs_hz: float, lo: int, hi: int,
                   row: int | str = "all") -> None:
    """Outline the ``chosen`` event where it overlaps samples ``[lo, hi)`` on ``row`` (every subplot by default), at
    least :data:`MIN_SHADE_S` wide as its shading; nothing when none is chosen or it lies outside."""
    if chosen is None or chosen.stop <= lo or chosen.start >= hi:
        return
    start, stop = shaded_span(chosen, fs_hz, lo, hi)
    add_shapes(figure, span_shapes(figure, to_axis_ms(start / fs_hz), to_axis_ms(stop / fs_hz), row,
                                   fillcolor="rgba(0, 0, 0, 0)", line=CHOSEN_OUTLINE, layer="above"))


CHOSEN_BEAT_FILL = "rgba(31, 119, 180, 0.15)"
CHOSEN_BEAT_EDGE = "rgba(31, 119, 180, 0.8)"
CHOSEN_BEAT_HALF_S = 0.08
"""The beat chosen in the beat panel is marked by a blue band this far either side of its R peak: a beat clicked on the
chart, or stepped to from the keyboard, shows which one the panel's class, probabilities and relabel buttons
concern."""


def mark_chosen_beat(figure: go.Figure, sample: int | None, fs_hz: float, lo: int, hi: int,
                     row: int | str = "all") -> None:
    """A band over the beat at ``sample`` on ``row`` (every lead's by default), when it lies in ``[lo, hi)``: drawn
    over the ECG paper and edged, where under the paper it read as a grey stripe fainter than an event's shading (a
    clinical read through a browser, session 62)."""
    if sample is None or not lo <= sample < hi:
        return
    half = CHOSEN_BEAT_HALF_S * fs_hz
    add_shapes(figure, span_shapes(figure, to_axis_ms(max(sample - half, lo) / fs_hz),
                                   to_axis_ms(min(sample + half, hi) / fs_hz), row, fillcolor=CHOSEN_BEAT_FILL,
                                   line={"width": 1, "color": CHOSEN_BEAT_EDGE}, layer="above"))


CALIPER_COLOUR = "#0b3d91"


def draw_calipers(figure: go.Figure, span_s: tuple[float, float] | None, fs_hz: float, lo: int, hi: int,
                  row: int | str = "all") -> None:
    """The calipers over the part of ``span_s`` (s) that lies in samples ``[lo, hi)``: a solid line at each end that
    falls there, on ``row`` (every subplot by default), and the span's length and rate (:func:`describe_span`) at the
    top of the first row they cross."""
    if span_s is None:
        return
    start_s, end_s = sorted(span_s)
    if end_s <= lo / fs_hz or start_s >= hi / fs_hz:
        return
    for edge_s in (start_s, end_s):
        if lo / fs_hz <= edge_s <= hi / fs_hz:
            figure.add_vline(x=to_axis_ms(edge_s), line={"color": CALIPER_COLOUR, "width": 1.5}, row=row, col=1)
    first = 1 if row == "all" else row
    if start_s >= lo / fs_hz or first == 1:
        middle_s = (max(start_s, lo / fs_hz) + min(end_s, hi / fs_hz)) / 2
        figure.add_annotation(x=to_axis_ms(middle_s), y=1.0, yref=f"y{'' if first == 1 else first} domain",
                              text=describe_span(end_s - start_s), showarrow=False, yanchor="top",
                              bgcolor="rgba(255, 255, 255, 0.85)", font={"color": CALIPER_COLOUR, "size": 12},
                              row=first, col=1)


def describe_span(length_s: float) -> str:
    """A caliper span as a reader measures one: its length in ms, and the rate it stands for as an RR interval.

    >>> describe_span(0.8125)
    '812 ms, 74 bpm'
    >>> describe_span(2.4)
    '2400 ms, 25 bpm'
    """
    return f"{1000 * length_s:.0f} ms, {60 / length_s:.0f} bpm" if length_s > 0 else "0 ms"


def keep_undimmed(figure: go.Figure) -> None:
    """Letters and marks keep their look when a point is clicked or a span dragged: Plotly dims every unselected point,
    which would grey all the beat letters but the one clicked."""
    for trace in figure.data:
        if isinstance(trace, go.Scatter) and trace.mode and trace.mode != "lines":
            trace.unselected = {"marker": {"opacity": 1}, "textfont": {"color": trace.textfont.color}}


def from_axis_value(value) -> float:
    """A date-axis value as a chart's selection sends it back (a date string such as ``"2000-01-01 00:01:23.456"``, or
    milliseconds) as seconds from the record start: the inverse of :func:`to_axis_ms`.

    >>> from_axis_value("2000-01-01 00:01:23.456")
    83.456
    >>> from_axis_value(to_axis_ms(1.5).item())
    1.5
    """
    if isinstance(value, (int, float)):
        return (float(value) - AXIS_ORIGIN_MS) / 1000.0
    stamp = np.datetime64(str(value).strip().replace(" ", "T"), "ns")
    return float((stamp - np.datetime64("2000-01-01T00:00:00", "ns")) / np.timedelta64(1, "ns")) / 1e9


DISCLOSURE_MINUTES = 10
"""Minutes on a page of the on-screen full disclosure, a minute per row (:func:`disclosure_figure`)."""
DISCLOSURE_PAGE_S = DISCLOSURE_MINUTES * disclosure.LINE_S
DISCLOSURE_BINS = 1000
"""Min/max bins of a row (2,000 points a minute): every QRS stays drawn, and a page is about 20,000 points."""
DISCLOSURE_ROW_PX = 62
DISCLOSURE_TARGET_S = 0.25
"""Invisible click targets along each row's baseline, this far apart (about 3.5 pixels on a 1,100-pixel chart): a click
anywhere on a row gives a point, which the trace's line alone would not."""
WINDOW_OUTLINE = {"width": 1.5, "color": "#1f77b4"}
"""Where the detail window lies on the full disclosure page."""


def disclosure_figure(trace_mv: np.ndarray, fs_hz: float, start_s: float, row_names: list[str],
                      letters: tuple[np.ndarray, np.ndarray], regions: tuple[Region, ...],
                      window_s: tuple[float, float], diary: tuple[tuple[float, str], ...] = ()) -> go.Figure:
    """A page of the full disclosure on screen, as the PDF's (:mod:`app.disclosure`) prints it: a minute of the primary
    lead per row, from ``start_s``.

    Parameters
    ----------
    trace_mv : np.ndarray
        The page's trace from ``start_s``, cleaned and at the lead's print scale (:func:`app.disclosure.page_trace`,
        :func:`app.disclosure.lead_scale`), in the page's mV.
    fs_hz : float
        Its sampling rate.
    start_s : float
        The page's start, s into the recording (a whole minute).
    row_names : list of str
        Each row's time, written at its left.
    letters : (np.ndarray, np.ndarray)
        Samples and class letters of the beats to label (those other than N, none on flutter waves).
    regions : tuple of Region
        The episodes of :data:`app.disclosure.EPISODE_SHADES` are shaded in their colour and named where they start,
        the unreadable stretches grey.
    window_s : (float, float)
        The detail window's start and length: outlined where it lies on the page.
    diary : tuple of (time_s, text)
        The patient's diary entries: a green line at each, as the PDF draws them.

    A row's baseline is ``-row * LINE_SPACING_MV``: a click's point (a target on it, :data:`DISCLOSURE_TARGET_S`, or a
    letter) gives its time back (:func:`disclosure_time`).
    """
    n_rows = len(row_names)
    line_n = int(round(disclosure.LINE_S * fs_hz))
    figure = go.Figure()
    half = disclosure.LINE_SPACING_MV / 2
    for row in range(n_rows):
        segment = np.clip(trace_mv[row * line_n:(row + 1) * line_n], *disclosure.TRACE_BAND_MV)
        if not len(segment):
            break
        indices, envelope = decimate_minmax(segment, DISCLOSURE_BINS)
        figure.add_trace(go.Scatter(x=contiguous(indices / fs_hz), y=envelope - row * disclosure.LINE_SPACING_MV,
                                    mode="lines", line={"color": "#222222", "width": 0.7}, showlegend=False,
                                    hovertemplate=f"{row_names[row]} +%{{x:.1f}} s<extra></extra>"))
    targets = np.arange(0.0, disclosure.LINE_S, DISCLOSURE_TARGET_S)  # Plotly selects markers and text, not lines
    figure.add_trace(go.Scatter(x=np.tile(targets, n_rows),
                                y=np.repeat([-row * disclosure.LINE_SPACING_MV for row in range(n_rows)], len(targets)),
                                mode="markers", marker={"size": 10, "opacity": 0}, showlegend=False,
                                unselected={"marker": {"opacity": 0}}, selected={"marker": {"opacity": 0}},
                                hovertemplate="%{x:.1f} s<extra></extra>"))
    samples, classes = letters
    row_of = ((samples / fs_hz - start_s) // disclosure.LINE_S).astype(np.int64)
    for letter in AAMI_CLASSES:
        chosen = (classes == letter) & (row_of >= 0) & (row_of < n_rows)
        if np.any(chosen):
            figure.add_trace(go.Scatter(
                x=contiguous(samples[chosen] / fs_hz - start_s - row_of[chosen] * disclosure.LINE_S),
                y=disclosure.LABEL_OFFSET_MV - row_of[chosen] * disclosure.LINE_SPACING_MV, mode="text",
                text=[letter] * int(chosen.sum()), textfont={"color": CLASS_COLOURS[letter], "size": 10},
                name=CLASS_NAMES[letter], hovertemplate=f"beat {letter}<extra></extra>"))
    shapes, notes = [], []
    for region in regions:
        short, colour = (("unreadable", "#bdbdbd") if region.kind == "unreadable"
                         else disclosure.EPISODE_SHADES.get(region.kind, (None, None)))
        if short is None:
            continue
        for row, a_s, b_s in split_rows(region.start / fs_hz, region.stop / fs_hz, start_s, n_rows):
            baseline = -row * disclosure.LINE_SPACING_MV
            shapes.append({"type": "rect", "x0": a_s, "x1": b_s, "y0": baseline - half, "y1": baseline + half,
                           "fillcolor": colour, "opacity": 0.25, "line": {"width": 0}, "layer": "below"})
        if start_s <= region.start / fs_hz < start_s + n_rows * disclosure.LINE_S and region.kind != "unreadable":
            row, offset = divmod(region.start / fs_hz - start_s, disclosure.LINE_S)
            notes.append({"x": offset, "y": -row * disclosure.LINE_SPACING_MV - half,
                          "text": disclosure.name_episode(region, fs_hz),
                          "showarrow": False, "xanchor": "left", "yanchor": "bottom",
                          "font": {"color": colour, "size": 10}})
    for time_s, text in diary:
        for row, a_s, _ in split_rows(time_s, time_s + 1e-6, start_s, n_rows):
            baseline = -row * disclosure.LINE_SPACING_MV
            shapes.append({"type": "line", "x0": a_s, "x1": a_s, "y0": baseline - half, "y1": baseline + half,
                           "line": {"color": disclosure.DIARY_COLOUR, "width": 1.5}})
    for row, a_s, b_s in split_rows(window_s[0], window_s[0] + window_s[1], start_s, n_rows):
        baseline = -row * disclosure.LINE_SPACING_MV
        shapes.append({"type": "rect", "x0": a_s, "x1": b_s, "y0": baseline - half, "y1": baseline + half,
                       "line": WINDOW_OUTLINE, "fillcolor": "rgba(0, 0, 0, 0)", "layer": "above"})
    baselines = [-row * disclosure.LINE_SPACING_MV for row in range(n_rows)]
    figure.update_layout(height=n_rows * DISCLOSURE_ROW_PX + 70, margin={"l": 80, "r": 10, "t": 30, "b": 40},
                         shapes=shapes, annotations=notes, showlegend=False, hovermode="closest", dragmode="zoom",
                         plot_bgcolor="white")
    figure.update_xaxes(range=[0, disclosure.LINE_S], dtick=5, title_text="s into the minute", fixedrange=True,
                        showgrid=True, gridcolor="#eeeeee")
    figure.update_yaxes(tickvals=baselines, ticktext=row_names, showgrid=False, zeroline=False, fixedrange=True,
                        range=[-(n_rows - 0.5) * disclosure.LINE_SPACING_MV, 0.6 * disclosure.LINE_SPACING_MV])
    return figure


def split_rows(start_s: float, stop_s: float, page_start_s: float, n_rows: int) -> list[tuple[int, float, float]]:
    """The part of the span ``[start_s, stop_s)`` (s) on each row of a full disclosure page: (row, from, to), seconds
    into the row's minute; none off the page.

    >>> split_rows(125.0, 190.0, 120.0, 10)
    [(0, 5.0, 60.0), (1, 0.0, 10.0)]
    """
    parts = []
    for row in range(n_rows):
        row_start = page_start_s + row * disclosure.LINE_S
        a, b = max(start_s, row_start), min(stop_s, row_start + disclosure.LINE_S)
        if a < b:
            parts.append((row, a - row_start, b - row_start))
    return parts


def disclosure_time(x_s: float, y_mv: float, page_start_s: float) -> float:
    """The time (s into the recording) of a point clicked on a full disclosure page: its row from its height.

    >>> disclosure_time(12.5, -5.3, 600.0)
    732.5
    """
    row = max(int(round(-y_mv / disclosure.LINE_SPACING_MV)), 0)
    return page_start_s + row * disclosure.LINE_S + x_s


def legend_rank(kind: str) -> int:
    """A region kind's place in the detail chart's legend: after the beat classes, in the order of
    :data:`REGION_KINDS` (not of first appearance, which differs from row to row)."""
    return 100 + (REGION_KINDS.index(kind) if kind in REGION_KINDS else len(REGION_KINDS))


def heart_rate_trend_figure(trend_bpm: tuple[float, ...], trend_window_s: float, duration_s: float,
                            fine_bpm: tuple[float, ...] = (), fine_window_s: float = 60.0) -> go.Figure:
    """Mean heart rate of each consecutive ``trend_window_s`` over the record (gaps where not measurable), over the
    finer means of each ``fine_window_s`` (``fine_bpm``: the 1-minute rates the extremes come from) in grey."""
    series = [(fine_bpm, fine_window_s, {"color": "#9e9e9e", "width": 1}, "lines")] if len(fine_bpm) > 1 else []
    series.append((trend_bpm, trend_window_s, {"color": "#c0392b"}, "lines+markers"))
    figure = go.Figure()
    for values, window_s, style, mode in series:
        rates = np.asarray(values, dtype=np.float64)
        centres_s = (np.arange(len(rates)) + 0.5) * window_s
        figure.add_trace(go.Scatter(x=axis_list(centres_s), y=rates, mode=mode, name=f"{window_s / 60:g}-min mean",
                                    line=style, hovertemplate=HOVER_TIME + "<br>%{y:.0f} bpm"))
    figure.update_xaxes(type="date", tickformat=TIME_FORMAT, title_text=TIME_TITLE,
                        range=[to_axis_ms(0.0), to_axis_ms(duration_s)])
    figure.update_yaxes(title_text="Heart rate (bpm)")
    figure.update_layout(height=260, margin=_CHART_MARGIN)
    return label_days(figure, duration_s)


def attention_figure(window_mv: np.ndarray, attention: np.ndarray, fs_hz: float, window_start: int,
                     lead_name: str) -> go.Figure:
    """One beat's window (primary lead) with the model's attention over it on a second axis."""
    x_ms = axis_list((window_start + np.arange(len(attention))) / fs_hz)
    figure = make_subplots(specs=[[{"secondary_y": True}]])
    figure.add_trace(go.Scatter(x=x_ms, y=contiguous(attention), fill="tozeroy", mode="lines", name="Attention",
                                line={"color": "rgba(230,159,0,0.8)"}), secondary_y=True)
    figure.add_trace(go.Scatter(x=x_ms, y=contiguous(window_mv), mode="lines", name=lead_name,
                                line={"color": "#222222"}),
                     secondary_y=False)
    figure.update_xaxes(type="date", tickformat="%H:%M:%S.%L")
    figure.update_yaxes(title_text=f"{lead_name} (mV)", secondary_y=False)
    figure.update_yaxes(title_text="Attention", showgrid=False, secondary_y=True)
    figure.update_layout(height=260, margin=_CHART_MARGIN, legend={"orientation": "h", "y": -0.2})
    return label_days(figure, (window_start + len(attention)) / fs_hz, milliseconds=True)


def family_templates_figure(lead_mv: np.ndarray, fs_hz: float, samples: np.ndarray, families: np.ndarray,
                            shown: list[int], titles: list[str], lead_name: str, half_width_s: float = 0.3,
                            max_beats: int = 200) -> go.Figure:
    """Median beat of each shown family (one lead, +-``half_width_s`` around the fiducial point), side by side.

    The median is taken over at most ``max_beats`` beats of the family, spread over the record.
    """
    half, offsets_ms = window_offsets(half_width_s, fs_hz)
    columns = min(max(len(shown), 1), 4)
    rows = max(-(-len(shown) // columns), 1)
    figure = make_subplots(rows=rows, cols=columns, subplot_titles=titles or None, shared_yaxes=True,
                           horizontal_spacing=0.03, vertical_spacing=0.12)
    for k, family in enumerate(shown):
        windows = beat_windows(lead_mv, samples[families == family], half, max_beats)
        if len(windows) == 0:
            continue
        figure.add_trace(go.Scatter(x=offsets_ms, y=median_beat(windows), mode="lines", showlegend=False,
                                    line={"color": "#222222"}, hovertemplate="%{x:.0f} ms<br>%{y:.2f} mV"),
                         row=k // columns + 1, col=k % columns + 1)
    figure.update_xaxes(showticklabels=False)
    figure.update_yaxes(title_text=f"{lead_name} (mV)", col=1)
    figure.update_annotations(font_size=11)
    figure.update_layout(height=190 * rows, margin=_CHART_MARGIN)
    return figure


def family_overlay_figure(lead_mv: np.ndarray, fs_hz: float, samples: np.ndarray, lead_name: str,
                          half_width_s: float = 0.3) -> go.Figure:
    """Up to :data:`MAX_OVERLAY_BEATS` beats of one family superimposed, with their median on top."""
    half, offsets_ms = window_offsets(half_width_s, fs_hz)
    windows = beat_windows(lead_mv, samples, half, MAX_OVERLAY_BEATS)
    figure = go.Figure()
    if len(windows):
        # one trace for every beat: NaN between beats breaks the line
        x = np.concatenate([np.append(offsets_ms, np.nan)] * len(windows))
        y = np.concatenate([np.append(w, np.nan) for w in windows])
        figure.add_trace(go.Scatter(x=x, y=y, mode="lines", name="beats", hoverinfo="skip",
                                    line={"color": "rgba(120,120,120,0.35)", "width": 1}))
        figure.add_trace(go.Scatter(x=offsets_ms, y=median_beat(windows), mode="lines", name="median",
                                    line={"color": "#222222", "width": 2}, hovertemplate="%{x:.0f} ms<br>%{y:.2f} mV"))
    figure.update_xaxes(title_text="Time from the beat's fiducial point (ms)")
    figure.update_yaxes(title_text=f"{lead_name} (mV)")
    figure.update_layout(height=280, margin=_CHART_MARGIN, legend={"orientation": "h", "y": -0.3})
    return figure


ST_COLOURS = ("#2b7bba", "#e67e22", "#27ae60", "#8e44ad")
"""Line colours of the leads in the ST charts."""


def st_trend_figure(summary, duration_s: float) -> go.Figure:
    """Each lead's ST deviation from its reference level per window (:class:`pipeline.st.StSummary`), the episode
    limits as dotted lines and the episodes shaded."""
    figure = go.Figure()
    centres_s = (np.arange(len(summary.heart_rate_bpm)) + 0.5) * summary.window_s
    for k, name in enumerate(summary.lead_names):
        if not np.isfinite(summary.reference_mv[k]):
            continue
        figure.add_trace(go.Scatter(x=axis_list(centres_s), y=summary.deviations_mv(k), mode="lines", name=name,
                                    line={"color": ST_COLOURS[k % len(ST_COLOURS)]},
                                    hovertemplate=HOVER_TIME + "<br>%{y:+.2f} mV"))
    for limit in (-summary.threshold_mv, summary.threshold_mv):
        figure.add_hline(y=limit, line={"dash": "dot", "color": "#7f7f7f", "width": 1})
    shaded = [{"type": "rect", "xref": "x", "yref": "paper", "y0": 0, "y1": 1, "x0": to_axis_ms(episode.start_s),
               "x1": to_axis_ms(episode.stop_s), "line": {"width": 0}, "opacity": 0.15,
               "fillcolor": ST_COLOURS[episode.lead % len(ST_COLOURS)]} for episode in summary.episodes]
    figure.update_layout(shapes=[*figure.layout.shapes, *shaded])  # at once: add_vrect took 4.6 s for a 24-h record
    figure.update_xaxes(type="date", tickformat=TIME_FORMAT, title_text=TIME_TITLE,
                        range=[to_axis_ms(0.0), to_axis_ms(duration_s)])
    figure.update_yaxes(title_text="ST change (mV)", zeroline=True)
    figure.update_layout(height=260, margin=_CHART_MARGIN, legend={"orientation": "h", "y": -0.35})
    return label_days(figure, duration_s)


def st_template_figure(template: np.ndarray, fs_hz: float, lead_names: tuple[str, ...], fiducials,
                       before_s: float, st_offset_ms: float) -> go.Figure:
    """The dominant beat of each lead with the ST measurement points: isoelectric point, QRS onset, J point and
    the ST point (J + ``st_offset_ms``)."""
    offsets_ms = template_offsets_ms(len(template), fs_hz, before_s)
    figure = go.Figure()
    for k, name in enumerate(lead_names):
        figure.add_trace(go.Scatter(x=offsets_ms, y=template[:, k], mode="lines", name=name,
                                    line={"color": ST_COLOURS[k % len(ST_COLOURS)]},
                                    hovertemplate="%{x:.0f} ms<br>%{y:.2f} mV"))
    points = (("isoelectric", fiducials.iso_ms), ("QRS onset", fiducials.onset_ms), ("J", fiducials.j_ms),
              (f"J+{st_offset_ms:g}", fiducials.j_ms + st_offset_ms))
    for label, at_ms in points:
        figure.add_vline(x=at_ms, line={"dash": "dash", "color": "#555555", "width": 1}, annotation_text=label,
                         annotation_position="top", annotation_font_size=10)
    figure.update_xaxes(title_text="Time from the R wave (ms)")
    figure.update_yaxes(title_text="mV")
    figure.update_layout(height=280, margin={**_CHART_MARGIN, "t": 40}, legend={"orientation": "h", "y": -0.3})
    return figure


def st_beats_figure(reference: np.ndarray, at_peak: np.ndarray, fs_hz: float, episode, fiducials, before_s: float,
                    st_offset_ms: float) -> go.Figure:
    """An ST episode's lead: the record's dominant beat and the median beat at the episode's largest change, both
    from their isoelectric level (:func:`pipeline.st.episode_beats`), the J point and the ST point marked."""
    offsets_ms = template_offsets_ms(len(reference), fs_hz, before_s)
    figure = go.Figure()
    figure.add_trace(go.Scatter(x=offsets_ms, y=reference, mode="lines", name="record's dominant beat",
                                line={"color": "#7f7f7f"}, hovertemplate="%{x:.0f} ms<br>%{y:.2f} mV"))
    figure.add_trace(go.Scatter(x=offsets_ms, y=at_peak, mode="lines", name=f"at {format_hms(episode.peak_s)}",
                                line={"color": "#d62728"}, hovertemplate="%{x:.0f} ms<br>%{y:.2f} mV"))
    for label, at_ms in (("J", fiducials.j_ms), (f"J+{st_offset_ms:g}", fiducials.j_ms + st_offset_ms)):
        figure.add_vline(x=at_ms, line={"dash": "dash", "color": "#555555", "width": 1}, annotation_text=label,
                         annotation_position="top", annotation_font_size=10)
    figure.update_xaxes(title_text="Time from the R wave (ms)")
    figure.update_yaxes(title_text=f"{episode.lead_name} (mV)")
    figure.update_layout(height=280, margin={**_CHART_MARGIN, "t": 40}, legend={"orientation": "h", "y": -0.3})
    return figure


def qtc_trend_figure(summary, duration_s: float) -> go.Figure:
    """The QTc of each window (Fridericia and Bazett; :class:`pipeline.qt.QtSummary`) over the record, with the
    Fridericia running median the longest QTc is taken from and the 500 ms line."""
    centres_s = axis_list((np.arange(len(summary.qt_ms)) + 0.5) * summary.window_s)
    figure = go.Figure()
    for name, values, style in (("QTc Fridericia", summary.qtc_fridericia_ms, {"color": "#2b7bba"}),
                                ("QTc Bazett", summary.qtc_bazett_ms, {"color": "#e67e22", "dash": "dot"}),
                                ("Fridericia, running median", summary.qtc_trend_ms, {"color": "#222222"})):
        figure.add_trace(go.Scatter(x=centres_s, y=values, mode="lines", name=name, line=style,
                                    hovertemplate=HOVER_TIME + "<br>%{y:.0f} ms"))
    figure.add_hline(y=LONG_QTC_MS, line={"dash": "dot", "color": "#d62728", "width": 1})
    figure.update_xaxes(type="date", tickformat=TIME_FORMAT, title_text=TIME_TITLE,
                        range=[to_axis_ms(0.0), to_axis_ms(duration_s)])
    figure.update_yaxes(title_text="QTc (ms)")
    figure.update_layout(height=260, margin=_CHART_MARGIN, legend={"orientation": "h", "y": -0.35})
    return label_days(figure, duration_s)


def qt_beat_figure(beat: np.ndarray, fs_hz: float, before_s: float, onset_ms: float, t_end_ms: float,
                   lead_name: str) -> go.Figure:
    """The QT lead's dominant beat from its isoelectric level, with the QRS onset and the T end marked."""
    return marked_beat_figure(beat, fs_hz, before_s, (("QRS onset", onset_ms), ("T end", t_end_ms)), lead_name)


def pr_beat_figure(summary, fs_hz: float, before_s: float) -> go.Figure:
    """The PR lead's median beat (:class:`pipeline.pr.PrSummary`) with the P onset and the QRS onset marked."""
    return marked_beat_figure(np.asarray(summary.beat_mv), fs_hz, before_s,
                              (("P onset", summary.p_wave.onset_ms), ("QRS onset", summary.qrs_onset_ms)),
                              summary.lead_name)


def marked_beat_figure(beat: np.ndarray, fs_hz: float, before_s: float, marks, lead_name: str) -> go.Figure:
    """One lead's median beat with the ``(label, ms from the R wave)`` ``marks`` (those that are finite) drawn."""
    offsets_ms = template_offsets_ms(len(beat), fs_hz, before_s)
    figure = go.Figure(go.Scatter(x=offsets_ms, y=beat, mode="lines", name=lead_name, line={"color": "#222222"},
                                  hovertemplate="%{x:.0f} ms<br>%{y:.2f} mV"))
    for label, at_ms in marks:
        if np.isfinite(at_ms):
            figure.add_vline(x=at_ms, line={"dash": "dash", "color": "#555555", "width": 1}, annotation_text=label,
                             annotation_position="top", annotation_font_size=10)
    figure.add_hline(y=0.0, line={"color": "#bbbbbb", "width": 1})
    figure.update_xaxes(title_text="Time from the R wave (ms)")
    figure.update_yaxes(title_text=f"{lead_name} (mV)")
    figure.update_layout(height=260, margin={**_CHART_MARGIN, "t": 40}, showlegend=False)
    return figure


def hrt_tachogram_figure(summary, settings) -> go.Figure:
    """The averaged VPC tachogram of heart-rate turbulence (:class:`pipeline.hrt.HrtSummary`): the sinus intervals
    before, the coupling (C) and compensatory (P) intervals, the sinus intervals after, the reference level and the
    turbulence slope's line (``settings``: the :class:`pipeline.hrt.HrtSettings` it was measured with)."""
    tachogram = np.asarray(summary.tachogram_ms, np.float64)
    labels = tachogram_labels(summary, settings)
    figure = go.Figure(go.Scatter(x=labels, y=tachogram, mode="lines+markers", name="averaged tachogram",
                                  line={"color": "#2b7bba"}, hovertemplate="%{x}: %{y:.0f} ms"))
    figure.add_hline(y=float(tachogram[:settings.before_intervals].mean()),
                     line={"dash": "dot", "color": "#7f7f7f", "width": 1}, annotation_text="reference",
                     annotation_font_size=10)
    index, line = slope_line(summary, settings)
    figure.add_trace(go.Scatter(x=[labels[i] for i in index], y=line, mode="lines",
                                name=f"TS {summary.turbulence_slope_ms_per_rr:.2f} ms/RR", line={"color": "#d62728"}))
    figure.update_xaxes(type="category", title_text="RR interval (C: coupling, P: compensatory pause)")
    figure.update_yaxes(title_text="RR (ms)")
    figure.update_layout(height=260, margin=_CHART_MARGIN, legend={"orientation": "h", "y": -0.45})
    return figure


def lorenz_figure(points) -> go.Figure:
    """The RR scatter (Lorenz plot): each beat's RR interval after against before, one colour per class, the
    identity line; a point's ``customdata`` is its beat index (to go to it when clicked), its ``text`` its time."""
    figure = go.Figure()
    for letter in AAMI_CLASSES:
        chosen = points[points["class"] == letter]
        if len(chosen):
            figure.add_trace(go.Scattergl(
                x=chosen["rr_before_ms"], y=chosen["rr_after_ms"], mode="markers", name=f"{letter} ({len(chosen)})",
                customdata=chosen["beat"].tolist(), text=[format_hms(t) for t in chosen["time_s"]],
                marker={"color": CLASS_COLOURS[letter], "size": 4 if letter == "N" else 6, "opacity": 0.6},
                hovertemplate="RR before %{x:.0f} ms, after %{y:.0f} ms<br>beat %{customdata} at %{text}<extra>"
                              + letter + "</extra>"))
    if len(points):
        top = float(max(points["rr_before_ms"].max(), points["rr_after_ms"].max())) * 1.05
        figure.add_trace(go.Scatter(x=[0, top], y=[0, top], mode="lines", name="identity", hoverinfo="skip",
                                    line={"color": "#bbbbbb", "width": 1, "dash": "dot"}))
        figure.update_xaxes(range=[0, top], constrain="domain")
        figure.update_yaxes(range=[0, top], scaleanchor="x", scaleratio=1)
    figure.update_xaxes(title_text="RR before the beat (ms)")
    figure.update_yaxes(title_text="RR after the beat (ms)")
    figure.update_layout(height=460, margin=_CHART_MARGIN, legend={"orientation": "h", "y": -0.2})
    return figure


def rr_histogram_figure(histogram) -> go.Figure:
    """The RR interval histogram (:func:`app.analysis.rr_histogram`): stacked bars of the intervals between normal
    beats and of those with another beat at either end, a bar per bin; the last bin may be open-ended."""
    labels = [f"{int(a)}-{int(b)} ms" if np.isfinite(b) else f">= {int(a)} ms"
              for a, b in zip(histogram["from_ms"], histogram["to_ms"])]
    width = float(histogram["to_ms"].iloc[0] - histogram["from_ms"].iloc[0]) if len(histogram) else 0.0
    centres = histogram["from_ms"] + width / 2  # the open-ended last bin drawn as wide as the others
    figure = go.Figure()
    for column, name, colour in (("nn", "between two N beats", CLASS_COLOURS["N"]),
                                 ("other", "with an S, V, F or Q beat", CLASS_COLOURS["S"])):
        figure.add_trace(go.Bar(x=centres, y=histogram[column], width=width, name=name, text=labels,
                                marker={"color": colour}, hovertemplate="%{text}: %{y} intervals<extra>" + name
                                + "</extra>", textposition="none"))
    figure.update_layout(barmode="stack", height=320, margin=_CHART_MARGIN, bargap=0.05,
                         legend={"orientation": "h", "y": -0.3, "traceorder": "normal"})
    figure.update_xaxes(title_text="RR interval (ms)", rangemode="tozero")
    figure.update_yaxes(title_text="intervals")
    return figure

