"""What the studies that run the bundled model end to end over MIT-BIH records share: the ``--records`` option, the
loop over records with a line printed per record, and the split of the records into DS1, DS2 and the paced ones."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from pathlib import Path

from app.config import require_data_dir
from benchmarks.common import BUNDLED_MODEL, parse_records
from models.registry import load_model
from pipeline.splits import DS1, DS2, PACED

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def run_record_study(argv, description: str, study_record: Callable, describe: Callable[[str, dict], str],
                     keep: Callable[[str, object], bool] = lambda name, data_dir: True) -> dict:
    """``study_record(name, data_dir, model)`` for each record of ``--records`` (all 48 by default) that ``keep``
    takes, with the bundled model; ``describe(name, result)`` printed as each is done. The results by record."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--records", default="all")
    args = parser.parse_args(argv)
    data_dir = require_data_dir(None)
    model = load_model(BUNDLED_MODEL)
    records = {}
    for name in parse_records(args.records):
        if keep(name, data_dir):
            records[name] = study_record(name, data_dir, model)
            print(describe(name, records[name]), flush=True)
    return records


def split_scopes(records: dict) -> dict[str, list[str]]:
    """The studied records by scope: ``ds1``, ``ds2``, ``paced`` and ``all`` (empty scopes left out)."""
    scopes = {"ds1": [n for n in records if n in DS1], "ds2": [n for n in records if n in DS2],
              "paced": [n for n in records if n in PACED], "all": list(records)}
    return {scope: names for scope, names in scopes.items() if names}


def write_record_study(name: str, summary: dict, records: dict) -> None:
    """Print each scope's summary and write ``experiments/results/NAME.json`` (the model, the summary, the records)."""
    from experiments.s_rule_study import REPO_ROOT, write_results

    for scope, value in summary.items():
        print(scope, value)
    write_results(RESULTS_DIR / f"{name}.json",
                  {"model": str(BUNDLED_MODEL.relative_to(REPO_ROOT)), "summary": summary, "records": records})
