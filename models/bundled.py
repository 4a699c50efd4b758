"""The trained model that ships with the project, used when the registry has no champion."""

from __future__ import annotations

import hashlib
import json
import logging
import math
from dataclasses import replace
from pathlib import Path

from models import registry
from models.errors import ModelError
from models.registry import MODEL_NAME, SELECTION_METRIC

logger = logging.getLogger(__name__)

BUNDLED_DIR = Path(__file__).resolve().parent / "bundled"
BUNDLED_MODEL = BUNDLED_DIR / "model.keras"
CHAMPION_URI = f"models:/{MODEL_NAME}@{registry.CHAMPION_ALIAS}"


BUNDLED_TAG = "bundled_sha256"
"""Version tag: SHA-256 of the bundled ``model.keras`` and its settings, as registered."""


def fingerprint_bundled_model() -> str:
    """SHA-256 of the shipped ``model.keras`` file and of its settings (``model.json``, which hold the
    decision rules): a release that only changes the rules is a new bundled model too."""
    digest = hashlib.sha256(BUNDLED_MODEL.read_bytes())
    settings_path = BUNDLED_MODEL.with_suffix(".json")
    if settings_path.exists():
        digest.update(settings_path.read_bytes())
    return digest.hexdigest()


def register_bundled_model(promote: bool = True) -> registry.PromotionResult:
    """Log the bundled model into the configured registry; with ``promote``, make it the champion if none exists
    (or if it beats the champion on the selection metric). Without, the alias is left alone."""
    from models.training_run import find_code_version  # Keras is loaded by now; training_run imports this module

    loaded = registry.load_model(BUNDLED_MODEL)
    validation = loaded.settings.get("validation", {})
    # the checkout that shipped it (its training run's tags stay on the machine it was trained on), and which records
    # it was trained on (the data fingerprint needs the database, which a fresh machine may not have)
    tags = {"source": "models/bundled", "code_version": find_code_version(),
            "train_records": ",".join(map(str, loaded.settings.get("train_records", [])))}
    with registry.start_run("register-shipped-model", tags=tags):
        # its DS1 out-of-fold figures, as its training run logged them, so that runs compare in the MLflow UI
        registry.log_metrics({k: v for k, v in validation.items() if isinstance(v, (int, float)) and math.isfinite(v)})
        uri = registry.log_keras_model(loaded.model, loaded.settings)
    metric = float(loaded.settings.get("validation", {}).get(SELECTION_METRIC, float("nan")))
    n_folds = loaded.settings.get("training", {}).get("n_folds")
    result = registry.register_and_maybe_promote(uri, MODEL_NAME, metric, metric_name=SELECTION_METRIC,
                                                 promote=promote,
                                                 scheme=None if n_folds is None else
                                                 registry.describe_selection_scheme(n_folds))
    registry.set_version_tag(MODEL_NAME, result.version, BUNDLED_TAG, fingerprint_bundled_model())
    return result


def update_bundled_champion() -> str | None:
    """After an upgrade ships a new bundled model: register it and, when the champion is an older bundled model (a
    version tagged ``bundled_sha256``) or there is no champion, make the new one the champion. A champion the user
    trained or promoted by hand is never displaced, whatever the metrics say.

    Returns the new version when the champion moved, else None.
    """
    fingerprint = fingerprint_bundled_model()
    if registry.find_versions_with_tag(MODEL_NAME, BUNDLED_TAG, fingerprint):
        return None
    champion = registry.find_alias_target(MODEL_NAME)
    replaceable = champion is None or BUNDLED_TAG in registry.read_version_tags(MODEL_NAME, champion)
    result = register_bundled_model(promote=False)
    if not replaceable:
        logger.info("Registered the shipped bundled model as version %s; the champion, version %s, is kept",
                    result.version, champion)
        return None
    registry.set_alias(MODEL_NAME, result.version)
    logger.info("Champion moved from %s to the shipped bundled model, version %s",
                "no version" if champion is None else f"bundled version {champion}", result.version)
    return result.version


def load_default_model(mlruns_dir: str | Path | None = None) -> registry.LoadedModel:
    """The registry's champion; on a fresh machine (empty registry) the bundled model, registered first.

    When the project ships a new bundled model, it replaces a champion that was an older bundled
    model (:func:`update_bundled_champion`). When the registry or its champion cannot be used (its
    folder or database unreadable, the champion's files missing, truncated or not fitting its network,
    a read-only checkout), a warning names the problem and the bundled file is loaded directly, with
    that warning as its ``note`` (the dashboard shows it; every output names the model used). One rule
    for all of these: a QA pass of session 53 found a truncated champion stopping every command while
    a deleted one fell back.
    """
    try:
        registry.configure_tracking(mlruns_dir)
        return load_champion()
    except (ModelError, OSError) as error:
        note = (f"The registry's champion cannot be used ({error}); the shipped bundled model "
                "(models/bundled/model.keras) is used instead.")
        logger.warning("%s", note)
        return replace(registry.load_model(BUNDLED_MODEL), note=note)


def load_champion() -> registry.LoadedModel:
    """The champion of the configured registry, after registering the shipped bundled model where it is new (on an
    empty registry too, where it becomes the champion). Other processes using the registry wait meanwhile: two
    starting together on an empty registry would each register it."""
    with registry.hold_registry_lock():
        try:
            update_bundled_champion()
        except OSError as error:  # a read-only registry keeps its champion
            logger.warning("Could not register the shipped bundled model (%s)", error)
    return registry.load_model(CHAMPION_URI)


def read_model_card_metrics() -> dict:
    """The DS2 figures recorded in the bundled model's settings (``{}`` when absent)."""
    settings_path = BUNDLED_MODEL.with_suffix(".json")
    return json.loads(settings_path.read_text()).get("ds2_evaluation", {}) if settings_path.exists() else {}
