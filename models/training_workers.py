"""Training several networks at once, each in its own worker process on one CPU thread.

A network of the bundled size barely uses a second core. On the 2-core machine, 4 epochs of a DS1 fold network took
19.5 s with TensorFlow's two threads and 18.8 s with one, and two one-thread trainings side by side 20.1 s and 19.1 s
(``benchmarks/training_parallel.py``, BENCHMARKS.md section 5). So ``ecg train`` hands its networks (the fold
networks, then the nested networks of the context stage) to a pool of worker processes, one thread each; the bundled
configuration trained in 4 min 59 s against 6 min 22 s for the same command one network at a time, the same day.
Each network's numbers then depend only on its task and seed, not on how many workers run: ``--jobs 1`` and
``--jobs 4`` train the same networks. Training in the calling process (:class:`models.train.InProcessTrainer`, the
library default) uses TensorFlow's threads as they are, which changes the last digits of the weights.

Workers are spawned (forking a process that runs TensorFlow is unsafe), so a script of one's own that trains with
them needs the ``if __name__ == "__main__":`` guard; they let TensorFlow take GPU memory as needed so that several can
share one GPU, and send back the trained weights; the calling process rebuilds each network and logs its per-epoch
curve.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import threading
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

import numpy as np
from tqdm import tqdm

from models.network import check_positive, limit_cpu_threads, set_network_weights
from models.train import (FoldResult, NetworkTask, NullTracker, Tracker, TrainingConfig, build_network, fold_name,
                          train_network)


class TrainingWorkerError(RuntimeError):
    """A training worker process ended before returning its network."""


@dataclass(frozen=True)
class TrainedWeights:
    """What a worker sends back: the network's weights and its validation curve."""

    weights: list[np.ndarray]
    best_epoch: int
    history: list[dict[str, float]]


def count_usable_cores() -> int:
    """CPU cores this process may run on (its affinity where the system reports one)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


class WorkerTrainer:
    """Trains networks in ``jobs`` worker processes, one TensorFlow thread each; use as a context manager.

    >>> with WorkerTrainer(jobs=2) as trainer:  # doctest: +SKIP
    ...     result = train_ensemble(data, config, trainer=trainer)
    """

    def __init__(self, jobs: int):
        check_positive("jobs", jobs)
        self.jobs = jobs
        self._executor: ProcessPoolExecutor | None = None

    def __enter__(self) -> "WorkerTrainer":
        self._executor = ProcessPoolExecutor(self.jobs, mp_context=multiprocessing.get_context("spawn"),
                                             initializer=start_training_worker)
        with ignoring_sigint():  # the workers start with Ctrl-C ignored, from their first import on
            for _ in range(self.jobs):  # start the workers now: their imports overlap the caller's data loading
                self._executor.submit(int)
        return self

    def __exit__(self, exc_type, *exc_info) -> None:
        if exc_type is not None:  # stopped (Ctrl-C, SIGTERM) or failed: end the networks in training now
            stop_workers(self._executor)
        self._executor.shutdown(wait=True, cancel_futures=True)
        self._executor = None

    def train_networks(self, tasks: list[NetworkTask], config: TrainingConfig, tracker: Tracker,
                       progress: bool = False, desc: str = "training networks") -> list[FoldResult]:
        """Train ``tasks`` in the workers (as many at once as there are workers); results in the order of ``tasks``.

        Raises :class:`TrainingWorkerError` when a worker dies (e.g. killed for memory); a network's own error is
        raised as it is. Either way the networks not yet started are cancelled."""
        if self._executor is None:
            raise RuntimeError("WorkerTrainer is used as a context manager: with WorkerTrainer(jobs) as trainer: ...")
        futures = [self._executor.submit(train_in_worker, task, config) for task in tasks]
        with tqdm(total=len(tasks), desc=desc, unit="network", disable=not progress) as bar:
            pending = set(futures)
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                bar.update(len(done))
                failed = [future for future in done if future.exception() is not None]
                if failed:
                    for future in pending:
                        future.cancel()
                    raise_worker_error(failed[0])
        return [restore_network(task, future.result(), config, tracker) for task, future in zip(tasks, futures)]


def raise_worker_error(future: Future) -> None:
    """Raise the error of a failed network, as a :class:`TrainingWorkerError` when its worker died."""
    error = future.exception()
    if isinstance(error, BrokenProcessPool):
        raise TrainingWorkerError(f"A training worker process ended abruptly ({error}); it may have run out of "
                                  "memory: train with fewer --jobs. (In a script of your own, also check that it "
                                  "starts under an if __name__ == '__main__': guard: workers are spawned and import "
                                  "it.)") from error
    raise error


@contextlib.contextmanager
def ignoring_sigint() -> Iterator[None]:
    """While inside, SIGINT is ignored (main thread only; elsewhere nothing changes): processes started here inherit
    the ignored disposition, so a Ctrl-C that reaches the whole process group while a worker is still importing does
    not print its traceback. The earlier handler comes back on leaving."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def stop_workers(executor: ProcessPoolExecutor) -> None:
    """Terminate the executor's worker processes (SIGTERM), so that a stopped training does not wait for the networks
    in training nor leave a worker behind. ``ProcessPoolExecutor`` has no public way to do this before Python 3.14
    (``terminate_workers``); its ``_processes`` map is read defensively."""
    for process in list((getattr(executor, "_processes", None) or {}).values()):
        if process.is_alive():
            process.terminate()


def start_training_worker() -> None:
    """Worker start-up: one TensorFlow thread, GPU memory taken as needed (workers may share one GPU). Ctrl-C, which a
    terminal sends to the whole process group, is left to the parent: it stops the training and ends the workers
    (:meth:`WorkerTrainer.__exit__`), without a traceback from each worker."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.environ.setdefault("TF_FORCE_GPU_ALLOW_GROWTH", "true")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    limit_cpu_threads(1)


def train_in_worker(task: NetworkTask, config: TrainingConfig) -> TrainedWeights:
    """Train ``task``'s network (in a worker) and return its weights and curve."""
    result = train_network(task, config, NullTracker())
    return TrainedWeights(result.model.get_weights(), result.best_epoch, result.history)


def restore_network(task: NetworkTask, trained: TrainedWeights, config: TrainingConfig,
                    tracker: Tracker) -> FoldResult:
    """The network a worker trained, rebuilt here, and its per-epoch curve logged to ``tracker`` as
    :class:`models.train.ValidationMonitor` logs it in process."""
    model = build_network(config, task.pool)
    set_network_weights(model, trained.weights)  # feature scaling included
    prefix = fold_name(task.fold, task.seed_index) + "_"
    for epoch, metrics in enumerate(trained.history, start=1):
        tracker.log_metrics({f"{prefix}{name}": value for name, value in metrics.items()}, step=epoch)
    return FoldResult(task.fold, model, task.validation_records, trained.best_epoch, trained.history,
                      task.seed_index)
