"""Loading a classifier from a local ``.keras`` file: no MLflow, so that processes that only score
(``ecg score`` workers, a model given as a path) do not pay for importing it.

:mod:`models.registry` resolves ``models:/`` URIs to local files and loads them with
:func:`load_local`; it re-exports ``LoadedModel`` and the file names.
"""

from __future__ import annotations

import json
import logging
import zipfile
from dataclasses import dataclass
from itertools import zip_longest
from pathlib import Path

from models.errors import CorruptModelError, ModelError, ModelNotFoundError, ModelSettingsMismatchError

logger = logging.getLogger(__name__)

KERAS_FILE = "model.keras"
SETTINGS_FILE = "settings.json"
TRAIN_HINT = ("Leave out --model to use the champion, or the shipped bundled model (models/bundled/model.keras) where "
              "the registry has none; pass the path of a .keras file; or train and register one with `ecg train`.")
CORRUPT_HINT = "Download it again, or retrain and re-register the model."
REGISTRY_HINT = ("Choose another version (`ecg models list`, then `ecg models promote N` or --model models:/NAME/N), "
                 "restore the registry's artifacts folder, or use the shipped bundled model (--model "
                 "models/bundled/model.keras).")
"""What to do when a registered version's own files cannot be used (:func:`reword_registered_error`)."""


def is_registry_uri(text: str) -> bool:
    """True for MLflow URIs (``models:/``, ``runs:/``, ``scheme://``), false for file paths."""
    return "://" in text or text.startswith(("models:/", "runs:/"))


@dataclass(frozen=True)
class LoadedModel:
    """A classifier loaded for inference.

    Attributes
    ----------
    model : keras.Model
        The Keras model, compiled for prediction only (see
        :func:`models.network.predict_probabilities`).
    settings : dict
        Settings saved with it (e.g. ``segmentation``, ``network``, ``feature_names``, ``classes``).
    source : str
        What was loaded: the URI as resolved (``models:/NAME/VERSION``) or the file path.
    name, version : str or None
        Registered model name and version, when it came from the registry.
    local_path : str or None
        The ``.keras`` file it was read from, when that file stays in place (a path, or a local
        artifact store); None for a temporary download. Worker processes load this file without
        MLflow.
    note : str
        Why this model stands in for the one asked for (the registry's champion could not be used:
        :func:`models.bundled.load_default_model`); ``""`` otherwise.
    """

    model: object
    settings: dict
    source: str
    name: str | None = None
    version: str | None = None
    local_path: str | None = None
    note: str = ""


def load_local(path: Path) -> LoadedModel:
    """Load a ``.keras`` file or a downloaded pyfunc folder, with its settings, checked against the network
    (:func:`check_settings_match`)."""
    keras_path = find_keras_file(path)
    check_keras_archive(keras_path)  # before the settings: a file of another kind is named as such
    settings = read_settings(keras_path)
    model = read_keras_file(keras_path)
    check_settings_match(model, settings, keras_path)
    return LoadedModel(model, settings, str(path), local_path=str(keras_path.resolve()))


def reword_registered_error(error: ModelError, source: str, stored: Path) -> ModelError:
    """``error`` from reading a registered version's files, as a message about that version: its files' folder and
    :data:`REGISTRY_HINT` in place of the hints for a file given with --model (leave out --model, download again),
    which a user who left out --model, or named the version, cannot follow.

    >>> error = ModelNotFoundError(f"No model file at /r/artifacts (expected a .keras file). {TRAIN_HINT}")
    >>> text = str(reword_registered_error(error, "models:/m/2", Path("/r/artifacts")))
    >>> text.startswith("Cannot load models:/m/2 (its files at /r/artifacts): No model file"), "--model to" in text
    (True, False)
    """
    message = " ".join(str(error).replace(TRAIN_HINT, "").replace(CORRUPT_HINT, "").split())
    return type(error)(f"Cannot load {source} (its files at {stored}): {message} {REGISTRY_HINT}")


def find_keras_file(path: Path) -> Path:
    """The ``.keras`` file at ``path`` (a file, a pyfunc model folder or its artifacts folder)."""
    for candidate in (path, path / "artifacts" / KERAS_FILE, path / KERAS_FILE):
        if candidate.is_file():
            return candidate
    raise ModelNotFoundError(f"No model file at {path} (expected a .keras file or a folder holding "
                             f"artifacts/{KERAS_FILE}). {TRAIN_HINT}")


def check_keras_archive(path: Path) -> None:
    """Raise :class:`CorruptModelError` unless ``path`` is a zip archive, as every ``.keras`` file is (a QA pass,
    session 53: ``--model README.md`` was answered with the settings file missing beside it)."""
    if not zipfile.is_zipfile(path):
        raise CorruptModelError(f"The model file {path} is not a .keras archive (truncated download or another "
                                f"format?). {CORRUPT_HINT}")


def read_settings(keras_path: Path) -> dict:
    """Settings JSON beside the model file (``<stem>.json``, else ``settings.json``).

    Raises
    ------
    ModelNotFoundError
        Neither file is there: without the settings the model was trained with, beats cannot be prepared for it.
    CorruptModelError
        The file is not valid JSON.
    """
    for candidate in (keras_path.with_suffix(".json"), keras_path.parent / SETTINGS_FILE):
        if candidate.is_file():
            try:
                return json.loads(candidate.read_text())
            except (json.JSONDecodeError, UnicodeDecodeError) as error:
                raise CorruptModelError(f"The settings file {candidate} is not valid JSON ({error}). Restore it from "
                                        "the registry or retrain the model.") from None
    raise ModelNotFoundError(f"No settings file beside {keras_path}: expected {keras_path.with_suffix('.json').name} "
                             f"or {SETTINGS_FILE}, the settings saved with the model (its \"inputs\": how beats are "
                             "cleaned, cut and described for it). Copy the model's settings file beside it (`ecg train "
                             "--save-to DIR` and `ecg bundle-model` write model.keras and model.json as a pair), or "
                             "load the model from the registry (models:/NAME@ALIAS).")


def read_keras_file(path: Path):
    """``keras.saving.load_model(path, safe_mode=True, compile=False)`` with our custom layer registered.

    The model is then compiled for prediction only (:func:`models.network.prepare_for_inference`).

    Raises
    ------
    CorruptModelError
        The file is not a readable ``.keras`` archive, or it needs unsafe deserialisation.
    """
    import keras

    import models.attention  # noqa: F401  (registers ecg>AdditiveAttention)
    from models.network import prepare_for_inference

    check_keras_archive(path)
    try:
        model = keras.saving.load_model(path, safe_mode=True, compile=False)
    except (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile) as error:
        if "safe_mode" in str(error):
            raise CorruptModelError(f"The model file {path} holds code that could run arbitrary Python when it is "
                                    "loaded (e.g. a Lambda layer); it is refused. Use a model file from a trusted "
                                    "source (the registry, the bundled model), or retrain the model.") from None
        raise CorruptModelError(f"The model file {path} cannot be read as a Keras model ({type(error).__name__}: "
                                f"{str(error)[:300]}). {CORRUPT_HINT}") from error
    return prepare_for_inference(model)


def check_settings_match(model, settings: dict, path: Path) -> None:
    """Raise ModelSettingsMismatchError when the settings saved with the model cannot prepare its inputs.

    The ``network`` section must describe the model's inputs, and the ``inputs`` section must give, with this code,
    what the network takes and returns (:func:`find_settings_problems`).
    """
    from models.network import INPUT_FEATURES, INPUT_WAVEFORM, NetworkConfig, read_input_shapes

    if "network" in settings:
        try:
            config = NetworkConfig.from_dict(settings["network"])
        except (TypeError, ValueError) as error:
            raise ModelSettingsMismatchError(f"The network settings beside {path} are not understood by this "
                                             f"version ({error}). Use the code version the model was trained with, "
                                             "or retrain.") from None
        expected = {INPUT_WAVEFORM: (config.window_samples, config.n_channels), INPUT_FEATURES: (config.n_features,)}
        actual = read_input_shapes(model)
        if any(actual.get(key) != value for key, value in expected.items()):
            raise ModelSettingsMismatchError(f"The settings beside {path} describe inputs {expected}, but the model "
                                             f"takes {actual}. The settings file belongs to another model: restore "
                                             "the pair from the registry or retrain.")
    problems = find_settings_problems(model, settings, read_input_settings(settings, path))
    if problems:
        raise ModelSettingsMismatchError(f"The settings beside {path} do not fit the model: {'; '.join(problems)}. "
                                         "The settings file belongs to another model or another code version: "
                                         "restore the pair from the registry, use the code version the model was "
                                         "trained with, or retrain.")
    check_decision_settings(settings, path)


def check_decision_settings(settings: dict, path: Path) -> None:
    """Build the decision rules and the beat-context stage saved with the model once at load time (the stage's
    archive is checked against its SHA-256 then, and cached), so that a damaged or edited stage is a load error and
    not a failure of every record scored. CorruptModelError or ModelSettingsMismatchError."""
    from models.atrial_rule import DecisionRules

    try:
        DecisionRules.from_settings(settings)
    except ModelError:
        raise
    except (TypeError, ValueError, KeyError) as error:
        raise ModelSettingsMismatchError(f"The decision rules in the settings beside {path} are not understood by "
                                         f"this version ({error}). Use the code version the model was trained with, "
                                         "or retrain.") from None


def read_input_settings(settings: dict, path: Path):
    """:class:`models.prepare.InputSettings` of the saved ``inputs``; ModelSettingsMismatchError when absent or not
    understood by this version."""
    from models.prepare import InputSettings

    if "inputs" in settings and not isinstance(settings["inputs"], dict):
        raise ModelSettingsMismatchError(f"The settings beside {path} hold \"inputs\" as "
                                         f"{type(settings['inputs']).__name__} {settings['inputs']!r:.40}; expected a "
                                         "table of how beats are cleaned, cut and described for the model. Restore "
                                         "the model's settings file from the registry or from where the model was "
                                         "saved, or retrain.")
    if not isinstance(settings.get("inputs"), dict):
        raise ModelSettingsMismatchError(f"The settings beside {path} lack \"inputs\" (how beats are cleaned, cut "
                                         "and described for the model), so beats cannot be prepared for it. Restore "
                                         "the model's settings file from the registry or from where the model was "
                                         "saved, or retrain.")
    segmentation = settings["inputs"].get("segmentation")
    if not isinstance(segmentation, dict) or "fs_hz" not in segmentation:  # a training config may leave it out; a
        # saved model's settings always carry it, and without it beats would be cut at the default rate unsaid
        raise ModelSettingsMismatchError(f"The settings beside {path} lack inputs.segmentation.fs_hz; expected the "
                                         "sampling rate the model's beats were cut at (every saved model's settings "
                                         "carry it). Restore the model's settings file from the registry or from "
                                         "where the model was saved, or retrain.")
    try:
        return InputSettings.from_dict(settings["inputs"])
    except (TypeError, ValueError, KeyError) as error:
        raise ModelSettingsMismatchError(f"The input settings beside {path} are not understood by this version "
                                         f"({error}). Use the code version the model was trained with, or "
                                         "retrain.") from None


def find_settings_problems(model, settings: dict, inputs) -> list[str]:
    """What in the saved settings contradicts the network: the beat window ((pre_s + post_s) x fs_hz against the
    waveform input), the classes (against the output) and the feature names this code computes with ``inputs``
    (against the saved ``feature_names`` and the features input). Empty when they agree."""
    from models.network import INPUT_FEATURES, INPUT_WAVEFORM, read_input_shapes

    shapes = read_input_shapes(model)
    problems = []
    window, taken = inputs.segmentation.window_samples, shapes.get(INPUT_WAVEFORM, (None,))[0]
    if window != taken:
        problems.append(f"the beat window (pre_s + post_s) x fs_hz is {window} samples, the network takes {taken}")
    classes, outputs = settings.get("classes"), model.outputs[0].shape[-1]
    if classes is not None and len(classes) != outputs:
        problems.append(f"{len(classes)} classes {list(classes)} are named, the network gives {outputs}")
    names, taken = compute_feature_names(inputs), shapes.get(INPUT_FEATURES, (None,))[0]
    if len(names) != taken:
        problems.append(f"this code computes {len(names)} features with these input settings, the network takes "
                        f"{taken}")
    saved = tuple(settings.get("feature_names", names))
    differ = [(i, a, b) for i, (a, b) in enumerate(zip_longest(saved, names, fillvalue="(none)")) if a != b]
    if differ:
        i, a, b = differ[0]
        problems.append(f"the saved feature_names ({len(saved)}) are not those this code computes ({len(names)}): "
                        f"position {i} is {a!r} saved, {b!r} computed")
    return problems


def compute_feature_names(inputs) -> tuple[str, ...]:
    """Names of the feature columns this code computes with ``inputs`` (from a synthetic beat train: the names do not
    depend on the signal)."""
    import numpy as np

    from models.inputs import N_LEADS
    from models.prepare import prepare_leads

    fs_hz = inputs.segmentation.fs_hz
    peaks = np.arange(1, 11) * int(round(fs_hz))
    signal = np.zeros((12 * int(round(fs_hz)), N_LEADS), dtype=np.float32)
    signal[peaks] = 1.0
    return tuple(prepare_leads(fs_hz, peaks, inputs, signal).inputs.feature_names)
