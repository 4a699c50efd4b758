"""The ``ecg`` command line, driven with click's CliRunner on real recordings."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from app.cli import cli
from models.bundled import BUNDLED_MODEL
from pipeline.detect import DetectorSettings
from pipeline.records import read_annotations, read_record, write_annotations, write_record
from tests.made_records import write_twelve_lead_record

COMMANDS = (
    [],
    ["data"],
    ["data", "fetch"],
    ["data", "verify"],
    ["ingest"],
    ["evaluate-detector"],
    ["build-datasets"],
    ["event-settings"],
)


@pytest.fixture()
def runner() -> CliRunner:
    return CliRunner()


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "ecg")
def test_every_command_has_help(runner, command):
    result = runner.invoke(cli, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage: " in result.output


def test_ingest_summarises_an_excerpt(runner, excerpts_dir):
    result = runner.invoke(cli, ["ingest", str(excerpts_dir / "100")])
    assert result.exit_code == 0, result.output
    assert "100: 300.0 s" in result.stdout
    assert "MLII*" in result.stdout
    assert "beats detected:" in result.stdout


def test_ingest_json_reports_beats_and_heart_rate(runner, excerpts_dir):
    result = runner.invoke(cli, ["ingest", "--json", str(excerpts_dir / "100")])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)["records"][0]
    # Record 100 has 372 annotations in its first 5 minutes, about 74 beats per minute.
    assert summary["record"] == "100"
    assert summary["leads"] == ["MLII", "V5"]
    assert summary["fs_hz"] == 360.0
    assert 360 <= summary["beats_detected"] <= 380
    assert 70 <= summary["mean_heart_rate_bpm"] <= 78


def test_ingest_leaves_an_unreadable_stretch_out_of_the_mean_heart_rate(runner, excerpts_dir, tmp_path):
    """Two minutes of 100 with both leads held at the rail from 30 to 60 s: the interval across the stretch is no
    heart rate (it made the mean 46 bpm; ecg score said 61 then, and both now say about 74)."""
    excerpt = read_record(excerpts_dir / "100")
    signal = excerpt.signal_mv[:120 * 360].copy()
    signal[30 * 360:60 * 360] = 10.235
    write_record(tmp_path, "rail", signal, excerpt.fs_hz, excerpt.lead_names)
    result = runner.invoke(cli, ["ingest", "--json", str(tmp_path / "rail")])
    assert result.exit_code == 0, result.output
    assert 70 <= json.loads(result.stdout)["records"][0]["mean_heart_rate_bpm"] <= 78


def test_ingest_goes_on_after_a_bad_record_and_exits_1(runner, excerpts_dir, tmp_path):
    missing = tmp_path / "no_such_record"
    result = runner.invoke(cli, ["ingest", str(missing), str(excerpts_dir / "208")])
    assert result.exit_code == 1
    assert f"error: {missing}" in result.stderr
    assert "does not exist" in result.stderr
    assert "208: 300.0 s" in result.stdout


def test_ingest_reports_a_truncated_record(runner, excerpts_dir, tmp_path):
    (tmp_path / "100.hea").write_bytes((excerpts_dir / "100.hea").read_bytes())
    (tmp_path / "100.dat").write_bytes((excerpts_dir / "100.dat").read_bytes()[:1000])
    result = runner.invoke(cli, ["ingest", str(tmp_path / "100")])
    assert result.exit_code == 1
    assert "TruncatedSignal" in result.stderr or "holds 1000 bytes" in result.stderr


def test_ingest_out_writes_summary_and_beat_annotations(runner, excerpts_dir, tmp_path):
    result = runner.invoke(cli, ["ingest", "--json", "--out", str(tmp_path), str(excerpts_dir / "119")])
    assert result.exit_code == 0, result.output
    written = json.loads((tmp_path / "119.json").read_text())
    beats = read_annotations(tmp_path / "119", "qrs", source_fs_hz=360.0)
    assert len(beats) == written["beats_detected"]
    assert np.all(beats.symbols == "N")


def test_usage_errors_exit_2(runner):
    assert runner.invoke(cli, ["ingest"]).exit_code == 2
    assert runner.invoke(cli, ["evaluate-detector", "--records", "100", "--split", "ds1"]).exit_code == 2
    assert runner.invoke(cli, ["evaluate-detector", "--split", "ds3"]).exit_code == 2


def test_missing_data_directory_says_how_to_get_the_data(runner, tmp_path):
    result = runner.invoke(cli, ["data", "verify", "--data-dir", str(tmp_path / "absent")])
    assert result.exit_code == 1
    assert "ecg data fetch --from DIR" in result.output
    assert "ECG_DATA_DIR" in result.output


def test_data_verify_on_the_shared_database(runner, mitdb_dir):
    result = runner.invoke(cli, ["data", "verify", "--data-dir", str(mitdb_dir)])
    assert result.exit_code == 0, result.output
    assert "all 144 MIT-BIH files present" in result.stdout


def test_evaluate_detector_on_excerpt_directory(runner, excerpts_dir, tmp_path):
    # The excerpts are 5 minutes long: nothing is scored (scoring starts at 300 s), but the run completes.
    result = runner.invoke(cli, ["evaluate-detector", "--data-dir", str(excerpts_dir), "--records", "100,missing",
                                 "--out", str(tmp_path)])
    assert result.exit_code == 1
    assert "FAILED missing" in result.stdout
    report = json.loads((tmp_path / "detector_report.json").read_text())
    assert [r["record"] for r in report["records"]] == ["100"]
    assert report["failures"][0]["record"] == "missing"


def test_evaluate_on_another_database_takes_its_records_file_and_refuses_ds2(runner, excerpts_dir, tmp_path):
    """A directory that is not MIT-BIH (here a 12-lead record and a renamed excerpt): every record its RECORDS lists."""
    folder = tmp_path / "otherdb"
    write_twelve_lead_record(excerpts_dir, folder, name="t119")
    for ext in ("hea", "dat", "atr"):
        text = (excerpts_dir / f"100.{ext}").read_bytes()
        (folder / f"s100.{ext}").write_bytes(text.replace(b"100", b"s100", 3) if ext == "hea" else text)
    (folder / "unlisted.hea").write_text("unlisted 1 360 1000\n")  # not in RECORDS: not evaluated
    (folder / "RECORDS").write_text("t119\ns100\n")

    result = runner.invoke(cli, ["evaluate", "--data-dir", str(folder), "--model", str(BUNDLED_MODEL),
                                 "--out", str(tmp_path / "out")])

    assert result.exit_code == 0, result.output
    assert "does not hold the 48 MIT-BIH records: evaluating its 2 records" in result.output
    report = json.loads((tmp_path / "out" / "classification_report.json").read_text())
    assert report["context"]["records"] == ["t119", "s100"]
    # the end-to-end figures depend on the detector: its settings are in the report, as the detector ran them
    assert report["detector"] == json.loads(json.dumps(dataclasses.asdict(DetectorSettings())))
    per_record = report["modes"]["reference"]["per_record"]
    assert sorted(per_record) == ["s100", "t119"] and per_record["t119"]["V_se"] > 0.9
    # which model scored which data how, and per-record matrices that pool to the gross one (QA pass, session 47)
    context = report["context"]
    assert len(context["weights_sha256"]) == 64 and context["registry"] is None
    assert context["data_dir"] == str(folder.resolve()) and context["annotation_files"].startswith("REC.cls: ")
    assert context["match_window_ms"] == 150.0 and context["ec57_score_start_s"] == 300.0
    for mode in report["modes"].values():
        pooled = np.sum([r["matrix"] for r in mode["per_record"].values()], axis=0)
        assert pooled.tolist() == mode["confusion"]["matrix"]
    refused = runner.invoke(cli, ["evaluate", "--data-dir", str(folder), "--model", str(BUNDLED_MODEL),
                                  "--split", "ds2"])
    assert refused.exit_code == 2 and "DS1 and DS2 are the MIT-BIH" in refused.output


def test_evaluate_from_one_lead_reads_the_primary_lead_alone_and_says_so(runner, excerpts_dir, tmp_path):
    """--one-lead: every record analysed from its primary lead (MLII), detection and classification; the report says
    so, and 119's PVCs (large on MLII) are still found."""
    args = ["evaluate", "--data-dir", str(excerpts_dir), "--model", str(BUNDLED_MODEL), "--records", "119"]
    one = runner.invoke(cli, args + ["--one-lead", "--out", str(tmp_path / "one")])
    two = runner.invoke(cli, args + ["--out", str(tmp_path / "two")])

    assert one.exit_code == 0 and two.exit_code == 0, one.output + two.output
    reports = {k: json.loads((tmp_path / k / "classification_report.json").read_text()) for k in ("one", "two")}
    assert reports["one"]["context"]["leads"] == "primary lead only" and "leads" not in reports["two"]["context"]
    one_gross, two_gross = (reports[k]["modes"]["reference"]["gross"] for k in ("one", "two"))
    assert one_gross["beats"] == two_gross["beats"] and one_gross["V_se"] > 0.9
    assert reports["one"]["modes"]["end_to_end"]["gross"]["V_se"] > 0.9
    # The same classes here, from other probabilities: the second lead was left out.
    assert reports["one"]["calibration"]["ece_top_label"] != reports["two"]["calibration"]["ece_top_label"]
    # The reliability table covers every scored beat once, each mean confidence inside its bin.
    rows = reports["two"]["calibration"]["reliability"]
    assert sum(r["beats"] for r in rows) == two_gross["beats"]
    assert all(r["confidence_from"] <= r["mean_confidence"] <= r["confidence_to"] for r in rows)
    assert "| top-class probability | beats | mean probability % | right % |" in (
        tmp_path / "two" / "classification_report.md").read_text()
    assert read_annotations(tmp_path / "one" / "119", "cls", source_fs_hz=360.0).samples.size > 0


def test_evaluate_reports_records_whose_annotations_outrun_the_signal_and_survives_having_no_beat(runner, excerpts_dir,
                                                                                                  tmp_path):
    """A signal cut short beside its full annotation file fails with a message that says so; when no record is left
    to score, the report still comes out (no calibration figure) and the command exits 1."""
    excerpt = read_record(excerpts_dir / "119")
    write_record(tmp_path / "db", "cut", excerpt.signal_mv[:60 * 360], excerpt.fs_hz, excerpt.lead_names)
    write_annotations(tmp_path / "db", "cut", "atr", excerpt.annotations, fs_hz=excerpt.fs_hz)

    result = runner.invoke(cli, ["evaluate", "--data-dir", str(tmp_path / "db"), "--model", str(BUNDLED_MODEL),
                                 "--out", str(tmp_path / "out")])

    assert result.exit_code == 1, result.output
    assert "cut: AnnotationMismatchError: Record cut: its annotations (cut.atr) run to 299.5 s, past the end of its " \
           "signal (60.0 s)" in result.output
    assert "Expected calibration error (top label, reference positions): - (no beat scored)" in result.output
    report = json.loads((tmp_path / "out" / "classification_report.json").read_text())
    assert report["calibration"]["ece_top_label"] is None and list(report["failures"]) == ["cut"]
    assert report["calibration"]["reliability"] == []


def test_train_refuses_a_configuration_before_any_work(runner, tmp_path):
    """More folds than DS1 has patients, or a value of the wrong type: exit 2 with the reason, no run started."""
    (tmp_path / "folds.toml").write_text("n_folds = 30\n")
    (tmp_path / "epochs.toml").write_text('epochs = "15"\n')
    for name, message in (("folds", "received n_folds=30; expected at most 22, DS1's patients"),
                          ("epochs", "Received epochs='15'; expected a whole number")):
        result = runner.invoke(cli, ["train", "--config", str(tmp_path / f"{name}.toml"), "--mlruns",
                                     str(tmp_path / "mlruns")])
        assert result.exit_code == 2 and message in result.output, result.output
    assert not (tmp_path / "mlruns").exists()


def test_train_on_an_unusable_registry_says_so_without_a_traceback(runner, mitdb_dir, tmp_path):
    """A registry database that is not SQLite: the registry's own message and exit 1, before any training."""
    (tmp_path / "mlruns").mkdir()
    (tmp_path / "mlruns" / "mlflow.db").write_text("this is not sqlite")
    (tmp_path / "short.toml").write_text("n_folds = 2\nepochs = 1\n")
    result = runner.invoke(cli, ["train", "--config", str(tmp_path / "short.toml"), "--data-dir", str(mitdb_dir),
                                 "--mlruns", str(tmp_path / "mlruns")])
    assert result.exit_code == 1, result.output
    assert f"Error: The model registry at {tmp_path / 'mlruns'} cannot be read" in result.output
    assert isinstance(result.exception, SystemExit)  # a message, not a traceback


def test_build_datasets_prints_the_ec57_class_counts(runner, mitdb_dir, tmp_path):
    result = runner.invoke(cli, ["build-datasets", "--data-dir", str(mitdb_dir), "--split", "ds2",
                                 "--cache-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "DS2: 22 records, 49712 beats: N 44259 / S 1837 / V 3221 / F 388 / Q 7" in result.stdout


def test_evaluate_warns_of_training_and_paced_records(runner, mitdb_dir, tmp_path):
    """Record 101 trained the bundled model and 102 is paced: both were evaluated without a word (102's paced beats
    all called N gave N Se / +P 100 / 100); the warnings go to the terminal and into the report."""
    result = runner.invoke(cli, ["evaluate", "--model", str(BUNDLED_MODEL), "--data-dir", str(mitdb_dir),
                                 "--records", "101,102", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "Warning: the model was trained on record 101 (DS1); figures on it are in-sample" in result.output
    assert "Warning: record 102 is paced, outside the inter-patient split" in result.output
    report = json.loads((tmp_path / "classification_report.json").read_text())
    assert len(report["context"]["warnings"]) == 2


def test_evaluate_commands_refuse_to_overwrite_the_reference_annotations(runner, excerpts_dir, tmp_path):
    """--out in the data directory with --annotator atr would replace the .atr files the evaluation reads."""
    for ext in ("hea", "dat", "atr"):
        (tmp_path / f"100.{ext}").write_bytes((excerpts_dir / f"100.{ext}").read_bytes())
    reference = (tmp_path / "100.atr").read_bytes()
    for command, annotator in ((["evaluate", "--model", str(BUNDLED_MODEL)], "atr"), (["evaluate-regions"], "atr"),
                               (["evaluate-detector"], "ATR")):  # the same file on macOS's and Windows's disks
        result = runner.invoke(cli, [*command, "--data-dir", str(tmp_path), "--records", "100", "--out",
                                     f"{tmp_path}/", "--annotator", annotator])
        assert result.exit_code == 2, result.output
        assert f"would replace the reference annotations in {tmp_path}" in result.output
    assert (tmp_path / "100.atr").read_bytes() == reference
    for annotator in ("", "a/b", "cls2"):  # WFDB names annotation files with letters only
        for command in (["evaluate", "--model", str(BUNDLED_MODEL)], ["evaluate-regions"], ["evaluate-detector"]):
            result = runner.invoke(cli, [*command, "--data-dir", str(tmp_path), "--records", "100", "--out",
                                         str(tmp_path / "out"), "--annotator", annotator])
            assert result.exit_code == 2 and "letters only" in result.output, result.output
            assert not (tmp_path / "out").exists()  # refused before any work


def test_evaluate_commands_refuse_an_output_folder_they_cannot_write_before_any_work(runner, excerpts_dir,
                                                                                     tmp_path):
    """A QA pass (session 50) saw ``ecg evaluate --out`` score every record and then end in a traceback from mkdir:
    each evaluation command now checks its folder first, as ``ecg score`` does (exit 2, one line)."""
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    for command in (["evaluate", "--model", str(BUNDLED_MODEL)], ["evaluate-regions"], ["evaluate-detector"]):
        result = runner.invoke(cli, [*command, "--data-dir", str(excerpts_dir), "--records", "100", "--out",
                                     str(blocker / "out")])
        assert result.exit_code == 2 and f"Output folder {blocker / 'out'} is not writable" in result.output, \
            result.output
        assert "Traceback" not in result.output and "record 100" not in result.output.lower()


def make_unloadable_model(case: str, folder: Path) -> str:
    """A --model value that cannot be loaded."""
    folder.mkdir()
    if case == "missing file":
        return str(folder / "absent.keras")
    if case == "folder":
        return str(folder)
    if case == "registry uri, empty registry":  # not the default URI, which gets the shipped model registered first
        return "models:/ecg-beat-classifier@staging"
    if case == "text file":
        (folder / "model.keras").write_text("hello")
        (folder / "model.json").write_bytes(BUNDLED_MODEL.with_suffix(".json").read_bytes())
    if case == "no settings file":
        (folder / "model.keras").write_bytes(BUNDLED_MODEL.read_bytes())
    return str(folder / "model.keras")


@pytest.mark.parametrize("case", ["missing file", "folder", "registry uri, empty registry", "text file",
                                  "no settings file"])
def test_evaluate_commands_report_a_model_that_cannot_be_loaded_as_score_does(runner, excerpts_dir, tmp_path,
                                                                              monkeypatch, case):
    monkeypatch.setenv("ECG_MLRUNS_DIR", str(tmp_path / "mlruns"))  # an empty registry
    model = make_unloadable_model(case, tmp_path / "model")
    records = ["--data-dir", str(excerpts_dir), "--records", "100"]
    for args in (["score", str(excerpts_dir / "100"), "--out", str(tmp_path / "scores")],
                 ["evaluate", *records], ["evaluate-regions", "--labels", "model", *records]):
        result = runner.invoke(cli, [*args, "--model", model])
        assert result.exit_code == 2, (args, result.output, result.exception)
        assert "Error: Cannot load " in result.output and "Cannot load the model: Cannot load" not in result.output


def test_the_default_uri_asked_for_by_name_is_the_default_model_on_an_empty_registry(runner, excerpts_dir, tmp_path,
                                                                                     monkeypatch):
    """`--model models:/ecg-beat-classifier@champion` on a fresh registry failed with "holds no model", where leaving
    --model out registered the shipped model and used it: the same URI, two behaviours."""
    monkeypatch.setenv("ECG_MLRUNS_DIR", str(tmp_path / "mlruns"))
    result = runner.invoke(cli, ["evaluate", "--model", "models:/ecg-beat-classifier@champion", "--data-dir",
                                 str(excerpts_dir), "--records", "100"])
    assert result.exit_code == 0, result.output
    from models import registry

    assert registry.find_alias_target("ecg-beat-classifier") == "1"  # the shipped model, registered and champion
    # a variable naming a folder that did not exist is said (a mistyped one made a new registry silently: QA, session
    # 47), and the report names the registry its model came from
    assert f"Note: ECG_MLRUNS_DIR={tmp_path / 'mlruns'} does not exist: a new, empty registry" in result.output
    again = runner.invoke(cli, ["evaluate", "--model", "models:/ecg-beat-classifier@champion", "--data-dir",
                                str(excerpts_dir), "--records", "100", "--out", str(tmp_path / "out")])
    assert again.exit_code == 0 and "does not exist" not in again.output, again.output
    context = json.loads((tmp_path / "out" / "classification_report.json").read_text())["context"]
    assert context["registry"] == str((tmp_path / "mlruns").resolve()) and context["version"] == "1"


def test_a_command_that_loads_tensorflow_prints_no_start_up_notice(excerpts_dir, tmp_path):
    """TensorFlow 2.21 printed absl's and oneDNN's C++ notices before every such command's output, whatever
    TF_CPP_MIN_LOG_LEVEL said (main's docstring said they were hidden); the command's own messages still come."""
    result = subprocess.run([sys.executable, "-m", "app.cli", "evaluate", "--model", str(BUNDLED_MODEL), "--data-dir",
                             str(excerpts_dir), "--records", "100,nosuch"], cwd=tmp_path, capture_output=True,
                            text=True, env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)})
    assert result.returncode == 1, result.stderr
    assert "absl::InitializeLog" not in result.stderr and "oneDNN" not in result.stderr
    assert "nosuch" in result.stderr + result.stdout


def test_models_lists_the_versions_and_promotes_one_by_hand(runner, tmp_path, monkeypatch, excerpts_dir):
    """The documented way to see the registry and to roll the champion back (e.g. to the shipped model after a
    trained one took it), without the MLflow UI; a mistyped registry folder is refused, not created."""
    from models import bundled, registry

    monkeypatch.setenv("ECG_MLRUNS_DIR", str(tmp_path / "mlruns"))
    registry.configure_tracking(tmp_path / "mlruns")
    bundled.register_bundled_model()  # version 1, champion
    bundled.register_bundled_model(promote=False)  # version 2
    listed = runner.invoke(cli, ["models", "list"])
    assert listed.exit_code == 0, listed.output
    assert [line.split()[:2] for line in listed.output.splitlines()[1:3]] == [["1", "champion"], ["2", "-"]]
    assert listed.output.splitlines()[3].startswith("DS1 score: mean of the S and V F1 of the networks' out-of-fold")
    promoted = runner.invoke(cli, ["models", "promote", "2"])
    assert promoted.exit_code == 0 and "champion: version 2 (was version 1)" in promoted.output, promoted.output
    assert registry.find_alias_target(registry.MODEL_NAME) == "2"
    again = runner.invoke(cli, ["models", "promote", "2"])
    assert again.exit_code == 0 and "champion: version 2 (it already was)" in again.output, again.output
    unknown = runner.invoke(cli, ["models", "promote", "7"])
    assert unknown.exit_code == 2 and "expected one of 1, 2" in unknown.output
    mistyped = runner.invoke(cli, ["models", "list", "--mlruns", str(tmp_path / "mlrun")])
    assert mistyped.exit_code == 2 and "No registry at" in mistyped.output and not (tmp_path / "mlrun").exists()
    for command in (["score", str(excerpts_dir / "100"), "--out", str(tmp_path / "out")],
                    ["evaluate", "--split", "ds2"], ["evaluate-regions", "--labels", "model", "--split", "ds2"]):
        mistyped = runner.invoke(cli, [*command, "--mlruns", str(tmp_path / "mlrun")])
        assert mistyped.exit_code == 2 and "'--mlruns'" in mistyped.output and "does not exist" in mistyped.output
        assert not (tmp_path / "mlrun").exists() and not (tmp_path / "out").exists()


def test_a_registry_that_cannot_be_written_is_refused_before_any_work(runner, tmp_path, monkeypatch, mitdb_dir):
    """A read-only artifact folder used to be found after the whole training (its traceback at the end, the networks
    lost), and a read-only registry gave SQLAlchemy tracebacks: now ``train`` and ``models promote`` stop first with
    the folder named, exit 1, and nothing changes."""
    import errno
    import tempfile

    from models import bundled, registry

    root = tmp_path / "mlruns"
    registry.configure_tracking(root)
    bundled.register_bundled_model()  # version 1, champion
    bundled.register_bundled_model(promote=False)  # version 2
    real = tempfile.TemporaryFile

    def read_only_artifacts(*args, dir=None, **kwargs):
        if dir is not None and Path(dir) == root / "artifacts":
            raise OSError(errno.EROFS, "Read-only file system")
        return real(*args, dir=dir, **kwargs)

    monkeypatch.setattr(registry.tempfile, "TemporaryFile", read_only_artifacts)
    (tmp_path / "short.toml").write_text("n_folds = 2\nepochs = 1\n")
    for command in (["train", "--config", str(tmp_path / "short.toml"), "--data-dir", str(mitdb_dir)],
                    ["models", "promote", "2"]):
        result = runner.invoke(cli, [*command, "--mlruns", str(root)])
        assert result.exit_code == 1, result.output
        assert (f"The model registry at {root} cannot be written ({root / 'artifacts'}: Read-only file system)"
                in " ".join(result.output.split()))
    assert registry.find_alias_target(registry.MODEL_NAME) == "1"
    assert [run.info.run_name for run in registry.mlflow.search_runs(search_all_experiments=True,
                                                                     output_format="list")] == [
        "register-shipped-model", "register-shipped-model"]  # no training run was started


def test_a_fresh_clones_registry_is_listed_as_empty_with_a_way_to_fill_it(runner, tmp_path, monkeypatch):
    """Before the first command that loads a model, ``ecg models list`` says that nothing is registered yet and names
    a command that fills the registry without the MIT-BIH download (a QA pass, session 53: it failed with exit 1 and
    pointed at ``ecg evaluate --records 100``, which needs the database); ``promote`` says the same, exit 2."""
    monkeypatch.setenv("ECG_MLRUNS_DIR", str(tmp_path / "mlruns"))
    listed = runner.invoke(cli, ["models", "list"])
    assert listed.exit_code == 0, listed.output
    text = " ".join(listed.output.split())
    assert f"No registry yet at {tmp_path / 'mlruns'}" in text and "`ecg score data/excerpts/100`" in text
    promoted = runner.invoke(cli, ["models", "promote", "1"])
    assert promoted.exit_code == 2 and "No registry yet" in promoted.output, promoted.output
    assert not (tmp_path / "mlruns").exists()  # looking creates nothing


def test_a_model_given_to_evaluate_regions_with_reference_labels_is_said_to_be_unused(runner, tmp_path, excerpts_dir):
    """``--model`` and ``--mlruns`` serve ``--labels model`` only: with the reference labels a path that does not
    even exist used to pass without a word (a QA pass, session 53); the figures are still given, with a note."""
    result = runner.invoke(cli, ["evaluate-regions", "--data-dir", str(excerpts_dir), "--records", "232", "--model",
                                 str(tmp_path / "nonexistent.keras")])
    assert result.exit_code == 0, result.output
    assert "Note: --model is used with --labels model only; these figures use the reference labels." in " ".join(
        result.output.split())


def test_a_champion_that_cannot_be_read_falls_back_like_one_that_is_gone(runner, tmp_path, monkeypatch,
                                                                         excerpts_dir):
    """One rule for the default registry's champion (a QA pass, session 53): truncated, it stopped every command,
    while deleted it fell back to the bundled model. Now both fall back with the problem named, in the log and in the
    model's ``note`` the dashboard shows; asked for by name, the version is an error whose advice fits a registered
    version (promote another, restore the artifacts, or the bundled file), not "leave out --model"."""
    import shutil

    from models import bundled, registry

    root = tmp_path / "mlruns"
    registry.configure_tracking(root)
    bundled.register_bundled_model()  # version 1, champion
    stored = next(root.rglob("model.keras"))
    stored.write_bytes(stored.read_bytes()[:10000])
    monkeypatch.setenv("ECG_MLRUNS_DIR", str(root))
    loaded = bundled.load_default_model()
    assert loaded.version is None and Path(loaded.source) == BUNDLED_MODEL
    assert loaded.note.startswith("The registry's champion cannot be used (Cannot load models:/ecg-beat-classifier/1")
    assert "is not a .keras archive" in loaded.note and "`ecg models promote N`" in loaded.note
    scored = runner.invoke(cli, ["score", str(excerpts_dir / "100"), "--out", str(tmp_path / "out"), "--format",
                                 "json"])
    assert scored.exit_code == 0, scored.output
    assert json.loads((tmp_path / "out" / "100" / "100_summary.json").read_text())["model"]["source"] == str(
        BUNDLED_MODEL)
    named = runner.invoke(cli, ["score", str(excerpts_dir / "100"), "--out", str(tmp_path / "named"), "--model",
                                "models:/ecg-beat-classifier/1"])
    text = " ".join(named.output.split())
    assert named.exit_code == 2 and "Cannot load models:/ecg-beat-classifier/1 (its files at" in text, text
    assert "`ecg models promote N`" in text and "Leave out --model" not in text and "Download it again" not in text
    shutil.rmtree(stored.parent)
    gone = runner.invoke(cli, ["score", str(excerpts_dir / "100"), "--out", str(tmp_path / "named"), "--model",
                               "models:/ecg-beat-classifier/1"])
    assert gone.exit_code == 2 and "Leave out --model" not in gone.output, gone.output


def test_a_registry_named_with_mlruns_that_cannot_be_used_is_an_error_not_a_fallback(runner, tmp_path, excerpts_dir):
    """Without --mlruns an unusable default registry falls back to the bundled file with a warning (a fresh or
    read-only checkout still works); a registry the user named with --mlruns is what they asked for: its problem is
    the error, exit 2, before any output is written."""
    (tmp_path / "mlruns").mkdir()
    (tmp_path / "mlruns" / "mlflow.db").write_text("this is not sqlite")
    result = runner.invoke(cli, ["score", str(excerpts_dir / "100"), "--out", str(tmp_path / "out"), "--mlruns",
                                 str(tmp_path / "mlruns")])
    assert result.exit_code == 2, result.output
    assert f"Cannot load the model: The model registry at {tmp_path / 'mlruns'} cannot be read" in " ".join(
        result.output.split())
    assert not (tmp_path / "out" / "100").exists()


def test_a_header_gain_ten_times_too_small_is_named_by_ingest_and_the_summary(runner, excerpts_dir, tmp_path):
    """100's excerpt with its ADC gain written 20 instead of 200: every QRS reads ten times too large and the noise
    limits (in mV) marked stretches unreadable with no word why (a QA pass, session 65); now ingest and the record
    summary say the gain or units are likely wrong. The intact excerpt gets no such note."""
    from app.analysis import analyse_record
    from models.bundled import load_default_model
    from pipeline.records import read_record

    header = (excerpts_dir / "100.hea").read_text().replace("200.0(1024)/mV", "20.0(1024)/mV")
    (tmp_path / "100.hea").write_text(header)
    (tmp_path / "100.dat").write_bytes((excerpts_dir / "100.dat").read_bytes())
    result = runner.invoke(cli, ["ingest", str(tmp_path / "100")])
    assert result.exit_code == 0
    assert "note: QRS complexes of a median 1" in result.stdout and "gain or units are likely wrong" in result.stdout
    model = load_default_model()
    wrong = analyse_record(read_record(tmp_path / "100"), model)
    assert wrong.summary.notes[0].startswith("QRS complexes of a median") and "in MLII" in wrong.summary.notes[0]
    right = analyse_record(read_record(excerpts_dir / "100"), model)
    assert not any("QRS complexes of a median" in note for note in right.summary.notes)
    assert "note:" not in runner.invoke(cli, ["ingest", str(excerpts_dir / "100")]).stdout
