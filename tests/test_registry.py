"""The MLflow adapter: logging, champion promotion, loading (also in a fresh process), bad input.

Everything runs against a temporary ``mlruns`` folder (SQLite + artifacts); nothing touches the
repository's own ``mlruns``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace

import keras
import numpy as np
import pytest

from models import registry
from models.errors import CorruptModelError, EmptyRegistryError, ModelNotFoundError, ModelSettingsMismatchError
from models.network import build_classifier
from tests import tiny_network
from tests.tiny_network import TINY

REPO_ROOT = Path(__file__).resolve().parent.parent
SETTINGS = {"network": TINY.to_dict(), "classes": ["N", "S", "V", "F", "Q"],
            "segmentation": {"fs_hz": 360.0, "pre_s": 0.25, "post_s": 0.45, "local_window_s": 30.0}}


def random_inputs(n: int = 5, seed: int = 0) -> dict[str, np.ndarray]:
    return tiny_network.random_inputs(TINY, n, seed)


@pytest.fixture(scope="module")
def tiny_model() -> keras.Model:
    keras.utils.set_random_seed(0)
    return build_classifier(TINY)


@pytest.fixture(scope="module")
def mlruns_dirs(tmp_path_factory) -> tuple[Path, Path]:
    """A temporary mlruns with its database created, and an empty copy (creating one takes seconds)."""
    directory = tmp_path_factory.mktemp("mlruns")
    registry.configure_tracking(directory)
    assert registry.list_registered_names() == []
    empty = tmp_path_factory.mktemp("empty-mlruns")
    shutil.copy(directory / "mlflow.db", empty / "mlflow.db")
    return directory, empty


@pytest.fixture(scope="module")
def mlruns_dir(mlruns_dirs) -> Path:
    return mlruns_dirs[0]


@pytest.fixture()
def empty_mlruns_dir(mlruns_dirs) -> Path:
    return mlruns_dirs[1]


@pytest.fixture()
def tracking(mlruns_dir) -> Path:
    """Point MLflow at the module's temporary mlruns (tests may point it elsewhere)."""
    registry.configure_tracking(mlruns_dir)
    return mlruns_dir


@pytest.fixture(scope="module")
def logged_uri(mlruns_dir, tiny_model) -> str:
    registry.configure_tracking(mlruns_dir)
    with registry.start_run("test-run"):
        return registry.log_keras_model(tiny_model, SETTINGS)


# --- configuration -------------------------------------------------------------------------------


def test_mlruns_dir_from_argument_then_environment_then_repo(monkeypatch, tmp_path):
    monkeypatch.delenv(registry.MLRUNS_ENV, raising=False)
    assert registry.resolve_mlruns_dir() == REPO_ROOT / "mlruns"
    monkeypatch.setenv(registry.MLRUNS_ENV, str(tmp_path / "from-env"))
    assert registry.resolve_mlruns_dir() == tmp_path / "from-env"
    assert registry.resolve_mlruns_dir(tmp_path / "explicit") == tmp_path / "explicit"


def test_tracking_uses_sqlite_and_artifacts_under_mlruns(tracking, logged_uri):
    assert registry.find_configured_mlruns_dir() == tracking
    assert (tracking / "mlflow.db").is_file()
    assert list((tracking / "artifacts").rglob(registry.KERAS_FILE))
    assert os.environ["MLFLOW_DISABLE_TELEMETRY"] == "true"


def test_logged_model_pins_tensorflow_and_keras(tracking, logged_uri):
    requirements = "\n".join(path.read_text() for path in (tracking / "artifacts").rglob("requirements.txt"))
    for line in registry.list_pip_requirements():
        assert line in requirements
    assert any(line.startswith(("tensorflow-cpu==", "tensorflow==")) for line in registry.list_pip_requirements())
    assert any(line.startswith("keras==") for line in registry.list_pip_requirements())


def test_logged_code_is_python_only(tracking, logged_uri):
    code_dirs = list((tracking / "artifacts").rglob("code"))
    assert code_dirs
    files = [path for directory in code_dirs for path in directory.rglob("*") if path.is_file()]
    assert any(path.name == "attention.py" for path in files)
    assert all(path.suffix in (".py", ".csv") for path in files)


# --- promotion -----------------------------------------------------------------------------------


def test_champion_moves_only_for_a_better_candidate(tracking, logged_uri):
    name = "promotion-test"
    first = registry.register_and_maybe_promote(logged_uri, name, 0.50)
    assert first.promoted and first.version == "1" and first.previous_version is None
    worse = registry.register_and_maybe_promote(logged_uri, name, 0.40)
    assert not worse.promoted and worse.previous_version == "1" and worse.previous_metric == pytest.approx(0.50)
    tie = registry.register_and_maybe_promote(logged_uri, name, 0.50)
    assert not tie.promoted
    better = registry.register_and_maybe_promote(logged_uri, name, 0.60)
    assert better.promoted and better.version == "4" and better.previous_version == "1"
    versions = {info.version: info for info in registry.list_model_versions(name)}
    assert versions["4"].aliases == ("champion",)
    assert versions["1"].aliases == () and versions["2"].metric == pytest.approx(0.40)
    assert registry.load_model(f"models:/{name}@champion").version == "4"


def test_lower_is_better_metrics_compare_the_other_way(tracking, logged_uri):
    name = "loss-test"
    registry.register_and_maybe_promote(logged_uri, name, 0.30, metric_name="val_loss", higher_is_better=False)
    assert registry.register_and_maybe_promote(logged_uri, name, 0.20, metric_name="val_loss",
                                               higher_is_better=False).promoted


@pytest.mark.parametrize(("champion", "candidate", "promoted", "reason"), [
    (None, 0.1, True, "no champion yet"),
    (None, float("nan"), False, "NaN"),
    (SimpleNamespace(version="3", tags={}), 0.9, False, "has no val_macro_f1"),
    (SimpleNamespace(version="3", tags={"selection_metric": "0.5", "selection_metric_name": "val_loss"}), 0.9, False,
     "has no val_macro_f1"),
    (SimpleNamespace(version="3", tags={"selection_metric": "0.5", "selection_metric_name": "val_macro_f1"}), 0.9,
     True, "promoted"),
])
def test_promotion_decision(champion, candidate, promoted, reason):
    decided, why = registry.decide_promotion(champion, candidate, "val_macro_f1", higher_is_better=True)
    assert decided is promoted
    assert reason in why


def test_set_alias_promotes_by_hand(tracking, logged_uri):
    name = "manual-test"
    registry.register_and_maybe_promote(logged_uri, name, 0.9)
    registry.register_and_maybe_promote(logged_uri, name, 0.1)
    registry.set_alias(name, 2)
    assert registry.load_model(f"models:/{name}@champion").version == "2"


# --- loading -------------------------------------------------------------------------------------


def test_champion_loads_with_settings_in_process(tracking, logged_uri, tiny_model):
    registry.register_and_maybe_promote(logged_uri, "inprocess-test", 0.5)
    loaded = registry.load_model("models:/inprocess-test@champion")
    assert loaded.settings == SETTINGS and loaded.source == "models:/inprocess-test/1"
    x = random_inputs()
    # the loaded model is compiled with XLA on the CPU (prepare_for_inference): float32 rounding differs
    np.testing.assert_allclose(loaded.model.predict(x, verbose=0), tiny_model.predict(x, verbose=0), atol=1e-6)
    assert registry.load_model("models:/inprocess-test/1").name == "inprocess-test"


FRESH_PROCESS = textwrap.dedent("""
    import sys
    import mlflow
    import numpy as np

    mlflow.set_tracking_uri(sys.argv[1])
    inputs = dict(np.load(sys.argv[2]))
    pyfunc = mlflow.pyfunc.load_model(sys.argv[3])
    import models.attention  # already imported by the model's loader: from its logged code
    from models.registry import configure_tracking, load_model

    configure_tracking(sys.argv[4])
    loaded = load_model(sys.argv[3])
    np.savez(sys.argv[5], pyfunc=pyfunc.predict(inputs), keras=loaded.model.predict(inputs, verbose=0),
             attention_file=models.attention.__file__)
""")


def test_champion_loads_and_predicts_identically_in_a_fresh_process(tracking, logged_uri, tiny_model, tmp_path):
    """Plain MLflow (pyfunc) and models.registry both load models:/NAME@champion in a new interpreter.

    The child runs outside the repository, so the custom layer comes from the code logged with
    the model; the project's own loader is then imported from that code too.
    """
    registry.register_and_maybe_promote(logged_uri, "fresh-test", 0.5)
    x = random_inputs()
    np.savez(tmp_path / "inputs.npz", **x)
    uri = "models:/fresh-test@champion"
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "MLFLOW_TRACKING_URI")}
    env.update({"MLFLOW_DISABLE_TELEMETRY": "true", "TF_CPP_MIN_LOG_LEVEL": "3"})
    result = subprocess.run(
        [sys.executable, "-c", FRESH_PROCESS, f"sqlite:///{tracking / 'mlflow.db'}", str(tmp_path / "inputs.npz"),
         uri, str(tracking), str(tmp_path / "out.npz")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stderr[-3000:]
    out = np.load(tmp_path / "out.npz")
    expected = tiny_model.predict(x, verbose=0)
    np.testing.assert_allclose(out["keras"], expected, atol=1e-6)  # XLA-compiled on load
    np.testing.assert_allclose(out["pyfunc"], expected, rtol=1e-6)
    assert str(tracking) in str(out["attention_file"])  # the logged copy, not the repository's


def test_keras_file_loads_with_settings_beside_it(tiny_model, tmp_path):
    tiny_model.save(tmp_path / "bundled.keras")
    (tmp_path / "bundled.json").write_text(json.dumps(SETTINGS))
    loaded = registry.load_model(tmp_path / "bundled.keras")
    assert loaded.settings == SETTINGS and loaded.version is None
    x = random_inputs()
    np.testing.assert_allclose(loaded.model.predict(x, verbose=0), tiny_model.predict(x, verbose=0), atol=1e-6)


# --- bad input -----------------------------------------------------------------------------------


def test_unknown_uri_names_what_exists(tracking, logged_uri):
    registry.register_and_maybe_promote(logged_uri, "listed-model", 0.5)
    for uri in ("models:/no-such-model@champion", "models:/listed-model@no-such-alias", "models:/listed-model/99"):
        with pytest.raises(ModelNotFoundError, match="listed-model") as caught:
            registry.load_model(uri)
        assert "ecg train" in str(caught.value) and uri in str(caught.value)


def test_malformed_models_uri_says_what_is_expected(tracking, logged_uri):
    registry.register_and_maybe_promote(logged_uri, "listed-model", 0.5)
    with pytest.raises(ModelNotFoundError, match=r"expected models:/NAME@ALIAS"):
        registry.load_model("models:/listed-model")


def test_empty_registry_says_how_to_get_a_model(empty_mlruns_dir, mlruns_dir):
    registry.configure_tracking(empty_mlruns_dir)
    try:
        with pytest.raises(EmptyRegistryError, match="holds no model") as caught:
            registry.load_model("models:/ecg-beat-classifier@champion")
        assert "ecg train" in str(caught.value) and "bundled" in str(caught.value)
        assert isinstance(caught.value, ModelNotFoundError)
    finally:
        registry.configure_tracking(mlruns_dir)


def test_missing_file_is_not_found(tmp_path):
    with pytest.raises(ModelNotFoundError, match="No model file at"):
        registry.load_model(tmp_path / "absent.keras")


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_corrupt_keras_file_is_reported(tiny_model, tmp_path, damage):
    path = tmp_path / "model.keras"
    tiny_model.save(path)
    data = path.read_bytes()
    path.write_bytes(b"not a keras archive" if damage == "garbage" else data[: len(data) // 2])
    with pytest.raises(CorruptModelError, match="Download it again, or retrain"):
        registry.load_model(path)


def test_settings_that_contradict_the_model_are_reported(tiny_model, tmp_path):
    tiny_model.save(tmp_path / "model.keras")
    wrong = dict(SETTINGS, network=dict(TINY.to_dict(), n_features=7))
    (tmp_path / "settings.json").write_text(json.dumps(wrong))
    with pytest.raises(ModelSettingsMismatchError, match="belongs to another model"):
        registry.load_model(tmp_path / "model.keras")


def test_unreadable_settings_file_is_reported(tiny_model, tmp_path):
    tiny_model.save(tmp_path / "model.keras")
    (tmp_path / "settings.json").write_text("{not json")
    with pytest.raises(CorruptModelError, match="not valid JSON"):
        registry.load_model(tmp_path / "model.keras")
