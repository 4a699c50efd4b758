"""Study: beats whose window is unreadable in one lead only, read from the other lead alone (DS1 nested only).

Session 26 made the product read a beat from one lead when the other lead's samples are missing (NaN) over its window
(:func:`models.prepare.read_lead_gaps_from_one_lead`). A lead can also be present and unusable: the quality module
marks noisy, flat and saturated stretches per lead (:func:`pipeline.quality.find_record_quality_spans`), and those
beats are still read from both leads. Found by reading the PDF report of MIT-BIH 203 (2026-12-03): its first event
strip, "ventricular tachycardia at 00:24:50, 5 beats, 119 bpm", is electrode-pop steps of several mV in MLII over
beats that V1 shows clean and that the reference marks Q and N; MLII is marked noisy there, V1 is not. The question is
whether such beats are better read from the clean lead alone, as a one-lead recording's are (both the networks' input
and the features the stage and rules read), or from both leads as now.

For seeds 0 and 1 of the shipped configuration (``configs/bundled.toml``), each outer fold of the nested scheme is
predicted by its inner ensemble (the same trainings as ``experiments/one_lead_training_study.py --fraction 0.2``,
retrained: CPU training on this machine reproduces them, which the study checks against the cache) at the reference
positions and on the detected beats, prepared three ways: both leads (the product), the first analysed lead alone and
the second alone (each whole record prepared from that lead, read as both, as the product reads a lead gap). A beat
is "one-lead unreadable" when the quality spans of exactly one lead (any kind, after the sparing of trains of like
beats; at the reference positions spared with the reference beats, end to end as the product finds them) overlap its
window (0.25 s before to 0.45 s after its peak). Candidate: those beats take the other lead's inputs and
probabilities; then, as in the product, the context stage (fitted fold by fold on the other folds' two-lead nested
probabilities, unchanged) and every decision rule, the AF rule last. DS2 is not read.

Criterion, written before the run (seeds 0 and 1; "affected" = the one-lead unreadable beats with an AAMI reference
class, or matched to one end to end):
(a) affected beats: agreement of the classes with the reference higher, averaged over the seeds and at each seed,
    at the reference positions and end to end;
(b) affected beats: V F1 not lower, averaged, both ways;
(c) whole DS1: selection score at least the product's - 0.002 at each seed both ways, and no averaged V or S Se or +P
    more than 1 point lower.
Confirmation, written at the same time: at seed 2, (a) at that seed both ways.
Adopted (the product reads such beats from the clean lead, in ``models.prepare``) when (a)-(c) and the confirmation
hold; otherwise logged as not adopted.

Usage: PYTHONPATH=. .venv/bin/python experiments/lead_noise_study.py [--config configs/bundled.toml]
(8 nested trainings per seed, about 6 minutes each on the 2-core machine; the one-lead predictions are cached in
``.cache/oof/``; results: experiments/results/lead_noise_study.json)
"""

from __future__ import annotations

import dataclasses
import sys

import numpy as np

from app.config import require_data_dir
from experiments.context_plain_fit_study import staged_probabilities
from experiments.context_stage_study import strip
from experiments.nested_oof import decide_end_to_end, oof_cache_path, read_reference, score_detected_classes, scores
from experiments.one_lead_training_study import nested_three_ways
from experiments.s_rule_study import load_one_lead_inputs, load_study_inputs, results_path, write_results
from experiments.s_run_rule_study import classify_with_config, configured_rules
from models.evaluate import reference_classes
from models.folds import assign_patient_folds
from models.prepare import clean_record, fill_missing_leads, prepare_leads
from models.train import nested_oof_probabilities
from models.training_workers import WorkerTrainer, count_usable_cores
from pipeline.detect import detect_record_peaks
from pipeline.datasets import encode_classes
from pipeline.labels import map_symbols_to_aami, select_reference_beats
from pipeline.quality import find_quality_spans, find_record_quality_spans, spare_beat_trains
from pipeline.records import read_record
from pipeline.scoring import compare_beats, matched_reference_classes

SEEDS = (0, 1)
CONFIRMATION_SEED = 2
WINDOW_S = (0.25, 0.45)
WAYS = ("reference", "end_to_end")
V = 2


def unreadable_leads(samples: np.ndarray, spans, fs_hz: float, n_leads: int = 2) -> np.ndarray:
    """(n_beats, n_leads) bool: a quality span of that lead overlaps the beat's window."""
    out = np.zeros((len(samples), n_leads), bool)
    before, after = int(round(WINDOW_S[0] * fs_hz)), int(round(WINDOW_S[1] * fs_hz))
    for span in spans:
        if 0 <= span.lead < n_leads:
            out[:, span.lead] |= (samples + after > span.start) & (samples - before < span.stop)
    return out


def one_lead_unreadable(flags: np.ndarray) -> np.ndarray:
    """Per beat, the lead to read it from (0 or 1) when exactly one lead is unreadable, else -1."""
    choice = np.full(len(flags), -1)
    choice[flags[:, 1] & ~flags[:, 0]] = 0
    choice[flags[:, 0] & ~flags[:, 1]] = 1
    return choice


def prepare_each_lead(record, samples: np.ndarray, settings) -> list:
    """The record's beats at ``samples`` prepared from each analysed lead alone (read as both)."""
    clean = clean_record(record, settings)
    return [prepare_leads(record.fs_hz, samples, settings, fill_missing_leads(clean[:, [k]])).inputs
            for k in range(clean.shape[1])]


def reference_parts(name: str, settings) -> dict:
    """A DS1 record's labelled reference beats: each lead's inputs and the lead to read them from."""
    record = read_record(require_data_dir(None) / name, target_fs_hz=settings.segmentation.fs_hz)
    beat = select_reference_beats(record)
    samples = record.annotations.samples[beat]
    labelled = encode_classes(map_symbols_to_aami(record.annotations.symbols[beat])) >= 0
    alone = prepare_each_lead(record, samples, settings)
    spans = spare_beat_trains(find_quality_spans(record.signal_mv, record.fs_hz), record.signal_mv, samples,
                              record.fs_hz)
    choice = one_lead_unreadable(unreadable_leads(samples, spans, record.fs_hz, record.signal_mv.shape[1]))
    return {"samples": samples[labelled], "choice": choice[labelled],
            "inputs": [a.select(labelled) for a in alone]}


def detected_parts(name: str, settings) -> dict:
    """A DS1 record's detected beats (as the product detects them): each lead's inputs and the lead to read them from."""
    record = read_record(require_data_dir(None) / name)
    detection = detect_record_peaks(record)
    spans = find_record_quality_spans(record.signal_mv, record.fs_hz, detection.samples, detection.noise_only)
    choice = one_lead_unreadable(unreadable_leads(detection.samples, spans, record.fs_hz, record.signal_mv.shape[1]))
    return {"samples": detection.samples, "choice": choice,
            "inputs": prepare_each_lead(record, detection.samples, settings)}


def lead_alone_predictions(config, data, one_lead) -> dict:
    """Nested probabilities of every DS1 beat prepared from each lead alone, at the reference positions and on the
    detected beats, with the lead choice; retrained inner ensembles checked against the cached two-lead ones; cached."""
    path = oof_cache_path("nested2t-onelead", config)
    out_path = path.with_name(f"{path.stem}-leadnoise.npz")
    if out_path.exists():
        with np.load(out_path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    cached, cached_e2e, _ = nested_three_ways(config, data, one_lead)
    fold_of = assign_patient_folds(data.record_names, data.labels, config.n_folds)
    result = {}

    def predict_fold(fold: int, ensemble) -> None:
        for name in sorted(n for n, f in fold_of.items() if f == fold):
            for way, parts in (("reference", reference_parts(name, config.inputs)),
                               ("end_to_end", detected_parts(name, config.inputs))):
                result[f"{name}/{way}/samples"] = parts["samples"]
                result[f"{name}/{way}/choice"] = parts["choice"]
                for k, inputs in enumerate(parts["inputs"]):
                    result[f"{name}/{way}/lead{k}/probabilities"] = ensemble.predict(inputs.as_dict(), batch_size=1024,
                                                                                     verbose=0)
                    result[f"{name}/{way}/lead{k}/features"] = inputs.features
        print(f"seed {config.seed}: outer fold {fold} done", flush=True)

    with WorkerTrainer(count_usable_cores()) as trainer:
        retrained = nested_oof_probabilities(data, config, on_fold=predict_fold, trainer=trainer,
                                             one_lead=one_lead if config.one_lead_fraction else None)
    result["check/max_abs_difference"] = np.array(float(np.max(np.abs(retrained - cached))))
    print(f"seed {config.seed}: retrained nested probabilities differ from the cache by at most "
          f"{float(result['check/max_abs_difference']):.2e}", flush=True)
    np.savez(out_path, **result)
    return result


def substitute(probabilities: np.ndarray, features: np.ndarray, choice: np.ndarray, alone: dict, prefix: str):
    """Probabilities and features with the one-lead unreadable rows taken from the other lead's preparation."""
    p, f = probabilities.copy(), features.copy()
    for k in (0, 1):
        rows = choice == k
        p[rows] = alone[f"{prefix}/lead{k}/probabilities"][rows]
        f[rows] = alone[f"{prefix}/lead{k}/features"][rows]
    return p, f


def candidate_inputs(data, nested: np.ndarray, detected: dict, alone: dict):
    """The candidate's nested probabilities and features at the reference positions (one row per DS1 beat), its
    detected beats per record, and the choice of lead per beat both ways."""
    probabilities, features = nested.copy(), data.inputs.features.copy()
    choice = np.full(len(data), -1)
    for name in dict.fromkeys(data.record_names):
        rows = np.flatnonzero(data.record_names == name)
        if not np.array_equal(alone[f"{name}/reference/samples"], data.samples[rows]):
            raise ValueError(f"Record {name}: the study's reference beats differ from the dataset's.")
        choice[rows] = alone[f"{name}/reference/choice"]
        probabilities[rows], features[rows] = substitute(nested[rows], data.inputs.features[rows], choice[rows],
                                                         alone, f"{name}/reference")
    e2e, e2e_choice = {}, {}
    for name, parts in detected.items():
        if not np.array_equal(alone[f"{name}/end_to_end/samples"], parts["samples"]):
            raise ValueError(f"Record {name}: the study's detected beats differ from the cache's.")
        e2e_choice[name] = alone[f"{name}/end_to_end/choice"]
        p, f = substitute(parts["probabilities"], parts["features"], e2e_choice[name], alone, f"{name}/end_to_end")
        e2e[name] = dict(parts, probabilities=p, features=f)
    return probabilities, features, e2e, choice, e2e_choice


def affected_figures(labels: np.ndarray, classes: np.ndarray) -> dict:
    """Agreement with the reference and V figures over the affected beats."""
    agree = float(np.mean(labels == classes)) if len(labels) else float("nan")
    tp = int(np.sum((labels == V) & (classes == V)))
    fn, fp = int(np.sum((labels == V) & (classes != V))), int(np.sum((labels != V) & (classes == V)))
    f1 = 2 * tp / (2 * tp + fn + fp) if tp + fn + fp else float("nan")
    return {"beats": int(len(labels)), "agreement": agree, "V_reference": tp + fn, "V_found": tp, "false_V": fp,
            "V_f1": f1, "false_S": int(np.sum((labels != 1) & (classes == 1))),
            "S_reference": int(np.sum(labels == 1)), "S_found": int(np.sum((labels == 1) & (classes == 1)))}


def matched_affected(detected: dict, classes: dict, choice: dict) -> tuple[np.ndarray, np.ndarray]:
    """End to end: reference classes and calls of the affected detected beats matched (EC57, 150 ms) to a reference
    beat with an AAMI class."""
    labels, calls = [], []
    for name, parts in detected.items():
        annotations, fs_hz, n_samples = read_reference(name)
        match = compare_beats(annotations, parts["samples"], fs_hz, n_samples, start_s=0.0)
        truth = matched_reference_classes(match, reference_classes(annotations), len(parts["samples"]))
        rows = (choice[name] >= 0) & (truth >= 0)
        labels.append(truth[rows])
        calls.append(np.asarray(classes[name])[rows])
    return np.concatenate(labels).astype(int), np.concatenate(calls).astype(int)


def score_seed(config, data, one_lead) -> dict:
    nested, detected, _ = nested_three_ways(config, data, one_lead)
    alone = lead_alone_predictions(config, data, one_lead)
    probabilities, features, e2e_inputs, choice, e2e_choice = candidate_inputs(data, nested, detected, alone)
    rules, names = configured_rules(config), data.inputs.feature_names
    out = {"retrain_check_max_abs_difference": float(alone["check/max_abs_difference"])}
    as_candidate = dataclasses.replace(data, inputs=dataclasses.replace(data.inputs, features=features))
    staged_product, e2e_product, staged_candidate = staged_probabilities(nested, config, data, nested, detected,
                                                                         also=(probabilities, features))
    _, e2e_candidate, _ = staged_probabilities(nested, config, data, nested, e2e_inputs)
    for variant, reference_classes_, e2e in (
            ("product", classify_with_config(staged_product, data, config),
             {n: decide_end_to_end(n, p, rules, names, config.af_rule) for n, p in e2e_product.items()}),
            ("candidate", classify_with_config(staged_candidate, as_candidate, config),
             {n: decide_end_to_end(n, p, rules, names, config.af_rule) for n, p in e2e_candidate.items()})):
        rows = choice >= 0
        e2e_labels, e2e_calls = matched_affected(detected, e2e, e2e_choice)
        out[variant] = {
            "reference": {"whole": strip(scores(data.labels, reference_classes_)),
                          "affected": affected_figures(data.labels[rows], reference_classes_[rows])},
            "end_to_end": {"whole": strip(score_detected_classes(detected, e2e)),
                           "affected": affected_figures(e2e_labels, e2e_calls)}}
        print(f"seed {config.seed}, {variant}: {describe(out[variant])}", flush=True)
    out["affected_by_lead_read"] = {"reference": np.bincount(choice[choice >= 0], minlength=2).tolist(),
                                    "end_to_end": np.bincount(np.concatenate(list(e2e_choice.values()))[
                                        np.concatenate(list(e2e_choice.values())) >= 0], minlength=2).tolist()}
    return out


def describe(variant: dict) -> str:
    parts = []
    for way in WAYS:
        w, a = variant[way]["whole"], variant[way]["affected"]
        parts.append(f"{way}: whole S {100 * w['S_se']:.1f}/{100 * w['S_ppv']:.1f} V {100 * w['V_se']:.1f}/"
                     f"{100 * w['V_ppv']:.1f} score {w['score']:.3f}; affected {a['beats']} beats, agreement "
                     f"{100 * a['agreement']:.1f} %, V {a['V_found']}/{a['V_reference']} found, false V {a['false_V']}, "
                     f"V F1 {a['V_f1']:.3f}, false S {a['false_S']}")
    return " | ".join(parts)


def check_criterion(by_seed: dict) -> dict:
    """The module docstring's criterion, part by part."""
    def value(variant, way, part, key, seeds=SEEDS):
        return float(np.mean([by_seed[s][variant][way][part][key] for s in seeds]))

    a = all(value("candidate", w, "affected", "agreement", chosen) > value("product", w, "affected", "agreement",
                                                                           chosen)
            for w in WAYS for chosen in (SEEDS,) + tuple((s,) for s in SEEDS))
    b = all(value("candidate", w, "affected", "V_f1") >= value("product", w, "affected", "V_f1") for w in WAYS)
    c = (all(value("candidate", w, "whole", "score", (s,)) >= value("product", w, "whole", "score", (s,)) - 0.002
             for w in WAYS for s in SEEDS) and
         all(value("candidate", w, "whole", k) >= value("product", w, "whole", k) - 0.01
             for w in WAYS for k in ("S_se", "S_ppv", "V_se", "V_ppv")))
    confirmed = all(value("candidate", w, "affected", "agreement", (CONFIRMATION_SEED,)) >
                    value("product", w, "affected", "agreement", (CONFIRMATION_SEED,)) for w in WAYS)
    return {"a_agreement": a, "b_v_f1": b, "c_whole": c, "confirmed_seed2": confirmed,
            "met": a and b and c and confirmed}


def main(argv=None) -> int:
    config, data, config_path = load_study_inputs(__doc__.splitlines()[0], argv)
    one_lead = load_one_lead_inputs(config)
    by_seed = {seed: score_seed(dataclasses.replace(config, seed=seed), data, one_lead)
               for seed in SEEDS + (CONFIRMATION_SEED,)}
    verdict = check_criterion(by_seed)
    print(verdict)
    write_results(results_path("lead_noise_study", config_path),
                  {"config": str(config_path), "seeds": list(SEEDS), "confirmation_seed": CONFIRMATION_SEED,
                   "window_s": list(WINDOW_S), "by_seed": {str(s): v for s, v in by_seed.items()},
                   "verdict": verdict})
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
