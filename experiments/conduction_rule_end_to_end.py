"""Check: the sinus-conduction rule end to end on DS1 (detected beats), with the bundled networks (EXPERIMENTS.md row K).

``experiments/conduction_rule_study.py`` chooses the rule on reference beat positions. End to end the
beats sit where the project's detector puts them, and on wide PVCs that fiducial point can fall ~90 ms
late (record 208), which changes the rule's prematurity and P-window evidence. This script runs
``models.evaluate.evaluate_records`` on the DS1 records with the bundled networks and three decision
settings: no conduction rule, the first version of the rule (no QRS-width limit) and the shipped one.
The networks were trained on DS1, so the figures are in-sample for the networks; what they show is
the rule's behaviour on detected beats. DS2 is not read.

Usage: PYTHONPATH=. .venv/bin/python experiments/conduction_rule_end_to_end.py   (about 2 minutes)
"""

from __future__ import annotations

from app.config import require_data_dir
from experiments.s_rule_study import REPO_ROOT, write_results
from models.atrial_rule import DecisionRules
from models.bundled import BUNDLED_MODEL
from models.conduction_rule import ConductionRule
from models.evaluate import evaluate_records
from models.prepare import InputSettings
from models.registry import load_model
from pipeline.splits import DS1

RESULTS = REPO_ROOT / "experiments" / "results" / "conduction_rule_end_to_end.json"
FIRST_VERSION = ConductionRule(p_corr_min=0.4, quality_min=0.75, rr_min=0.9, post_pre_max=1.1,
                               v_probability_max=0.99, width_diff_max_ms=float("inf"))
"""The rule as first adopted (EXPERIMENTS.md row K), before the QRS-width condition existed."""
V = 2


def main() -> int:
    loaded = load_model(BUNDLED_MODEL)
    shipped = DecisionRules.from_settings(loaded.settings)
    settings = InputSettings.from_dict(loaded.settings["inputs"])
    variants = {"no conduction rule": DecisionRules(shipped.atrial_rule),
                "first version (no width limit)": DecisionRules(shipped.atrial_rule, None, FIRST_VERSION),
                "shipped": shipped}
    out = {}
    for name, rules in variants.items():
        report = evaluate_records(loaded.model, settings, require_data_dir(None), DS1, progress=False,
                                  decisions=rules)
        row = {}
        for mode in ("reference", "end_to_end"):
            gross = report.gross(mode)
            row[mode] = {"V_se": gross.sensitivity(V), "V_ppv": gross.positive_predictivity(V)}
        row["end_to_end_V_se_208"] = report.per_record["208"]["end_to_end"].sensitivity(V)
        out[name] = row
        print(f"{name}: reference V {100 * row['reference']['V_se']:.1f} / {100 * row['reference']['V_ppv']:.1f}, "
              f"end to end V {100 * row['end_to_end']['V_se']:.1f} / {100 * row['end_to_end']['V_ppv']:.1f}, "
              f"208 end to end V Se {100 * row['end_to_end_V_se_208']:.1f}", flush=True)
    write_results(RESULTS, out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
