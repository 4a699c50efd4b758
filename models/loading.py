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
from pathlib import Path

from models.errors import CorruptModelError, ModelNotFoundError, ModelSettingsMismatchError

logger = logging.getLogger(__name__)

KERAS_FILE = "model.keras"
SETTINGS_FILE = "settings.json"
TRAIN_HINT = ("Train and register one with `ecg train --data-dir DIR`, or pass the path of a .keras file "
              "(e.g. the bundled model shipped in the models/ package) instead of a models:/ URI.")


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
    """

    model: object
    settings: dict
    source: str
    name: str | None = None
    version: str | None = None
    local_path: str | None = None


def load_local(path: Path) -> LoadedModel:
    """Load a ``.keras`` file or a downloaded pyfunc folder, with its settings."""
    keras_path = find_keras_file(path)
    settings = read_settings(keras_path)
    model = read_keras_file(keras_path)
    check_settings_match(model, settings, keras_path)
    return LoadedModel(model, settings, str(path), local_path=str(keras_path.resolve()))


def find_keras_file(path: Path) -> Path:
    """The ``.keras`` file at ``path`` (a file, a pyfunc model folder or its artifacts folder)."""
    for candidate in (path, path / "artifacts" / KERAS_FILE, path / KERAS_FILE):
        if candidate.is_file():
            return candidate
    raise ModelNotFoundError(f"No model file at {path} (expected a .keras file or a folder holding "
                             f"artifacts/{KERAS_FILE}). {TRAIN_HINT}")


def read_settings(keras_path: Path) -> dict:
    """Settings JSON beside the model file (``<stem>.json``, else ``settings.json``); {} when absent."""
    for candidate in (keras_path.with_suffix(".json"), keras_path.parent / SETTINGS_FILE):
        if candidate.is_file():
            try:
                return json.loads(candidate.read_text())
            except (json.JSONDecodeError, UnicodeDecodeError) as error:
                raise CorruptModelError(f"The settings file {candidate} is not valid JSON ({error}). Restore it from "
                                        "the registry or retrain the model.") from None
    logger.warning("No settings file beside %s; inputs cannot be checked against the training settings", keras_path)
    return {}


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

    if not zipfile.is_zipfile(path):
        raise CorruptModelError(f"The model file {path} is not a .keras archive (truncated download or another "
                                "format?). Download it again, or retrain and re-register the model.")
    try:
        model = keras.saving.load_model(path, safe_mode=True, compile=False)
    except (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile) as error:
        raise CorruptModelError(f"The model file {path} cannot be read as a Keras model ({type(error).__name__}: "
                                f"{str(error)[:300]}). Download it again, or retrain and re-register the "
                                "model.") from error
    return prepare_for_inference(model)


def check_settings_match(model, settings: dict, path: Path) -> None:
    """Raise ModelSettingsMismatchError when ``settings['network']`` contradicts the model's inputs."""
    from models.network import INPUT_FEATURES, INPUT_WAVEFORM, NetworkConfig, read_input_shapes

    if "network" not in settings:
        return
    try:
        config = NetworkConfig.from_dict(settings["network"])
    except (TypeError, ValueError) as error:
        raise ModelSettingsMismatchError(f"The network settings beside {path} are not understood by this version "
                                         f"({error}). Use the code version the model was trained with, or "
                                         "retrain.") from None
    expected = {INPUT_WAVEFORM: (config.window_samples, config.n_channels), INPUT_FEATURES: (config.n_features,)}
    actual = read_input_shapes(model)
    if any(actual.get(key) != value for key, value in expected.items()):
        raise ModelSettingsMismatchError(f"The settings beside {path} describe inputs {expected}, but the model "
                                         f"takes {actual}. The settings file belongs to another model: restore "
                                         "the pair from the registry or retrain.")
