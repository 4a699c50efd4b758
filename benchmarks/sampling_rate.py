"""Beat classification at the sampling rates users' recorders use: DS2 rewritten at 128, 250 and 500 Hz.

The product reads a record at its own rate and resamples it to 360 Hz (:func:`pipeline.records.resample_signal`), so a
recording at another rate loses what its rate never held: a 128-Hz Holter keeps nothing above 64 Hz, the notches and
slurs of a QRS among it. This benchmark measures what that costs on the test set: each DS2 record is resampled from
360 Hz (:func:`pipeline.records.resample_signal`, the product's own polyphase resampler, whose anti-alias filter
stands in for the recorder's) and written as a WFDB record with its reference annotations moved to the new rate, then
scored with ``ecg evaluate`` as a user would (the bundled model, reference positions and end to end with the project's
detector). The model was not trained at these rates; DS2 is read for this statement, nothing is chosen from it.

With ``--round-trip`` each signal is resampled to the rate and back to 360 Hz and keeps its annotations as they are:
the bandwidth lost without the positions moved to the coarser grid, to tell the two apart.

Usage: PYTHONPATH=. .venv/bin/python benchmarks/sampling_rate.py [--rates 128 250 500] [--records 100,103]
[--round-trip] (about 3 minutes a rate on 2 cores; records written under .cache/resampled/; results:
benchmarks/results/sampling_rate[-round_trip].json, BENCHMARKS.md section 18)
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import wfdb

from benchmarks.common import BUNDLED_MODEL, CACHE_DIR, REPO_ROOT, default_data_dir, format_table, write_results
from pipeline.records import resample_signal
from pipeline.splits import DS2

RATES_HZ = (128.0, 250.0, 500.0)
SOURCE_FS_HZ = 360.0
FIGURES = ("accuracy", "N_se", "N_ppv", "S_se", "S_ppv", "V_se", "V_ppv")
MODES = ("reference", "end_to_end")


def write_resampled_record(source: Path, target_dir: Path, fs_hz: float, round_trip: bool = False) -> None:
    """``source`` (a 360-Hz MIT-BIH record) rewritten at ``fs_hz`` with its ``.atr`` moved to the new rate; with
    ``round_trip``, resampled to ``fs_hz`` and back, at 360 Hz with its annotations as they are (the bandwidth lost,
    the annotated positions kept)."""
    record = wfdb.rdrecord(str(source))
    signal = resample_signal(record.p_signal, record.fs, fs_hz)
    if round_trip:
        signal, fs_hz = resample_signal(signal, fs_hz, record.fs)[:record.sig_len], record.fs
    wfdb.wrsamp(source.name, fs=fs_hz, units=record.units, sig_name=record.sig_name, p_signal=signal,
                fmt=["16"] * signal.shape[1], adc_gain=[200.0] * signal.shape[1], baseline=[0] * signal.shape[1],
                write_dir=str(target_dir))
    annotation = wfdb.rdann(str(source), "atr")
    samples = np.minimum(np.round(annotation.sample * fs_hz / record.fs).astype(np.int64), len(signal) - 1)
    wfdb.wrann(source.name, "atr", samples, np.asarray(annotation.symbol), subtype=annotation.subtype,
               chan=annotation.chan, num=annotation.num, aux_note=annotation.aux_note, fs=fs_hz,
               write_dir=str(target_dir))


def evaluate_directory(directory: Path, records: tuple[str, ...], out_dir: Path) -> dict:
    """``ecg evaluate`` of ``records`` in ``directory`` with the bundled model; the report's gross figures."""
    command = [sys.executable, "-m", "app.cli", "evaluate", "--model", str(BUNDLED_MODEL), "--data-dir",
               str(directory), "--records", ",".join(records), "--out", str(out_dir)]
    subprocess.run(command, cwd=REPO_ROOT, check=True, capture_output=True)
    report = json.loads((out_dir / "classification_report.json").read_text())
    return {mode: {k: report["modes"][mode]["gross"][k] for k in (*FIGURES, "beats")} for mode in MODES} | {
        "failures": report["failures"]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", type=float, nargs="+", default=list(RATES_HZ))
    parser.add_argument("--records", default=",".join(DS2))
    parser.add_argument("--round-trip", action="store_true",
                        help="Each rate's signal resampled back to 360 Hz, the annotations kept: the bandwidth alone.")
    args = parser.parse_args(argv)
    records = tuple(args.records.split(","))
    data_dir = default_data_dir()
    results = {"360 (as recorded)": evaluate_directory(data_dir, records, CACHE_DIR / "resampled" / "report_360")}
    suffix = "-round_trip" if args.round_trip else ""
    for fs_hz in args.rates:
        directory = CACHE_DIR / "resampled" / f"mitdb_{fs_hz:g}{suffix}"
        directory.mkdir(parents=True, exist_ok=True)
        for name in records:
            if not (directory / f"{name}.atr").exists():
                write_resampled_record(data_dir / name, directory, fs_hz, args.round_trip)
        results[f"{fs_hz:g}"] = evaluate_directory(directory, records, directory / "report")
        print(f"{fs_hz:g} Hz: {results[f'{fs_hz:g}']}", flush=True)
    rows = [[rate, mode, *(round(100 * figures[mode][k], 1) for k in FIGURES)]
            for rate, figures in results.items() for mode in MODES]
    print(format_table(["Hz", "positions", *FIGURES], rows))
    path = write_results(f"sampling_rate{suffix}", {
        "round_trip": args.round_trip, "records": list(records),
        "model": str(BUNDLED_MODEL.relative_to(REPO_ROOT)), "results": results})
    print(f"results: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
