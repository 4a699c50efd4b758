"""MLflow adapter: tracking, logging the classifier, the model registry and loading models back.

The only module of the project that imports mlflow. Everything else (training, evaluation, the
CLI, the dashboard) goes through the functions here.

Where things are kept
---------------------
MLflow 3's file store (``./mlruns`` as plain files) is in maintenance mode and raises by default,
so runs and the registry live in a SQLite database, with the artifacts next to it::

    <mlruns>/mlflow.db                  tracking + registry (sqlite:///<mlruns>/mlflow.db)
    <mlruns>/artifacts/<experiment>/    run and model artifacts

``<mlruns>`` is, in order: the ``mlruns_dir`` argument, the environment variable
``ECG_MLRUNS_DIR``, then ``<repo root>/mlruns``. A function called before :func:`configure_tracking`
configures that default, unless a tracking URI was set explicitly (``MLFLOW_TRACKING_URI`` or
``mlflow.set_tracking_uri``); MLflow's own default, ``mlflow.db`` in the current directory, is never used.
The database is first opened under a lock (``<mlruns>/mlflow.db.lock``): MLflow creates the tables of
a new database on first use, and two processes creating them at once would collide.

How a model is logged (and why it loads in a fresh process)
-----------------------------------------------------------
MLflow's Keras flavour breaks on our custom attention layer in a fresh process: the requirements
it infers omit TensorFlow, and the layer's class is unknown when the ``.keras`` file is read. So
the classifier is logged as a **pyfunc** model:

- the ``.keras`` file and the model's settings JSON are artifacts of the pyfunc model;
- the entry point is a generated "models from code" script (no pickle) that builds
  :class:`KerasBeatClassifier`, whose ``load_context`` imports :mod:`models.attention` (which
  registers the layer) and reads the file with ``keras.saving.load_model(..., safe_mode=True)``;
- the project's ``models`` and ``pipeline`` packages travel with it as ``code_paths`` (their
  ``.py`` files only), and the pip requirements name TensorFlow and Keras explicitly.

Any process with MLflow, TensorFlow and Keras can then run
``mlflow.pyfunc.load_model("models:/NAME@champion").predict({"waveform": w, "features": f})``.
Inside the project, :func:`load_model` returns the Keras model itself with its settings.

Telemetry
---------
MLflow 3 sends anonymous usage telemetry unless ``MLFLOW_DISABLE_TELEMETRY`` (or ``DO_NOT_TRACK``)
is true. Its client is created when mlflow is imported, so this module sets
``MLFLOW_DISABLE_TELEMETRY=true`` (unless already set) just before importing mlflow, and
:func:`configure_tracking` turns it off again explicitly.

Nothing identifying a patient is logged here: the input example is synthetic (zeros) and the
settings are whatever the caller passes (segmentation, network, feature names).

References
----------
MLflow 3 documentation: "Backend stores" (SQL store), "Custom Python models" and "Models from
code" (pyfunc), "Model registry" (aliases), "Usage tracking" (``MLFLOW_DISABLE_TELEMETRY``).
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import shutil
import tempfile
import urllib.parse
import urllib.request
import warnings
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import filelock
import numpy as np

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")  # before mlflow creates its telemetry client

import mlflow  # noqa: E402  (the only mlflow import of the project)
import mlflow.artifacts  # noqa: E402
import mlflow.models  # noqa: E402
import mlflow.pyfunc  # noqa: E402
from mlflow.exceptions import MlflowException  # noqa: E402
from mlflow.tracking import MlflowClient  # noqa: E402
from sqlalchemy.exc import SQLAlchemyError  # noqa: E402  (MLflow's SQL store)

from models.errors import EmptyRegistryError, ModelError, ModelNotFoundError, RegistryUnavailableError  # noqa: E402
from models.loading import (  # noqa: E402  (LoadedModel is also this module's return type)
    KERAS_FILE,
    SETTINGS_FILE,
    TRAIN_HINT,
    LoadedModel,
    is_registry_uri,
    load_local,
    read_keras_file,
    reword_registered_error,
)

logger = logging.getLogger(__name__)

MLRUNS_ENV = "ECG_MLRUNS_DIR"
DEFAULT_EXPERIMENT = "ecg-beat-classifier"
DEFAULT_MODEL_NAME = "ecg-beat-classifier"
CHAMPION_ALIAS = "champion"
MODEL_NAME = DEFAULT_MODEL_NAME
"""Registered model name used by the CLI and the dashboard."""
SELECTION_METRIC = "cv_selection_score"
"""Metric that decides promotion: out-of-fold mean S/V F1 over DS1 patients."""
KERAS_ARTIFACT = "keras_model"
SETTINGS_ARTIFACT = "settings"
OUTPUT_PROBABILITIES = "probabilities"  # pyfunc predict params {"output": ...}
OUTPUT_CLASSES = "classes"
LOCK_FILE = "mlflow.db.lock"
METRIC_TAG = "selection_metric"
METRIC_NAME_TAG = "selection_metric_name"
DIRECTION_TAG = "selection_higher_is_better"
SCHEME_TAG = "selection_scheme"
"""How a version's selection metric was measured (``"4-fold patient-wise CV"``): out-of-fold scores of networks trained
on a half or on three quarters of DS1 are not comparable (a QA pass, session 50, saw a 2-fold candidate measured against
the 4-fold champion), so versions whose schemes are both known and differ are not compared."""

ENTRY_POINT = '''"""MLflow "models from code" entry point of the ECG beat classifier (written by models.registry)."""
import mlflow
from models.registry import KerasBeatClassifier

mlflow.models.set_model(KerasBeatClassifier())
'''


@dataclass(frozen=True)
class ModelVersionInfo:
    """One registered version: its aliases and the metric it was selected on."""

    name: str
    version: str
    aliases: tuple[str, ...]
    metric_name: str | None
    metric: float | None
    run_id: str | None


@dataclass(frozen=True)
class PromotionResult:
    """What :func:`register_and_maybe_promote` did.

    ``promoted`` is true when the alias now points at ``version``; ``previous_version`` and
    ``previous_metric`` describe the champion before (None when there was none); ``reason`` says why.
    """

    name: str
    version: str
    alias: str
    promoted: bool
    candidate_metric: float
    previous_version: str | None
    previous_metric: float | None
    reason: str


with warnings.catch_warnings(record=True):
    # MLflow warns, when the class is created, that predict has no type hint: a dict of arrays has
    # no supported hint, and the tensor signature logged with the model validates the input instead.
    # (Recording swallows it; MLflow's own "once" filter would override an "ignore" filter.)

    class KerasBeatClassifier(mlflow.pyfunc.PythonModel):
        """MLflow pyfunc wrapper of the Keras classifier: loads the ``.keras`` artifact in safe mode.

        ``predict`` takes ``{"waveform": (n, window, channels), "features": (n, n_features)}`` float32
        arrays and returns the network's class probabilities (n, n_classes), in the order of the settings'
        ``classes`` (AAMI N, S, V, F, Q). With ``params={"output": "classes"}`` it returns a dict
        with the ``probabilities`` decided from (the network's, with p(N) + p(S) divided by the model's
        beat-context stage when it has one: :mod:`models.context_stage`), the delivered ``class_index`` (the model's decision rules
        applied, as ``ecg score`` and the dashboard apply them: :mod:`models.atrial_rule`),
        ``atrial_rule`` (true where the atrial-origin rule turned the network's N into S) and
        ``conduction_rule`` (true where the sinus-conduction rule turned the network's V into N) and
        ``run_rule`` (true where the supraventricular run rule turned an N call into S; the beats must
        then be one recording's, in time order), ``wide_qrs_rule`` (true where the wide-QRS rule turned an S
        call into V) and ``fusion_rule`` (true where the fusion rule turned an F call into N).
        """

        def load_context(self, context) -> None:
            """Register the custom layer (import), read the Keras file with ``safe_mode=True`` and the settings."""
            from models.atrial_rule import DecisionRules

            self.model = read_keras_file(Path(context.artifacts[KERAS_ARTIFACT]))
            settings_path = context.artifacts.get(SETTINGS_ARTIFACT)
            self.settings = json.loads(Path(settings_path).read_text()) if settings_path else {}
            self.decisions = DecisionRules.from_settings(self.settings)

        def predict(self, context, model_input, params=None):
            """Class probabilities of each beat; with ``params={"output": "classes"}`` the classes after the per-beat
            decision rules too (not the record-level atrial-fibrillation rule, which needs the record's signal)."""
            if not isinstance(model_input, dict):
                raise TypeError(f"Received model input of type {type(model_input).__name__}; expected a dict of "
                                "arrays with keys 'waveform' and 'features'.")
            probabilities = self.model.predict(model_input, verbose=0)
            output = (params or {}).get("output", OUTPUT_PROBABILITIES)
            if output == OUTPUT_PROBABILITIES:
                return probabilities
            if output != OUTPUT_CLASSES:
                raise ValueError(f"Received params output={output!r}; expected {OUTPUT_PROBABILITIES!r} or "
                                 f"{OUTPUT_CLASSES!r}.")
            decision = self.decisions.decide(probabilities, np.asarray(model_input["features"]),
                                             tuple(self.settings.get("feature_names", ())))
            return {"probabilities": decision.probabilities, "class_index": decision.classes, "atrial_rule": decision.atrial,
                    "conduction_rule": decision.conducted, "run_rule": decision.run,
                    "wide_qrs_rule": decision.wide, "fusion_rule": decision.fusion}


# ----------------------------------------------------------------------------------------------
# Tracking


def find_repo_root() -> Path:
    """Directory that holds the ``models`` package (the repository root in a checkout)."""
    return Path(__file__).resolve().parent.parent


def resolve_mlruns_dir(mlruns_dir: str | Path | None = None) -> Path:
    """The argument, else ``ECG_MLRUNS_DIR``, else ``<repo root>/mlruns`` (absolute)."""
    chosen = mlruns_dir or os.environ.get(MLRUNS_ENV) or find_repo_root() / "mlruns"
    return Path(chosen).expanduser().resolve()


def disable_telemetry() -> None:
    """Turn MLflow's usage telemetry off for this process (and drop a client created at import)."""
    os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"
    from mlflow.telemetry import set_telemetry_client

    set_telemetry_client()


def configure_tracking(mlruns_dir: str | Path | None = None) -> str:
    """Point MLflow tracking and registry at ``<mlruns>/mlflow.db``; return the tracking URI.

    Creates ``<mlruns>`` and ``<mlruns>/artifacts`` when missing, disables telemetry and the
    artifact download progress bars (unless ``MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR`` is set), and
    opens the database (:func:`open_stores`).

    Raises
    ------
    RegistryUnavailableError
        The folder cannot be created or the database cannot be read (e.g. not an SQLite file).
    """
    root = resolve_mlruns_dir(mlruns_dir)
    try:
        (root / "artifacts").mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise RegistryUnavailableError(describe_unavailable(root, error)) from None
    disable_telemetry()
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    open_stores(root)
    return uri


def check_registry_writable(mlruns_dir: str | Path | None = None) -> None:
    """Raise :class:`RegistryUnavailableError` unless the registry ``<mlruns>`` (``mlruns_dir``, else the configured
    one) can be written: its folder (SQLite writes its journal beside the database), ``mlflow.db`` and
    ``artifacts/``. A command that registers a model checks this first, so that a read-only registry is said before
    minutes of training are spent, not by a traceback at their end."""
    root = resolve_mlruns_dir(mlruns_dir) if mlruns_dir is not None else find_configured_mlruns_dir()
    if root is None:  # a tracking URI of the user's own: MLflow's to check
        return
    database = root / "mlflow.db"
    for folder in (root, root / "artifacts"):
        try:
            with tempfile.TemporaryFile(dir=folder):
                pass
        except OSError as error:
            raise RegistryUnavailableError(describe_unwritable(root, folder, error)) from None
    if database.exists() and not os.access(database, os.W_OK):
        raise RegistryUnavailableError(describe_unwritable(root, database, PermissionError("not writable")))


def describe_unwritable(root: Path, path: Path, error: Exception) -> str:
    """Message of a :class:`RegistryUnavailableError` about a registry that cannot be written."""
    reason = getattr(error, "strerror", None) or str(error)
    return (f"The model registry at {root} cannot be written ({path}: {reason}); nothing can be registered there. "
            f"Make it writable, or give another folder with --mlruns or {MLRUNS_ENV}.")


def open_stores(root: Path) -> None:
    """Open the tracking and registry stores of ``<mlruns>`` (MLflow keeps them for the process), one process at a
    time: a new database gets its tables then, and two processes creating them at once fail ("table ... already
    exists")."""
    try:
        with hold_registry_lock(root):
            MlflowClient().search_registered_models(max_results=1)
    except (SQLAlchemyError, MlflowException, OSError) as error:
        raise RegistryUnavailableError(describe_unavailable(root, error)) from None


_held_locks: set[Path] = set()
"""Lock files this process holds (:func:`hold_registry_lock` is re-entrant)."""


@contextlib.contextmanager
def hold_registry_lock(root: Path | None = None):
    """Run the block holding the exclusive lock ``<mlruns>/mlflow.db.lock`` (``root``, else the configured
    ``<mlruns>``), so that other processes using the same registry wait (``filelock``: an OS lock on POSIX and Windows
    alike, released if the process dies).

    No lock where there is nothing to create (a read-only folder) or with a tracking URI of the user's own.
    """
    root = root or find_configured_mlruns_dir()
    path = None if root is None else root / LOCK_FILE
    if path is None or path in _held_locks or not can_create_lock(path):
        yield
        return
    with filelock.FileLock(path):
        _held_locks.add(path)
        try:
            yield
        finally:
            _held_locks.discard(path)


def can_create_lock(path: Path) -> bool:
    """Whether the lock file ``path`` exists or can be created (not in a read-only folder)."""
    try:
        with open(path, "a"):
            return True
    except OSError:
        return False


def describe_unavailable(root: Path, error: Exception) -> str:
    """Message of a :class:`RegistryUnavailableError` about ``<mlruns>`` at ``root``."""
    reason = str(error).splitlines()[0] if str(error) else type(error).__name__
    return (f"The model registry at {root} cannot be read: {type(error).__name__}: {reason}. Move it aside (or repair "
            f"it), or set {MLRUNS_ENV} to another folder.")


def find_configured_mlruns_dir() -> Path | None:
    """``<mlruns>`` of the tracking URI set explicitly (by :func:`configure_tracking` or the user) when it has this
    module's layout, else None (MLflow's default URI included)."""
    if not mlflow.tracking.is_tracking_uri_set():
        return None
    uri = mlflow.get_tracking_uri()
    if not uri.startswith("sqlite:///") or not uri.endswith("/mlflow.db"):
        return None
    database = Path(uri[len("sqlite:///"):])
    return database.parent if database.is_absolute() else None


def require_tracking() -> Path | None:
    """The configured ``<mlruns>``; configures the default one (:func:`resolve_mlruns_dir`) unless a tracking URI
    was set explicitly. None: the user's own tracking URI, not laid out as ``<mlruns>``."""
    configured = find_configured_mlruns_dir()
    if configured is None and not mlflow.tracking.is_tracking_uri_set():
        configure_tracking()
        configured = find_configured_mlruns_dir()
    return configured


def ensure_experiment(name: str = DEFAULT_EXPERIMENT) -> str:
    """Id of experiment ``name``, created with its artifacts under ``<mlruns>/artifacts/<name>``.

    MLflow's default experiment would put artifacts under the current directory; named
    experiments created here keep them under ``<mlruns>``.
    """
    root = require_tracking()
    experiment = mlflow.get_experiment_by_name(name)
    if experiment is not None and not was_moved(experiment.artifact_location, root):
        return experiment.experiment_id
    if experiment is not None:  # a registry moved or copied: its experiment still writes to the old folder
        kept = f"{name} (files in {local_artifact_path(experiment.artifact_location)})"
        MlflowClient().rename_experiment(experiment.experiment_id, kept)
        logger.info("The registry was moved: its experiment %s writes to %s; renamed %r, and new runs go to a new %r",
                    experiment.experiment_id, experiment.artifact_location, kept, name)
    location = None if root is None else (root / "artifacts" / name).as_uri()  # None: the user's own tracking
    return mlflow.create_experiment(name, artifact_location=location)


def was_moved(artifact_uri: str, root: Path | None) -> bool:
    """True when a local artifact location lies outside the configured ``<mlruns>`` (``root``): the registry's folder
    was moved or copied since the location was recorded (MLflow stores it as an absolute path)."""
    stored = local_artifact_path(artifact_uri)
    return root is not None and stored is not None and not stored.resolve().is_relative_to(root.resolve())


def rebase_artifact_path(stored: Path, root: Path | None) -> Path:
    """Where the files recorded at ``stored`` are in a registry that was moved or copied to ``root``: the same folder
    under ``<root>/artifacts`` when the recorded one lies outside ``root`` and that folder exists; else ``stored``.

    >>> root = Path("/nonexistent/new/mlruns")
    >>> str(rebase_artifact_path(Path("/old/mlruns/artifacts/ecg/models/m-1/artifacts"), root))
    '/old/mlruns/artifacts/ecg/models/m-1/artifacts'
    """
    if not was_moved(str(stored), root):
        return stored
    parts = stored.parts
    for k, part in enumerate(parts):
        candidate = root.joinpath("artifacts", *parts[k + 1:])
        if part == "artifacts" and candidate.exists():
            return candidate
    return stored


@contextlib.contextmanager
def start_run(run_name: str | None = None, *, experiment: str = DEFAULT_EXPERIMENT,
              tags: dict[str, str] | None = None):
    """Run the block inside an MLflow run of ``experiment``; yields the run id.

    Uses the tracking configured by :func:`configure_tracking` (the default ``<mlruns>`` if none).
    """
    experiment_id = ensure_experiment(experiment)
    with mlflow.start_run(run_name=run_name, experiment_id=experiment_id, tags=tags) as run:
        yield run.info.run_id


def log_params(params: dict) -> None:
    """Log parameters of the active run (values are stringified by MLflow)."""
    mlflow.log_params(params)


def log_metrics(metrics: dict[str, float], step: int | None = None) -> None:
    """Log metrics of the active run (``step``: the epoch, for curves)."""
    mlflow.log_metrics({key: float(value) for key, value in metrics.items()}, step=step)


def log_dict(values: dict, artifact_file: str) -> None:
    """Save ``values`` as a JSON (or YAML, by extension) artifact of the active run."""
    mlflow.log_dict(values, artifact_file)


def log_artifact(path: str | Path, artifact_path: str | None = None) -> None:
    """Copy a local file or directory into the active run's artifacts."""
    if Path(path).is_dir():
        mlflow.log_artifacts(str(path), artifact_path)
    else:
        mlflow.log_artifact(str(path), artifact_path)


def log_figure(figure, artifact_file: str) -> None:
    """Save a matplotlib figure (e.g. a confusion matrix) as an image artifact of the active run."""
    mlflow.log_figure(figure, artifact_file)


def set_tags(tags: dict[str, str]) -> None:
    """Set tags of the active run (e.g. the code version and the data fingerprint)."""
    mlflow.set_tags(tags)


# ----------------------------------------------------------------------------------------------
# Logging the model


def log_keras_model(model, settings: dict, *, name: str = "model",
                    extra_artifacts: dict[str, str | Path] | None = None) -> str:
    """Log a Keras classifier as an MLflow pyfunc model; return its model URI (``models:/m-...``).

    Parameters
    ----------
    model : keras.Model
        Classifier with inputs ``waveform`` and ``features`` (see :mod:`models.network`).
    settings : dict
        JSON-serialisable settings saved beside the model (segmentation, network config, feature
        names, classes); :func:`load_model` returns them. No patient identifiers.
    name : str
        Name of the logged model within the run.
    extra_artifacts : dict of str to path, optional
        More files to ship with the model (name -> local path).

    Notes
    -----
    Logs into the active run when there is one (see :func:`start_run`). The signature comes
    from a synthetic input example (two all-zero beats). Register the returned URI with
    :func:`register_and_maybe_promote`.
    """
    require_tracking()
    run = contextlib.nullcontext() if mlflow.active_run() else start_run(f"log-{name}")
    with run, tempfile.TemporaryDirectory(prefix="ecg-model-") as tmp:
        staging = Path(tmp)
        artifacts = write_model_files(model, settings, staging)
        artifacts.update({key: str(value) for key, value in (extra_artifacts or {}).items()})
        example = make_input_example(model)
        info = mlflow.pyfunc.log_model(
            name=name, python_model=str(write_entry_point(staging)), artifacts=artifacts,
            code_paths=stage_code(staging), pip_requirements=list_pip_requirements(),
            signature=mlflow.models.infer_signature(example, model.predict(example, verbose=0),
                                                    params={"output": OUTPUT_PROBABILITIES}),
            input_example=example)
    logger.info("Logged model %s", info.model_uri)
    return info.model_uri


def write_model_files(model, settings: dict, directory: Path) -> dict[str, str]:
    """Save the ``.keras`` file and the settings JSON into ``directory``; artifact name -> path."""
    keras_path = directory / KERAS_FILE
    model.save(keras_path)
    settings_path = directory / SETTINGS_FILE
    settings_path.write_text(json.dumps(settings, indent=2, sort_keys=True))
    return {KERAS_ARTIFACT: str(keras_path), SETTINGS_ARTIFACT: str(settings_path)}


def write_entry_point(directory: Path) -> Path:
    """Write the "models from code" script that builds :class:`KerasBeatClassifier`."""
    path = directory / "beat_classifier_entry.py"
    path.write_text(ENTRY_POINT)
    return path


LOGGED_PACKAGES = ("models", "pipeline")
"""The project's packages a logged model carries as its code (:func:`stage_code`)."""


def stage_code(directory: Path) -> list[str]:
    """Copy the ``.py`` files (and data tables) of :data:`LOGGED_PACKAGES` for ``code_paths``."""
    staged = []
    for package in LOGGED_PACKAGES:
        target = directory / "code" / package
        shutil.copytree(find_repo_root() / package, target, ignore=ignore_non_code)
        staged.append(str(target))
    return staged


def ignore_non_code(directory: str, names: list[str]) -> set[str]:
    """``shutil.copytree`` filter: keep sub-packages, ``.py`` and ``.csv`` files only."""
    return {name for name in names
            if name == "__pycache__" or (not name.endswith((".py", ".csv")) and not (Path(directory) / name).is_dir())}


def list_pip_requirements() -> list[str]:
    """Pinned requirements of the pyfunc model: TensorFlow (cpu or full), Keras, NumPy, and scikit-learn and skops for
    the beat-context stage (:mod:`models.context_stage`)."""
    requirements = []
    for candidates in (("tensorflow-cpu", "tensorflow"), ("keras",), ("numpy",), ("scikit-learn",), ("skops",)):
        requirements.append(find_installed(candidates))
    return requirements


def find_installed(candidates: tuple[str, ...]) -> str:
    """``name==version`` of the first installed distribution among ``candidates``."""
    for name in candidates:
        try:
            return f"{name}=={metadata.version(name)}"
        except metadata.PackageNotFoundError:
            continue
    raise RuntimeError(f"Received none of {candidates} installed; expected one to log the model's requirements.")


def make_input_example(model, n_beats: int = 2) -> dict:
    """Synthetic input (zeros) of ``n_beats`` beats for every model input, by input name."""
    import numpy as np

    return {tensor.name: np.zeros((n_beats, *tensor.shape[1:]), dtype="float32") for tensor in model.inputs}


# ----------------------------------------------------------------------------------------------
# Registry


def register_and_maybe_promote(model_uri: str, name: str, candidate_metric: float, *,
                               metric_name: str = "val_macro_f1", alias: str = CHAMPION_ALIAS,
                               higher_is_better: bool = True, promote: bool = True,
                               scheme: str | None = None) -> PromotionResult:
    """Register ``model_uri`` as a new version of ``name``; move ``alias`` only if it beats the champion.

    Parameters
    ----------
    model_uri : str
        A logged model (``models:/m-...`` from :func:`log_keras_model`, or ``runs:/RUN/model``).
    name : str
        Registered model name (created on first use).
    candidate_metric : float
        The candidate's DS1 validation metric; stored as the version's tag ``selection_metric``.
    metric_name : str
        Name of that metric, stored as ``selection_metric_name``; only versions selected on the
        same metric are compared.
    alias : str
        Alias to move (``champion``).
    higher_is_better : bool
        Direction of the metric.
    promote : bool
        False: register only, whatever the metrics (the caller decides about the alias).
    scheme : str, optional
        How the metric was measured (:data:`SCHEME_TAG`); a champion whose known scheme differs is not compared.

    Returns
    -------
    PromotionResult
        The new version and whether the alias moved to it. A candidate takes the alias when there
        is no champion yet, or when its metric is strictly better than the champion's. A NaN
        metric never wins; a champion selected on another metric is left in place (promote by
        hand with :func:`set_alias`).
    """
    require_tracking()
    client = MlflowClient()
    with hold_registry_lock():  # read, compare and move the alias in one step: two runs ending together can't both win
        version = mlflow.register_model(model_uri, name).version
        for key, value in ((METRIC_TAG, repr(float(candidate_metric))), (METRIC_NAME_TAG, metric_name),
                           (DIRECTION_TAG, str(bool(higher_is_better))), (SCHEME_TAG, scheme)):
            if value is not None:
                client.set_model_version_tag(name, version, key, value)
        champion = find_alias_version(client, name, alias)
        promoted, reason = (decide_promotion(champion, float(candidate_metric), metric_name, higher_is_better, scheme)
                            if promote else (False, "registered without promotion; alias not moved"))
        if promoted:
            client.set_registered_model_alias(name, alias, version)
    logger.info("Registered %s version %s; %s", name, version, reason)
    previous = str(champion.version) if champion is not None else None
    return PromotionResult(name, str(version), alias, promoted, float(candidate_metric), previous,
                           read_metric(champion, metric_name), reason)


def describe_selection_scheme(n_folds: int) -> str:
    """How a model's selection metric was measured (:data:`SCHEME_TAG`).

    >>> describe_selection_scheme(4)
    '4-fold patient-wise CV'
    """
    return f"{n_folds}-fold patient-wise CV"


def decide_promotion(champion, candidate: float, metric_name: str, higher_is_better: bool,
                     scheme: str | None = None) -> tuple[bool, str]:
    """Whether a candidate with metric ``candidate`` (measured by ``scheme``, when known) takes the alias from
    ``champion``, and why."""
    if math.isnan(candidate):
        return False, f"candidate {metric_name} is NaN; alias not moved"
    if champion is None:
        return True, "no champion yet; candidate promoted"
    champion_scheme = champion.tags.get(SCHEME_TAG)
    if scheme is not None and champion_scheme is not None and champion_scheme != scheme:
        return False, (f"champion version {champion.version}'s {metric_name} comes from a {champion_scheme}, the "
                       f"candidate's from a {scheme}: not comparable; alias not moved (use set_alias to promote by "
                       "hand)")
    current = read_metric(champion, metric_name)
    if current is None:
        return False, (f"champion version {champion.version} has no {metric_name} to compare with; alias not moved "
                       "(use set_alias to promote by hand)")
    better = candidate > current if higher_is_better else candidate < current
    verdict = "promoted" if better else "alias not moved"
    return better, (f"candidate {metric_name}={candidate:.4g} vs champion version {champion.version} "
                    f"{current:.4g}: {verdict}")


def read_metric(version, metric_name: str) -> float | None:
    """The version's selection metric when it was selected on ``metric_name``, else None."""
    if version is None or version.tags.get(METRIC_NAME_TAG) != metric_name or METRIC_TAG not in version.tags:
        return None
    return float(version.tags[METRIC_TAG])


def find_alias_version(client: MlflowClient, name: str, alias: str):
    """The model version ``alias`` points at, or None when the alias is not set."""
    try:
        return client.get_model_version_by_alias(name, alias)
    except MlflowException as error:
        if is_not_found(error):
            return None
        raise


def set_version_tag(name: str, version: str | int, key: str, value: str) -> None:
    """Tag one registered version (e.g. the fingerprint of the bundled model it came from)."""
    require_tracking()
    MlflowClient().set_model_version_tag(name, str(version), key, value)


def remove_version_tag(name: str, version: str | int, key: str) -> None:
    """Remove a tag from one registered version."""
    require_tracking()
    MlflowClient().delete_model_version_tag(name, str(version), key)


def read_version_tags(name: str, version: str | int) -> dict[str, str]:
    """Tags of one registered version."""
    require_tracking()
    return dict(MlflowClient().get_model_version(name, str(version)).tags)


def find_versions_with_tag(name: str, key: str, value: str) -> list[str]:
    """Versions of ``name`` whose tag ``key`` equals ``value`` (oldest first)."""
    require_tracking()
    escaped = name.replace("'", "\\'")
    versions = MlflowClient().search_model_versions(f"name = '{escaped}'")
    return sorted((str(v.version) for v in versions if v.tags.get(key) == value), key=int)


def find_alias_target(name: str, alias: str = CHAMPION_ALIAS) -> str | None:
    """Version ``alias`` points at, or None."""
    require_tracking()
    found = find_alias_version(MlflowClient(), name, alias)
    return None if found is None else str(found.version)


def set_alias(name: str, version: str | int, alias: str = CHAMPION_ALIAS) -> None:
    """Point ``alias`` at ``version`` unconditionally (manual promotion or rollback)."""
    require_tracking()
    MlflowClient().set_registered_model_alias(name, alias, str(version))


def list_model_versions(name: str) -> list[ModelVersionInfo]:
    """Every version of registered model ``name``, oldest first (empty when the name is unknown)."""
    require_tracking()
    client = MlflowClient()
    escaped = name.replace("'", "\\'")
    versions = client.search_model_versions(f"name = '{escaped}'")
    aliases = read_aliases(client, name) if versions else {}
    infos = [ModelVersionInfo(v.name, str(v.version), aliases.get(str(v.version), ()), v.tags.get(METRIC_NAME_TAG),
                              float(v.tags[METRIC_TAG]) if METRIC_TAG in v.tags else None, v.run_id)
             for v in versions]
    return sorted(infos, key=lambda info: int(info.version))


def read_aliases(client: MlflowClient, name: str) -> dict[str, tuple[str, ...]]:
    """Aliases of each version of ``name``: version -> aliases."""
    by_version: dict[str, tuple[str, ...]] = {}
    for alias, version in client.get_registered_model(name).aliases.items():
        by_version[str(version)] = (*by_version.get(str(version), ()), alias)
    return by_version


def list_registered_names() -> list[str]:
    """Names of all registered models, sorted."""
    require_tracking()
    return sorted(model.name for model in MlflowClient().search_registered_models())


def describe_registry() -> str:
    """One line per registered model: its versions and aliases (for error messages)."""
    lines = []
    for name in list_registered_names():
        versions = list_model_versions(name)
        aliases = [f"@{alias} -> {v.version}" for v in versions for alias in v.aliases]
        listed = ", ".join(v.version for v in versions)
        lines.append(f"  models:/{name}/<version> (versions {listed}){'; ' if aliases else ''}{', '.join(aliases)}")
    return "\n".join(lines)


def is_not_found(error: MlflowException) -> bool:
    """True when MLflow reports that a model, version or alias does not exist."""
    return error.error_code == "RESOURCE_DOES_NOT_EXIST" or "not found" in str(error).lower()


# ----------------------------------------------------------------------------------------------
# Loading


def load_model(uri: str | Path) -> LoadedModel:
    """Load a classifier and its settings from the registry or from a file.

    Parameters
    ----------
    uri : str or Path
        ``models:/NAME@ALIAS`` (e.g. ``models:/ecg-beat-classifier@champion``),
        ``models:/NAME/VERSION``, another MLflow model URI (``models:/m-...``, ``runs:/...``),
        a ``.keras`` file (settings from ``<stem>.json`` or ``settings.json`` beside it), or a
        directory holding a downloaded pyfunc model. Call :func:`configure_tracking` first for
        registry URIs.

    Returns
    -------
    LoadedModel

    Raises
    ------
    EmptyRegistryError
        A ``models:/`` URI while no model is registered at all.
    ModelNotFoundError
        The name, alias, version or file does not exist (the message lists what does), the version's files are
        missing from the artifact store, or no settings file is beside the ``.keras`` file.
    RegistryUnavailableError
        The registry's folder or database cannot be read.
    CorruptModelError
        The file is not a readable (or safe) ``.keras`` model.
    ModelSettingsMismatchError
        The settings saved with the model lack ``inputs`` or contradict the network (input shapes, beat window,
        classes, feature names).
    """
    text = str(uri)
    if is_registry_uri(text):
        return load_registered(text)
    return load_local(Path(text).expanduser())


def load_registered(uri: str) -> LoadedModel:
    """Resolve a ``models:/``/``runs:/`` URI, download its files and load them."""
    require_tracking()
    name, version = resolve_registered(uri) if uri.startswith("models:/") else (None, None)
    source = f"models:/{name}/{version}" if name else uri
    files_uri = locate_model_files(name, version) if name else uri
    stored = local_artifact_path(files_uri)
    if stored is not None:  # a local artifact store: read the files where they are (in a moved registry, its own)
        stored = rebase_artifact_path(stored, find_configured_mlruns_dir())
        if not stored.exists():
            raise ModelNotFoundError(f"Cannot load {source}: its files are missing from the artifact store ({stored} "
                                     "does not exist). Restore the registry's artifacts folder, re-register the "
                                     "model, or use another version.")
        try:
            loaded = load_local(stored)
        except ModelError as error:
            raise reword_registered_error(error, source, stored) from None
        return LoadedModel(loaded.model, loaded.settings, source, name, version, loaded.local_path)
    with tempfile.TemporaryDirectory(prefix="ecg-model-") as tmp:
        folder = download_model(files_uri, Path(tmp))
        try:
            loaded = load_local(folder)
        except ModelError as error:
            raise reword_registered_error(error, source, Path(files_uri)) from None
    return LoadedModel(loaded.model, loaded.settings, source, name, version)


def local_artifact_path(artifact_uri: str) -> Path | None:
    """The folder a ``file:`` artifact URI (or a plain path) points at; None for a remote store."""
    parsed = urllib.parse.urlparse(artifact_uri)
    if parsed.scheme not in ("file", "") or parsed.netloc not in ("", "localhost"):
        return None
    return Path(urllib.request.url2pathname(parsed.path))


def locate_model_files(name: str, version: str) -> str:
    """Artifact URI of the folder holding the version's ``.keras`` file and settings (not its code)."""
    return MlflowClient().get_model_version_download_uri(name, version).rstrip("/") + "/artifacts"


def resolve_registered(uri: str) -> tuple[str | None, str | None]:
    """(name, version) of ``models:/NAME@ALIAS`` or ``models:/NAME/VERSION``; (None, None) otherwise.

    Raises EmptyRegistryError / ModelNotFoundError with what the registry holds.
    """
    reference = uri[len("models:/"):]
    if reference.startswith("m-") and "/" not in reference and "@" not in reference:
        return None, None  # a logged model id, not a registered name
    client = MlflowClient()
    if not list_registered_names():
        raise EmptyRegistryError(f"Cannot load {uri}: the model registry at {mlflow.get_registry_uri()} holds no "
                                 f"model. {TRAIN_HINT}")
    name, alias, version = split_reference(reference)
    try:
        found = client.get_model_version_by_alias(name, alias) if alias else client.get_model_version(name, version)
    except MlflowException as error:
        if not is_not_found(error):
            raise
        raise ModelNotFoundError(f"Cannot load {uri}: no such registered model, alias or version. The registry "
                                 f"holds:\n{describe_registry()}\n{TRAIN_HINT}") from None
    return found.name, str(found.version)


def split_reference(reference: str) -> tuple[str, str | None, str | None]:
    """``NAME@ALIAS`` -> (name, alias, None); ``NAME/VERSION`` -> (name, None, version)."""
    if "@" in reference:
        name, alias = reference.rsplit("@", 1)
        if name and alias:
            return name, alias, None
        version = ""  # an empty name or alias (models:/NAME@, models:/@champion): the usage error below
    else:
        name, _, version = reference.rpartition("/")
    if not name or not version.isdigit():
        raise ModelNotFoundError(f"Received model URI models:/{reference}; expected models:/NAME@ALIAS (e.g. "
                                 f"models:/{DEFAULT_MODEL_NAME}@{CHAMPION_ALIAS}) or models:/NAME/VERSION.")
    return name, None, version


def download_model(uri: str, directory: Path) -> Path:
    """Download the pyfunc model at ``uri`` into ``directory``; return its local folder."""
    try:
        return Path(mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=str(directory)))
    except MlflowException as error:
        if not is_not_found(error):
            raise
        raise ModelNotFoundError(f"Cannot load {uri}: {error.message.rstrip('.')}. {TRAIN_HINT}") from None
    except OSError as error:
        raise ModelNotFoundError(f"Cannot load {uri}: its files are missing from the artifact store ({error}). "
                                 f"Re-register the model or use another version. {TRAIN_HINT}") from None
