"""Training networks in worker processes (models/training_workers.py): the same networks whatever the number of
workers, results in order, and clear errors."""

from __future__ import annotations

from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace

import numpy as np
import pytest

from models.network import NetworkConfig
from models.prepare import InputSettings
from models.train import (InProcessTrainer, NetworkTask, NullTracker, TrainingConfig, plan_ensemble, train_ensemble,
                          train_network)
from models.training_data import load_labelled_inputs
from models.training_workers import (TrainedWeights, TrainingWorkerError, WorkerTrainer, count_usable_cores, train_in_worker,
                                    raise_worker_error, restore_network)

EXCERPTS = ("100", "106", "119", "201", "208", "232")
TINY = TrainingConfig(n_folds=3, epochs=2, patience=2, network=NetworkConfig(gru_units=8, dense_units=16),
                      ensemble_members=2)


@pytest.fixture(scope="module")
def excerpt_inputs(excerpts_dir, tmp_path_factory):
    return load_labelled_inputs(EXCERPTS, excerpts_dir, tmp_path_factory.mktemp("inputs"), InputSettings(),
                                progress=False)


class RecordingTracker(NullTracker):
    def __init__(self):
        self.logged: list[tuple[dict, int | None]] = []

    def log_metrics(self, metrics, step=None):
        self.logged.append((metrics, step))


@pytest.mark.slow
def test_one_worker_or_two_train_the_same_networks_and_log_their_curves(excerpt_inputs):
    trackers = RecordingTracker(), RecordingTracker()
    results = []
    for jobs, tracker in zip((1, 2), trackers):
        with WorkerTrainer(jobs) as trainer:
            results.append(train_ensemble(excerpt_inputs, TINY, tracker, progress=False, trainer=trainer))
    one, two = results
    assert [(f.fold, f.best_epoch) for f in one.folds] == [(f.fold, f.best_epoch) for f in two.folds]
    assert [f.fold for f in one.folds] == [0, 1, 2]  # in the order planned, whatever finished first
    np.testing.assert_equal([f.history for f in one.folds], [f.history for f in two.folds])  # NaN equal to NaN
    for first, second in zip(one.folds, two.folds):
        for a, b in zip(first.model.get_weights(), second.model.get_weights()):
            np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(one.oof_probabilities, two.oof_probabilities)
    assert np.allclose(one.oof_probabilities.sum(axis=1), 1.0, atol=1e-4)  # every patient scored out of fold
    inputs = excerpt_inputs.inputs.as_dict()
    np.testing.assert_array_equal(one.ensemble.predict(inputs, verbose=0), two.ensemble.predict(inputs, verbose=0))
    # The rebuilt networks are the trained ones: their held-out score is the one the worker kept at the best epoch.
    fold = one.folds[0]
    assert fold.history[fold.best_epoch - 1]["val_selection_score"] == max(h["val_selection_score"]
                                                                          for h in fold.history)
    curves = [(step, name) for metrics, step in trackers[1].logged if step is not None for name in metrics]
    assert (1, "fold2_val_selection_score") in curves and (2, "fold0_train_loss") in curves
    np.testing.assert_equal(trackers[0].logged, trackers[1].logged)


def test_a_network_rebuilt_from_a_workers_weights_predicts_as_the_trained_one(excerpt_inputs):
    """The rebuilt network scales its features with the trained one's statistics (Keras's Normalization keeps copies
    that set_weights alone leaves at mean 0, variance 1: the networks of session 23's last commits predicted garbage)."""
    task = plan_ensemble(excerpt_inputs, replace(TINY, epochs=1))[0][0]
    trained = train_network(task, replace(TINY, epochs=1), NullTracker())
    rebuilt = restore_network(task, TrainedWeights(trained.model.get_weights(), trained.best_epoch, trained.history),
                              TINY, NullTracker())
    inputs = excerpt_inputs.inputs.as_dict()
    np.testing.assert_array_equal(rebuilt.model.predict(inputs, verbose=0), trained.model.predict(inputs, verbose=0))


@pytest.mark.slow
def test_a_network_that_fails_in_a_worker_raises_its_own_error(excerpt_inputs):
    tasks, _ = plan_ensemble(excerpt_inputs, TINY)
    broken = NetworkTask(0, 0, tasks[0].pool, tasks[0].train_mask[:10])  # a mask that does not fit the pool
    with WorkerTrainer(1) as trainer, pytest.raises(IndexError):
        trainer.train_networks([broken], TINY, NullTracker())


def test_a_worker_that_died_says_to_train_with_fewer_jobs():
    future = Future()
    future.set_exception(BrokenProcessPool("A process in the process pool was terminated abruptly"))
    with pytest.raises(TrainingWorkerError, match="it may have run out of memory: train with fewer --jobs"):
        raise_worker_error(future)


def test_the_trainer_is_checked_and_used_as_a_context_manager(excerpt_inputs):
    with pytest.raises(ValueError, match="jobs=0"):
        WorkerTrainer(0)
    tasks, _ = plan_ensemble(excerpt_inputs, TINY)
    with pytest.raises(RuntimeError, match="context manager"):
        WorkerTrainer(1).train_networks(tasks, TINY, NullTracker())
    assert count_usable_cores() >= 1


def test_the_plan_trains_each_fold_once_on_the_other_patients(excerpt_inputs):
    tasks, beat_fold = plan_ensemble(excerpt_inputs, TINY)
    assert [(t.fold, t.seed_index) for t in tasks] == [(0, 0), (1, 0), (2, 0)]
    for task in tasks:
        held_out = set(task.validation_records)
        trained = set(task.pool.record_names[task.train_mask].tolist())
        assert held_out and not held_out & trained and held_out | trained == set(EXCERPTS)
        assert np.array_equal(~task.train_mask, beat_fold == task.fold)
    delivered, _ = plan_ensemble(excerpt_inputs, TINY, delivered_only=True)
    assert [t.fold for t in delivered] == [0, 1]
    assert isinstance(InProcessTrainer().train_networks([], TINY, NullTracker()), list)


def test_a_stopped_training_ends_its_workers_at_once(excerpt_inputs):
    """Ctrl-C (or SIGTERM, made a SystemExit by the command) while networks train: the workers are terminated when the
    trainer is left, instead of finishing their networks (or, the parent gone, being left behind); and they were
    started with Ctrl-C ignored, which the parent alone handles."""
    import signal
    import time

    config = replace(TINY, epochs=50, patience=50)
    task = plan_ensemble(excerpt_inputs, config)[0][0]
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        with WorkerTrainer(jobs=1) as trainer:
            executor = trainer._executor
            processes = list(executor._processes.values())
            future = executor.submit(train_in_worker, task, config)
            time.sleep(3.0)  # the worker is busy with it (importing, then training for minutes)
            assert not future.done()
            with open(f"/proc/{processes[0].pid}/status") as status:
                ignored = int(next(line for line in status if line.startswith("SigIgn")).split()[1], 16)
            assert ignored & (1 << (signal.SIGINT - 1))
            raise KeyboardInterrupt
    assert all(not p.is_alive() for p in processes) and time.monotonic() - started < 30


def test_sigterm_stops_a_training_command_with_one_line_and_its_exit_code(capsys):
    import os
    import signal

    from app.model_cli import reporting_a_stop

    with pytest.raises(SystemExit) as stop:
        with reporting_a_stop("Training"):
            os.kill(os.getpid(), signal.SIGTERM)
    assert stop.value.code == 143 and "Training stopped by SIGTERM" in capsys.readouterr().err
    with pytest.raises(SystemExit) as stop:
        with reporting_a_stop("Training"):
            raise KeyboardInterrupt
    assert stop.value.code == 130 and "Training stopped (Ctrl-C)" in capsys.readouterr().err
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # the handler is put back


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")  # the lost exit itself
def test_a_sigterm_whose_exit_is_lost_still_stops_a_training_command(capsys):
    """SIGTERM landing in a finaliser loses the handler's SystemExit (session 50's QA pass saw a batch go on that way):
    a command that then finishes still ends with 143 and its line, not 0."""
    import os
    import signal

    from app.model_cli import reporting_a_stop

    class Finalised:
        def __del__(self):
            os.kill(os.getpid(), signal.SIGTERM)
            for _ in range(10_000):  # the handler runs within these bytecodes; its exception is ignored here
                pass

    went_on = False
    with pytest.raises(SystemExit) as stop:
        with reporting_a_stop("Training"):
            Finalised()
            went_on = True
    assert went_on and stop.value.code == 143 and "Training stopped by SIGTERM" in capsys.readouterr().err
