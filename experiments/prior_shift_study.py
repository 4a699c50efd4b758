"""Study: adapting the class priors to each record (label shift), on DS1 nested only (EXPERIMENTS.md row T).

Inter-patient, the class mix of a record is nothing like the training mix: DS2's S beats sit mostly in one record,
a noisy record has no V beat at all. A classifier's posteriors assume the training priors. Saerens, Latinne and
Decaestecker (Neural Computation 14(1):21-41, 2002) re-estimate the priors of a new data set from the posteriors
alone, by expectation-maximisation, and rescale the posteriors with them; here each record is its own data set
(a Holter analyser sees the whole recording; EVALUATION.md allows using a record's unlabelled content). With a
prior ``pi0`` for the network's outputs:

    repeat: p_i(c) proportional to p(c|x_i) * pi(c) / pi0(c);   pi(c) = (sum_i p_i(c) + alpha * pi0(c)) / (n + alpha)

``alpha`` (a pseudo-count of beats at the base prior) keeps records with few beats, or a class seen only a few
times, close to ``pi0``. ``pi0`` is the mean nested out-of-fold probability over the other DS1 records (for a
delivered model: the mean out-of-fold probability of its training records). The adapted probabilities then go
through every decision rule of the configuration, as the product applies them.

Scored on DS1 with the nested ensembles (networks that never saw the patient; ``experiments/nested_oof.py``,
cached): at the reference beat positions and end to end (detected beats). DS2 is not read.

Criterion, written before the first run: an ``alpha`` is adopted if, both at the reference positions and end to
end, the selection score (mean of S and V F1) rises by at least 0.01, none of S Se, S +P, V Se, V +P falls by more
than 1.5 points, and the score without the record that gains most still rises by at least 0.005 (not one record's
evidence). Among the settings that pass, the weakest adaptation (largest ``alpha``) within 0.005 of the best
reference-position score is kept.

Usage: PYTHONPATH=. .venv/bin/python experiments/prior_shift_study.py [--config configs/bundled.toml]
"""

from __future__ import annotations

import sys

import numpy as np

from experiments.nested_oof import nested_oof, score_end_to_end, scores, summarise
from experiments.s_rule_study import load_study_inputs, results_path, write_results
from experiments.s_run_rule_study import configured_rules, describe
from pipeline.scoring import ClassificationCounts

ALPHAS = (30.0, 100.0, 300.0, 1000.0, 3000.0)
MAX_ITERATIONS = 100


def adapt_priors(probabilities: np.ndarray, base_prior: np.ndarray, alpha: float) -> np.ndarray:
    """Posteriors rescaled to the priors that EM estimates for this set of beats (module docstring)."""
    if len(probabilities) == 0:
        return probabilities
    prior = base_prior.copy()
    for _ in range(MAX_ITERATIONS):
        adapted = probabilities * (prior / base_prior)
        adapted /= adapted.sum(axis=1, keepdims=True)
        updated = (adapted.sum(axis=0) + alpha * base_prior) / (len(adapted) + alpha)
        converged = np.max(np.abs(updated - prior)) < 1e-6
        prior = updated
        if converged:
            break
    adapted = probabilities * (prior / base_prior)
    return (adapted / adapted.sum(axis=1, keepdims=True)).astype(np.float32)


def base_priors(oof: np.ndarray, record_names: np.ndarray) -> dict[str, np.ndarray]:
    """Per record, the mean out-of-fold probability of the other records' beats."""
    total, count = oof.sum(axis=0, dtype=np.float64), len(oof)
    out = {}
    for name in np.unique(record_names):
        mine = record_names == name
        out[str(name)] = (total - oof[mine].sum(axis=0, dtype=np.float64)) / (count - mine.sum())
    return out


def main(argv=None) -> int:
    config, data, config_path = load_study_inputs(__doc__.splitlines()[0], argv)
    oof, detected = nested_oof(config, data, end_to_end=True)
    rules, names = configured_rules(config), data.inputs.feature_names
    priors = base_priors(oof, data.record_names)
    record_names = [str(n) for n in dict.fromkeys(data.record_names)]

    def adapted(p: np.ndarray, name: str, alpha: float | None) -> np.ndarray:
        return p if alpha is None else adapt_priors(p, priors[name], alpha)

    def reference_classes_of(alpha: float | None) -> np.ndarray:
        classes = np.empty(len(data), np.int64)
        for name in record_names:
            rows = np.flatnonzero(data.record_names == name)
            classes[rows] = rules.decide(adapted(oof[rows], name, alpha), data.inputs.features[rows], names).classes
        return classes

    def end_to_end_counts(alpha: float | None) -> ClassificationCounts:
        total = ClassificationCounts.empty()
        for name, parts in detected.items():
            decide = lambda p, f, name=name: rules.decide(adapted(p, name, alpha), f, names).classes  # noqa: E731
            total = total + ClassificationCounts(np.asarray(score_end_to_end({name: parts}, decide)["matrix"]))
        return total

    rows, classes_of = [], {}
    for alpha in (None,) + ALPHAS:
        classes = classes_of[alpha] = reference_classes_of(alpha)
        reference, e2e = scores(data.labels, classes), summarise(end_to_end_counts(alpha))
        rows.append({"alpha": alpha, "reference": reference, "end_to_end": e2e,
                     "classes_changed": {name: int((classes != classes_of[None])[data.record_names == name].sum())
                                         for name in record_names}})
        label = "no adaptation" if alpha is None else f"alpha {alpha:g}"
        print(f"{label}: reference {describe(reference)}; end to end {describe(e2e)}", flush=True)
    verdicts = judge(rows, classes_of, data)
    write_results(results_path("prior_shift_study", config_path), {"config": str(config_path), "rows": rows,
                                                                   "verdicts": verdicts})
    return 0


def judge(rows: list[dict], classes_of: dict, data) -> dict:
    """The criterion of the module docstring, per alpha; prints the verdicts."""
    base, verdicts = rows[0], {}
    for row in rows[1:]:
        checks = {}
        for where in ("reference", "end_to_end"):
            b, r = base[where], row[where]
            checks[f"{where}_score"] = r["score"] - b["score"] >= 0.01
            checks[f"{where}_no_drop"] = all(r[k] - b[k] >= -0.015 for k in ("S_se", "S_ppv", "V_se", "V_ppv"))
        before, after = classes_of[None], classes_of[row["alpha"]]
        gains = {}
        for name in np.unique(data.record_names):
            keep = data.record_names != name
            gains[str(name)] = scores(data.labels[keep], after[keep])["score"] - scores(data.labels[keep],
                                                                                         before[keep])["score"]
        top = min(gains, key=gains.get)  # the record whose removal leaves the least gain
        checks["not_one_record"] = gains[top] >= 0.005
        verdicts[str(row["alpha"])] = {"passes": all(checks.values()), "checks": checks, "top_record": top,
                                       "score_gain_without_top_record": gains[top]}
        print(f"alpha {row['alpha']:g}: {'passes' if all(checks.values()) else 'fails'}; {checks}; "
              f"without record {top}: {gains[top]:+.4f}", flush=True)
    return verdicts


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
