"""Heart-rate turbulence (HRT): the sinus rhythm's response to an isolated ventricular premature beat.

After a ventricular premature complex (VPC) a healthy sinus node first speeds up for a beat or two, then slows down
below its earlier rate, and returns to it (Schmidt et al. 1999); a blunted response predicts mortality after
myocardial infarction and in heart failure. Holter systems report it next to HRV. The method is the one of the
international consensus (Bauer et al. 2008), with the tachogram filter rules of Grimm et al. 2003:

1. **Qualifying VPCs.** An isolated V beat with ``before_intervals`` (5) normal-to-normal intervals before its
   coupling interval and ``after_intervals`` (15) after its compensatory interval, every beat from the first to the
   last N except the VPC itself, every interval readable (no unreadable stretch, no ventricular flutter or
   fibrillation) and outside atrial fibrillation. Filters, against the reference interval (the mean of the
   ``before_intervals`` sinus intervals): the coupling interval at most ``coupling_max_fraction`` (80 %) of it, the
   compensatory interval at least ``compensatory_min_fraction`` (120 %); every sinus interval within
   [``min_rr_s``, ``max_rr_s``] (0.3-2 s), within ``relative_limit`` (20 %) of the reference and within
   ``max_step_s`` (200 ms) of the sinus interval before it (on the same side of the VPC). A tachogram that fails any
   rule is left out whole.
2. **Turbulence onset (TO)**, per VPC: the relative change of the mean of the two sinus intervals after the
   compensatory interval against the two before the coupling interval, ``((RR1 + RR2) - (RR-2 + RR-1)) /
   (RR-2 + RR-1) * 100`` %; the record's TO is the mean over the VPCs. Negative: early acceleration (normal).
3. **Turbulence slope (TS)**: the tachograms are averaged interval by interval; TS is the largest slope of a
   least-squares line through any ``slope_intervals`` (5) consecutive sinus intervals among the first
   ``after_intervals`` after the compensatory interval, in ms per interval. Over 2.5 ms/RR: late deceleration
   (normal). **Turbulence timing (TT)** is the number (1-based) of the first interval of that line.
4. **Category** (Bauer et al. 2008): HRT0 when TO < ``onset_limit_pct`` (0 %) and TS > ``slope_limit_ms`` (2.5),
   HRT1 when one of them is abnormal, HRT2 when both are.

TS is the largest of eleven slopes, so the fewer tachograms are averaged the more noise lifts it (Hallstrom et al.
2004): figures from fewer than ``reliable_vpcs`` VPCs carry a note (the category then not given). HRT is not
assessed for a patient with a pacemaker (paced intervals do not follow the sinus node) or without a qualifying VPC,
and needs the beat classes to be right: a supraventricular beat called N inside a tachogram shifts TO. The
thresholds are the consensus's;
nothing here is tuned on the MIT-BIH records.

References
----------
Schmidt G et al., "Heart-rate turbulence after ventricular premature beats as a predictor of mortality after acute
myocardial infarction", Lancet 353(9162):1390-1396, 1999.
Grimm W et al., "Heart rate turbulence following ventricular premature beats in healthy controls", Ann Noninvasive
Electrocardiol 8(2):127-131, 2003.
Bauer A et al., "Heart rate turbulence: standards of measurement, physiological interpretation, and clinical use.
International Society for Holter and Noninvasive Electrophysiology consensus", J Am Coll Cardiol 52(17):1353-1365,
2008.
Hallstrom AP et al., "Structural relationships between measures based on heart beat intervals: potential for
improved risk assessment", IEEE Trans Biomed Eng 51(8):1414-1420, 2004.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from pipeline.hours import LONG_TERM_S
from pipeline.labels import AAMI_CLASSES
from pipeline.st import none_if_nan
from pipeline.types import settings_to_dict, settings_values

if TYPE_CHECKING:  # pipeline.regions imports this module's settings
    from pipeline.regions import BeatContext, Region

N, V = AAMI_CLASSES.index("N"), AAMI_CLASSES.index("V")

NOT_ASSESSED = "HRT not assessed: "
"""How every note of an unassessed HRT begins."""

PACED_REASON = "the patient has a pacemaker (paced intervals do not follow the sinus node)"
"""Why HRT is not assessed for a paced patient."""


@dataclass(frozen=True)
class HrtSettings:
    """Tachogram lengths, filter rules and the category limits (module docstring); times in s or ms as named."""

    before_intervals: int = 5
    after_intervals: int = 15
    slope_intervals: int = 5
    coupling_max_fraction: float = 0.8
    compensatory_min_fraction: float = 1.2
    min_rr_s: float = 0.3
    max_rr_s: float = 2.0
    relative_limit: float = 0.2
    max_step_s: float = 0.2
    onset_limit_pct: float = 0.0
    slope_limit_ms: float = 2.5
    reliable_vpcs: int = 5

    def __post_init__(self) -> None:
        if self.before_intervals < 2:
            raise ValueError(f"Received before_intervals={self.before_intervals}; expected at least 2 (TO uses two).")
        if not 2 <= self.slope_intervals <= self.after_intervals:
            raise ValueError(f"Received slope_intervals={self.slope_intervals}, after_intervals="
                             f"{self.after_intervals}; expected 2 <= slope_intervals <= after_intervals.")
        if not 0 < self.min_rr_s < self.max_rr_s:
            raise ValueError(f"Received min_rr_s={self.min_rr_s}, max_rr_s={self.max_rr_s}; expected "
                             "0 < min_rr_s < max_rr_s.")
        if not 0 < self.coupling_max_fraction < 1 < self.compensatory_min_fraction:
            raise ValueError(f"Received coupling_max_fraction={self.coupling_max_fraction}, compensatory_min_fraction="
                             f"{self.compensatory_min_fraction}; expected 0 < coupling < 1 < compensatory.")
        bad = [name for name in ("relative_limit", "max_step_s", "slope_limit_ms", "reliable_vpcs")
               if not getattr(self, name) > 0]
        if bad:
            raise ValueError(f"Received {bad[0]}={getattr(self, bad[0])!r}; expected a positive value.")

    def to_dict(self) -> dict:
        return settings_to_dict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "HrtSettings":
        """Inverse of :meth:`to_dict` (``[hrt]`` of an event settings file; :func:`pipeline.types.settings_values`)."""
        return cls(**settings_values(cls, values))

    def is_reliable(self, n_qualifying: int) -> bool:
        """Whether TS and the category from ``n_qualifying`` VPCs are reliable (at least :attr:`reliable_vpcs`; fewer
        bias TS upwards)."""
        return n_qualifying >= self.reliable_vpcs


@dataclass(frozen=True)
class HrtSummary:
    """HRT of one record (module docstring). Per qualifying VPC: its beat index and time, its coupling,
    compensatory and reference intervals (ms) and its TO (%). ``tachogram_ms`` is the averaged tachogram: the
    ``before_intervals`` sinus intervals, the coupling and compensatory intervals, then ``after_intervals`` sinus
    intervals. ``n_vpcs`` counts the V beats considered, qualifying or not."""

    assessed: bool
    note: str = ""
    n_vpcs: int = 0
    vpc_beats: tuple[int, ...] = ()
    vpc_times_s: tuple[float, ...] = ()
    coupling_ms: tuple[float, ...] = ()
    compensatory_ms: tuple[float, ...] = ()
    reference_ms: tuple[float, ...] = ()
    onsets_pct: tuple[float, ...] = ()
    tachogram_ms: tuple[float, ...] = ()
    turbulence_onset_pct: float = float("nan")
    turbulence_slope_ms_per_rr: float = float("nan")
    turbulence_timing: int = 0
    category: str = ""

    @property
    def n_qualifying(self) -> int:
        return len(self.vpc_beats)

    def to_dict(self) -> dict:
        """JSON-ready content: the figures (NaN as None) and the qualifying VPCs as rows."""
        return {"assessed": self.assessed, "note": self.note, "n_vpcs": self.n_vpcs,
                "n_qualifying": self.n_qualifying, "turbulence_onset_pct": none_if_nan(self.turbulence_onset_pct, 2),
                "turbulence_slope_ms_per_rr": none_if_nan(self.turbulence_slope_ms_per_rr, 2),
                "turbulence_timing": self.turbulence_timing,
                "category": self.category, "tachogram_ms": [round(v, 1) for v in self.tachogram_ms],
                "vpcs": hrt_rows(self)}


REJECTIONS = (
    ("edge", "too near the start or end of the recording for a whole tachogram"),
    ("af", "in or next to atrial fibrillation"),
    ("unreadable", "next to unreadable signal"),
    ("ectopy", "with another non-normal beat in the tachogram"),
    ("timing", "not premature enough or without a compensatory pause"),
    ("sinus", "with sinus intervals around it out of range or too variable"),
)
"""Why a VPC's tachogram is left out, in the order the checks are made (the first failing one is given), with the
words the HRT note uses (step 1 of the module docstring)."""


def find_qualifying_vpcs(context: BeatContext, regions: list[Region], settings: HrtSettings = HrtSettings()
                         ) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the V beats considered (every readable V beat: those the summary counts) and, for each, whether its
    tachogram qualifies (step 1 of the module docstring)."""
    vpcs, reasons = check_vpc_tachograms(context, regions, settings)
    return vpcs, reasons == ""


def check_vpc_tachograms(context: BeatContext, regions: list[Region], settings: HrtSettings = HrtSettings()
                         ) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the V beats considered and, for each, ``""`` when its tachogram qualifies, else the key in
    :data:`REJECTIONS` of the first rule it fails."""
    classes, rr_s = context.classes, context.rr_s
    n_beats = len(classes)
    vpcs = np.flatnonzero((classes == V) & context.readable)
    before, after = settings.before_intervals, settings.after_intervals
    reasons = np.full(len(vpcs), "edge", dtype=object)
    whole = (vpcs - before - 1 >= 0) & (vpcs + after + 1 < n_beats)
    inside = vpcs[whole]
    if not len(inside):
        return vpcs, reasons
    intervals = inside[:, None] + np.arange(-before - 1, after + 1)  # interval i runs from beat i to i + 1
    beats = inside[:, None] + np.arange(-before - 1, after + 2)
    tachograms = rr_s[intervals]
    pre, coupling = tachograms[:, :before], tachograms[:, before]
    compensatory, post = tachograms[:, before + 1], tachograms[:, before + 2:]
    reference = pre.mean(axis=1)
    sinus = np.concatenate([pre, post], axis=1)
    steps_ok = (np.abs(np.diff(pre, axis=1)) <= settings.max_step_s).all(axis=1) & (
        np.abs(np.diff(post, axis=1)) <= settings.max_step_s).all(axis=1)
    sinus_ok = (((sinus >= settings.min_rr_s) & (sinus <= settings.max_rr_s)).all(axis=1)
                & (np.abs(sinus - reference[:, None]) <= settings.relative_limit * reference[:, None]).all(axis=1))
    checks = {"af": ~in_atrial_fibrillation(context, regions)[intervals].any(axis=1),
              "unreadable": context.interval_readable[intervals].all(axis=1),
              "ectopy": (classes[beats] == N).sum(axis=1) == beats.shape[1] - 1,
              "timing": (coupling <= settings.coupling_max_fraction * reference)
              & (compensatory >= settings.compensatory_min_fraction * reference),
              "sinus": steps_ok & sinus_ok}
    found = np.full(len(inside), "", dtype=object)
    for key in reversed(list(checks)):  # the first failing check in REJECTIONS order is the one kept
        found[~checks[key]] = key
    reasons[whole] = found
    return vpcs, reasons


def describe_rejections(reasons: np.ndarray) -> str:
    """How many VPCs each rule left out, in :data:`REJECTIONS` order, e.g. ``"7 in or next to atrial fibrillation,
    2 next to unreadable signal"``."""
    counts = [(int(np.count_nonzero(reasons == key)), words) for key, words in REJECTIONS]
    return ", ".join(f"{n} {words}" for n, words in counts if n)


def in_atrial_fibrillation(context: BeatContext, regions: list[Region]) -> np.ndarray:
    """Boolean per RR interval: it touches a beat of an atrial fibrillation region."""
    from pipeline.regions import beats_in_kind  # here: pipeline.regions imports this module's settings

    in_af = beats_in_kind(regions, "atrial_fibrillation", len(context.classes))
    return in_af[:-1] | in_af[1:]


def turbulence_slope(tachogram_ms: np.ndarray, slope_intervals: int) -> tuple[float, int]:
    """The largest least-squares slope (ms per interval) through ``slope_intervals`` consecutive values of the
    post-VPC sinus intervals ``tachogram_ms``, and the 1-based number of the first interval of that line.

    >>> turbulence_slope(np.array([800., 800, 800, 805, 810, 815, 820, 822, 822]), 5)
    (5.0, 3)
    """
    windows = np.lib.stride_tricks.sliding_window_view(tachogram_ms, slope_intervals)
    x = np.arange(slope_intervals) - (slope_intervals - 1) / 2
    slopes = (windows - windows.mean(axis=1, keepdims=True)) @ x / float(x @ x)
    best = int(np.argmax(slopes))
    return float(slopes[best]), best + 1


def classify_turbulence(onset_pct: float, slope_ms: float, settings: HrtSettings = HrtSettings()) -> str:
    """HRT0, HRT1 or HRT2 by the number of abnormal figures (module docstring, step 4).

    >>> classify_turbulence(-2.0, 6.0), classify_turbulence(1.0, 6.0), classify_turbulence(1.0, 2.0)
    ('HRT0', 'HRT1', 'HRT2')
    """
    abnormal = int(not onset_pct < settings.onset_limit_pct) + int(not slope_ms > settings.slope_limit_ms)
    return f"HRT{abnormal}"


def compute_hrt(context: BeatContext, regions: list[Region], settings: HrtSettings = HrtSettings(), *,
                pacemaker: str | None = None) -> HrtSummary:
    """Heart-rate turbulence of one record from its beats (a :class:`pipeline.regions.BeatContext`) and regions.

    Examples
    --------
    >>> from pipeline.regions import prepare_beats
    >>> rr_ms = np.tile(np.r_[[800] * 20, 480, 1250, 760, 770, 790, [810] * 13, [800] * 4], 10)
    >>> t = np.r_[0, np.cumsum(rr_ms * 0.36)].round().astype(int)  # beat samples at 360 Hz
    >>> classes = np.array((["N"] * 21 + ["V"] + ["N"] * 20) * 10 + ["N"])
    >>> hrt = compute_hrt(prepare_beats(t, classes, 360.0, [], t[-1] + 1), [])
    >>> hrt.n_qualifying, round(hrt.turbulence_onset_pct, 1), round(hrt.turbulence_slope_ms_per_rr, 1), hrt.category
    (10, -4.4, 14.0, 'HRT0')
    """
    if pacemaker is not None:
        return HrtSummary(False, f"{NOT_ASSESSED}{PACED_REASON}")
    vpcs, reasons = check_vpc_tachograms(context, regions, settings)
    qualifies = reasons == ""
    if not len(vpcs):
        return HrtSummary(False, f"{NOT_ASSESSED}no ventricular premature beats")
    if not qualifies.any():
        which = ("the one ventricular premature beat is not" if len(vpcs) == 1 else
                 f"none of the {len(vpcs)} ventricular premature beats is")
        return HrtSummary(False, f"{NOT_ASSESSED}{which} isolated with steady sinus rhythm around it "
                                 f"({describe_rejections(reasons)})", n_vpcs=len(vpcs))
    chosen = vpcs[qualifies]
    before, after = settings.before_intervals, settings.after_intervals
    tachograms = 1000.0 * context.rr_s[chosen[:, None] + np.arange(-before - 1, after + 1)]
    pre, post = tachograms[:, :before], tachograms[:, before + 2:]
    reference = pre.mean(axis=1)
    onsets = 100.0 * (post[:, :2].sum(axis=1) - pre[:, -2:].sum(axis=1)) / pre[:, -2:].sum(axis=1)
    average = tachograms.mean(axis=0)
    slope, timing = turbulence_slope(average[before + 2:], settings.slope_intervals)
    onset = float(onsets.mean())
    note = (f"from fewer than {settings.reliable_vpcs} VPCs TO and TS are unsteady and TS is biased upwards: too few "
            "for a category" if not settings.is_reliable(len(chosen)) else "")  # "no category ... so the category is
    # not reliable" read as a contradiction (a read of session 57)
    return HrtSummary(
        True, note, n_vpcs=len(vpcs), vpc_beats=tuple(int(b) for b in chosen),
        vpc_times_s=tuple(float(s) for s in context.samples[chosen] / context.fs_hz),
        coupling_ms=tuple(float(v) for v in tachograms[:, before]),
        compensatory_ms=tuple(float(v) for v in tachograms[:, before + 1]),
        reference_ms=tuple(float(v) for v in reference), onsets_pct=tuple(float(v) for v in onsets),
        tachogram_ms=tuple(float(v) for v in average), turbulence_onset_pct=onset, turbulence_slope_ms_per_rr=slope,
        turbulence_timing=timing, category=classify_turbulence(onset, slope, settings))


def tachogram_labels(summary: HrtSummary, settings: HrtSettings = HrtSettings()) -> list[str]:
    """The averaged tachogram's interval names: -5 ... -1, C (coupling), P (compensatory), 1 ... 15."""
    after = len(summary.tachogram_ms) - settings.before_intervals - 2
    return ([str(k) for k in range(-settings.before_intervals, 0)] + ["C", "P"]
            + [str(k) for k in range(1, after + 1)])


def slope_line(summary: HrtSummary, settings: HrtSettings = HrtSettings()) -> tuple[np.ndarray, np.ndarray]:
    """The turbulence slope's least-squares line on the averaged tachogram: the indices of its intervals in
    ``tachogram_ms`` and its values there (ms)."""
    first = settings.before_intervals + 1 + summary.turbulence_timing
    index = np.arange(first, first + settings.slope_intervals)
    values = np.asarray(summary.tachogram_ms, np.float64)[index]
    return index, values.mean() + summary.turbulence_slope_ms_per_rr * (index - index.mean())


def hrt_rows(summary: HrtSummary) -> list[dict]:
    """One row per qualifying VPC for ``NAME_hrt.csv``: time (s), coupling, compensatory and reference intervals
    (ms), TO (%)."""
    return [{"time_s": round(t, 3), "coupling_ms": round(c), "compensatory_ms": round(p), "reference_ms": round(r),
             "turbulence_onset_pct": round(o, 2)}
            for t, c, p, r, o in zip(summary.vpc_times_s, summary.coupling_ms, summary.compensatory_ms,
                                     summary.reference_ms, summary.onsets_pct)]


def describe_hrt(summary: HrtSummary) -> str:
    """One line for a report: TO, TS, the category and how many of the V beats qualified (and the few-VPC caution),
    or why HRT was not assessed. TS to two decimals, as in the summary JSON: at one, 2.46 (abnormal) and 2.54 (normal)
    both read "2.5" beside different categories (a QA pass of session 51); the V beats counted include those of
    couplets and runs, which are not VPCs in the consensus's sense ("from 2 of 520 VPCs" read oddly). With too few VPCs
    (``note`` set) the category is not given as a finding but as what it would be, as the dashboard shows it: a
    clinical read of four reports (session 53) found "HRT0" and "HRT1" printed from one or two VPCs; a read of session
    57 found "category not reliable (would be HRT1)" from three still printing the abnormal label, so no category is
    given then (the dashboard says what it would be, in its help)."""
    if not summary.assessed:
        return summary.note
    category = "no category" if summary.note else summary.category
    return (f"TO {summary.turbulence_onset_pct:.2f} %, TS {summary.turbulence_slope_ms_per_rr:.2f} ms/RR, "
            f"{category} (from {summary.n_qualifying} of {summary.n_vpcs} "
            f"V beat{'' if summary.n_vpcs == 1 else 's'})" + (f"; {summary.note}" if summary.note else ""))


def describe_hrt_span(summary: HrtSummary, recording_s: float) -> str:
    """``"short recording: the categories were validated on 24-hour Holter recordings"`` beside a category (``summary``
    assessed from enough VPCs, no ``note``) from a recording under :data:`pipeline.hours.LONG_TERM_S`, the length HRV's
    short-term word uses; empty otherwise. TO and TS were validated as risk markers after myocardial infarction on
    24-hour recordings (Schmidt 1999; the ISHNE consensus, Bauer 2008); a clinical read of session 58 found "HRT2", a
    strong risk label, printed from a 30-minute record with none of the HRV line's short-term word. The report's
    summary line, its tachogram's title and the dashboard's caption all take it from here.

    >>> graded = HrtSummary(True, "", category="HRT1")
    >>> describe_hrt_span(graded, 1800.0), describe_hrt_span(graded, 24 * 3600.0)
    ('short recording: the categories were validated on 24-hour Holter recordings', '')
    >>> describe_hrt_span(HrtSummary(True, "too few for a category", category="HRT1"), 1800.0)
    ''
    """
    if not summary.assessed or summary.note or recording_s >= LONG_TERM_S:
        return ""
    return "short recording: the categories were validated on 24-hour Holter recordings"


def describe_hrt_absence(summary: HrtSummary) -> str:
    """Why HRT was not assessed, for a line that names HRT already (``"Heart-rate turbulence: ..."``): the note
    without its ``"HRT not assessed: "`` head, after a dash (the reasons may hold parentheses of their own).

    >>> describe_hrt_absence(HrtSummary(False, f"{NOT_ASSESSED}no ventricular premature beats"))
    'not assessed — no ventricular premature beats'
    """
    return f"not assessed — {summary.note.removeprefix(NOT_ASSESSED)}"


def describe_hrt_method(settings: HrtSettings = HrtSettings()) -> str:
    """The method in a sentence, for the dashboard."""
    return (f"Heart-rate turbulence (Schmidt 1999; ISHNE consensus, Bauer 2008) after isolated VPCs with "
            f"{settings.before_intervals} normal intervals before and {settings.after_intervals} after that pass the "
            f"filter rules. TO: change of the two intervals after the compensatory pause against the two before the "
            f"VPC (normal < {settings.onset_limit_pct:g} %); TS: steepest {settings.slope_intervals}-interval slope "
            f"of the averaged tachogram (normal > {settings.slope_limit_ms:g} ms/RR). HRT0: both normal, HRT1: one "
            f"abnormal, HRT2: both. Validated for risk after myocardial infarction; a figure for a reader to weigh, "
            f"not a diagnosis.")
