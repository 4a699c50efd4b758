"""Training on DS1 with patient-wise cross-validation; the fold models form the delivered ensemble.

DS1's records are split into folds of whole patients (:func:`models.folds.assign_patient_folds`).
Each fold's model trains on the other folds and stops on its own held-out patients (best epoch by
the mean of the S and V F1 scores, lesson 7 of CLASSIFIER-NOTES.md). Their out-of-fold
predictions give a validation estimate on every DS1 patient, used to compare candidates in the
registry; averaging the fold models gives the final classifier (a seed-and-data ensemble, lesson
4). DS2 is never touched here.

References
----------
de Chazal P, O'Dwyer M, Reilly RB, IEEE Trans Biomed Eng 51(7):1196-1206, 2004 (inter-patient
protocol). Lakshminarayanan B, Pritzel A, Blundell C, "Simple and scalable predictive uncertainty
estimation using deep ensembles", NeurIPS 2017.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Protocol

import keras
import numpy as np
from tqdm import tqdm

from models.adversarial import OUTPUT_PATIENT, AdversarialRamp, build_adversarial_model, encode_patients
from models.atrial_rule import AtrialRule
from models.conduction_rule import ConductionRule
from models.folds import (assign_patient_folds, compute_class_weights, find_ventricular_run_beats,
                          weight_ventricular_runs)
from models.network import OUTPUT_PROBABILITIES, NetworkConfig, adapt_feature_scaling, build_classifier
from models.prepare import InputSettings
from models.run_rule import SupraventricularRunRule
from models.wide_qrs_rule import WideQrsRule
from models.training_data import LabelledInputs, concatenate_inputs
from pipeline.labels import AAMI_CLASSES
from pipeline.scoring import ClassificationCounts, count_classes
from pipeline.types import settings_values

logger = logging.getLogger(__name__)

SELECTION_CLASSES = ("S", "V")
"""Classes whose F1 scores (averaged) select epochs and candidates."""


@dataclass(frozen=True)
class TrainingConfig:
    """How a model is trained; saved with every run."""

    n_folds: int = 4
    epochs: int = 15
    patience: int = 4
    batch_size: int = 256
    seed: int = 0
    class_weight_power: float = 0.5
    max_class_weight_ratio: float = 10.0
    network: NetworkConfig = field(default_factory=NetworkConfig)
    inputs: InputSettings = field(default_factory=InputSettings)
    atrial_rule: AtrialRule | None = None
    """Post-classification rule saved with the model (:mod:`models.atrial_rule`); chosen on DS1 OOF."""
    v_min_probability: float | None = None
    """A V call below this probability gives way to the next class (:func:`models.atrial_rule.network_classes`)."""
    conduction_rule: ConductionRule | None = None
    """V -> N for beats the sinus node conducted (:mod:`models.conduction_rule`); chosen on DS1 nested OOF."""
    supraventricular_run_rule: SupraventricularRunRule | None = None
    """N -> S for the beats that continue a supraventricular run (:mod:`models.run_rule`); chosen on DS1 nested OOF."""
    wide_qrs_rule: WideQrsRule | None = None
    """S -> V for the S calls whose QRS is wide and unlike the dominant one (:mod:`models.wide_qrs_rule`); judged on
    DS1 nested OOF (EXPERIMENTS.md row BA). None: off."""
    fusion_rule: bool = False
    """F -> N for the F calls with no V call within two beats (:mod:`models.fusion_rule`), after the wide-QRS rule;
    adopted on DS1 nested cross-validation end to end (EXPERIMENTS.md row BF)."""
    af_rule: bool = False
    """S -> N inside the record's atrial fibrillation/flutter episodes (:mod:`models.af_rule`); chosen on DS1 nested
    OOF (EXPERIMENTS.md row AC)."""
    family_rule: bool = False
    """V -> N for the V calls of a morphology family of mostly non-ventricular beats (:mod:`models.family_rule`), after
    the atrial-fibrillation rule; chosen on DS1 nested OOF (EXPERIMENTS.md row AS)."""
    temperature: float | None = None
    """Applied to the reported probabilities once the classes are decided (:func:`models.atrial_rule.
    apply_temperature`): above 1 tempers overconfident probabilities; no class changes. Chosen on DS1 nested OOF
    (EXPERIMENTS.md row AR). None: off."""
    ensemble_members: int | None = None
    """How many folds' networks the delivered ensemble averages, the first ones by fold (``None``: all). Every
    fold is still trained, for the cross-validated figures; fewer members make inference proportionally faster."""
    seeds_per_fold: int = 1
    """Networks trained per fold, each from its own seed (``seed`` + k), their probabilities averaged: a seed
    ensemble (EXPERIMENTS.md row W). Inference cost grows in proportion."""
    ema_momentum: float | None = None
    """Train with an exponential moving average of the weights (this momentum per step); each epoch is scored and
    kept with the averaged weights (EXPERIMENTS.md row Y). None: off. Inference cost unchanged."""
    context_stage: bool = False
    """Fit the beat-context stage (:mod:`models.context_stage`) on DS1's nested out-of-fold probabilities after
    training and save it with the model (EXPERIMENTS.md row AH). Costs about twice the fold networks' training time
    (:func:`nested_oof_probabilities`; BENCHMARKS.md section 5); inference about 10 % more."""
    adversarial_weight: float = 0.0
    """Patient-adversarial training (:mod:`models.adversarial`): the largest weight of the reversed gradient of a
    patient head, ramped up over the epochs; 0: off. Training only; inference cost unchanged (EXPERIMENTS.md row AF)."""
    one_lead_fraction: float = 0.0
    """Share of the training beats that also train as one-lead copies: the same beat prepared from its record cut to
    the primary lead, as the product prepares a one-lead recording (:func:`models.prepare.fill_missing_leads`), so that
    the networks learn to read one lead too. Copies follow their patient's fold and never validate; 0: off. Training
    time grows with the copies; inference cost unchanged (EXPERIMENTS.md row AI)."""
    v_run_weight: float = 1.0
    """Weight of a training V beat that belongs to a ventricular couplet or run (its previous or next labelled beat of
    the record is V too) against an isolated V beat's; the V class keeps its total weight, shared out again
    (:func:`models.folds.weight_ventricular_runs`). 1: off. Training only (EXPERIMENTS.md row BI)."""

    def __post_init__(self) -> None:
        for name, least in (("n_folds", 2), ("epochs", 1), ("patience", 1), ("batch_size", 1), ("seed", 0)):
            value = getattr(self, name)
            if isinstance(value, bool) or not (isinstance(value, int) and value >= least):
                raise ValueError(f"Received {name}={value!r}; expected a whole number, {least} or more.")
        for name, least in (("class_weight_power", 0.0), ("max_class_weight_ratio", 1.0)):
            value = getattr(self, name)
            if isinstance(value, bool) or not (isinstance(value, (int, float)) and value >= least):
                raise ValueError(f"Received {name}={value!r}; expected a number, {least:g} or more.")
        if self.ensemble_members is not None and not 1 <= self.ensemble_members <= self.n_folds:
            raise ValueError(f"Received ensemble_members={self.ensemble_members!r}; expected from 1 to "
                             f"n_folds={self.n_folds}, or none for all folds.")
        if isinstance(self.seeds_per_fold, bool) or not (isinstance(self.seeds_per_fold, int)
                                                         and self.seeds_per_fold >= 1):
            raise ValueError(f"Received seeds_per_fold={self.seeds_per_fold!r}; expected a whole number, 1 or more.")
        for name in ("af_rule", "family_rule", "fusion_rule", "context_stage"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"Received {name}={getattr(self, name)!r}; expected true or false.")
        v_min = self.v_min_probability
        if v_min is not None and (isinstance(v_min, bool) or not isinstance(v_min, (int, float))
                                  or not 0.0 < v_min < 1.0):
            raise ValueError(f"Received v_min_probability={v_min!r}; expected a probability between 0 and 1 (a V call "
                             "needs at least this much), or none.")
        temperature = self.temperature
        if temperature is not None and (isinstance(temperature, bool) or not isinstance(temperature, (int, float))
                                        or not 0.1 <= temperature <= 10.0):
            raise ValueError(f"Received temperature={temperature!r}; expected a number from 0.1 to 10, or none.")
        momentum = self.ema_momentum
        if momentum is not None and not (isinstance(momentum, float) and 0.0 < momentum < 1.0):
            raise ValueError(f"Received ema_momentum={momentum!r}; expected a momentum in (0, 1), or none.")
        weight = self.adversarial_weight
        if isinstance(weight, bool) or not (isinstance(weight, (int, float)) and 0.0 <= weight <= 10.0):
            raise ValueError(f"Received adversarial_weight={weight!r}; expected a weight from 0 (off) to 10.")
        share = self.one_lead_fraction
        if isinstance(share, bool) or not (isinstance(share, (int, float)) and 0.0 <= share <= 1.0):
            raise ValueError(f"Received one_lead_fraction={share!r}; expected a share from 0 (off) to 1.")
        run_weight = self.v_run_weight
        if isinstance(run_weight, bool) or not (isinstance(run_weight, (int, float)) and 1.0 <= run_weight <= 10.0):
            raise ValueError(f"Received v_run_weight={run_weight!r}; expected a weight from 1 (off) to 10.")

    @property
    def n_members(self) -> int:
        """Folds whose networks the delivered ensemble averages."""
        return self.n_folds if self.ensemble_members is None else self.ensemble_members

    @property
    def n_networks(self) -> int:
        """Networks in the delivered ensemble: ``seeds_per_fold`` for each of its folds."""
        return self.n_members * self.seeds_per_fold

    def to_dict(self) -> dict:
        rules = ("atrial_rule", "conduction_rule", "supraventricular_run_rule")
        values = {k: v for k, v in asdict(self).items() if k not in ("network", "inputs") + rules}
        if self.ensemble_members is None:  # configurations from before the option serialise as they did
            del values["ensemble_members"]
        if self.seeds_per_fold == 1:
            del values["seeds_per_fold"]
        if self.ema_momentum is None:
            del values["ema_momentum"]
        if self.temperature is None:  # configurations from before the option serialise as they did
            del values["temperature"]
        if self.wide_qrs_rule is None:  # configurations from before the rule serialise as they did
            del values["wide_qrs_rule"]
        if not self.af_rule:  # configurations from before the rule serialise as they did
            del values["af_rule"]
        if not self.family_rule:
            del values["family_rule"]
        if not self.fusion_rule:
            del values["fusion_rule"]
        if not self.adversarial_weight:
            del values["adversarial_weight"]
        if not self.context_stage:
            del values["context_stage"]
        if not self.one_lead_fraction:
            del values["one_lead_fraction"]
        if self.v_run_weight == 1.0:  # configurations from before the option serialise as they did
            del values["v_run_weight"]
        return values | {"network": self.network.to_dict(), "inputs": self.inputs.to_dict()} | {
            name: None if getattr(self, name) is None else getattr(self, name).to_dict() for name in rules}

    @classmethod
    def from_dict(cls, data: dict) -> "TrainingConfig":
        data = dict(data)
        unknown = sorted(set(data) - {f.name for f in fields(cls)})
        if unknown:
            raise ValueError(f"Received unknown key(s) {', '.join(unknown)}; expected keys among "
                             f"{', '.join(sorted(f.name for f in fields(cls)))}.")
        sections = {"network": NetworkConfig, "inputs": InputSettings, "atrial_rule": AtrialRule,
                    "conduction_rule": ConductionRule, "supraventricular_run_rule": SupraventricularRunRule,
                    "wide_qrs_rule": WideQrsRule}
        built = {name: read_section(name, kind, data.pop(name, None)) for name, kind in sections.items()}
        return cls(**{name: value for name, value in built.items() if value is not None}, **data)


def read_section(name: str, kind, values: dict | None):
    """One nested section of a training configuration (``[network]``, ``[atrial_rule]``, ...) built and checked:
    each key known and of its default's kind (:func:`pipeline.types.settings_values`), then the section's own range
    checks; the error names the section. None when the section is absent or empty (a rule left out is off; the
    network and inputs take their defaults)."""
    if not values:
        return None
    if not isinstance(values, dict):
        raise ValueError(f"Received {name}={values!r}; expected a section of keys ([{name}] in TOML).")
    try:
        return kind.from_dict(values) if hasattr(kind, "from_dict") else kind(**settings_values(kind, values))
    except (ValueError, TypeError, KeyError) as error:
        raise ValueError(f"[{name}]: {error}") from None


class Tracker(Protocol):
    """What training reports to (MLflow in :mod:`models.registry`; a no-op in tests)."""

    def log_metrics(self, metrics: dict[str, float], step: int | None = None) -> None: ...


class NullTracker:
    """Tracker that records nothing."""

    def log_metrics(self, metrics: dict[str, float], step: int | None = None) -> None:
        return None


@dataclass(frozen=True)
class FoldResult:
    """One fold model, its held-out records and its per-epoch validation curve."""

    fold: int
    model: keras.Model
    validation_records: tuple[str, ...]
    best_epoch: int
    history: list[dict[str, float]]
    seed_index: int = 0
    """Which of the fold's seeds (:attr:`TrainingConfig.seeds_per_fold`) trained it."""


@dataclass(frozen=True)
class TrainingResult:
    """The ensemble, the fold models and the out-of-fold validation of DS1."""

    ensemble: keras.Model
    folds: list[FoldResult]
    oof_probabilities: np.ndarray
    oof_counts: ClassificationCounts
    validation_metrics: dict[str, float]
    elapsed_s: float


def summarize_counts(counts: ClassificationCounts, prefix: str = "") -> dict[str, float]:
    """Se, +P and F1 per class, accuracy and the selection score, as flat metric names.

    A figure with no beats behind it (e.g. V +P of a record where nothing was called V) is NaN.
    """
    metrics = {f"{prefix}accuracy": counts.accuracy()}
    for k, cls in enumerate(AAMI_CLASSES[:4]):
        metrics[f"{prefix}{cls}_se"] = counts.sensitivity(k)
        metrics[f"{prefix}{cls}_ppv"] = counts.positive_predictivity(k)
        metrics[f"{prefix}{cls}_f1"] = counts.f1(k)
    metrics[f"{prefix}selection_score"] = compute_selection_score(counts)
    return {name: float(value) for name, value in metrics.items()}


def compute_selection_score(counts: ClassificationCounts) -> float:
    """Mean F1 of the S and V classes (NaN counted as 0)."""
    return float(np.mean([np.nan_to_num(counts.f1(AAMI_CLASSES.index(c))) for c in SELECTION_CLASSES]))


class ValidationMonitor(keras.callbacks.Callback):
    """Scores the held-out patients after each epoch, keeps the best weights, stops on a plateau."""

    def __init__(self, inputs: dict[str, np.ndarray], labels: np.ndarray, patience: int, batch_size: int,
                 tracker: Tracker, prefix: str, classifier: keras.Model | None = None):
        super().__init__()
        self.inputs, self.labels = inputs, labels
        self.classifier = classifier  # the model to score when it is not the one trained (adversarial training)
        self.patience, self.batch_size = patience, batch_size
        self.tracker, self.prefix = tracker, prefix
        self.history: list[dict[str, float]] = []
        self.best_score, self.best_epoch, self.best_weights = -1.0, 0, None

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        trained = self.swap_in_average()
        scored = self.model if self.classifier is None else self.classifier
        probabilities = scored.predict(self.inputs, batch_size=4 * self.batch_size, verbose=0)
        counts = count_classes(self.labels, np.argmax(probabilities, axis=1))
        logs = logs or {}  # with a patient head (adversarial training) "loss" sums both outputs' losses
        metrics = summarize_counts(counts, prefix="val_") | {
            "train_loss": float(logs.get(f"{OUTPUT_PROBABILITIES}_loss", logs.get("loss", np.nan)))}
        self.history.append(metrics)
        self.tracker.log_metrics({f"{self.prefix}{k}": v for k, v in metrics.items()}, step=epoch + 1)
        logger.info("%sepoch %d: S %.3f/%.3f V %.3f/%.3f score %.3f", self.prefix, epoch + 1,
                    metrics["val_S_se"], metrics["val_S_ppv"], metrics["val_V_se"], metrics["val_V_ppv"],
                    metrics["val_selection_score"])
        if metrics["val_selection_score"] > self.best_score:  # the score itself is never NaN
            self.best_score, self.best_epoch = metrics["val_selection_score"], epoch + 1
            self.best_weights = self.model.get_weights()
        elif epoch + 1 - self.best_epoch >= self.patience:
            self.model.stop_training = True
        if trained is not None:
            self.model.set_weights(trained)

    def swap_in_average(self) -> list | None:
        """With an optimizer keeping a moving average of the weights, put the average into the model (to be scored and
        kept) and return the trained weights to put back; None otherwise."""
        optimizer = self.model.optimizer
        if not getattr(optimizer, "use_ema", False):
            return None
        trained = self.model.get_weights()
        optimizer.finalize_variable_values(self.model.trainable_weights)
        return trained

    def on_train_end(self, logs: dict | None = None) -> None:
        if self.best_weights is not None:
            self.model.set_weights(self.best_weights)


def fit_network_config(config: TrainingConfig, data: LabelledInputs) -> NetworkConfig:
    """The network configuration with the input sizes of ``data`` (what the fold models were built with)."""
    return replace(config.network, n_features=data.inputs.features.shape[1],
                   window_samples=data.inputs.waveform.shape[1], n_channels=data.inputs.waveform.shape[2])


def build_network(config: TrainingConfig, data: LabelledInputs) -> keras.Model:
    """A fresh, compiled classifier shaped for ``data``'s inputs (feature scaling not adapted)."""
    return build_classifier(fit_network_config(config, data), ema_momentum=config.ema_momentum)


def build_training_model(train: LabelledInputs, config: TrainingConfig) -> tuple[keras.Model, np.ndarray]:
    """A fresh classifier shaped for ``train``, its feature scaling adapted to it, and the per-beat class weights."""
    model = build_network(config, train)
    adapt_feature_scaling(model, train.inputs.features)
    weights = compute_class_weights(train.labels, power=config.class_weight_power,
                                    max_ratio=config.max_class_weight_ratio)[train.labels]
    if config.v_run_weight != 1.0:
        runs = find_ventricular_run_beats(train.labels, train.record_names, train.samples)
        weights = weight_ventricular_runs(weights, train.labels, runs, config.v_run_weight)
    return model, weights.astype(np.float32)


@dataclass(frozen=True)
class NetworkTask:
    """One network to train: its fold and seed, the training pool and which of its beats it trains on (the others,
    the fold's held-out patients, score its epochs). Sent whole to a training worker
    (:mod:`models.training_workers`)."""

    fold: int
    seed_index: int
    pool: LabelledInputs
    train_mask: np.ndarray
    validation_mask: np.ndarray | None = None
    """The beats that score its epochs (None: every beat it does not train on)."""

    @property
    def held_out_mask(self) -> np.ndarray:
        return ~self.train_mask if self.validation_mask is None else self.validation_mask

    @property
    def validation_records(self) -> tuple[str, ...]:
        return tuple(sorted(set(self.pool.record_names[self.held_out_mask].tolist())))


class NetworkTrainer(Protocol):
    """Trains a list of networks and returns their results in the same order (:class:`InProcessTrainer`, or
    :class:`models.training_workers.WorkerTrainer` for several at once)."""

    def train_networks(self, tasks: list[NetworkTask], config: TrainingConfig, tracker: Tracker,
                       progress: bool = False, desc: str = "training networks") -> list[FoldResult]: ...


class InProcessTrainer:
    """Trains the networks one after the other in this process, with TensorFlow's threads as they are."""

    def train_networks(self, tasks: list[NetworkTask], config: TrainingConfig, tracker: Tracker,
                       progress: bool = False, desc: str = "training networks") -> list[FoldResult]:
        return [train_network(task, config, tracker)
                for task in tqdm(tasks, desc=desc, unit="network", disable=not progress)]


def train_network(task: NetworkTask, config: TrainingConfig, tracker: Tracker) -> FoldResult:
    """Train one fold network on ``task``'s training beats (seeded by its fold and seed) and early-stop it on the
    other beats of its pool."""
    keras.utils.set_random_seed((config.seed + task.seed_index) * 100 + task.fold)
    train, held_out = task.pool.select(task.train_mask), task.pool.select(task.held_out_mask)
    model, sample_weight = build_training_model(train, config)
    monitor = ValidationMonitor(held_out.inputs.as_dict(), held_out.labels, config.patience, config.batch_size,
                                tracker, prefix=fold_name(task.fold, task.seed_index) + "_", classifier=model)
    fitted, targets, weights, callbacks = model, train.labels, sample_weight, [monitor]
    if config.adversarial_weight > 0:
        patients, n_patients = encode_patients(train.record_names)
        fitted, reversal = build_adversarial_model(model, n_patients, config.network.dense_units,
                                                   config.network.learning_rate)
        targets = {OUTPUT_PROBABILITIES: train.labels, OUTPUT_PATIENT: patients}
        weights = {OUTPUT_PROBABILITIES: sample_weight, OUTPUT_PATIENT: np.ones_like(sample_weight)}
        callbacks.insert(0, AdversarialRamp(reversal, config.adversarial_weight, config.epochs))
    fitted.fit(train.inputs.as_dict(), targets, sample_weight=weights, batch_size=config.batch_size,
               epochs=config.epochs, shuffle=True, verbose=0, callbacks=callbacks)
    return FoldResult(task.fold, model, task.validation_records, monitor.best_epoch, monitor.history, task.seed_index)


def train_fold(data: LabelledInputs, train_mask: np.ndarray, config: TrainingConfig, fold: int,
               tracker: Tracker, seed_index: int = 0) -> FoldResult:
    """Train one fold model on ``train_mask`` (from the fold's seed ``seed_index``) and early-stop it on the other
    beats, in this process."""
    return train_network(NetworkTask(fold, seed_index, data, train_mask), config, tracker)


def fold_name(fold: int, seed_index: int = 0) -> str:
    """``fold2``, or ``fold2_seed1`` for a fold's further seeds: the prefix of its tracked metrics.

    >>> fold_name(2), fold_name(2, 1)
    ('fold2', 'fold2_seed1')
    """
    return f"fold{fold}" if seed_index == 0 else f"fold{fold}_seed{seed_index}"


def build_ensemble(members: list[keras.Model]) -> keras.Model:
    """One model averaging the members' class probabilities (inputs shared)."""
    inputs = {name: keras.Input(tensor.shape[1:], name=name) for name, tensor in members[0].input.items()}
    renamed = [keras.Model(m.input, m.output, name=f"member_{k}") for k, m in enumerate(members)]
    outputs = [member(inputs) for member in renamed]
    averaged = outputs[0] if len(outputs) == 1 else keras.layers.Average(name="probabilities")(outputs)
    return keras.Model(inputs, averaged, name="beat_classifier_ensemble")


def train_ensemble(data: LabelledInputs, config: TrainingConfig, tracker: Tracker = NullTracker(),
                   progress: bool = True, extra: LabelledInputs | None = None,
                   delivered_only: bool = False, trainer: NetworkTrainer | None = None,
                   one_lead: LabelledInputs | None = None) -> TrainingResult:
    """Cross-validated training on ``data`` (DS1); returns the fold ensemble and its OOF validation.

    ``extra``: labelled beats of other databases (:func:`models.training_data.load_extra_inputs`), added to every
    fold's training set and never validated on, so that folds, early stopping and the out-of-fold figures stay those
    of ``data``'s patients.

    ``delivered_only``: train only the folds whose networks the ensemble delivers (``config.n_members``), when no
    out-of-fold figure is wanted (:func:`nested_oof_probabilities`); the delivered networks are the same (each fold
    is seeded on its own), and the out-of-fold probabilities, counts and metrics then cover those folds' patients only.

    ``trainer``: who trains the networks (default :class:`InProcessTrainer`; several at once with
    :class:`models.training_workers.WorkerTrainer`).

    ``one_lead``: ``data``'s beats prepared from one lead (rows aligned with ``data``), required when
    ``config.one_lead_fraction`` is set (:func:`plan_ensemble`).
    """
    start = time.perf_counter()
    tasks, beat_fold = plan_ensemble(data, config, extra, delivered_only, one_lead)
    results = (trainer or InProcessTrainer()).train_networks(tasks, config, tracker, progress, desc="fold networks")
    return assemble_ensemble(data, config, results, beat_fold, tracker, time.perf_counter() - start)


def plan_ensemble(data: LabelledInputs, config: TrainingConfig, extra: LabelledInputs | None = None,
                  delivered_only: bool = False,
                  one_lead: LabelledInputs | None = None) -> tuple[list[NetworkTask], np.ndarray]:
    """The networks :func:`train_ensemble` trains (fold by fold, each fold's seeds together) and each beat's fold.

    With ``config.one_lead_fraction``, that share of ``data``'s beats (drawn once from ``config.seed``) joins the
    pool again as its one-lead copy (``one_lead``, rows aligned with ``data``): a copy trains where its patient
    trains and is never held out, so that every network is still early-stopped on its held-out patients' two-lead
    beats only."""
    fold_of = assign_patient_folds(data.record_names, data.labels, config.n_folds)
    beat_fold = np.array([fold_of[name] for name in data.record_names])
    copies = select_one_lead_copies(data, config, one_lead)
    parts = [data] + ([] if copies is None else [copies]) + ([] if extra is None else [extra])
    pool = concatenate_inputs(parts) if len(parts) > 1 else data
    copy_fold = np.array([fold_of[name] for name in copies.record_names]) if copies is not None else np.zeros(0, int)
    extra_fold = np.full(0 if extra is None else len(extra), -1)  # -1: never held out
    pool_fold = np.concatenate([beat_fold, copy_fold, extra_fold])
    original = np.arange(len(pool)) < len(data)
    n_trained = config.n_members if delivered_only else config.n_folds
    tasks = [NetworkTask(fold, seed_index, pool, pool_fold != fold,
                         None if copies is None else original & (pool_fold == fold))
             for fold in range(n_trained) for seed_index in range(config.seeds_per_fold)]
    return tasks, beat_fold


def select_one_lead_copies(data: LabelledInputs, config: TrainingConfig,
                           one_lead: LabelledInputs | None) -> LabelledInputs | None:
    """The one-lead copies that join the training pool (:attr:`TrainingConfig.one_lead_fraction` of ``data``'s
    beats, drawn from ``config.seed``), or None when the option is off."""
    if not config.one_lead_fraction:
        return None
    if one_lead is None or len(one_lead) != len(data) or not (
            np.array_equal(one_lead.samples, data.samples) and np.array_equal(one_lead.record_names, data.record_names)):
        raise ValueError("one_lead_fraction is set: expected the training beats' one-lead inputs, row for row "
                         "(models.training_data.load_labelled_inputs(..., primary_lead_only=True)).")
    chosen = np.random.default_rng(config.seed).random(len(data)) < config.one_lead_fraction
    return one_lead.select(chosen)


def assemble_ensemble(data: LabelledInputs, config: TrainingConfig, results: list[FoldResult], beat_fold: np.ndarray,
                      tracker: Tracker, elapsed_s: float) -> TrainingResult:
    """The ensemble of the delivered folds' networks and the out-of-fold validation of the trained folds' patients
    (a fold's seeds' probabilities averaged)."""
    oof = np.zeros((len(data), config.network.n_classes), dtype=np.float32)
    trained = np.zeros(len(data), bool)
    for result in results:
        held_out = beat_fold == result.fold
        trained |= held_out
        oof[held_out] += result.model.predict(data.select(held_out).inputs.as_dict(), batch_size=1024,
                                              verbose=0) / config.seeds_per_fold
    counts = count_classes(data.labels[trained], np.argmax(oof[trained], axis=1))
    metrics = summarize_counts(counts, prefix="cv_")
    tracker.log_metrics(metrics)
    members = [r.model for r in results if r.fold < config.n_members]  # fold by fold, each fold's seeds together
    return TrainingResult(build_ensemble(members), results, oof, counts, metrics, elapsed_s)


def inner_configuration(config: TrainingConfig) -> TrainingConfig:
    """The configuration of an outer fold's inner ensemble in :func:`nested_oof_probabilities`: one fold fewer, as many
    members as it can have."""
    members = None if config.ensemble_members is None else min(config.ensemble_members, config.n_folds - 1)
    return replace(config, n_folds=config.n_folds - 1, ensemble_members=members)


def nested_oof_probabilities(data: LabelledInputs, config: TrainingConfig, extra: LabelledInputs | None = None,
                             on_fold=None, progress: bool = False,
                             trainer: NetworkTrainer | None = None,
                             one_lead: LabelledInputs | None = None) -> np.ndarray:
    """Nested out-of-fold probabilities of ``data`` (DS1): each outer fold of whole patients (the folds of
    :func:`train_ensemble`) predicted by an inner cross-validated ensemble trained on the other folds
    (:func:`inner_configuration`), so that every patient's probabilities come, as the delivered ensemble's do on a
    new patient, from averaged networks that never saw them. ``on_fold(fold, ensemble)`` is called with each inner
    ensemble (studies predict more beats with it). ``config.n_folds`` inner trainings of the inner ensemble's
    delivered networks only (``train_ensemble(..., delivered_only=True)``), handed to ``trainer`` all at once.
    ``one_lead``: as for :func:`train_ensemble`."""
    fold_of = assign_patient_folds(data.record_names, data.labels, config.n_folds)
    outer = np.array([fold_of[name] for name in data.record_names])
    inner = inner_configuration(config)
    plans = [plan_outer_fold(data, inner, fold, outer != fold, extra, one_lead) for fold in range(config.n_folds)]
    return predict_outer_folds(data, inner, plans, outer, trainer, progress, on_fold)


def plan_outer_fold(data: LabelledInputs, inner: TrainingConfig, fold: int, keep: np.ndarray,
                    extra: LabelledInputs | None = None, one_lead: LabelledInputs | None = None) -> tuple:
    """The inner ensemble of outer fold ``fold`` trained on ``data``'s beats where ``keep`` (the other folds' patients
    in :func:`nested_oof_probabilities`): ``(fold, subset, tasks, beat_fold)``."""
    subset = data.select(keep)
    return (fold, subset, *plan_ensemble(subset, inner, extra, delivered_only=True,
                                         one_lead=None if one_lead is None else one_lead.select(keep)))


def predict_outer_folds(data: LabelledInputs, inner: TrainingConfig, plans: list[tuple], outer: np.ndarray,
                        trainer: NetworkTrainer | None = None, progress: bool = False, on_fold=None) -> np.ndarray:
    """Train every plan's networks (:func:`plan_outer_fold`, handed to ``trainer`` all at once) and predict each outer
    fold's beats (``outer == fold``) with its inner ensemble; ``on_fold(fold, ensemble)`` after each."""
    results = (trainer or InProcessTrainer()).train_networks([task for *_, tasks, _ in plans for task in tasks],
                                                             inner, NullTracker(), progress, desc="nested networks")
    oof = np.zeros((len(data), inner.network.n_classes), np.float32)
    for fold, subset, tasks, beat_fold in plans:
        fold_results, results = results[:len(tasks)], results[len(tasks):]
        ensemble = assemble_ensemble(subset, inner, fold_results, beat_fold, NullTracker(), 0.0).ensemble
        held_out = outer == fold
        oof[held_out] = ensemble.predict(data.select(held_out).inputs.as_dict(), batch_size=1024, verbose=0)
        if on_fold is not None:
            on_fold(fold, ensemble)
    return oof
