"""Logging configuration for the command line (the only place that installs handlers).

Log messages name records by file stem only; header comments (age, sex, medication) are never
read into log lines.
"""

from __future__ import annotations

import logging

from tqdm import tqdm

_HANDLER_NAME = "ecg-cli"
_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging(verbosity: int) -> None:
    """Send log records to stderr: warnings by default, INFO with ``-v``, DEBUG with ``-vv``."""
    level = logging.WARNING if verbosity <= 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    root = logging.getLogger()
    for handler in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(handler)  # a second call (tests, nested runs) replaces rather than duplicates
    handler = ProgressAwareHandler()
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(logging.Formatter(_FORMAT, datefmt="%H:%M:%S"))
    root.addHandler(handler)
    root.setLevel(level)
    if verbosity > 0:  # MLflow's loggers keep their own level (MLFLOW_LOGGING_LEVEL, WARNING from the ecg command)
        logging.getLogger("mlflow").setLevel(level)


class ProgressAwareHandler(logging.StreamHandler):
    """A stderr handler that writes through :func:`tqdm.tqdm.write`, so that a warning given while a progress bar is
    drawn gets a line of its own instead of being glued to the bar's."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            tqdm.write(self.format(record), file=self.stream)
        except Exception:  # noqa: BLE001 - logging's own convention: report and go on
            self.handleError(record)
