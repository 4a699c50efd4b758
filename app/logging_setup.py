"""Logging configuration for the command line (the only place that installs handlers).

Log lines never name a record: a file's name may be the patient's (``smith_john.hea``), and a log is kept, copied
and sent where outputs are not. A line given while a batch scores a record says which by its place in the batch
(``[batch record 3]``, the third row of ``batch_summary.csv``: :data:`RECORD_LABEL`); the record's own outputs and
the terminal's summary name it. Header comments (age, sex, medication) are never read into log lines either. Only
the project's own loggers go down to INFO or DEBUG with ``-v`` / ``-vv``: a library's debug lines (a file system
layer's "open file: PATH") stay out.
"""

from __future__ import annotations

import contextvars
import logging

from tqdm import tqdm

_HANDLER_NAME = "ecg-cli"
_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(record_label)s%(message)s"
PROJECT_LOGGERS = ("pipeline", "models", "app", "mlflow")
"""Loggers that ``-v`` and ``-vv`` open (MLflow's keep their own level by default: MLFLOW_LOGGING_LEVEL, WARNING
from the ecg command)."""

RECORD_LABEL: contextvars.ContextVar[str] = contextvars.ContextVar("record_label", default="")
"""What a log line says of the record being scored (``batch record 3``), set by :func:`app.batch.score_record`."""


def configure_logging(verbosity: int) -> None:
    """Send log records to stderr: warnings by default, INFO with ``-v``, DEBUG with ``-vv`` (the project's loggers)."""
    level = logging.WARNING if verbosity <= 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    root = logging.getLogger()
    for handler in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(handler)  # a second call (tests, nested runs) replaces rather than duplicates
    handler = ProgressAwareHandler()
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(logging.Formatter(_FORMAT, datefmt="%H:%M:%S"))
    handler.addFilter(label_record)
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    for name in PROJECT_LOGGERS:
        if verbosity > 0 or name != "mlflow":
            logging.getLogger(name).setLevel(level)


def label_record(record: logging.LogRecord) -> bool:
    """Give a log record the batch place of the record being scored (``[batch record 3] ``), empty outside a batch."""
    label = RECORD_LABEL.get()
    record.record_label = f"[{label}] " if label else ""
    return True


class ProgressAwareHandler(logging.StreamHandler):
    """A stderr handler that writes through :func:`tqdm.tqdm.write`, so that a warning given while a progress bar is
    drawn gets a line of its own instead of being glued to the bar's."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            tqdm.write(self.format(record), file=self.stream)
        except Exception:  # noqa: BLE001 - logging's own convention: report and go on
            self.handleError(record)
