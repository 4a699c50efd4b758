"""Heart-rate variability of the product against the annotated beats, on MIT-BIH.

For each record, the HRV of :mod:`pipeline.hrv` (time domain, LF and HF power, LF/HF) twice:

- reference: the annotated beat positions and classes (``ecg evaluate-regions --labels reference``'s pipeline:
  quality spans, regions, summary);
- product: what ``ecg score`` reports, i.e. our detector's beats classified by the bundled model
  (:func:`app.analysis.analyse_record`).

Both use the same editing of the NN intervals, so the difference measures what detection and classification
errors do to the HRV figures. Reported per record and as the median absolute relative difference over the
records where both are assessed; records with atrial fibrillation keep only their sinus stretches, both ways.
No threshold is tuned here.

Usage::

    PYTHONPATH=. .venv/bin/python benchmarks/hrv_agreement.py [--records all|ds1|ds2|100,101]   (about 2 minutes)
"""

from __future__ import annotations

import math

import numpy as np

from app.analysis import analyse_record
from benchmarks.common import BUNDLED_MODEL, REPO_ROOT, compare_with_bundled_model, format_table, write_results
from pipeline.records import read_record
from pipeline.region_eval import evaluate_record, label_with_reference

FIGURES = ("mean_nn_ms", "sdnn_ms", "rmssd_ms", "pnn50_pct", "lf_ms2", "hf_ms2", "lf_hf_ratio", "sd1_ms", "sd2_ms",
           "triangular_index", "deceleration_capacity_ms")


def relative_difference(product: float, reference: float) -> float:
    """(product - reference) / reference; NaN when either is missing or the reference is 0."""
    if math.isnan(product) or math.isnan(reference) or reference == 0:
        return float("nan")
    return (product - reference) / reference


def compare_record(name: str, data_dir, model) -> dict:
    """Reference and product HRV of one record, and their relative differences."""
    reference = evaluate_record(data_dir / name, label_with_reference).summary.hrv
    product = analyse_record(read_record(data_dir / name, annotator=None), model).summary.hrv
    return {"reference": reference.to_dict(), "product": product.to_dict(),
            "relative_difference": {f: relative_difference(getattr(product, f), getattr(reference, f))
                                    for f in FIGURES}}


def main(argv=None) -> int:
    records = compare_with_bundled_model(compare_record, __doc__.splitlines()[0], argv)
    rows, summary = [], {}
    for name, r in records.items():
        rows.append([name] + [f"{r['reference'][f]} / {r['product'][f]}" for f in ("sdnn_ms", "rmssd_ms")]
                    + [r["reference"]["n_intervals"], r["product"]["n_intervals"]])
    for figure in FIGURES:
        values = np.array([r["relative_difference"][figure] for r in records.values()], dtype=float)
        assessed = values[~np.isnan(values)]
        summary[figure] = {"records_assessed": int(len(assessed)),
                           "median_abs_relative_difference_pct": 100 * float(np.median(np.abs(assessed))),
                           "within_5_pct": int(np.sum(np.abs(assessed) <= 0.05)),
                           "within_10_pct": int(np.sum(np.abs(assessed) <= 0.10))}
    print(format_table(["record", "SDNN ms ref / product", "RMSSD ms ref / product", "NN ref", "NN product"], rows))
    for figure, s in summary.items():
        print(f"{figure}: median |relative difference| {s['median_abs_relative_difference_pct']:.1f} % over "
              f"{s['records_assessed']} records; within 5 %: {s['within_5_pct']}, within 10 %: {s['within_10_pct']}")
    write_results("hrv_agreement", {"model": str(BUNDLED_MODEL.relative_to(REPO_ROOT)), "summary": summary,
                                    "records": records})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
