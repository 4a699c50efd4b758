"""QRS detection under added noise: Se / +P by noise type and signal-to-noise ratio.

Three synthetic noise types are added, independently to each lead, over the whole record:

- ``white``: white Gaussian noise;
- ``baseline``: baseline wander, five sinusoids of random frequency in 0.05-0.5 Hz (amplitude
  1/f) plus a mean-reverting random walk (AR(1), 2 s time constant: a random walk over
  seconds that does not drift away over the record), each scaled to unit RMS;
- ``muscle``: muscle-like noise, white noise band-passed to 20-150 Hz and amplitude-modulated by
  random bursts (0.3-2 s at full level, 0.5-3 s pauses at a quarter level, 50 ms ramps).

The noise is scaled as the WFDB noise stress test ``nst`` does (Moody, Muldrow and Mark 1984):
signal power S = A^2 / 8, where A is the mean peak-to-peak amplitude (largest and smallest 5 %
dropped) of the clean lead within +-50 ms of its first 300 normal beats; noise power N = the
square of the mean (5 % trimmed each side) of the RMS about the mean of one-second chunks of
the first 300 s of noise; the gain a solves SNR = 10 log10(S / (N a^2)). One noise realisation
per (record, type, lead) is drawn from a seed derived from (--seed, record, type, lead), so
results are reproducible and every SNR of a type uses the same noise, only scaled. Scoring is
EC57 (150 ms, from 5 min) of ``detect_r_peaks`` on both noisy leads.

Usage::

    PYTHONPATH=. .venv/bin/python benchmarks/detector_noise.py                  # 10 records
    PYTHONPATH=. .venv/bin/python benchmarks/detector_noise.py --records all --snr 12,6
    PYTHONPATH=. .venv/bin/python benchmarks/detector_noise.py --records 100 --noise white

References
----------
Moody GB, Muldrow WK, Mark RG, "A noise stress test for arrhythmia detectors", Computers in
Cardiology 11:381-384, 1984; WFDB Applications Guide, ``nst`` and ``sigamp``.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Callable

import numpy as np
import scipy.signal

from benchmarks.common import (counts_dict, default_data_dir, format_table, load_records, parse_records, pct_text,
                               score_detection, sum_counts, write_results)
from pipeline.detect import DetectorSettings, detect_r_peaks, detect_record_peaks
from pipeline.scoring import DetectionCounts
from pipeline.types import Record

DEFAULT_RECORDS = "100,101,103,116,119,205,213,219,221,230"
"""Five records of each half of MIT-BIH (100- and 200-series), five of DS1 and five of DS2."""
DEFAULT_SNRS_DB = (24.0, 18.0, 12.0, 6.0, 0.0)
AMPLITUDE_BEATS = 300
AMPLITUDE_HALF_WINDOW_S = 0.05
NOISE_CALIBRATION_S = 300.0
TRIM_FRACTION = 0.05

NoiseGenerator = Callable[[np.random.Generator, int, float], np.ndarray]


def white_noise(rng: np.random.Generator, n: int, fs_hz: float) -> np.ndarray:
    """White Gaussian noise, unit variance."""
    return rng.standard_normal(n)


def baseline_wander(rng: np.random.Generator, n: int, fs_hz: float) -> np.ndarray:
    """Sum of 5 sinusoids in 0.05-0.5 Hz (amplitude 1/f) and an AR(1) random walk (2 s), each unit RMS."""
    t = np.arange(n) / fs_hz
    freqs = rng.uniform(0.05, 0.5, 5)
    phases = rng.uniform(0, 2 * np.pi, 5)
    sines = sum(np.sin(2 * np.pi * f * t + p) / f for f, p in zip(freqs, phases))
    rho = np.exp(-1.0 / (2.0 * fs_hz))
    walk = scipy.signal.lfilter([1.0], [1.0, -rho], rng.standard_normal(n))
    return _unit_rms(sines) + _unit_rms(walk)


def muscle_noise(rng: np.random.Generator, n: int, fs_hz: float) -> np.ndarray:
    """White noise band-passed to 20-150 Hz, modulated by random bursts."""
    high_hz = min(150.0, 0.45 * fs_hz)
    sos = scipy.signal.butter(4, (20.0, high_hz), btype="bandpass", fs=fs_hz, output="sos")
    band = scipy.signal.sosfiltfilt(sos, rng.standard_normal(n))
    return _unit_rms(band) * burst_envelope(rng, n, fs_hz)


def burst_envelope(rng: np.random.Generator, n: int, fs_hz: float) -> np.ndarray:
    """Alternating bursts (0.3-2 s, level 1) and pauses (0.5-3 s, level 0.25), with 50 ms ramps."""
    n_pairs = int(n / (0.8 * fs_hz)) + 2
    durations = np.column_stack([rng.uniform(0.3, 2.0, n_pairs), rng.uniform(0.5, 3.0, n_pairs)]).ravel()
    edges = np.round(np.cumsum(durations) * fs_hz).astype(np.int64)
    levels = np.tile([1.0, 0.25], n_pairs)
    envelope = levels[np.searchsorted(edges, np.arange(n), side="right")]
    ramp = max(1, int(0.05 * fs_hz))
    return np.convolve(envelope, np.ones(ramp) / ramp, mode="same")


NOISE_GENERATORS: dict[str, NoiseGenerator] = {"white": white_noise, "baseline": baseline_wander,
                                               "muscle": muscle_noise}


def _unit_rms(x: np.ndarray) -> np.ndarray:
    return x / np.sqrt(np.mean(x * x))


def trimmed_mean(values: np.ndarray, fraction: float = TRIM_FRACTION) -> float:
    """Mean after dropping the largest and the smallest ``fraction`` of the values (as sigamp)."""
    values = np.sort(np.asarray(values, dtype=np.float64))
    k = int(fraction * values.size)
    return float(values[k: values.size - k].mean())


def qrs_signal_power(x: np.ndarray, beat_samples: np.ndarray, fs_hz: float) -> float:
    """nst's S: (trimmed mean QRS peak-to-peak amplitude)^2 / 8 over the first 300 beats given."""
    half = int(round(AMPLITUDE_HALF_WINDOW_S * fs_hz))
    beats = beat_samples[(beat_samples >= half) & (beat_samples < x.size - half)][:AMPLITUDE_BEATS]
    windows = x[beats[:, None] + np.arange(-half, half + 1)[None, :]]
    return trimmed_mean(np.ptp(windows, axis=1)) ** 2 / 8.0


def noise_power(noise: np.ndarray, fs_hz: float) -> float:
    """nst's N: (trimmed mean RMS about the mean of 1 s chunks of the first 300 s)^2."""
    chunk = int(round(fs_hz))
    n_chunks = max(1, min(int(NOISE_CALIBRATION_S), noise.size // chunk))
    chunks = noise[: n_chunks * chunk].reshape(n_chunks, chunk)
    return trimmed_mean(chunks.std(axis=1)) ** 2


def noise_gain(signal_power: float, noise_power_: float, snr_db: float) -> float:
    """Gain a such that 10 log10(S / (N a^2)) = snr_db."""
    return float(np.sqrt(signal_power / (noise_power_ * 10 ** (snr_db / 10))))


def amplitude_beats(record: Record) -> np.ndarray:
    """Reference normal beats (``N``) for the amplitude, or every beat when there are fewer than 30."""
    from pipeline.labels import BEAT_SYMBOLS

    annotations = record.annotations
    normal = annotations.samples[annotations.symbols == "N"]
    return normal if normal.size >= 30 else annotations.samples[np.isin(annotations.symbols, BEAT_SYMBOLS)]


def make_noise(kind: str, record: Record, lead: int, seed: int) -> np.ndarray:
    """One reproducible noise realisation for (record, kind, lead), before scaling."""
    kind_index = list(NOISE_GENERATORS).index(kind)
    rng = np.random.default_rng(np.random.SeedSequence([seed, int(record.name), kind_index, lead]))
    return NOISE_GENERATORS[kind](rng, record.n_samples, record.fs_hz)


def stress_record(record: Record, kind: str, snrs_db: tuple[float, ...], seed: int,
                  settings: DetectorSettings = DetectorSettings()) -> dict[float, DetectionCounts]:
    """Detection counts of one record at each SNR of one noise type (noise on every lead)."""
    beats = amplitude_beats(record)
    noises, powers = [], []
    for lead in range(record.signal_mv.shape[1]):
        noise = make_noise(kind, record, lead, seed)
        noises.append(noise)
        powers.append((qrs_signal_power(record.signal_mv[:, lead], beats, record.fs_hz),
                       noise_power(noise, record.fs_hz)))
    results = {}
    for snr_db in snrs_db:
        noisy = record.signal_mv.copy()
        for lead, (noise, (s, n)) in enumerate(zip(noises, powers)):
            noisy[:, lead] += (noise_gain(s, n, snr_db) * noise).astype(np.float32)
        results[snr_db] = score_detection(record, detect_r_peaks(noisy, record.fs_hz, primary_lead=record.primary_lead,
                                                                 settings=settings).samples)
    return results


def run_stress_test(records: list[Record], kinds: tuple[str, ...], snrs_db: tuple[float, ...],
                    seed: int, settings: DetectorSettings = DetectorSettings()
                    ) -> dict[tuple[str, float], dict[str, DetectionCounts]]:
    """Counts per (noise type, SNR), then per record; the clean records come first as ("none", inf)."""
    results: dict[tuple[str, float], dict[str, DetectionCounts]] = {("none", float("inf")): {}}
    for record in records:
        results[("none", float("inf"))][record.name] = score_detection(
            record, detect_record_peaks(record, settings).samples)
        for kind in kinds:
            for snr_db, counts in stress_record(record, kind, snrs_db, seed, settings).items():
                results.setdefault((kind, snr_db), {})[record.name] = counts
    return results


def report_table(results: dict[tuple[str, float], dict[str, DetectionCounts]]) -> str:
    """Gross counts and Se / +P per noise type and SNR."""
    headers = ["noise", "SNR dB", "TP", "FN", "FP", "Se %", "+P %"]
    rows = []
    for (kind, snr_db), per_record in results.items():
        g = sum_counts(per_record.values())
        rows.append([kind, "clean" if np.isinf(snr_db) else f"{snr_db:g}", g.tp, g.fn, g.fp,
                     pct_text(g.sensitivity), pct_text(g.positive_predictivity)])
    return format_table(headers, rows)


def to_json(results: dict[tuple[str, float], dict[str, DetectionCounts]]) -> list[dict]:
    return [{"noise": kind, "snr_db": None if np.isinf(snr_db) else snr_db,
             "gross": counts_dict(sum_counts(per_record.values())),
             "per_record": {name: counts_dict(c) for name, c in per_record.items()}}
            for (kind, snr_db), per_record in results.items()]


def parse_snrs(text: str) -> tuple[float, ...]:
    return tuple(float(v) for v in text.split(",") if v.strip())


def parse_kinds(text: str) -> tuple[str, ...]:
    kinds = tuple(k.strip() for k in text.split(",") if k.strip())
    unknown = [k for k in kinds if k not in NOISE_GENERATORS]
    if not kinds or unknown:
        raise argparse.ArgumentTypeError(
            f"Received --noise {text!r}; expected a comma list of {list(NOISE_GENERATORS)}.")
    return kinds


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", default=DEFAULT_RECORDS, help=f"'all' or a comma list (default {DEFAULT_RECORDS})")
    parser.add_argument("--snr", type=parse_snrs, default=DEFAULT_SNRS_DB, help="SNRs in dB (default 24,18,12,6,0)")
    parser.add_argument("--noise", type=parse_kinds, default=tuple(NOISE_GENERATORS),
                        help="noise types (default white,baseline,muscle)")
    parser.add_argument("--seed", type=int, default=20240501, help="base seed of the noise")
    parser.add_argument("--data-dir", type=Path, default=default_data_dir(), help="MIT-BIH directory")
    parser.add_argument("--out-name", default="detector_noise", help="results file name (no extension)")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    names = parse_records(args.records)
    records = load_records(names, args.data_dir)
    results = run_stress_test(records, args.noise, args.snr, args.seed)
    print(f"{len(records)} records, noise on both leads, seed {args.seed}")
    print(report_table(results))
    path = write_results(args.out_name, {"records": list(names), "seed": args.seed, "snr_db": list(args.snr),
                                         "noise_types": list(args.noise), "conditions": to_json(results)})
    print(f"results: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
