"""Pacing spikes on MIT-BIH's 48 records: the share of each record's readable beats with a pacing spike
(:func:`pipeline.pacing.measure_spike_share`), and for the four paced records how the spiked beats fall on the
reference's paced (``/``), fusion-of-paced (``f``) and other beats.

With ``--noise``, the same share with white and muscle noise added to every lead at 12, 6 and 0 dB (the noise
stress benchmark's noise, ``benchmarks/detector_noise.py``) on the records named (default: the paced four and five
unpaced records whose shares are the highest without noise or whose QRS is notched).

Usage::

    PYTHONPATH=. .venv/bin/python benchmarks/pacing_spikes.py
    PYTHONPATH=. .venv/bin/python benchmarks/pacing_spikes.py --records 102,100 --no-write
    PYTHONPATH=. .venv/bin/python benchmarks/pacing_spikes.py --noise

Writes ``benchmarks/results/pacing_spikes.json`` (BENCHMARKS.md section 19). The threshold was set on these records,
so they are not a held-out test of it.
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import time

import numpy as np

from benchmarks.common import default_data_dir, format_table, parse_records, write_results
from pipeline.detect import detect_record_peaks
from pipeline.pacing import (SpikeSettings, find_beats_outside, find_spiked_beats, measure_spike_share,
                              reads_as_spiked)
from pipeline.quality import find_record_quality_spans
from pipeline.records import read_record
from pipeline.splits import PACED

PACED_SYMBOLS = ("/", "f")


def nearest_symbols(record, samples: np.ndarray) -> np.ndarray:
    """The reference beat symbol within 150 ms of each beat ("-" for none)."""
    ann = record.annotations
    symbols = np.asarray(ann.symbols)
    is_beat = ~np.isin(symbols, ("+", "~", "|", "!", "[", "]", '"', "x", "^", "=", "t", "p", "u", "`", "'", "s", "T",
                                 "*", "D", "@"))
    ref, ref_symbols = np.asarray(ann.samples)[is_beat], symbols[is_beat]
    k = np.clip(np.searchsorted(ref, samples), 1, len(ref) - 1)
    k = np.where(np.abs(ref[k - 1] - samples) < np.abs(ref[k] - samples), k - 1, k)
    return np.where(np.abs(ref[k] - samples) <= 0.15 * record.fs_hz, ref_symbols[k], "-")


NOISE_RECORDS = ("102", "104", "107", "217", "100", "101", "119", "122", "200")
NOISE_CONDITIONS = (("white", 12.0), ("white", 6.0), ("white", 0.0), ("muscle", 12.0), ("muscle", 6.0),
                    ("muscle", 0.0))
NOISE_SEED = 20240501


def add_noise(record, kind: str, snr_db: float):
    """``record`` with ``kind`` noise on every lead at ``snr_db`` (as ``benchmarks/detector_noise.py`` adds it)."""
    from benchmarks.detector_noise import amplitude_beats, make_noise, noise_gain, noise_power, qrs_signal_power

    beats = amplitude_beats(record)
    noisy = record.signal_mv.copy()
    for lead in range(noisy.shape[1]):
        noise = make_noise(kind, record, lead, NOISE_SEED)
        gain = noise_gain(qrs_signal_power(record.signal_mv[:, lead], beats, record.fs_hz),
                          noise_power(noise, record.fs_hz), snr_db)
        noisy[:, lead] += (gain * noise).astype(noisy.dtype)
    return dataclasses.replace(record, signal_mv=noisy)


def measure_share(record, settings: SpikeSettings) -> tuple[float, np.ndarray, float, np.ndarray]:
    """The record's spike share over its readable beats, its detected beats, the seconds the share took and which
    beats are readable."""
    detection = detect_record_peaks(record)
    samples = detection.samples
    spans = find_record_quality_spans(record.signal_mv, record.fs_hz, samples, detection.noise_only)
    readable = find_beats_outside(samples, spans)
    started = time.perf_counter()
    share = measure_spike_share(record.signal_mv, record.fs_hz, samples, readable, settings)
    return share, samples, time.perf_counter() - started, readable


def measure_record(path, settings: SpikeSettings) -> dict:
    record = read_record(path, annotator="atr")
    share, samples, seconds, readable = measure_share(record, settings)
    result = {"share": round(share, 4), "reads_as_paced": reads_as_spiked(share, settings),
              "readable_beats": int(readable.sum()), "seconds": round(seconds, 3)}
    if record.name in PACED:
        spiked = find_spiked_beats(record.signal_mv, record.fs_hz, samples, settings)
        symbols = nearest_symbols(record, samples)
        counts = collections.Counter(zip(symbols.tolist(), spiked.tolist()))
        result["by_reference"] = {f"{symbol} {'spiked' if flag else 'not'}": n
                                  for (symbol, flag), n in sorted(counts.items())}
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", default="all")
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--noise", action="store_true")
    args = parser.parse_args(argv)
    settings = SpikeSettings()
    if args.noise:
        return measure_in_noise(NOISE_RECORDS if args.records == "all" else parse_records(args.records), settings,
                                not args.no_write)
    results = {name: measure_record(default_data_dir() / name, settings) for name in parse_records(args.records)}
    rows = [[name, "yes" if name in PACED else "no", r["readable_beats"], f"{r['share']:.2f}",
             "yes" if r["reads_as_paced"] else "no"]
            for name, r in sorted(results.items(), key=lambda item: -item[1]["share"])]
    print(format_table(["record", "paced (reference)", "readable beats", "spiked share", "reads as paced"], rows))
    for name in PACED:
        if name in results:
            print(name, results[name]["by_reference"])
    wrong = [n for n, r in results.items() if r["reads_as_paced"] != (n in PACED)]
    print(f"records read wrongly: {wrong or 'none'}; median seconds per record "
          f"{np.median([r['seconds'] for r in results.values()]):.3f}")
    if not args.no_write:
        path = write_results("pacing_spikes", {"settings": dataclasses.asdict(settings), "records": results,
                                               "wrong": wrong})
        print(f"results: {path}")
    return 1 if wrong else 0


def measure_in_noise(names: tuple[str, ...], settings: SpikeSettings, write: bool) -> int:
    """The spike share of ``names`` under each of :data:`NOISE_CONDITIONS`; 1 when an unpaced record reads as
    paced."""
    results = {}
    for name in names:
        record = read_record(default_data_dir() / name, annotator="atr")
        results[name] = {f"{kind} {snr:g} dB": round(measure_share(add_noise(record, kind, snr), settings)[0], 4)
                         for kind, snr in NOISE_CONDITIONS}
    headers = ["record", "paced (reference)", *results[names[0]]]
    print(format_table(headers, [[name, "yes" if name in PACED else "no",
                                  *(f"{v:.2f}" for v in r.values())] for name, r in results.items()]))
    false = [name for name, r in results.items() if name not in PACED
             and any(reads_as_spiked(v, settings) for v in r.values())]
    print(f"unpaced records read as paced in noise: {false or 'none'}")
    if write:
        path = write_results("pacing_spikes_noise", {"settings": dataclasses.asdict(settings), "seed": NOISE_SEED,
                                                     "records": results, "false": false})
        print(f"results: {path}")
    return 1 if false else 0


if __name__ == "__main__":
    raise SystemExit(main())
