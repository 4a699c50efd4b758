"""Where the full disclosure's memory goes: one PDF of all pages against a file per page (session 15).

The 24-hour record of ``benchmarks/long_record.py`` is analysed once in this process (the bundled model); then its
two-lead full disclosure pages (:func:`app.disclosure.draw_disclosure_page`) are written twice: into one
multi-page PDF (matplotlib's ``PdfPages``, as :func:`app.disclosure.render_full_disclosure` does), and each page into
a PDF of its own. The resident memory (``VmRSS`` after ``gc.collect()`` and glibc's ``malloc_trim``, so that freed
memory is not counted) is read every 16 pages; its growth is what each way keeps.

Usage::

    PYTHONPATH=. .venv/bin/python benchmarks/disclosure_memory.py [--pages 96]   (about 3 minutes)
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import io

from matplotlib.backends.backend_pdf import PdfPages

from app.analysis import analyse_record
from app.disclosure import count_pages, disclosure_leads, draw_disclosure_page
from benchmarks.common import BUNDLED_MODEL, format_table, write_results
from benchmarks.score_speed import ensure_long_record
from models.loading import load_local
from pipeline.records import read_record

STEP = 16


def resident_mb() -> float:
    """Resident memory of this process in MB, after collecting garbage and trimming the allocator."""
    gc.collect()
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
    return float("nan")


def write_pages(analysis, leads, n_pages: int, one_file: bool) -> list[float]:
    """Write the first ``n_pages`` pages; the memory growth (MB) after every :data:`STEP` pages."""
    total = count_pages(analysis.record.duration_s, len(leads))
    start, growth = resident_mb(), []
    pdf = PdfPages(io.BytesIO()) if one_file else None
    for page in range(n_pages):
        figure = draw_disclosure_page(analysis, page, total, leads)
        if pdf is not None:
            pdf.savefig(figure)
        else:
            with PdfPages(io.BytesIO()) as single:
                single.savefig(figure)
        if (page + 1) % STEP == 0 or page + 1 == n_pages:
            growth.append(round(resident_mb() - start, 1))
    if pdf is not None:
        pdf.close()
    return growth


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=96)
    args = parser.parse_args(argv)
    record = read_record(ensure_long_record())
    analysis = analyse_record(record, load_local(BUNDLED_MODEL))
    leads = disclosure_leads(analysis.record, 2)
    n_pages = min(args.pages, count_pages(analysis.record.duration_s, len(leads)))
    one_file = write_pages(analysis, leads, n_pages, one_file=True)
    per_page = write_pages(analysis, leads, n_pages, one_file=False)
    marks = [min((k + 1) * STEP, n_pages) for k in range(len(one_file))]
    print(format_table(["pages written", "one PDF: growth MB", "a PDF per page: growth MB"],
                       [[m, a, b] for m, a, b in zip(marks, one_file, per_page)]))
    results = {"record": record.name, "pages": n_pages, "leads": len(leads), "pages_marked": marks,
               "one_pdf_growth_mb": one_file, "pdf_per_page_growth_mb": per_page,
               "one_pdf_mb_per_page": round(one_file[-1] / n_pages, 2)}
    print(f"results written to {write_results('disclosure_memory', results)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
