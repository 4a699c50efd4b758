"""Helpers of the tests that run ``ecg score``: copying a record into a folder, a run with the bundled model, and the
page count of a PDF it writes."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from click.testing import CliRunner

from app.cli import cli
from models.bundled import BUNDLED_MODEL

MODEL = str(BUNDLED_MODEL)
PDF_PAGE = re.compile(rb"/Type\s*/Page\b(?!s)")
"""A page object of a PDF (matplotlib writes one per page; ``/Pages`` is the page tree)."""


def count_pdf_pages(pdf: bytes) -> int:
    """Pages of a PDF's bytes."""
    return len(PDF_PAGE.findall(pdf))


def copy_record(src_dir: Path, name: str, dst_dir: Path, new_name: str | None = None) -> Path:
    """Copy NAME.hea/.dat/.atr; with ``new_name`` the header is rewritten to point at the renamed files."""
    dst_dir.mkdir(parents=True, exist_ok=True)
    new_name = new_name or name
    for ext in ("hea", "dat", "atr"):
        src = src_dir / f"{name}.{ext}"
        if src.exists():
            shutil.copyfile(src, dst_dir / f"{new_name}.{ext}")
    if new_name != name:
        header = (dst_dir / f"{new_name}.hea").read_text().replace(f"{name}.dat", f"{new_name}.dat")
        header = header.replace(name, new_name, 1)
        (dst_dir / f"{new_name}.hea").write_text(header)
    return dst_dir / new_name


def run_score(*args: str) -> tuple[int, str]:
    """``ecg score --quiet --model <bundled model> ARGS``: exit code and output (other exceptions are raised)."""
    result = CliRunner().invoke(cli, ["score", "--quiet", "--model", MODEL, *args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output
