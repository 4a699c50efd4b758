"""Beat classifier inference speed in batch, on real prepared DS2 beats (2-core CPU figure).

Times :func:`models.network.predict_probabilities` (fixed 1024-beat batches) over every labelled
DS2 beat at its reference position, after one warm-up pass; the best of ``--repeats`` is kept.
Preparation (cleaning, segmentation, features) is not included: it is part of the pipeline's
own per-record cost, measured by the batch-scoring benchmark.

Usage: PYTHONPATH=. .venv/bin/python benchmarks/classifier_speed.py [--model PATH_OR_URI] [--repeats 3]
"""

from __future__ import annotations

import argparse
import time

from benchmarks.common import default_data_dir, format_table, run_metadata, write_results
from models import registry
from models.bundled import BUNDLED_MODEL
from models.network import predict_probabilities, prepare_for_inference
from models.prepare import InputSettings
from models.training_data import load_labelled_inputs
from app.config import resolve_cache_dir
from pipeline.splits import DS2

TARGET_BEATS_PER_S = 20_000


def time_inference(model, waveform, features, repeats: int) -> float:
    """Best wall time of ``repeats`` full passes (after one warm-up pass)."""
    predict_probabilities(model, waveform[:2048], features[:2048])
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        predict_probabilities(model, waveform, features)
        best = min(best, time.perf_counter() - start)
    return best


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(BUNDLED_MODEL), help="model file or registry URI (default: bundled)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    loaded = registry.load_model(args.model)
    model = prepare_for_inference(loaded.model)
    settings = InputSettings.from_dict(loaded.settings["inputs"])
    data = load_labelled_inputs(DS2, default_data_dir(), resolve_cache_dir() / "model_inputs", settings, False)
    seconds = time_inference(model, data.inputs.waveform, data.inputs.features, args.repeats)
    rate = len(data) / seconds
    print(format_table(["model", "beats", "best s", "beats/s", "target"],
                       [[args.model, len(data), round(seconds, 3), round(rate), f">= {TARGET_BEATS_PER_S}"]]))
    payload = {"run": run_metadata(), "model": args.model, "beats": len(data), "best_s": seconds,
               "beats_per_s": rate, "target_beats_per_s": TARGET_BEATS_PER_S, "passed": rate >= TARGET_BEATS_PER_S}
    print(f"results: {write_results('classifier_speed', payload)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
