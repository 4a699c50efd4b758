"""Heart-rate turbulence of the product against the annotated beats, on MIT-BIH.

For each record, the HRT of :mod:`pipeline.hrt` (turbulence onset and slope, the HRT category) twice:

- reference: the annotated beat positions and classes (``ecg evaluate-regions --labels reference``'s pipeline:
  quality spans, regions, summary);
- product: what ``ecg score`` reports, i.e. our detector's beats classified by the bundled model
  (:func:`app.analysis.analyse_record`).

Both use the same tachogram rules, so the differences measure what detection and classification errors do to HRT:
which VPCs qualify (a qualifying reference VPC is found when the product's list has one within 150 ms), TO and TS,
and the category. MIT-BIH has no reference HRT figures, and the consensus thresholds are used as they are: nothing
is tuned here.

Usage::

    PYTHONPATH=. .venv/bin/python benchmarks/hrt_agreement.py [--records all|ds1|ds2|100,101]   (about 3 minutes)
"""

from __future__ import annotations


import numpy as np

from app.analysis import analyse_record
from benchmarks.common import BUNDLED_MODEL, REPO_ROOT, compare_with_bundled_model, format_table, write_results
from pipeline.hrt import HrtSummary
from pipeline.records import read_record
from pipeline.region_eval import evaluate_record, label_with_reference

MATCH_S = 0.15
"""A qualifying VPC of the product matches a reference one within this (EC57's beat-matching window)."""


def count_matched(reference_s: tuple[float, ...], product_s: tuple[float, ...]) -> int:
    """Qualifying reference VPCs with a qualifying product VPC within :data:`MATCH_S`."""
    product = np.asarray(product_s, np.float64)
    if not len(product):
        return 0
    return int(sum(np.min(np.abs(product - t)) <= MATCH_S for t in reference_s))


def describe(hrt: HrtSummary) -> str:
    """``TO / TS (category, qualifying of all)`` or ``-``."""
    if not hrt.assessed:
        return f"- (0 of {hrt.n_vpcs})"
    return (f"{hrt.turbulence_onset_pct:.2f} / {hrt.turbulence_slope_ms_per_rr:.1f} ({hrt.category}, "
            f"{hrt.n_qualifying} of {hrt.n_vpcs})")


def compare_record(name: str, data_dir, model) -> dict:
    """Reference and product HRT of one record."""
    reference = evaluate_record(data_dir / name, label_with_reference).summary.hrt
    product = analyse_record(read_record(data_dir / name, annotator=None), model).summary.hrt
    return {"reference": reference.to_dict(), "product": product.to_dict(),
            "matched_vpcs": count_matched(reference.vpc_times_s, product.vpc_times_s),
            "text": (describe(reference), describe(product))}


def summarise(records: dict) -> dict:
    """Pooled VPC matching, and TO, TS and category agreement over the records assessed both ways."""
    both = [r for r in records.values() if r["reference"]["assessed"] and r["product"]["assessed"]]
    reference_vpcs = sum(r["reference"]["n_qualifying"] for r in records.values())
    product_vpcs = sum(r["product"]["n_qualifying"] for r in records.values())
    matched = sum(r["matched_vpcs"] for r in records.values())
    onset = np.array([r["product"]["turbulence_onset_pct"] - r["reference"]["turbulence_onset_pct"] for r in both])
    key = "turbulence_slope_ms_per_rr"
    slope = np.array([r["product"][key] - r["reference"][key] for r in both])
    return {
        "records_assessed_reference": sum(r["reference"]["assessed"] for r in records.values()),
        "records_assessed_product": sum(r["product"]["assessed"] for r in records.values()),
        "records_assessed_both": len(both),
        "qualifying_vpcs_reference": reference_vpcs, "qualifying_vpcs_product": product_vpcs,
        "qualifying_vpcs_matched": matched,
        "matched_pct_of_reference": round(100 * matched / reference_vpcs, 1) if reference_vpcs else None,
        "matched_pct_of_product": round(100 * matched / product_vpcs, 1) if product_vpcs else None,
        "category_agreement": sum(r["reference"]["category"] == r["product"]["category"] for r in both),
        "median_abs_onset_difference_pct_points": round(float(np.median(np.abs(onset))), 2) if len(both) else None,
        "median_abs_slope_difference_ms": round(float(np.median(np.abs(slope))), 2) if len(both) else None,
        "onset_within_1_pct_point": int(np.sum(np.abs(onset) <= 1.0)),
        "slope_within_1_ms": int(np.sum(np.abs(slope) <= 1.0)),
    }


def main(argv=None) -> int:
    records = compare_with_bundled_model(compare_record, __doc__.splitlines()[0], argv)
    rows = [[name, *r["text"], r["matched_vpcs"]] for name, r in records.items()
            if r["reference"]["n_vpcs"] or r["product"]["n_vpcs"]]
    print(format_table(["record", "reference TO % / TS ms (category, VPCs)", "product", "matched"], rows))
    summary = summarise(records)
    for key, value in summary.items():
        print(f"{key}: {value}")
    for r in records.values():
        r.pop("text")
    write_results("hrt_agreement", {"model": str(BUNDLED_MODEL.relative_to(REPO_ROOT)), "summary": summary,
                                    "records": records})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
