"""What the full disclosure costs on a 24-hour record: time, peak memory and the PDF's size.

The 24-hour two-lead record of ``benchmarks/long_record.py`` (the 48 MIT-BIH records concatenated,
``.cache/long/mitdb24h``) is scored twice in fresh processes, ``ecg score --format json`` and ``--format
json,disclosure`` (``benchmarks.score_speed.run_score``: wall time with the start-up, peak RSS of the child); the
difference is the full disclosure's time. No target: the full disclosure is asked for, not made by default.

Usage::

    PYTHONPATH=. .venv/bin/python benchmarks/full_disclosure.py        # about 2 minutes on the 2-core machine
    PYTHONPATH=. .venv/bin/python benchmarks/full_disclosure.py --leads 2   # both leads (--format ...,disclosure2)
"""

from __future__ import annotations

import argparse
import re
import tempfile
from pathlib import Path

from benchmarks.common import format_table, write_results
from benchmarks.score_speed import ensure_long_record, run_score

PAGES = re.compile(rb"/Type\s*/Page\b(?!s)")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, choices=(1, 2), default=1)
    args = parser.parse_args(argv)
    output, suffix = ("disclosure", "") if args.leads == 1 else ("disclosure2", "_2leads")
    long_path = ensure_long_record()
    with tempfile.TemporaryDirectory(prefix="disclosure-bench-") as tmp:
        without = run_score([str(long_path)], Path(tmp) / "json", 1, formats="json")
        with_pdf = run_score([str(long_path)], Path(tmp) / "disclosure", 1, formats=f"json,{output}")
        pdf = (Path(tmp) / "disclosure" / long_path.name / f"{long_path.name}_full_disclosure{suffix}.pdf").read_bytes()
    results = {"record": long_path.name, "leads": args.leads, "json_only": without, "json_and_disclosure": with_pdf,
               "disclosure_s": round(with_pdf["wall_s"] - without["wall_s"], 2),
               "pdf_mb": round(len(pdf) / 1e6, 2), "pdf_pages": len(PAGES.findall(pdf))}
    print(format_table(["run (24 h record, --jobs 1)", "wall s", "peak RSS MB"],
                       [["--format json", without["wall_s"], without["peak_rss_mb"]],
                        [f"--format json,{output}", with_pdf["wall_s"], with_pdf["peak_rss_mb"]]]))
    print(f"full disclosure: {results['disclosure_s']} s, {results['pdf_pages']} pages, {results['pdf_mb']} MB")
    print(f"results written to {write_results('full_disclosure' + ('' if args.leads == 1 else '-2leads'), results)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
