"""The command line's logging (app/logging_setup.py)."""

from __future__ import annotations

import logging
import re
import sys

import numpy as np
from tqdm import tqdm

from app.logging_setup import configure_logging


def test_a_warning_during_a_progress_bar_gets_a_line_of_its_own(capsys):
    """A warning given while a bar is drawn (a skipped record while inputs load) used to be glued to the bar's line."""
    configure_logging(0)
    try:
        with tqdm(total=3, desc="model inputs", file=sys.stderr, ascii=True) as bar:
            bar.update(1)
            logging.getLogger("pipeline.test").warning("record x skipped")
            bar.update(2)
        err = capsys.readouterr().err
    finally:
        logging.getLogger().handlers = [h for h in logging.getLogger().handlers if h.get_name() != "ecg-cli"]
    line = next(part for part in re.split(r"[\r\n]", err) if "record x skipped" in part)
    assert re.fullmatch(r"\d\d:\d\d:\d\d WARNING pipeline.test: record x skipped", line), repr(err)


def test_log_lines_name_no_record_only_its_place_in_the_batch(tmp_path, excerpts_dir):
    """A record's file name may be the patient's: at -v the log says "batch record 1", never the name (a code review
    of session 54 found "Record Doe_Jane: 1 gaps ... filled" at -v, and a library's "open file: PATH" at -vv)."""
    from click.testing import CliRunner

    from app.cli import cli
    from models.bundled import BUNDLED_MODEL
    from pipeline.records import read_record, write_record

    excerpt = read_record(excerpts_dir / "100")
    signal = excerpt.signal_mv[: 60 * 360].copy()
    signal[5000:5003, 0] = np.nan  # a dropped sample or three: filled, with a log line
    write_record(tmp_path / "in", "Jane_Doe", signal, 360.0, excerpt.lead_names)
    args = ["score", str(tmp_path / "in" / "Jane_Doe"), "--format", "json", "--model", str(BUNDLED_MODEL),
            "--quiet"]
    try:
        progress = CliRunner().invoke(cli, ["-v", *args, "--out", str(tmp_path / "v")])
        debug = CliRunner().invoke(cli, ["-vv", *args, "--out", str(tmp_path / "vv")])
    finally:
        logging.getLogger().handlers = [h for h in logging.getLogger().handlers if h.get_name() != "ecg-cli"]
    assert progress.exit_code == 0 and debug.exit_code == 0, progress.output + debug.output
    assert "[batch record 1] 1 gaps of at most 20 ms" in progress.stderr
    for result in (progress, debug):
        assert "Jane" not in result.stderr and "Doe" not in result.stderr
    assert "DEBUG" in debug.stderr and "open file" not in debug.stderr  # the project's debug lines, no library's
    assert (tmp_path / "v" / "Jane_Doe" / "Jane_Doe_summary.json").exists()  # the outputs name it, as they should
