"""The trained model that ships with the project, used when the registry has no champion."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from models import registry
from models.errors import EmptyRegistryError, ModelNotFoundError
from models.training_run import MODEL_NAME, SELECTION_METRIC

logger = logging.getLogger(__name__)

BUNDLED_DIR = Path(__file__).resolve().parent / "bundled"
BUNDLED_MODEL = BUNDLED_DIR / "model.keras"
CHAMPION_URI = f"models:/{MODEL_NAME}@{registry.CHAMPION_ALIAS}"


def register_bundled_model() -> registry.PromotionResult:
    """Log the bundled model into the configured registry and make it the champion if none exists."""
    loaded = registry.load_model(BUNDLED_MODEL)
    with registry.start_run("bundled-model", tags={"source": "models/bundled"}):
        uri = registry.log_keras_model(loaded.model, loaded.settings)
    metric = float(loaded.settings.get("validation", {}).get(SELECTION_METRIC, float("nan")))
    return registry.register_and_maybe_promote(uri, MODEL_NAME, metric, metric_name=SELECTION_METRIC)


def load_default_model(mlruns_dir: str | Path | None = None) -> registry.LoadedModel:
    """The registry's champion; on a fresh machine (empty registry) the bundled model, registered first.

    When the registry cannot be used at all (e.g. a read-only checkout), the bundled file is
    loaded directly.
    """
    registry.configure_tracking(mlruns_dir)
    try:
        return registry.load_model(CHAMPION_URI)
    except EmptyRegistryError:
        logger.info("Registry empty: registering the bundled model as %s", CHAMPION_URI)
        try:
            register_bundled_model()
            return registry.load_model(CHAMPION_URI)
        except (OSError, ModelNotFoundError) as error:
            logger.warning("Could not register the bundled model (%s); loading the file directly", error)
            return registry.load_model(BUNDLED_MODEL)


def read_model_card_metrics() -> dict:
    """The DS2 figures recorded in the bundled model's settings (``{}`` when absent)."""
    settings_path = BUNDLED_MODEL.with_suffix(".json")
    return json.loads(settings_path.read_text()).get("ds2_evaluation", {}) if settings_path.exists() else {}
