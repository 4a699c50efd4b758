"""A complete, tracked training run: DS1 inputs -> cross-validated ensemble -> MLflow run -> registry.

Everything MLflow-related goes through :mod:`models.registry`; this module only orchestrates.
"""

from __future__ import annotations

import hashlib
import json
import logging
import subprocess
import tempfile
import time
from contextlib import nullcontext
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from models import registry
from models.atrial_rule import DECISION_RULE_KEYS, STAGE_CONFIG_KEY
from models.bundled import update_bundled_champion
from models.context_stage import ContextStage, fit_context_stage
from models.explain import find_attention_members
from models.folds import compute_class_weights
from models.train import (NetworkTrainer, TrainingConfig, TrainingResult, build_ensemble, fit_network_config,
                          fold_name, nested_oof_probabilities, train_ensemble)
from models.training_data import ExtraTrainingData, LabelledInputs, load_extra_inputs, load_labelled_inputs
from models.training_workers import WorkerTrainer
from pipeline.labels import AAMI_CLASSES
from pipeline.splits import DS1

logger = logging.getLogger(__name__)

MODEL_NAME = registry.MODEL_NAME
SELECTION_METRIC = registry.SELECTION_METRIC


@dataclass(frozen=True)
class RunOutcome:
    """What a training run produced."""

    run_id: str
    model_uri: str
    version: str
    promoted: bool
    message: str
    metrics: dict[str, float]
    elapsed_s: float
    extra: ExtraTrainingData | None = None


def build_model_settings(config: TrainingConfig, data: LabelledInputs, result: TrainingResult,
                         extra: ExtraTrainingData | None = None, stage: ContextStage | None = None) -> dict:
    """Settings saved with the model: everything inference needs to prepare beats as training did (and, when other
    databases joined the training, ``extra_training_data``: which, how many records and beats; the fitted beat-context
    stage when there is one)."""
    described = {} if extra is None else {"extra_training_data": extra.describe()}
    if stage is not None:
        described[STAGE_CONFIG_KEY] = stage.to_settings()
    return {
        "classes": list(AAMI_CLASSES),
        "inputs": config.inputs.to_dict(),
        "feature_names": list(data.inputs.feature_names),
        "network": fit_network_config(config, data).to_dict(),
        "training": config.to_dict(),
        "validation": result.validation_metrics,
        "train_records": sorted(set(data.record_names.tolist())),
        "n_members": config.n_members,
    } | described | describe_decision_rules(config)


def describe_decision_rules(config: TrainingConfig) -> dict:
    """The decision-rule settings of ``config`` as saved with a model (``af_rule`` always, so that a configuration
    without it switches it off in :func:`replace_post_training_settings`; ``family_rule`` when on)."""
    values = config.to_dict() | {"af_rule": config.af_rule}
    return {name: value for name, value in values.items() if name in DECISION_RULE_KEYS}


POST_TRAINING_KEYS = DECISION_RULE_KEYS + ("ensemble_members", STAGE_CONFIG_KEY)
"""Configuration keys that change a trained model without retraining its networks: the decision rules, the ensemble
size and the beat-context stage (fitted apart: :func:`fit_ds1_context_stage`)."""


def replace_post_training_settings(settings: dict, config: TrainingConfig) -> dict:
    """Model settings with the decision rules and ensemble size of ``config`` (networks unchanged).

    Raises ``ValueError`` when ``config`` would train other networks than the ones the settings
    describe (anything else differs), or asks for more members than the model has: those need a
    new training run.
    """
    saved = {k: v for k, v in settings.get("training", {}).items() if k not in POST_TRAINING_KEYS}
    wanted = {k: v for k, v in config.to_dict().items() if k not in POST_TRAINING_KEYS}
    if json.loads(json.dumps(saved, default=str)) != json.loads(json.dumps(wanted, default=str)):
        differing = sorted(k for k in set(saved) | set(wanted) if saved.get(k) != wanted.get(k))
        raise ValueError(f"The configuration differs from the model's training settings in {differing}; expected "
                         "a change of decision rules or ensemble size only (retrain instead).")
    if config.n_members > settings.get("n_members", config.n_folds):
        raise ValueError(f"The configuration asks for {config.n_members} ensemble members; the model has "
                         f"{settings.get('n_members')} (retrain instead).")
    rules = describe_decision_rules(config)
    replaced = ("ensemble_members", STAGE_CONFIG_KEY) + DECISION_RULE_KEYS  # a rule the configuration drops goes
    training = {k: v for k, v in settings["training"].items() if k not in replaced}
    members = {} if config.ensemble_members is None else {"ensemble_members": config.ensemble_members}
    stage_flag = {STAGE_CONFIG_KEY: True} if config.context_stage else {}
    kept = {k: v for k, v in settings.items()
            if k not in DECISION_RULE_KEYS and (k != STAGE_CONFIG_KEY or config.context_stage)}
    return {**kept, **rules, "n_members": config.n_members, "training": {**training, **rules, **members, **stage_flag}}


def fit_ds1_context_stage(data: LabelledInputs, config: TrainingConfig, extra: LabelledInputs | None = None,
                          progress: bool = True, trainer: NetworkTrainer | None = None,
                          one_lead: LabelledInputs | None = None) -> ContextStage:
    """The beat-context stage of a model trained with ``config`` on ``data`` (DS1): fitted on the nested out-of-fold
    probabilities of the same configuration (:func:`models.train.nested_oof_probabilities`; ``extra`` beats join
    every inner training set, as in :func:`models.train.train_ensemble`), classes weighted as the networks'.
    ``trainer`` trains the nested networks (default: in this process); ``one_lead``: ``data``'s one-lead inputs, when
    the configuration trains on one-lead copies too."""
    oof = nested_oof_probabilities(data, config, extra, progress=progress, trainer=trainer, one_lead=one_lead)
    weights = compute_class_weights(data.labels, config.network.n_classes, power=config.class_weight_power,
                                    max_ratio=config.max_class_weight_ratio)
    return fit_context_stage(oof, data.inputs.features, data.inputs.feature_names, data.labels, data.record_names,
                             weights, config.seed)


def keep_members(model, n_members: int):
    """The ensemble ``model`` reduced to its first ``n_members`` member networks (the same model when it has no more)."""
    members = find_attention_members(model)
    if len(members) <= n_members:
        return model
    return build_ensemble(members[:n_members])


def fingerprint_data(data: LabelledInputs, extra: ExtraTrainingData | None = None) -> str:
    """Short hash of the training records, beat positions and labels (no signal values); DS1's alone as before
    when there is no extra training data."""
    digest = hashlib.sha256()
    for array in (data.record_names.astype("U8"), data.samples.astype(np.int64), data.labels.astype(np.int8)):
        digest.update(np.ascontiguousarray(array).tobytes())
    if extra is not None:
        names = "\n".join(extra.inputs.record_names.tolist()).encode()
        for array in (np.frombuffer(names, np.uint8), extra.inputs.samples.astype(np.int64),
                      extra.inputs.labels.astype(np.int8)):
            digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()[:16]


def find_code_version(root: Path | None = None) -> str:
    """Git commit of the code in ``root`` (this checkout by default), with ``-dirty`` when there are local changes: a
    tracked file changed, or a file git does not know in a package the logged model carries
    (:data:`models.registry.LOGGED_PACKAGES`, which a QA pass, session 50, noted would travel with the model under a
    clean commit); ``unknown`` without git."""
    root = Path(__file__).resolve().parent.parent if root is None else root
    try:
        commit = run_git(root, "rev-parse", "HEAD")
        dirty = (run_git(root, "status", "--porcelain", "--untracked-files=no")
                 or run_git(root, "status", "--porcelain", "--untracked-files=all", "--", *registry.LOGGED_PACKAGES))
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{commit}-dirty" if dirty else commit


def run_git(root: Path, *args: str) -> str:
    """The stripped output of ``git ARGS`` in ``root`` (raises when git fails)."""
    return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True).stdout.strip()


def describe_run_params(config: TrainingConfig, data: LabelledInputs) -> dict[str, str]:
    """A training run's MLflow parameters: every setting of ``config``, those at their defaults too (which
    :meth:`TrainingConfig.to_dict` leaves out so that older configurations hash as they did: a QA pass, session 50,
    found runs that could not be compared in MLflow's table for blanks), and the network as built (its input sizes
    from the data, not the configuration's placeholders)."""
    return flatten({**asdict(config), "network": fit_network_config(config, data).to_dict()})


def flatten(values: dict, prefix: str = "") -> dict[str, str]:
    """Nested dict -> flat ``a.b.c`` keys with string values (MLflow parameters)."""
    flat = {}
    for key, value in values.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = json.dumps(value) if isinstance(value, (list, tuple)) else str(value)
    return flat


def plot_confusion(counts_matrix: np.ndarray, title: str):
    """Matplotlib figure of a confusion matrix (rows reference, columns predicted)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = list(AAMI_CLASSES) + ["none"]
    n = counts_matrix.shape[0]
    figure, axis = plt.subplots(figsize=(5, 4.5))
    axis.imshow(np.log1p(counts_matrix), cmap="Blues")
    for i in range(n):
        for j in range(n):
            axis.text(j, i, str(counts_matrix[i, j]), ha="center", va="center", fontsize=8)
    axis.set_xticks(range(n), labels[:n])
    axis.set_yticks(range(n), labels[:n])
    axis.set_xlabel("predicted")
    axis.set_ylabel("reference")
    axis.set_title(title)
    figure.tight_layout()
    return figure


def log_results(config: TrainingConfig, data: LabelledInputs, result: TrainingResult,
                extra: ExtraTrainingData | None = None, stage: ContextStage | None = None) -> dict:
    """Log curves' summaries, confusion matrices and settings of a finished training into the run."""
    registry.log_metrics({f"{fold_name(f.fold, f.seed_index)}_best_epoch": float(f.best_epoch) for f in result.folds})
    registry.log_metrics({"training_time_s": result.elapsed_s})
    registry.log_figure(plot_confusion(result.oof_counts.matrix, "DS1 out-of-fold (patient-wise)"),
                        "confusion_cv.png")
    registry.log_dict({"matrix": result.oof_counts.matrix.tolist(), "rows": list(AAMI_CLASSES) + ["none"]},
                      "confusion_cv.json")
    registry.log_dict({fold_name(f.fold, f.seed_index): {"validation_records": list(f.validation_records),
                                         "best_epoch": f.best_epoch, "history": f.history}
                       for f in result.folds}, "folds.json")
    settings = build_model_settings(config, data, result, extra, stage)
    registry.log_dict(settings, "model_settings.json")
    return settings


def run_training(data_dir: str | Path, cache_dir: str | Path, config: TrainingConfig, *,
                 mlruns_dir: str | Path | None = None, model_name: str = MODEL_NAME,
                 run_name: str | None = None, progress: bool = True,
                 extra_dirs: tuple[Path, ...] = (), jobs: int | None = None) -> RunOutcome:
    """Train on DS1, track the run in MLflow, register the ensemble and promote it if it wins.

    ``extra_dirs``: directories of other annotated databases whose beats join every fold's training set
    (:func:`models.training_data.load_extra_inputs`); validation and the promotion score stay DS1's.

    ``jobs``: train that many networks at once, each in a worker process on one CPU thread
    (:mod:`models.training_workers`; the networks do not depend on the number); None: one after the other in this
    process, with TensorFlow's threads as they are.
    """
    registry.configure_tracking(mlruns_dir)
    registry.check_registry_writable(mlruns_dir)
    with WorkerTrainer(jobs) if jobs is not None else nullcontext() as trainer:
        return train_and_register(data_dir, cache_dir, config, model_name=model_name, run_name=run_name,
                                  progress=progress, extra_dirs=extra_dirs, trainer=trainer)


def train_and_register(data_dir: str | Path, cache_dir: str | Path, config: TrainingConfig, *, model_name: str,
                       run_name: str | None, progress: bool, extra_dirs: tuple[Path, ...],
                       trainer: NetworkTrainer | None) -> RunOutcome:
    """:func:`run_training`'s work, its networks trained by ``trainer`` (None: in this process)."""
    inputs_dir = Path(cache_dir) / "model_inputs"
    data = load_labelled_inputs(DS1, data_dir, inputs_dir, config.inputs, progress)
    extra = load_extra_inputs(tuple(extra_dirs), inputs_dir, config.inputs, progress) if extra_dirs else None
    one_lead = load_one_lead_inputs(data_dir, inputs_dir, config, progress)
    split = "DS1 (patient-wise CV)" + (f" + training-only {describe_databases(extra)}" if extra else "")
    with registry.start_run(run_name, tags={"code_version": find_code_version(),
                                            "data_fingerprint": fingerprint_data(data, extra),
                                            "split": split}) as run_id:
        registry.log_params(describe_run_params(config, data))
        if extra is not None:
            registry.log_dict(extra.describe(), "extra_training_data.json")
        result = train_ensemble(data, config, tracker=registry, progress=progress,
                                extra=None if extra is None else extra.inputs, trainer=trainer, one_lead=one_lead)
        stage = None
        if config.context_stage:
            started = time.perf_counter()
            stage = fit_ds1_context_stage(data, config, None if extra is None else extra.inputs, progress, trainer,
                                          one_lead)
            registry.log_metrics({"context_stage_time_s": time.perf_counter() - started})
        settings = log_results(config, data, result, extra, stage)
        model_uri = registry.log_keras_model(result.ensemble, settings)
    promotion = register_candidate(model_uri, model_name, result.validation_metrics[SELECTION_METRIC],
                                   registry.describe_selection_scheme(config.n_folds))
    return RunOutcome(run_id, model_uri, str(promotion.version), promotion.promoted, promotion.reason,
                      result.validation_metrics, result.elapsed_s, extra)


def register_candidate(model_uri: str, model_name: str, score: float,
                       scheme: str | None = None) -> registry.PromotionResult:
    """Register a trained model; it becomes the champion only if it beats the current one on :data:`SELECTION_METRIC`
    measured the same way (``scheme``: :func:`models.registry.describe_selection_scheme`).
    Under :data:`MODEL_NAME`, the shipped bundled model is registered first where it is new (as every command that
    loads the default model does): on an empty registry it is the champion a first candidate must beat, not an empty
    seat that any candidate takes."""
    with registry.hold_registry_lock():
        if model_name == MODEL_NAME:
            update_bundled_champion()
        return registry.register_and_maybe_promote(model_uri, model_name, score, metric_name=SELECTION_METRIC,
                                                   scheme=scheme)


def load_one_lead_inputs(data_dir: str | Path, inputs_dir: Path, config: TrainingConfig,
                         progress: bool = True) -> LabelledInputs | None:
    """DS1's beats prepared from each record's primary lead, when ``config`` trains on one-lead copies (None when not):
    what :func:`models.train.train_ensemble` and :func:`fit_ds1_context_stage` need beside DS1's inputs."""
    if not config.one_lead_fraction:
        return None
    return load_labelled_inputs(DS1, data_dir, inputs_dir, config.inputs, progress, primary_lead_only=True)


def describe_databases(extra: ExtraTrainingData) -> str:
    """``svdb (78 records), incartdb (75 records)``: the extra databases of a run, for its tag and the CLI."""
    return ", ".join(f"{d['database']} ({d['records']} records)" for d in extra.databases)


def save_model_files(model, settings: dict, directory: str | Path) -> Path:
    """Write ``model.keras`` and ``model.json`` (settings) into ``directory`` (the bundled model)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=directory) as tmp:
        staged = Path(tmp) / "model.keras"
        model.save(staged)
        staged.replace(directory / "model.keras")
    write_model_settings(settings, directory)
    return directory / "model.keras"


def write_model_settings(settings: dict, directory: str | Path) -> Path:
    """Write ``model.json`` (the settings saved beside ``model.keras``) into ``directory``."""
    path = Path(directory) / "model.json"
    path.write_text(json.dumps(settings, indent=2, default=str) + "\n", encoding="utf-8")
    return path
