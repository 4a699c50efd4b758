"""Study: which beats may make up ventricular bigeminy and trigeminy, on DS1 only (REGIONS.md, session 4).

On DS1 out-of-fold labels, missed bigeminy episodes came from a PVC called F (fusion) in the chain (record
106) and from the normal beats between the PVCs called S (207's bundle-branch-block beats). Two options of
:class:`pipeline.regions.RegionSettings` are scored here with both on and off, on the 22 DS1 records, with the
reference labels and with the DS1 out-of-fold labels of the bundled configuration (as in
``experiments/noise_span_study.py``):

- ``ventricular_pattern_allows_s``: S beats may stand between the ventricular ectopics;
- ``bigeminy_counts_fusion``: isolated F beats count as ectopics of ventricular bigeminy; the F-for-trigeminy
  variant is also scored, to show why trigeminy leaves it out.

Neither was kept (both are off by default; REGIONS.md, session 4). DS2 is not read. Results: ``experiments/results/pattern_study.json`` and a Markdown table on stdout.

Usage: PYTHONPATH=. .venv/bin/python experiments/pattern_study.py [--data-dir DIR]
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from experiments.noise_span_study import REPO_ROOT, parse_study_args, percent
from experiments.s_rule_study import write_results
from pipeline import regions
from pipeline.region_eval import evaluate_regions
from pipeline.regions import RegionSettings
from pipeline.splits import DS1

RESULTS = REPO_ROOT / "experiments" / "results" / "pattern_study.json"
BASE = replace(RegionSettings(), ventricular_pattern_allows_s=False, bigeminy_counts_fusion=False)
VARIANTS = {
    "neither": BASE,
    "S between": replace(BASE, ventricular_pattern_allows_s=True),
    "F in bigeminy": replace(BASE, bigeminy_counts_fusion=True),
    "both": replace(BASE, ventricular_pattern_allows_s=True, bigeminy_counts_fusion=True),
}


def evaluate_fusion_in_trigeminy(data_dir: Path, labeler, labels: str) -> dict:
    """Both options with F singles counted in trigeminy too (patched for this one evaluation)."""
    original = regions.find_pattern_regions

    def with_fusion(context, singles, period, min_ectopics, kind, between_classes=(regions._N,)):
        if period == 3 and kind == "ventricular_trigeminy":
            first, n_beats = regions.find_true_runs(regions.np.isin(context.classes, (regions._V, regions._F))
                                                    & context.readable)
            singles = first[n_beats == 1]
        return original(context, singles, period, min_ectopics, kind, between_classes)

    regions.find_pattern_regions = with_fusion
    try:
        return summarize(evaluate_regions(data_dir, list(DS1), labels=labels, settings=VARIANTS["both"],
                                          labeler=labeler))
    finally:
        regions.find_pattern_regions = original


def summarize(report) -> dict:
    return {name: (c.episode_sensitivity, c.episode_predictivity, c.duration_sensitivity, c.duration_predictivity)
            for name in ("bigeminy", "trigeminy", "vt") for c in [report.episodes(name)]}


def format_row(labels: str, variant: str, figures: dict) -> str:
    cells = [f"{percent(figures[n][0])}/{percent(figures[n][1])} ({percent(figures[n][2])}/{percent(figures[n][3])})"
             for n in ("bigeminy", "trigeminy")]
    return f"| {labels} | {variant} | " + " | ".join(cells) + " |"


def main(argv=None) -> int:
    data_dir, labelers = parse_study_args(__doc__.splitlines()[0], argv)
    results = {}
    print("| labels | variant | bigeminy episode Se/+P (duration Se/+P) | trigeminy episode Se/+P (duration) |")
    print("|---|---|---|---|")
    for labels, labeler in labelers.items():
        for name, settings in VARIANTS.items():
            figures = summarize(evaluate_regions(data_dir, list(DS1), labels=labels, settings=settings,
                                                 labeler=labeler))
            results[f"{labels} / {name}"] = figures
            print(format_row(labels, name, figures), flush=True)
        figures = evaluate_fusion_in_trigeminy(data_dir, labeler, labels)
        results[f"{labels} / both + F in trigeminy"] = figures
        print(format_row(labels, "both + F in trigeminy", figures), flush=True)
    write_results(RESULTS, {"records": list(DS1), "results": results})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
