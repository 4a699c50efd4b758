"""Beat classifier inference speed in batch, on real prepared DS2 beats (2-core CPU figure).

Times :func:`models.network.predict_probabilities` (fixed-size batches, ``--batch-size``) over every
labelled DS2 beat at its reference position, after one warm-up pass; the best of ``--repeats`` is kept.
Preparation (cleaning, segmentation, features) is not included: it is part of the pipeline's
own per-record cost, measured by the batch-scoring benchmark. ``--matrix`` times every combination
of XLA on/off, 512/1024-beat batches and 1 or 2 TensorFlow threads, each in a fresh process.
``--member-copies K`` times an ensemble of K copies of the model's networks: what an ensemble K times larger would
cost (e.g. a second seed per network, EXPERIMENTS.md row W); its results go to ``classifier_speed-xK.json``.
``--network JSON`` times untrained networks of another size instead (the model's network settings with these changed,
e.g. ``'{"conv_strides": [4, 6]}'``; as many networks as the model has, times ``--member-copies``): inference cost
does not depend on the weights, so candidate sizes are timed before any training (EXPERIMENTS.md row X); results to
``classifier_speed-network.json``, one entry per run appended.

When the model carries a beat-context stage (:mod:`models.context_stage`), its division of p(N) + p(S) is timed too,
record by record as the product applies it (best of ``--repeats``), and the target is judged on network and stage
together (``beats_per_s``; the network alone in ``network_beats_per_s``).

Usage: PYTHONPATH=. .venv/bin/python benchmarks/classifier_speed.py [--model PATH_OR_URI] [--repeats 3]
       [--batch-size 1024] [--jit on|off] [--threads N] [--matrix] [--member-copies K] [--network JSON]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import keras

from benchmarks.common import RESULTS_DIR, default_data_dir, format_table, run_metadata, write_results
from models import registry
from models.bundled import BUNDLED_MODEL
from models.context_stage import ContextStage
from models.network import (PREDICT_BATCH_SIZE, NetworkConfig, build_classifier, limit_cpu_threads,
                            predict_probabilities, prepare_for_inference)
from models.train import build_ensemble
from models.prepare import InputSettings
from models.training_data import load_labelled_inputs
from app.config import resolve_cache_dir
from pipeline.splits import DS2

TARGET_BEATS_PER_S = 20_000


def time_inference(model, waveform, features, repeats: int, batch_size: int = PREDICT_BATCH_SIZE) -> float:
    """Best wall time of ``repeats`` full passes (after one warm-up pass)."""
    predict_probabilities(model, waveform[:2048 + 1], features[:2048 + 1], batch_size=batch_size,
                          tail_batch_size=min(batch_size, 256))
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        predict_probabilities(model, waveform, features, batch_size=batch_size, tail_batch_size=min(batch_size, 256))
        best = min(best, time.perf_counter() - start)
    return best


def time_stage(stage, probabilities, features, feature_names, record_names, repeats: int) -> float:
    """Best wall time of ``repeats`` passes of the context stage over every record's beats (after one warm-up)."""
    rows = [record_names == name for name in dict.fromkeys(record_names.tolist())]
    best = float("inf")
    for attempt in range(repeats + 1):
        start = time.perf_counter()
        for mine in rows:
            stage.split(probabilities[mine], features[mine], feature_names)
        if attempt:
            best = min(best, time.perf_counter() - start)
    return best


def replicate_members(model: keras.Model, copies: int) -> keras.Model:
    """An ensemble of ``copies`` copies of each network the model averages (the model itself when it is one)."""
    members = [layer for layer in model.layers if isinstance(layer, keras.Model)] or [model]
    clones = []
    for _ in range(copies):
        for member in members:
            clone = keras.models.clone_model(member)
            clone.set_weights(member.get_weights())
            clones.append(clone)
    return build_ensemble(clones)


def build_untrained_members(model: keras.Model, network_settings: dict, changes: dict, copies: int) -> keras.Model:
    """An ensemble of untrained networks of the model's size with ``changes`` (NetworkConfig keys), as many as the model
    averages times ``copies``."""
    members = [layer for layer in model.layers if isinstance(layer, keras.Model)] or [model]
    config = NetworkConfig.from_dict({**network_settings, **changes})
    return build_ensemble([build_classifier(config) for _ in range(len(members) * copies)])


def append_network_result(entry: dict) -> str:
    """Add one ``--network`` run to ``classifier_speed-network.json`` (earlier runs kept)."""
    path = RESULTS_DIR / "classifier_speed-network.json"
    runs = json.loads(path.read_text())["runs"] if path.exists() else []
    return str(write_results("classifier_speed-network", {"runs": runs + [entry]}))


def run_matrix(args) -> int:
    """Every XLA x batch size x threads combination, each in a fresh process (TF threads are per process)."""
    rows, results = [], []
    for jit in ("on", "off"):
        for batch_size in (512, 1024):
            for threads in (1, 2):
                command = [sys.executable, "-m", "benchmarks.classifier_speed", "--model", args.model,
                           "--repeats", str(args.repeats), "--jit", jit, "--batch-size", str(batch_size),
                           "--threads", str(threads), "--no-write"]
                out = subprocess.run(command, capture_output=True, text=True, check=True,
                                     env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}).stdout
                rate = int(out.strip().splitlines()[-1].split("=")[1])
                results.append({"jit": jit, "batch_size": batch_size, "threads": threads, "beats_per_s": rate})
                rows.append([jit, batch_size, threads, rate])
    print(format_table(["XLA", "batch", "threads", "beats/s"], rows))
    best = max(r["beats_per_s"] for r in results)
    payload = {"model": args.model, "matrix": results, "best_beats_per_s": best,
               "target_beats_per_s": TARGET_BEATS_PER_S, "passed": best >= TARGET_BEATS_PER_S}
    print(f"results: {write_results('classifier_speed_matrix', payload)}")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(BUNDLED_MODEL), help="model file or registry URI (default: bundled)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=PREDICT_BATCH_SIZE)
    parser.add_argument("--jit", choices=("on", "off"), default=None,
                        help="XLA on or off (default: as the product loads models, prepare_for_inference)")
    parser.add_argument("--threads", type=int, default=0, help="TensorFlow threads (default: TensorFlow's)")
    parser.add_argument("--matrix", action="store_true", help="time every combination in fresh processes")
    parser.add_argument("--member-copies", type=int, default=1,
                        help="time an ensemble of this many copies of the model's networks")
    parser.add_argument("--network", default=None, metavar="JSON",
                        help="time untrained networks with these network settings changed (JSON object)")
    parser.add_argument("--no-write", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.matrix:
        return run_matrix(args)
    if args.threads:
        limit_cpu_threads(args.threads)
    loaded = registry.load_model(args.model)
    if args.network is not None:
        networks = build_untrained_members(loaded.model, loaded.settings["network"], json.loads(args.network),
                                           args.member_copies)
    elif args.member_copies == 1:
        networks = loaded.model
    else:
        networks = replicate_members(loaded.model, args.member_copies)
    model = prepare_for_inference(networks)
    if args.jit is not None:
        model.compile(jit_compile=args.jit == "on")
    settings = InputSettings.from_dict(loaded.settings["inputs"])
    data = load_labelled_inputs(DS2, default_data_dir(), resolve_cache_dir() / "model_inputs", settings, False)
    network_s = time_inference(model, data.inputs.waveform, data.inputs.features, args.repeats, args.batch_size)
    stage = ContextStage.from_settings(loaded.settings) if args.network is None and args.member_copies == 1 else None
    stage_s = 0.0
    if stage is not None:
        probabilities = predict_probabilities(model, data.inputs.waveform, data.inputs.features,
                                              batch_size=args.batch_size)
        stage_s = time_stage(stage, probabilities, data.inputs.features, data.inputs.feature_names,
                             data.record_names, args.repeats)
    seconds = network_s + stage_s
    rate = len(data) / seconds
    if args.no_write:
        print(f"beats_per_s={round(rate)}")
        return 0
    print(format_table(["model", "beats", "network s", "context stage s", "beats/s", "target"],
                       [[args.model, len(data), round(network_s, 3), round(stage_s, 3) if stage else "-",
                         round(rate), f">= {TARGET_BEATS_PER_S}"]]))
    payload = {"run": run_metadata(), "model": args.model, "member_copies": args.member_copies, "beats": len(data),
               "best_s": seconds, "network_s": network_s, "network_beats_per_s": len(data) / network_s,
               "context_stage_s": stage_s if stage is not None else None,
               "batch_size": args.batch_size, "jit": args.jit or "product default", "threads": args.threads or "default",
               "beats_per_s": rate, "target_beats_per_s": TARGET_BEATS_PER_S, "passed": rate >= TARGET_BEATS_PER_S}
    if args.network is not None:
        print(f"results: {append_network_result({**payload, 'network_changes': json.loads(args.network)})}")
        return 0
    name = "classifier_speed" if args.member_copies == 1 else f"classifier_speed-x{args.member_copies}"
    print(f"results: {write_results(name, payload)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
