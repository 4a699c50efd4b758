"""The GPU check of issue 3: does training take Keras's cuDNN GRU kernel, and how long does an epoch take?

Builds the bundled network (the sizes in ``models/bundled/model.json``, fresh weights) and trains it on random inputs of
one DS1 fold's size (46,000 beats, the bundled batch of 256; an epoch's cost depends on the shapes, not the values)
twice on the machine it runs on: with Keras's cuDNN GRU function allowed, as the product's layers are, and refused.
It reports:

- the Keras backend and the accelerator it sees;
- whether every GRU's configuration is cuDNN-eligible (:func:`models.network.describe_cudnn_problems`, the conditions
  ``tests/test_network.py`` asserts in CI);
- how many times the backend's cuDNN GRU function ran (a counting wrapper around ``_cudnn_gru`` of
  ``keras/src/backend/<backend>/rnn.py``, which Keras calls only on a GPU and only for an eligible configuration: at
  trace time on TensorFlow, at every call on PyTorch). Refusing it (the wrapper raises ``NotImplementedError``, which
  both backends answer with their generic GRU loop) gives the generic kernel's timing on the same device;
- on the PyTorch backend with CUDA, the GPU kernels one training step launched whose names mention an RNN or GRU
  (``torch.profiler``), which shows the cuDNN kernel itself;
- the seconds per epoch both ways (the first epoch holds the tracing and warm-up).

On a CPU the cuDNN function never runs (0 calls), and both ways are the same loop.

Usage here (TensorFlow, the CPU): PYTHONPATH=. .venv/bin/python benchmarks/gpu_check.py
(benchmarks/results/gpu_check-tensorflow-cpu.json). On a lent GPU machine, which holds PyTorch but no TensorFlow:
KERAS_BACKEND=torch with Keras's wheel carried (BENCHMARKS.md section 5, "The GPU check, prepared").
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import importlib
import json
import platform
import sys
import time
from pathlib import Path

import keras
import numpy as np

from models.network import NetworkConfig, build_classifier, describe_cudnn_problems, iter_gru_layers

REPO_ROOT = Path(__file__).resolve().parents[1]
BUNDLED_SETTINGS = REPO_ROOT / "models" / "bundled" / "model.json"
FOLD_BEATS = 46_000
"""About one fold network's training beats in the bundled configuration (three quarters of DS1's 51,021 labelled
beats, plus one-lead copies of a fifth of them)."""
BATCH_SIZE = 256
KERNEL_WORDS = ("rnn", "gru", "cudnn")


def read_network_config(path: Path = BUNDLED_SETTINGS) -> NetworkConfig:
    """The network sizes a model's settings file records (``network``)."""
    return NetworkConfig.from_dict(json.loads(Path(path).read_text())["network"])


def describe_accelerator() -> dict:
    """The Keras backend, its framework's version and the GPU it sees (None: none)."""
    backend = keras.backend.backend()
    info = {"backend": backend, "keras": keras.__version__, "python": platform.python_version(), "gpu": None}
    if backend == "torch":
        import torch
        info["framework"] = f"torch {torch.__version__}"
        if torch.cuda.is_available():
            info["gpu"] = torch.cuda.get_device_name(0)
            info["cudnn"] = torch.backends.cudnn.version()
    elif backend == "tensorflow":
        import tensorflow as tf
        info["framework"] = f"tensorflow {tf.__version__}"
        gpus = tf.config.list_physical_devices("GPU")
        info["gpu"] = ", ".join(g.name for g in gpus) or None
    return info


@contextlib.contextmanager
def watch_cudnn_gru(allow: bool = True):
    """Count the runs of the backend's cuDNN GRU function while inside; ``allow=False`` refuses it instead, so that
    Keras takes its generic GRU loop. Yields a dict whose ``"calls"`` grows."""
    module = importlib.import_module(f"keras.src.backend.{keras.backend.backend()}.rnn")
    original = getattr(module, "_cudnn_gru")
    counter = {"calls": 0}

    def counted(*args, **kwargs):
        if not allow:
            raise NotImplementedError("cuDNN GRU refused by benchmarks/gpu_check.py")
        result = original(*args, **kwargs)
        counter["calls"] += 1
        return result

    module._cudnn_gru = counted
    try:
        yield counter
    finally:
        module._cudnn_gru = original


def make_inputs(config: NetworkConfig, n_beats: int, seed: int = 0) -> tuple[dict, np.ndarray]:
    """Random network inputs and labels of ``config``'s shapes."""
    rng = np.random.default_rng(seed)
    inputs = {"waveform": rng.normal(size=(n_beats, config.window_samples, config.n_channels)).astype(np.float32),
              "features": rng.normal(size=(n_beats, config.n_features)).astype(np.float32)}
    return inputs, rng.integers(0, config.n_classes, n_beats)


class EpochTimer(keras.callbacks.Callback):
    """Wall-clock seconds of each epoch."""

    def __init__(self):
        super().__init__()
        self.seconds: list[float] = []
        self._start = 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(round(time.perf_counter() - self._start, 3))


def time_training(config: NetworkConfig, inputs: dict, labels: np.ndarray, epochs: int, allow_cudnn: bool) -> dict:
    """Train a fresh network for ``epochs`` with the cuDNN GRU allowed or refused; seconds per epoch and cuDNN runs."""
    keras.utils.set_random_seed(0)
    model = build_classifier(config)
    timer = EpochTimer()
    with watch_cudnn_gru(allow_cudnn) as counter:
        model.fit(inputs, labels, batch_size=BATCH_SIZE, epochs=epochs, shuffle=True, verbose=0, callbacks=[timer])
    return {"seconds_per_epoch": timer.seconds, "cudnn_gru_runs": counter["calls"]}


def list_gru_kernels(config: NetworkConfig, inputs: dict, labels: np.ndarray) -> list[str] | None:
    """GPU kernels of one training step whose names mention an RNN, a GRU or cuDNN (PyTorch with CUDA only)."""
    if keras.backend.backend() != "torch":
        return None
    import torch
    if not torch.cuda.is_available():
        return None
    model = build_classifier(config)
    batch = {name: values[:BATCH_SIZE] for name, values in inputs.items()}
    model.train_on_batch(batch, labels[:BATCH_SIZE])  # warm-up outside the profile
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CUDA]) as profile:
        model.train_on_batch(batch, labels[:BATCH_SIZE])
        torch.cuda.synchronize()
    names = {event.key for event in profile.key_averages()}
    return sorted(n for n in names if any(word in n.lower() for word in KERNEL_WORDS))


def run_check(config: NetworkConfig, n_beats: int, epochs: int) -> dict:
    """Every figure of the module docstring."""
    grus = list(iter_gru_layers(build_classifier(config)))
    problems = [p for gru in grus for p in describe_cudnn_problems(gru)]
    inputs, labels = make_inputs(config, n_beats)
    return {**describe_accelerator(), "date": datetime.date.today().isoformat(), "n_beats": n_beats,
            "batch_size": BATCH_SIZE, "gru_layers": len(grus), "cudnn_problems": problems,
            "gpu_kernels": list_gru_kernels(config, inputs, labels),
            "cudnn_allowed": time_training(config, inputs, labels, epochs, allow_cudnn=True),
            "cudnn_refused": time_training(config, inputs, labels, epochs, allow_cudnn=False)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--beats", type=int, default=FOLD_BEATS)
    parser.add_argument("--out", type=Path, default=None,
                        help="JSON file to write (default: benchmarks/results/gpu_check-BACKEND-DEVICE.json)")
    args = parser.parse_args(argv)
    result = run_check(read_network_config(), args.beats, args.epochs)
    device = "gpu" if result["gpu"] else "cpu"
    out = args.out or REPO_ROOT / "benchmarks" / "results" / f"gpu_check-{result['backend']}-{device}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    print(f"results: {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
