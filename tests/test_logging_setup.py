"""The command line's logging (app/logging_setup.py)."""

from __future__ import annotations

import logging
import re
import sys

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
