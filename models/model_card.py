"""The bundled model's card: DS2 figures (both ways), calibration, intended use and limits.

Written by ``ecg bundle-model`` from the model's settings and its DS2 evaluation, so that the
card never disagrees with what the repository's commands measure.
"""

from __future__ import annotations

import json
from pathlib import Path

from models.evaluate import format_reliability

CARD_KEYS = ("accuracy", "N_se", "N_ppv", "S_se", "S_ppv", "V_se", "V_ppv", "F_se", "F_ppv")
TARGETS = {"V_se": 0.92, "V_ppv": 0.92, "S_se": 0.75, "S_ppv": 0.50, "N_se": 0.95, "accuracy": 0.93}


def summarize_for_card(report: dict) -> dict:
    """Gross DS2 figures per mode (reference positions, end to end) and calibration, from a report dict."""
    summary = {mode: {key: report["modes"][mode]["gross"][key] for key in CARD_KEYS}
               for mode in ("reference", "end_to_end", "end_to_end_ec57")}
    summary["beats"] = {mode: report["modes"][mode]["gross"]["beats"] for mode in ("reference", "end_to_end")}
    summary["ece_top_label"] = report["calibration"]["ece_top_label"]
    summary["reliability"] = report["calibration"].get("reliability", [])
    return summary


def summarize_one_lead(report: dict) -> dict:
    """Gross figures of a one-lead evaluation (``ecg evaluate --one-lead``), both ways, for the card."""
    return {mode: {key: report["modes"][mode]["gross"][key] for key in CARD_KEYS} | {
        "beats": report["modes"][mode]["gross"]["beats"]} for mode in ("reference", "end_to_end")}


def describe_one_lead(ds2: dict) -> str:
    """The card's one-lead rows, when the DS2 evaluation has them."""
    if "one_lead" not in ds2:
        return ""
    one = ds2["one_lead"]
    return (f"{format_row('DS2, one lead, reference beat positions', one['reference'])}\n"
            f"{format_row('DS2, one lead, end to end', one['end_to_end'])}\n")


def format_row(name: str, figures: dict) -> str:
    cells = " | ".join("-" if figures[k] is None or figures[k] != figures[k] else f"{100 * figures[k]:.1f}"
                       for k in CARD_KEYS)
    return f"| {name} | {cells} |"


def format_targets(figures: dict) -> str:
    """Which issue-3 targets the reference-position figures meet."""
    parts = []
    for key, target in TARGETS.items():
        value = figures[key]
        status = "met" if value is not None and value >= target else "not met"
        parts.append(f"{key.replace('_ppv', ' +P').replace('_se', ' Se')} >= {100 * target:.0f}: {status}")
    return "; ".join(parts)


def describe_rule(settings: dict) -> str:
    """A paragraph on the atrial-origin rule saved with the model ('' when it has none)."""
    rule = settings.get("atrial_rule")
    if not rule:
        return ""
    return (f"\nAfter the networks, the atrial-origin rule (`models/atrial_rule.py`) relabels a beat called N as S when "
            f"its P wave does not match the patient's sinus P template (correlation <= {rule['corr_max']}) while that "
            f"template is clear (quality >= {rule['quality_min']}), the rhythm is not AF-like (AF score <= "
            f"{rule['af_max']}), its QRS matches the dominant one (correlation >= {rule['qrs_min']}) and "
            f"{describe_timing(rule['rr_max'])}. Thresholds chosen on DS1 out-of-fold predictions only "
            "(EXPERIMENTS.md rows G and BL). The DS1 CV row above is the networks alone; the DS2 rows include the "
            "rule; "
            "calibration is of the reported probabilities (those the classes are decided from: the networks', with p(N) + "
            "p(S) divided by the context stage when there is one, then tempered when the model has a temperature). "
            "The rule's idea predates the project (CLASSIFIER-NOTES.md "
            "lesson 6), but it was studied after DS2's per-record table had been read (record 232 holds 75% of DS2's "
            "S beats): its DS2 S figures are less independent of the test set than the others."
            f"{describe_timing_caveat(rule['rr_max'])}\n")


def describe_timing(rr_max: float) -> str:
    """The atrial-origin rule's timing condition in words: a premature beat (``rr_max`` under 1, row BL) or one that
    is not late (row G's 1.05).

    >>> describe_timing(0.9), describe_timing(1.05)
    ('it comes early (pre-RR / local RR <= 0.9)', 'it is not late (pre-RR / local RR <= 1.05)')
    """
    return f"it {'comes early' if rr_max < 1 else 'is not late'} (pre-RR / local RR <= {rr_max:g})"


def describe_timing_caveat(rr_max: float) -> str:
    """What a prematurity condition on the local median RR misses ('' for row G's "not late")."""
    if rr_max >= 1:
        return ""
    return (" The local RR is the median of the intervals around the beat, not the sinus cycle: atrial beats that are "
            "themselves the rhythm are not premature against it, and the rule does not make them S (DS2's record 232, "
            "whose atrial beats outnumber its sinus beats 3.5 to 1: EXPERIMENTS.md row BL).")


def describe_context_stage(settings: dict) -> str:
    """A paragraph on the beat-context stage saved with the model ('' when it has none)."""
    if not settings.get("context_stage"):
        return ""
    return ("\nFirst, the beat-context stage (`models/context_stage.py`) divides each beat's p(N) + p(S) between N and S "
            "from the beat's features, its neighbours' (two beats each side) network probabilities, relative RR and QRS "
            "measures: a gradient-boosted classifier (scikit-learn) fitted on DS1's nested out-of-fold probabilities "
            "(networks that never saw the patient), so it learns how far the network's S evidence can be trusted in "
            "context. p(V), p(F) and p(Q) stay the network's; the rules below then apply as before. Adopted on DS1 "
            "nested cross-validation at seeds 0 and 1 and confirmed at seed 2 (EXPERIMENTS.md row AH: mean S Se / +P "
            "64.8 / 56.0 -> 77.7 / 66.4 at the reference positions, V within 1.2 points); on DS2, read once after the "
            "adoption, it did not carry over to S (EXPERIMENTS.md row AH says where). It is saved in `model.json` "
            "as a skops archive (no pickle; object types checked on load).\n")


def describe_conduction_rule(settings: dict) -> str:
    """A paragraph on the sinus-conduction rule saved with the model ('' when it has none)."""
    rule = settings.get("conduction_rule")
    if not rule:
        return ""
    return (f"\nBefore that, the sinus-conduction rule (`models/conduction_rule.py`) relabels a beat called V as N when "
            f"the patient's sinus P wave precedes it (P correlation >= {rule['p_corr_min']}, template quality >= "
            f"{rule['quality_min']}), it is not early (pre-RR / local RR >= {rule['rr_min']}), no compensatory pause "
            f"follows (post-RR / pre-RR <= {rule['post_pre_max']}), its QRS is at most {rule['width_diff_max_ms']:g} ms wider "
            f"than the dominant beat's and p(V) < {rule['v_probability_max']}. "
            "Thresholds chosen on DS1 nested out-of-fold ensemble probabilities only, the width limit from physiology "
            "(EXPERIMENTS.md row K: a first version without it was also evaluated on DS2, then replaced after an "
            "end-to-end failure on DS1). It also turns fusion beats called V into N, which splits fusion-led "
            "ventricular couplets, and a narrow late-coupled (end-diastolic) PVC that follows a sinus P wave becomes N "
            "when the network is less than that sure of it.\n")


def describe_run_rule(settings: dict) -> str:
    """A paragraph on the supraventricular run rule saved with the model ('' when it has none)."""
    rule = settings.get("supraventricular_run_rule")
    if not rule:
        return ""
    return ("\nThen the supraventricular run rule (`models/run_rule.py`) relabels a beat called N as S when the beat "
            f"before it is S, its RR interval differs from that beat's by at most {100 * rule['rr_change_max']:g} %, "
            f"the RR is at most {rule['rate_ratio_max']} of the record's median RR, its QRS matches the dominant one "
            f"(correlation >= {rule['qrs_min']}) and the rhythm is not AF-like (AF score <= {rule['af_max']}), so "
            "that the beats of a supraventricular run after its first S beat are S too. Thresholds chosen on DS1 "
            "nested out-of-fold ensemble probabilities only (EXPERIMENTS.md row P). Its DS1 evidence is one record "
            "(209: 51 beats, all reference S). Limitation seen on DS2 after the choice: in atrial fibrillation or "
            "flutter with a fast, fairly regular ventricular response it carries a false S call along (record 202: "
            "24 reference N beats made S, none gained; measured before the atrial-fibrillation rule).\n")


def describe_family_rule(settings: dict) -> str:
    """A paragraph on the morphology-family rule ('' when the model does not apply it)."""
    if not settings.get("family_rule"):
        return ""
    return ("\nLast, the morphology-family rule (`models/family_rule.py`) relabels a V call as N when its QRS belongs to "
            "a family of like beats (`pipeline/families.py`: the leader algorithm of Holter template classification, "
            "0.9 correlation over both leads; the dashboard's review groups) of at least 5 beats of which at most 30 % "
            "are called V: its shape matches beats the model itself calls non-ventricular many times over. It sets "
            "the product's V operating point, V sensitivity and positive predictivity weighed alike, and needs the "
            "whole record, so it applies where the atrial-fibrillation rule does. Adopted on DS1 nested out-of-fold "
            "probabilities at four seeds (EXPERIMENTS.md row AS: V 89.1 / 83.1 -> 88.0 / 86.9 at the reference "
            "positions, 88.9 / 83.3 -> 88.2 / 86.3 end to end, V F1 higher at every seed; every V event's F1 higher, "
            "VT episode +P 53.0 -> 65.6). Limitation seen on DS1: ventricular beats whose QRS resembles the conducted "
            "one (record 223: about 30 per seed) are made N.\n")


def describe_wide_rule(settings: dict) -> str:
    """A paragraph on the wide-QRS rule saved with the model ('' when it has none)."""
    rule = settings.get("wide_qrs_rule")
    if not rule:
        return ""
    return ("\nThen the wide-QRS rule (`models/wide_qrs_rule.py`) relabels a beat called S as V when its QRS is at "
            f"least {rule['width_diff_min_ms']:g} ms wider than the record's dominant beat and unlike it on the first "
            f"lead (correlation < {rule['qrs_corr_max']}), outside AF-like rhythm (AF score <= {rule['af_max']}): a "
            "beat conducted from above the ventricles has the dominant QRS. Thresholds set on DS1 (EXPERIMENTS.md rows "
            "BA-BC); most of its DS1 evidence is one record (223's ventricular tachycardia, whose V beats the "
            "networks call S). An atrial premature beat conducted with aberration meets the same conditions and is "
            "called V.\n")


def describe_fusion_rule(settings: dict) -> str:
    """A paragraph on the fusion rule ('' when the model does not apply it)."""
    if not settings.get("fusion_rule"):
        return ""
    return ("\nThen the fusion rule (`models/fusion_rule.py`) relabels a beat called F as N when no beat within two of it "
            "is called V: a fusion beat needs a ventricular beat to fuse with. On DS1 patients they had not seen, the "
            "networks called none of the reference fusion beats F and made runs of F calls on conducted beats whose "
            "shape had drifted (record 109), which count as ventricular runs. Adopted on DS1 nested cross-validation "
            "(EXPERIMENTS.md row BF). By the reference labels a quarter of DS1's fusion beats are more than two beats "
            "from a ventricular one: an F call on such a beat becomes N.\n")


def describe_af_rule(settings: dict) -> str:
    """A paragraph on the atrial-fibrillation rule ('' when the model does not apply it)."""
    if not settings.get("af_rule"):
        return ""
    return ("\nAfter every other rule, the atrial-fibrillation rule (`models/af_rule.py`) relabels a beat called S as N "
            "when it lies inside one of the record's atrial fibrillation or flutter episodes as the product reports "
            "them (RR dispersion and P-wave consistency, `pipeline/regions.py`, default event settings): in AF no beat "
            "is an atrial premature beat, and MIT-BIH and AAMI EC57 label those beats N. It has no threshold of its "
            "own and needs the whole record, so it applies in `ecg score`, the dashboard, `ecg evaluate` and "
            "`ecg evaluate-regions`, not in the registered MLflow model's per-batch classes. Adopted on DS1 nested "
            "out-of-fold ensemble probabilities at two seeds, checked at a third (EXPERIMENTS.md row AC: S +P 36.7 -> "
            "61.1 at seed 0, the false S calls of DS1's AF records 201 and 203). The DS2 rows include it.\n")


def describe_reproduction(command: str, rules_only: bool) -> str:
    """How the card's model was made, for the card's "How to reproduce" section."""
    if not rules_only:
        return (f"`{command}` trains on DS1 (tracked in MLflow), saves this model, evaluates it on DS2 and rewrites this "
                "card. Each network trains in its own worker process on one CPU thread (`--jobs` of them at once), so a "
                "rerun on the same kind of machine gives the same networks whatever `--jobs` (two runs on the 2-core "
                "machine gave identical weights and context-stage trees); another CPU may change the last digits.")
    return (f"`{command}` trains the networks on DS1 (tracked in MLflow), saves this model, evaluates it on DS2 and "
            f"rewrites this card. These networks come from an earlier run of it; `{command} --rules-only` then applied "
            "the configuration's decision rules and ensemble size to them, evaluated on DS2 and rewrote this card. CPU "
            "training is "
            "not bit-reproducible across machines, so a new run gives slightly different networks.")


def describe_v_threshold(settings: dict) -> str:
    """A sentence on the minimum V probability saved with the model ('' when it has none)."""
    value = settings.get("v_min_probability")
    if value is None:
        return ""
    return (f"\nA V call whose probability is below {value} gives way to the next most probable class (threshold "
            "chosen on DS1 by nested cross-validation of the ensemble, `experiments/nested_oof.py`); the DS2 rows "
            "include it.\n")


def describe_members(settings: dict) -> str:
    """How many networks the ensemble averages, out of the folds trained (and seeds per fold, when more than one)."""
    n_members, n_folds = settings.get("n_members", "?"), settings["training"].get("n_folds", "?")
    seeds = settings["training"].get("seeds_per_fold", 1)
    if seeds > 1 and isinstance(n_members, int):
        return (f"An ensemble of {n_members * seeds} networks: {seeds} seeds for each of the first {n_members} of the "
                f"{n_folds} patient-wise folds of DS1 (a seed ensemble, EXPERIMENTS.md row W)")
    if n_members == n_folds:
        return f"An ensemble of {n_members} networks (one per patient-wise fold of DS1)"
    return (f"An ensemble of {n_members} networks: the first {n_members} of the {n_folds} trained on patient-wise "
            f"folds of DS1 (all {n_folds} give the cross-validated figures below; fewer members cost proportionally "
            f"less to run, and the number was chosen by DS1 nested cross-validation, EXPERIMENTS.md row O)")


def describe_one_lead_training(training: dict) -> str:
    """A sentence on the one-lead training copies (``one_lead_fraction``; '' when the networks trained without)."""
    share = training.get("one_lead_fraction", 0.0)
    if not share:
        return ""
    return (f" Besides its two-lead beats, each network trained on one-lead copies of {100 * share:g} % of them (drawn "
            "from the seed; prepared from the record's primary lead alone, as a one-lead recording is read; they train "
            "where their patient trains and never validate), so that the networks read one lead as well as two "
            "(EXPERIMENTS.md row AI: on DS1 nested cross-validation the one-lead score rose at three seeds with the "
            "two-lead figures kept).")


SEED_SPREAD = Path(__file__).resolve().parents[1] / "experiments" / "results" / "seed_spread.json"
"""DS2 figures of the bundled configuration trained afresh from several seeds (``experiments/seed_spread.py``)."""


CLASS_NEUTRAL_KEYS = ("seed", "temperature")
"""Training keys that change no delivered class: the seed (what a seed spread varies) and the temperature of the
reported probabilities."""


def training_without_seed(training: dict) -> dict:
    """A training configuration's dict without its seed (or temperature), as JSON stores it (tuples as lists): what
    two trainings of one configuration share, as far as their classes go."""
    return json.loads(json.dumps({key: value for key, value in training.items() if key not in CLASS_NEUTRAL_KEYS}))


def describe_temperature(settings: dict) -> str:
    """The card's sentence on the temperature of the reported probabilities ('' when the model has none)."""
    temperature = settings.get("temperature")
    if temperature is None:
        return ""
    return (f"\nThe reported probabilities are tempered (T = {temperature:g}: each beat's probabilities raised to the "
            "power 1 / T and renormalised, Guo et al. 2017) once the classes are decided, so no class depends on it; "
            "the figures above are of the tempered probabilities. T was fitted on DS1 nested out-of-fold probabilities "
            "and adopted by a criterion on the reliability bins written before its run (EXPERIMENTS.md row AR).\n")


def describe_reliability(ds2: dict) -> str:
    """The card's reliability table (how often the top class is right, by how sure the model is), when the DS2
    evaluation has one."""
    table = format_reliability(ds2.get("reliability") or [])
    if not table:
        return ""
    return "\n".join(["", "How often the top class is right, by how sure the model is (DS2 reference positions; where the "
                      "model is calibrated, \"right %\" equals the mean probability; `ecg evaluate` writes this table for "
                      "any record set):", "", *table]) + "\n"


def describe_seed_spread(settings: dict, path: Path = SEED_SPREAD) -> str:
    """The card's paragraph on how far the DS2 figures move with the training seed, from ``path`` when it measured
    this model's configuration (empty otherwise: a card never quotes another configuration's spread)."""
    if not path.is_file():
        return ""
    spread = json.loads(path.read_text())
    if spread.get("training") != training_without_seed(settings["training"]):
        return ""
    fresh = spread["fresh_range"]
    seeds = ", ".join(str(seed) for seed in spread["seeds"])

    def span(mode: str, key: str) -> str:
        low, high = fresh[mode][key]
        return f"{low:.1f}-{high:.1f}"

    return f"""
Seed spread: the same configuration trained afresh from seeds {seeds} (`experiments/seed_spread.py`, the product's
`ecg train` and `ecg evaluate`; DS2 read for this statement only, nothing chosen from it) gives, at the reference
positions, S Se {span("reference", "S_se")}, S +P {span("reference", "S_ppv")}, V Se {span("reference", "V_se")}, \
V +P {span("reference", "V_ppv")}, accuracy {span("reference", "accuracy")}; end to end
V +P {span("end_to_end", "V_ppv")} and S Se {span("end_to_end", "S_se")} (%). These networks are one such \
training: a figure of the table above that is
within this spread of a target is met or missed by the draw of the seed.
"""


def write_model_card(directory: str | Path, settings: dict, command: str, rules_only: bool = False) -> Path:
    """Write ``MODEL_CARD.md`` beside the model from its settings (which hold ``ds2_evaluation``).

    ``rules_only``: the card follows ``ecg bundle-model --rules-only`` (networks kept, rules changed).
    """
    directory = Path(directory)
    ds2 = settings["ds2_evaluation"]
    validation = settings.get("validation", {})
    training = settings["training"]
    cv = {k: validation.get(f"cv_{k}") for k in CARD_KEYS}
    header = "| figures (%) | acc | N Se | N +P | S Se | S +P | V Se | V +P | F Se | F +P |\n|---|" + "---:|" * 9
    text = f"""# Model card: bundled beat classifier (`models/bundled/model.keras`)

**Not a medical device.** Research software: its beat labels are for review by qualified people and must not
be used on their own for diagnosis or treatment.

## What it is
{describe_members(settings)}, each: Conv1D front end
over the beat window (both leads and each lead minus the record's dominant beat, scaled by that template) ->
bidirectional GRU ({training['network']['gru_units']} units per direction, cuDNN-eligible) -> additive attention,
merged with {len(settings['feature_names'])} patient-relative features (RR ratios, morphology against the
record's template, rhythm irregularity, P wave against the patient's own sinus P wave) -> softmax over the AAMI
classes N, S, V, F, Q. Input settings (segmentation, cleaning, features) are stored in `model.json` and applied
by every command, so inference prepares beats exactly as training did.{describe_one_lead_training(training)}

## Data and split
MIT-BIH Arrhythmia Database (PhysioNet, ODC-By 1.0; Moody and Mark 2001), AAMI EC57 class mapping. Trained and
selected on **DS1 only** ({len(settings.get('train_records', []))} records; de Chazal 2004), with 4 folds of
whole patients for early stopping and model comparison; tested once on **DS2** (22 other patients). Paced records
102, 104, 107, 217 excluded. Records 201 (DS1) and 202 (DS2) come from one patient, a known flaw of the standard
split.

## Figures
DS1 patient-wise cross-validation (out-of-fold, what selection used):

{header}
{format_row("DS1 CV (reference positions)", cv)}

DS2 test set, gross over {ds2['beats']['reference']} beats:

{header}
{format_row("DS2, reference beat positions", ds2['reference'])}
{format_row("DS2, end to end (our detector, whole records)", ds2['end_to_end'])}
{format_row("DS2, end to end, EC57 (from 5 min)", ds2['end_to_end_ec57'])}
{describe_one_lead(ds2)}
"One lead": every record read from its primary lead alone (MLII), which the networks read as both of their leads, as
for a one-lead recording (`ecg evaluate --one-lead`). "End to end": the beats found by the project's detector
(`pipeline/detect.py`, its settings under `detector` in `ds2_report/classification_report.json`), matched to the
reference beats within 150 ms; missed and extra beats count against the figures.

Targets of issue 3 (reference positions): {format_targets(ds2['reference'])}.

Calibration: expected calibration error (top label, 15 bins, DS2 reference positions, over the reference N, S, V and F
beats; Q beats, paced or unclassifiable, are left out as the network is not trained to name them)
{100 * ds2['ece_top_label']:.2f} %.
{describe_reliability(ds2)}{describe_temperature(settings)}{describe_seed_spread(settings)}
Per-record tables and confusion matrices: `models/bundled/ds2_report/classification_report.md`.
{describe_context_stage(settings)}{describe_rule(settings)}{describe_conduction_rule(settings)}{describe_run_rule(settings)}{describe_wide_rule(settings)}{describe_fusion_rule(settings)}{describe_af_rule(settings)}{describe_family_rule(settings)}{describe_v_threshold(settings)}
## How to reproduce
{describe_reproduction(command, rules_only)}
`ecg evaluate --model models/bundled/model.keras --split ds2 --out DIR` re-measures the DS2 figures alone and
writes WFDB annotation files (`REC.cls`) that the WFDB tool `bxb` can re-score.

## Intended use and limitations
- Intended: research and review support on ambulatory or bedside ECG recordings of adults, 2 leads (a single
  lead works with reduced accuracy; of more leads, the primary and the one most like V1 are used), sampled at
  100-4096 Hz (resampled to 360 Hz).
- Supraventricular ectopic beats (S) are the weak class: premature beats in irregular rhythms (atrial
  fibrillation) are confused with S, and non-premature atrial beats are often missed.
- Fusion beats (F) are almost never recognised (DS1 holds 415, nearly all from one patient).
- Q (paced, unclassifiable) is essentially untrained (8 DS1 beats); paced recordings are out of scope for the
  networks. Where a pacemaker is stated, the product's pacing rule (not this model) labels wide on-time beats and
  beats with a pacing spike paced (`models/pacing_rule.py`; README, "Patients with pacemakers"); where none is
  stated and pacing spikes are found, the summary asks the reader to state it (`pipeline/pacing.py`).
- Trained on 22 patients from one 1970s database: performance on other populations, devices and lead
  placements is unknown until measured.
"""
    path = directory / "MODEL_CARD.md"
    path.write_text(text, encoding="utf-8")
    return path


def add_ds2_evaluation(settings_path: Path, report: dict, one_lead_report: dict | None = None) -> dict:
    """Store the DS2 summary (and that of the one-lead evaluation) in ``model.json`` (read by the card test) and
    return the settings."""
    settings = json.loads(settings_path.read_text())
    settings["ds2_evaluation"] = summarize_for_card(report)
    if one_lead_report is not None:
        settings["ds2_evaluation"]["one_lead"] = summarize_one_lead(one_lead_report)
    settings_path.write_text(json.dumps(settings, indent=2, default=str) + "\n", encoding="utf-8")
    return settings
