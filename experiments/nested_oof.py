"""Nested cross-validation on DS1: out-of-fold probabilities of *ensembles*, as the product delivers them.

The plain CV of ``ecg train`` scores single fold networks on their held-out patients, while the
delivered model averages the fold networks. Here each outer fold's patients are predicted by an
ensemble trained (with its own inner patient-wise folds and early stopping) on the other outer folds
only, so thresholds chosen on these probabilities fit the ensemble's. Cached in ``.cache/oof/``.
Then the V-confidence threshold and the atrial-origin rule are scanned on them (and the configuration's
sinus-conduction rule, when it has one, is applied). DS2 is not read.

With ``--end-to-end`` each outer ensemble also classifies its held-out records' *detected* beats
(the project's detector), scored against the reference annotations as ``ecg evaluate`` scores
end to end (EC57 matching within 150 ms, missed and extra beats counted): the DS1 figure of what
users get, with networks that never saw the patient.

The networks train as ``ecg train`` trains them (since session 23): in one-thread worker processes, as many at once as
there are usable cores (:mod:`models.training_workers`), so these are the probabilities the product's context stage is
fitted on. Caches of the earlier in-process training (``nested-*.npy``) are not reused: their last digits differ; nor
are the ``nested1t-*`` ones, which include runs of the session-23 code whose rebuilt networks did not scale their
features (EXPERIMENTS.md, "Observations", session 24).

Usage: PYTHONPATH=. .venv/bin/python experiments/nested_oof.py [--config configs/bundled.toml] [--end-to-end]
(8 network trainings for the bundled configuration: about 3 minutes on the Intel 2-core machine)
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import sys

import numpy as np

from app.config import require_data_dir, resolve_cache_dir
from experiments.s_rule_study import load_study_inputs, results_path, write_results
from models.atrial_rule import DECISION_RULE_KEYS, STAGE_CONFIG_KEY, AtrialRule, DecisionRules, decide_classes
from models.evaluate import apply_record_rules
from models.evaluate import reference_classes
from models.folds import assign_patient_folds
from models.prepare import prepare_beats
from models.train import TrainingConfig, nested_oof_probabilities
from models.training_run import fingerprint_data
from models.training_workers import WorkerTrainer, count_usable_cores
from pipeline.detect import LOCATED_MIN_GAP_S, DetectorSettings, detect_record_peaks
from pipeline.labels import AAMI_CLASSES
from pipeline.quality import find_quality_spans
from pipeline.records import read_record
from pipeline.scoring import ClassificationCounts, compare_beats, compare_classes, count_classes

V, S = 2, 1


NETWORK_NEUTRAL_KEYS = DECISION_RULE_KEYS + (STAGE_CONFIG_KEY,)
"""Configuration keys that do not change the networks' predictions (what follows them)."""


def oof_cache_path(prefix: str, config: TrainingConfig, ignored: tuple[str, ...] = NETWORK_NEUTRAL_KEYS):
    """``.cache/oof/PREFIX-HASH.npy``, the hash over the configuration without the ``ignored`` keys (settings
    that do not change the networks' predictions)."""
    values = {k: v for k, v in config.to_dict().items() if k not in ignored}
    digest = hashlib.sha256(json.dumps(values, sort_keys=True).encode()).hexdigest()[:16]
    return resolve_cache_dir() / "oof" / f"{prefix}-{digest}.npy"


def detected_cache_path(path):
    """The end-to-end cache beside a nested cache ``path`` (:func:`oof_cache_path`): ``STEM-e2e-DIGEST.npz``, the
    digest over the detector's settings (:class:`pipeline.detect.DetectorSettings`), since the detected beats depend on
    them as well as on the networks."""
    values = dataclasses.asdict(DetectorSettings())
    if not values["searchback_clean_fraction"]:  # settings from before the option hash as they did (row BJ)
        del values["searchback_clean_fraction"], values["searchback_clean_noise_ratio"]
    values["located_min_gap_s"] = LOCATED_MIN_GAP_S  # since session 55; detections cached before it are not reused
    settings = json.dumps(values, sort_keys=True)
    return path.with_name(f"{path.stem}-e2e-{hashlib.sha256(settings.encode()).hexdigest()[:8]}.npz")


def nested_oof(config: TrainingConfig, data, end_to_end: bool = False, extra=None) -> tuple[np.ndarray, dict | None]:
    """Nested OOF probabilities at the reference positions, and (``end_to_end``) per DS1 record the
    detected beats' positions, probabilities and features; both cached under ``.cache/oof/``.

    ``extra``: other databases' labelled beats (:func:`models.training_data.load_extra_inputs`) joining every inner
    fold's training set (``ecg train --extra-data-dir``); cached apart, under a hash of those beats."""
    # 2t: one-thread workers whose networks scale their features (the 1t caches of commits 74e7685 to 29b276a did not)
    prefix = "nested2t" if extra is None else f"nested2t-extra{fingerprint_data(data, extra)}"
    path = oof_cache_path(prefix, config)
    e2e_path = detected_cache_path(path)
    if path.exists() and (not end_to_end or e2e_path.exists()):
        return np.load(path), read_detected(e2e_path) if end_to_end else None
    fold_of = assign_patient_folds(data.record_names, data.labels, config.n_folds)
    detected = {}

    def predict_fold_records(fold: int, ensemble) -> None:
        if end_to_end:
            for name in sorted({n for n, f in fold_of.items() if f == fold}):
                detected[name] = predict_detected(ensemble, name, config)
        print(f"outer fold {fold} done", flush=True)

    with WorkerTrainer(count_usable_cores()) as trainer:
        oof = nested_oof_probabilities(data, config, None if extra is None else extra.inputs, predict_fold_records,
                                       trainer=trainer)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, oof)
    if end_to_end:
        np.savez(e2e_path, **{f"{name}/{part}": array for name, parts in detected.items()
                              for part, array in parts.items()})
    return oof, detected if end_to_end else None


def predict_detected(ensemble, name: str, config: TrainingConfig) -> dict[str, np.ndarray]:
    """A held-out record's detected beats: positions, ensemble probabilities, features."""
    record = read_record(require_data_dir(None) / name)
    samples = detect_record_peaks(record).samples
    prepared = prepare_beats(record, samples, config.inputs)
    probabilities = ensemble.predict(prepared.inputs.as_dict(), batch_size=1024, verbose=0)
    return {"samples": samples, "probabilities": probabilities, "features": prepared.inputs.features}


def read_detected(path) -> dict[str, dict[str, np.ndarray]]:
    with np.load(path) as stored:
        detected: dict[str, dict[str, np.ndarray]] = {}
        for entry in stored.files:
            name, part = entry.split("/")
            detected.setdefault(name, {})[part] = stored[entry]
    return detected


def score_end_to_end(detected: dict, decide, af_rule: bool = False) -> dict:
    """EC57 end-to-end scores over the records of ``detected``; ``decide(probabilities, features)`` gives classes,
    then the record-level atrial-fibrillation rule when ``af_rule`` (:func:`apply_record_af_rule`)."""
    classes = {}
    for name, parts in detected.items():
        classes[name] = decide(parts["probabilities"], parts["features"])
        if af_rule:
            classes[name] = apply_record_af_rule(name, parts["samples"], classes[name])
    return score_detected_classes(detected, classes)


def score_detected_classes(detected: dict, classes: dict[str, np.ndarray]) -> dict:
    """EC57 end-to-end scores of given class indices (``classes[name]``, one per detected beat of ``detected``)."""
    total = ClassificationCounts.empty()
    for name, parts in detected.items():
        annotations, fs_hz, n_samples = read_reference(name)
        match = compare_beats(annotations, parts["samples"], fs_hz, n_samples, start_s=0.0)
        total = total + compare_classes(match, reference_classes(annotations), np.asarray(classes[name]))
    return summarise(total)


@functools.lru_cache(maxsize=None)
def read_rhythm_inputs(name: str) -> tuple:
    """A DS1 record as read, its quality spans and its detected beats (the signal-level inputs of the
    atrial-fibrillation rule), read once per process."""
    record = read_record(require_data_dir(None) / name)
    return record, find_quality_spans(record.signal_mv, record.fs_hz), detect_record_peaks(record).samples


def apply_record_af_rule(name: str, samples: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """Class indices of one DS1 record's beats after the atrial-fibrillation rule as ``ecg evaluate`` applies it
    (:func:`models.evaluate.apply_record_rules` with that rule alone), with the record read once per process."""
    record, spans, detected = read_rhythm_inputs(name)
    return apply_record_rules(record, samples, np.zeros((len(samples), len(AAMI_CLASSES))), np.asarray(classes),
                              DecisionRules(af_rule=True), spans, detected)


def decide_end_to_end(name: str, parts: dict, rules, names, af_rule: bool) -> np.ndarray:
    """Class indices of a record's detected beats: the decision rules, then the atrial-fibrillation rule if on."""
    classes = rules.decide(parts["probabilities"], parts["features"], names).classes
    return apply_record_af_rule(name, parts["samples"], classes) if af_rule else classes


def labels_by_record(data, classes: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per DS1 record, its reference beat positions and the class letters of ``classes`` (one index per beat of
    ``data``): what a region labeller returns."""
    symbols = np.asarray(AAMI_CLASSES)
    return {str(n): (data.samples[data.record_names == n], symbols[classes[data.record_names == n]])
            for n in np.unique(data.record_names)}


@functools.lru_cache(maxsize=None)
def read_reference(name: str) -> tuple:
    """A DS1 record's reference annotations, sampling rate and length, read once per process (studies score the
    same records under many settings)."""
    record = read_record(require_data_dir(None) / name)
    return record.annotations, record.fs_hz, record.n_samples


def scores(labels: np.ndarray, classes: np.ndarray) -> dict:
    return summarise(count_classes(labels, classes))


def summarise(c: ClassificationCounts) -> dict:
    """Selection figures and the EC57 matrix (rows reference N S V F Q, no beat; columns the same, labelled)."""
    return {"V_se": c.sensitivity(V), "V_ppv": c.positive_predictivity(V), "V_f1": c.f1(V),
            "S_se": c.sensitivity(S), "S_ppv": c.positive_predictivity(S), "S_f1": c.f1(S),
            "score": (c.f1(V) + c.f1(S)) / 2, "matrix": c.matrix.tolist()}


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    end_to_end = "--end-to-end" in argv
    config, data, config_path = load_study_inputs(__doc__.splitlines()[0], [a for a in argv if a != "--end-to-end"])
    oof, detected = nested_oof(config, data, end_to_end)
    rule = config.atrial_rule or AtrialRule()
    features, names = data.inputs.features, data.inputs.feature_names
    rows = {"ensemble": scores(data.labels, np.argmax(oof, axis=1)),
            "ensemble + atrial rule": scores(data.labels, decide_classes(oof, features, names, rule).classes)}
    for t in (0.5, 0.6, 0.7, 0.8, 0.9):
        rows[f"ensemble + rule + V threshold {t}"] = scores(data.labels, decide_classes(oof, features, names, rule, t).classes)
    if config.conduction_rule is not None:  # the product's order: conduction rule, then atrial rule
        rows["ensemble + sinus-conduction rule + atrial rule"] = scores(
            data.labels, decide_classes(oof, features, names, rule, conduction=config.conduction_rule).classes)
    if detected is not None:
        decisions = {"ensemble": lambda p, f: np.argmax(p, axis=1),
                     "ensemble + atrial rule": lambda p, f: decide_classes(p, f, names, rule).classes}
        if config.conduction_rule is not None:
            decisions["ensemble + sinus-conduction rule + atrial rule"] = lambda p, f: decide_classes(
                p, f, names, rule, conduction=config.conduction_rule).classes
        for name, decide in decisions.items():
            rows[f"end to end: {name}"] = score_end_to_end(detected, decide)
    for name, r in rows.items():
        print(f"{name}: V {100 * r['V_se']:.1f} / {100 * r['V_ppv']:.1f}, S {100 * r['S_se']:.1f} / "
              f"{100 * r['S_ppv']:.1f}, score {r['score']:.3f}")
    path = results_path("nested_oof_end_to_end" if end_to_end else "nested_oof", config_path)
    write_results(path, {"config": str(config_path), "rows": rows})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
