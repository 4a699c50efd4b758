"""A spectral line at 1/6 Hz in the annotated RR intervals of many MIT-BIH records: how much of their HF power it is.

Session 50: a cross-check of ``pipeline.hrv`` against another library found LF/HF of 0.13 on record 100 and 0.05 on
207 with every method, and behind it one narrow peak at the same frequency in many records' spectra. Breathing does
not hold the same rate to 0.001 Hz across patients, so the line is most likely the recordings' (the tapes were played
back and digitised at the MIT laboratory; the cause is not known here). This script measures it from the reference
annotations alone (no detector, no classifier, no editing but the rules below), so that anyone reading LF/HF on
MIT-BIH can see which records it rules.

Per record: the intervals between two consecutive normal or bundle-branch-block beats (N, L, R) of the ``.atr`` file
outside its atrial fibrillation and flutter, in 5-minute segments (each interval
at its closing beat) whose intervals cover at least 80 % of the segment, each segment's linear trend removed, a
Lomb-Scargle periodogram on a 0.0005-Hz grid up to the segment's mean Nyquist frequency (``pipeline.hrv``'s method);
per segment the frequency of the largest peak between 0.04 and 0.4 Hz, and the share of HF power (0.15-0.4 Hz) within
0.01 Hz of 1/6 Hz; the record's LF/HF (ratio of the segments' mean LF and HF) with and without that narrow band.
A record "has the line" when the peak of most of its segments lies within 0.002 Hz of 1/6 Hz. Chooses nothing.

Usage::

    PYTHONPATH=. .venv/bin/python benchmarks/hrv_spectral_line.py [--data-dir DIR]   (about 20 s)
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from scipy.signal import lombscargle

from benchmarks.common import default_data_dir, format_table, write_results
from pipeline.records import read_annotations, read_header
from pipeline.splits import MITDB_RECORDS

LINE_HZ = 1.0 / 6.0
LINE_HALF_WIDTH_HZ = 0.01
PEAK_TOLERANCE_HZ = 0.002
SEGMENT_S, MIN_COVERAGE = 300.0, 0.8
LF_HZ, HF_HZ = (0.04, 0.15), (0.15, 0.40)
GRID_STEP_HZ = 0.0005


AF_RHYTHMS = ("(AFIB", "(AFL")
SINUS_SYMBOLS = ("N", "L", "R")
"""Normal beats and bundle branch block beats: conducted from the sinus node (AAMI's N class less escape beats)."""


def annotated_nn_intervals(path) -> tuple[np.ndarray, np.ndarray]:
    """Times (s, closing beat) and lengths (ms) of the intervals between two consecutive annotated sinus beats
    (:data:`SINUS_SYMBOLS`) outside the reference's atrial fibrillation and flutter (whose beats MIT-BIH labels N)."""
    fs_hz = float(read_header(Path(path)).fs)
    annotation = read_annotations(path, "atr", source_fs_hz=fs_hz, target_fs_hz=fs_hz)
    symbols = np.asarray(annotation.symbols)
    rhythm, in_af = "", np.zeros(len(symbols), bool)
    for k, (symbol, note) in enumerate(zip(symbols, annotation.aux_notes)):
        if symbol == "+":
            rhythm = note.strip("\x00")
        in_af[k] = rhythm in AF_RHYTHMS
    beats = np.isin(symbols, list("NLRBAaJSVrFejnE/fQ?"))
    samples, normal = annotation.samples[beats], np.isin(symbols[beats], SINUS_SYMBOLS) & ~in_af[beats]
    pairs = normal[:-1] & normal[1:]
    return samples[1:][pairs] / fs_hz, 1000.0 * np.diff(samples)[pairs] / fs_hz


def segment_spectrum(times_s: np.ndarray, nn_ms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Frequencies (Hz) and power of one segment's detrended intervals, up to its mean Nyquist frequency."""
    detrended = nn_ms - np.polyval(np.polyfit(times_s, nn_ms, 1), times_s)
    nyquist_hz = len(times_s) / (2.0 * (times_s[-1] - times_s[0]))
    freqs = np.arange(GRID_STEP_HZ, nyquist_hz, GRID_STEP_HZ)
    return freqs, lombscargle(times_s, detrended, 2 * np.pi * freqs)


def measure_record(path) -> dict | None:
    """The line's figures for one record (module docstring); None without a qualifying segment."""
    times_s, nn_ms = annotated_nn_intervals(path)
    segment = (times_s // SEGMENT_S).astype(int)
    peaks, shares, powers = [], [], []
    for k in np.unique(segment):
        chosen = segment == k
        if nn_ms[chosen].sum() / 1000.0 < MIN_COVERAGE * SEGMENT_S:
            continue
        freqs, power = segment_spectrum(times_s[chosen], nn_ms[chosen])
        searched = (freqs >= LF_HZ[0]) & (freqs < HF_HZ[1])
        peaks.append(float(freqs[searched][np.argmax(power[searched])]))
        lf = power[(freqs >= LF_HZ[0]) & (freqs < LF_HZ[1])].sum()
        hf_band = (freqs >= HF_HZ[0]) & (freqs < HF_HZ[1])
        near = hf_band & (np.abs(freqs - LINE_HZ) <= LINE_HALF_WIDTH_HZ)
        hf, line = power[hf_band].sum(), power[near].sum()
        shares.append(float(line / hf) if hf > 0 else float("nan"))
        powers.append((lf, hf, hf - line))
    if not peaks:
        return None
    lf, hf, hf_without = np.mean(powers, axis=0)
    return {"segments": len(peaks), "peak_hz_median": float(np.median(peaks)),
            "segments_peaking_at_line": int(np.sum(np.abs(np.array(peaks) - LINE_HZ) <= PEAK_TOLERANCE_HZ)),
            "line_share_of_hf_median": float(np.nanmedian(shares)),
            "lf_hf": float(lf / hf), "lf_hf_without_line": float(lf / hf_without)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None, help="MIT-BIH directory (default: ECG_DATA_DIR or ../shared)")
    args = parser.parse_args(argv)
    data_dir = default_data_dir() if args.data_dir is None else args.data_dir
    records = {}
    for name in MITDB_RECORDS:
        result = measure_record(f"{data_dir}/{name}")
        if result is not None:
            records[name] = result
    with_line = [n for n, r in records.items() if r["segments_peaking_at_line"] > r["segments"] / 2]
    rows = [[n, r["segments"], f"{r['peak_hz_median']:.4f}", f"{100 * r['line_share_of_hf_median']:.0f} %",
             f"{r['lf_hf']:.2f}", f"{r['lf_hf_without_line']:.2f}"] for n, r in records.items()]
    print(format_table(["record", "segments", "peak (Hz, median)", "line's share of HF", "LF/HF",
                        "LF/HF without the line"], rows))
    print(f"records whose spectra peak within {PEAK_TOLERANCE_HZ} Hz of 1/6 Hz in most segments: {len(with_line)} "
          f"of {len(records)} ({', '.join(with_line)})")
    path = write_results("hrv_spectral_line", {"records": records, "records_with_line": with_line})
    print(f"written to {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
