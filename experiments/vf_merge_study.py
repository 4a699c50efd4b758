"""The flutter/fibrillation detector: how far apart two stretches may be and still be one episode, on DS1 only.

With the settings of ``experiments/vf_study.py`` and ``experiments/vf_single_lead_study.py``, record 207's 98 s
flutter episode (1,541-1,639 s) comes out as five stretches: for 3-13 s at a time one lead's oscillation is not
regular enough for the VF filter, and in those gaps the flutter waves, called V, make "ventricular tachycardia"
runs (the PDF report of 207 shows one at 26:21). Joining stretches closer than ``merge_gap_s`` would report one
episode, but could also join separate episodes (207's first two are 4 s apart, with sinus beats between).

Grid: ``merge_gap_s`` 1 (now), 3, 5, 10, 15 s; both leads, the detector's beats for the rate check, whole records,
the 22 DS1 records. Criterion, written before the run: the best pooled DS1 duration F1 against the reference
``[``...``]`` stretches (as in ``experiments/vf_study.py``); within 0.005 of the best, the smallest gap. DS2 is not
read.

Second part, added after the first run (which kept 3 s and showed wider gaps losing whole episodes, because the rate
check then runs over joined stretches that take in slower rhythm): the same grid with ``rate_check="stretch"``, the
rate checked on each run of VF-like windows before joining. Criterion, written before that run: over both parts, the
best F1; within 0.005 of it, the first part's order ("joined", as it stands), then the smallest gap.

Reported, not chosen on: each lead alone (as ``experiments/vf_single_lead_study.py`` runs them) with the settings
before this study (1 s), the first part's choice and the final one.

Usage: PYTHONPATH=. .venv/bin/python experiments/vf_merge_study.py   (about 1 minute)
"""

from __future__ import annotations

import dataclasses
import itertools

from app.config import require_data_dir
from experiments.s_rule_study import BUNDLED_CONFIG, results_path, write_results
from experiments.vf_single_lead_study import prepare
from experiments.vf_study import score_setting
from pipeline.fibrillation import FibrillationSettings

GAPS_S = (1.0, 3.0, 5.0, 10.0, 15.0)
ORDERS = ("joined", "stretch")


def main() -> None:
    views = prepare(require_data_dir(None))  # both leads, and each lead alone, with the detector's beats
    items = views["both leads"]
    rows = {}
    for order, gap_s in itertools.product(ORDERS, GAPS_S):
        key = f"{gap_s:g} s" if order == "joined" else f"{gap_s:g} s, rate checked before joining"
        settings = dataclasses.replace(FibrillationSettings(), merge_gap_s=gap_s, rate_check=order)
        rows[key] = r = score_setting(items, settings)
        print(f"{key}: duration Se {r['duration_se']} +P {r['duration_pp']} F1 {r['f1']}; "
              f"{r['episodes_found']}/6 episodes, {r['test_stretches']} stretches; false s {r['false_s_by_record']}",
              flush=True)
    best_f1 = max(r["f1"] for r in rows.values())
    chosen = next(k for k, r in rows.items() if r["f1"] >= best_f1 - 0.005)
    print(f"chosen: merge_gap_s = {chosen}")
    single = {}
    for key in dict.fromkeys(("1 s", "3 s", chosen)):
        order = "stretch" if "before joining" in key else "joined"
        settings = dataclasses.replace(FibrillationSettings(), merge_gap_s=float(key.split()[0]), rate_check=order)
        single[key] = {view: score_setting(views[view], settings) for view in ("first lead", "second lead")}
        print(f"{key}, one lead alone: " + "; ".join(
            f"{view} Se/+P {r['duration_se']}/{r['duration_pp']}, false s {r['false_s']} {r['false_s_by_record']}"
            for view, r in single[key].items()), flush=True)
    write_results(results_path("vf_merge_study", BUNDLED_CONFIG),
                  {"split": "ds1", "settings": FibrillationSettings().to_dict(), "rows": rows, "chosen": chosen,
                   "single_lead": single})


if __name__ == "__main__":
    main()
