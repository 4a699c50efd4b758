"""What a second CPU thread buys a network's training, against a second network trained beside it (2-core figure).

Trains fold networks of the bundled configuration (``configs/bundled.toml``) on DS1 for ``--epochs`` epochs
(no early stopping), each in a fresh process so that TensorFlow's thread count can be set, and times
:func:`models.train.train_fold` alone (data loading and imports excluded):

- fold 0 and fold 1 one after the other, each with two TensorFlow threads (how ``ecg train`` trained before
  session 23);
- fold 0 with one thread;
- folds 0 and 1 at the same time, one thread each (what ``ecg train --jobs 2`` does,
  :mod:`models.training_workers`).

The figure that matters is the pair: the sum of the two-thread times against the longer of the two side-by-side
times. ``ecg train``'s own MLflow metrics (``training_time_s``, ``context_stage_time_s``) give the whole run.

Usage: PYTHONPATH=. .venv/bin/python benchmarks/training_parallel.py [--epochs 4] [--config configs/bundled.toml]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import tomllib
from dataclasses import replace
from pathlib import Path

from benchmarks.common import default_data_dir, format_table, write_results


def train_one(fold: int, threads: int, epochs: int, config_path: Path) -> dict:
    """Child process: limit TensorFlow's threads, train ``fold``'s network, return its time."""
    from models.network import limit_cpu_threads

    limit_cpu_threads(threads)
    import numpy as np

    from app.config import resolve_cache_dir
    from models.folds import assign_patient_folds
    from models.train import NullTracker, TrainingConfig, train_fold
    from models.training_data import load_labelled_inputs
    from pipeline.splits import DS1

    config = TrainingConfig.from_dict(tomllib.loads(config_path.read_text(encoding="utf-8")))
    config = replace(config, epochs=epochs, patience=epochs)
    data = load_labelled_inputs(DS1, default_data_dir(), resolve_cache_dir() / "model_inputs", config.inputs,
                                progress=False)
    fold_of = assign_patient_folds(data.record_names, data.labels, config.n_folds)
    beat_fold = np.array([fold_of[name] for name in data.record_names])
    start = time.perf_counter()
    train_fold(data, beat_fold != fold, config, fold, NullTracker())
    return {"fold": fold, "threads": threads, "epochs": epochs, "train_s": round(time.perf_counter() - start, 2),
            "train_beats": int((beat_fold != fold).sum())}


def start_child(fold: int, threads: int, epochs: int, config_path: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, __file__, "--child", str(fold), str(threads), "--epochs", str(epochs),
                             "--config", str(config_path)], stdout=subprocess.PIPE, text=True)


def collect(child: subprocess.Popen) -> dict:
    out, _ = child.communicate()
    if child.returncode != 0:
        raise SystemExit(f"a training child failed (exit {child.returncode})")
    return json.loads(out.strip().splitlines()[-1])


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--config", type=Path, default=Path("configs/bundled.toml"))
    parser.add_argument("--child", nargs=2, type=int, metavar=("FOLD", "THREADS"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(train_one(args.child[0], args.child[1], args.epochs, args.config)))
        return
    serial = [collect(start_child(fold, 2, args.epochs, args.config)) for fold in (0, 1)]
    single = collect(start_child(0, 1, args.epochs, args.config))
    pair = [collect(child) for child in [start_child(fold, 1, args.epochs, args.config) for fold in (0, 1)]]
    serial_s = sum(r["train_s"] for r in serial)
    side_by_side_s = max(r["train_s"] for r in pair)
    rows = ([[f"fold {r['fold']}", "2 threads, alone", r["train_s"]] for r in serial]
            + [["fold 0", "1 thread, alone", single["train_s"]]]
            + [[f"fold {r['fold']}", "1 thread, beside the other", r["train_s"]] for r in pair])
    print(format_table(["network", "how", f"train s ({args.epochs} epochs)"], rows))
    print(f"two networks: one after the other with 2 threads {serial_s:.1f} s; side by side with 1 thread each "
          f"{side_by_side_s:.1f} s ({serial_s / side_by_side_s:.2f}x)")
    path = write_results("training_parallel", {
        "epochs": args.epochs, "config": str(args.config), "two_threads_alone": serial, "one_thread_alone": single,
        "one_thread_side_by_side": pair, "pair_serial_s": round(serial_s, 2),
        "pair_side_by_side_s": round(side_by_side_s, 2), "speedup": round(serial_s / side_by_side_s, 3)})
    print(f"written {path}")


if __name__ == "__main__":
    main()
