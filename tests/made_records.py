"""Records made from the bundled excerpts in layouts the excerpts do not have (12 leads, multi-segment), or with a known
change added (an ST shift)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pipeline.records import read_record, write_record

TWELVE_LEADS = ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")


def write_twelve_lead_record(excerpts_dir: Path, out_dir: Path, name: str = "twelve", flat: tuple[str, ...] = ()
                             ) -> Path:
    """A 12-lead WFDB record of excerpt 119 (MLII, V1): II and V1 are its two leads, the ten others mixtures of them.

    The leads named in ``flat`` are zero throughout. The excerpt's reference annotations are copied beside it.
    """
    record = read_record(excerpts_dir / "119")
    mlii, v1 = record.signal_mv[:, 0], record.signal_mv[:, 1]
    weights = {"I": (0.6, -0.2), "II": (1, 0), "III": (0.4, 0.2), "aVR": (-0.8, 0.1), "aVL": (0.1, -0.2),
               "aVF": (0.5, 0.1), "V1": (0, 1), "V2": (0.1, 1.2), "V3": (0.5, 0.5), "V4": (0.9, 0), "V5": (1.0, -0.1),
               "V6": (0.8, 0)}
    signal = np.stack([a * mlii + b * v1 if lead not in flat else np.zeros_like(mlii)
                       for lead, (a, b) in weights.items()], axis=1)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_record(out_dir, name, signal, record.fs_hz, TWELVE_LEADS)
    (out_dir / f"{name}.atr").write_bytes((excerpts_dir / "119.atr").read_bytes())
    return out_dir / name


def write_multi_segment(folder: Path, excerpt, gap_s: float = 10.0) -> Path:
    """Record ``ms``: 60 s of the excerpt, a gap (``~``), then the next 60 s, in PhysioNet's variable layout (MIMIC's).

    The layout segment ``ms_layout`` (no samples) lists the signals; the second data segment holds the first lead
    only, so the other is missing there too.
    """
    fs_hz = excerpt.fs_hz
    folder.mkdir(parents=True, exist_ok=True)
    n, gap = int(60 * fs_hz), int(gap_s * fs_hz)
    write_record(folder, "ms_1", excerpt.signal_mv[:n], fs_hz, excerpt.lead_names, fmt="16", adc_gain=1000.0)
    write_record(folder, "ms_2", excerpt.signal_mv[n:2 * n, :1], fs_hz, excerpt.lead_names[:1], fmt="16",
                 adc_gain=1000.0)
    layout = "".join(f"~ 16 1000/mV 16 0 0 0 0 {lead}\n" for lead in excerpt.lead_names)
    (folder / "ms_layout.hea").write_text(f"ms_layout {len(excerpt.lead_names)} {fs_hz:g} 0\n{layout}")
    (folder / "ms.hea").write_text(f"ms/4 {len(excerpt.lead_names)} {fs_hz:g} {2 * n + gap}\nms_layout 0\n"
                                   f"ms_1 {n}\n~ {gap}\nms_2 {n}\n")
    return folder / "ms"


def add_st_change(signal_mv, samples, classes, fs_hz, lead, start_s, stop_s, change_mv, j_ms):
    """A copy of the signal with ``change_mv`` added from 20 ms after the J point to 280 ms after it, with 20-ms
    ramps, in every N beat between ``start_s`` and ``stop_s``: an ST shift that leaves the QRS complex alone."""
    changed = np.array(signal_mv, np.float64, copy=True)
    ramp = int(0.02 * fs_hz)
    shape = np.concatenate([np.linspace(0, 1, ramp), np.ones(int(0.22 * fs_hz)), np.linspace(1, 0, ramp)])
    first = int(round((j_ms / 1000 + 0.0) * fs_hz))
    for sample, label in zip(samples, classes):
        if label == "N" and start_s * fs_hz <= sample < stop_s * fs_hz and sample + first + len(shape) < len(changed):
            changed[sample + first:sample + first + len(shape), lead] += change_mv * shape
    return changed


def write_st_depression_record(excerpts_dir: Path, out_dir: Path, name: str = "st100",
                               stretches_s: tuple[tuple[float, float], ...] = ((60, 180),)) -> Path:
    """Excerpt 100 with a 0.25 mV ST depression in V5 (its second lead) over each stretch (from 1:00 to 3:00 by
    default), as a WFDB record with the excerpt's reference annotations; the J point is taken 25 ms after the R
    wave."""
    from pipeline.region_eval import annotated_beats

    record = read_record(excerpts_dir / "100", annotator="atr")
    samples, classes = annotated_beats(record.annotations)
    changed = record.signal_mv
    for start_s, stop_s in stretches_s:
        changed = add_st_change(changed, samples, classes, record.fs_hz, 1, start_s, stop_s, -0.25, 25.0)
    write_record(out_dir, name, changed, record.fs_hz, record.lead_names)
    (out_dir / f"{name}.atr").write_bytes((excerpts_dir / "100.atr").read_bytes())
    return out_dir / name


def write_other_database(excerpts_dir: Path, out_dir: Path, fs_hz: float = 128.0,
                         excerpts: tuple[str, ...] = ("119", "208")) -> Path:
    """A small "other database" at ``fs_hz`` (128 Hz, the MIT-BIH Supraventricular Arrhythmia Database's rate): each
    excerpt resampled, renamed ``x`` + its name, with its reference annotations moved to the new rate, and a record
    ``rhythm_only`` whose reference holds no beat (as the Atrial Fibrillation Database's)."""
    from pipeline.records import resample_signal, write_annotations
    from pipeline.types import Annotations

    out_dir.mkdir(parents=True, exist_ok=True)
    for name in excerpts:
        record = read_record(excerpts_dir / name)
        signal = resample_signal(record.signal_mv, record.fs_hz, fs_hz)
        write_record(out_dir, f"x{name}", signal, fs_hz, record.lead_names)
        a = record.annotations
        samples = np.minimum(np.round(a.samples * fs_hz / record.fs_hz).astype(np.int64), len(signal) - 1)
        write_annotations(out_dir, f"x{name}", "atr", Annotations(samples, a.symbols, a.aux_notes), fs_hz=fs_hz)
    record = read_record(excerpts_dir / excerpts[0])
    write_record(out_dir, "rhythm_only", resample_signal(record.signal_mv, record.fs_hz, fs_hz), fs_hz,
                 record.lead_names)
    write_annotations(out_dir, "rhythm_only", "atr",
                      Annotations(np.array([0]), np.array(["+"]), np.array(["(N"])), fs_hz=fs_hz)
    return out_dir
