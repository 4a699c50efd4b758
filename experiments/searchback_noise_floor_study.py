"""Study: a higher floor under the search-back's threshold (row AQ, after row AP), DS1 only.

Row AP raised the search-back's threshold to the running noise peak level N (``searchback_noise_floor = 1``). Its noise
stress on DS1's clean records: extra detections 6,385 (row AL's detector) -> 4,074, or 3,059 with row AN's
regular-interval average, against the 2,324 its criterion allows (1.1 times the pre-AL detector's 2,113); on DS1 the
gate alone missed and added the same beats as row AL's detector (64 / 46) with the same scores at seeds 0 and 1, since
in clean signal the floor lies under the threshold. The floor can
rise before it reaches clean signal's search-back threshold ``0.3 S + 0.3 N`` (S: the running signal peak level): a
floor of g N does nothing while N < 0.3 S / (g - 0.3), i.e. N < 0.25 S for g = 1.5 and N < 0.18 S for g = 2.

Settings: ``current`` (row AL's detector, shipped); candidates ``floor1.5`` and ``floor2`` (``searchback_noise_floor``
1.5 and 2 with the plain mean) and ``floor2_regular`` (2, with the regular-interval average).

Measured as rows AN and AP (``experiments.searchback_regular_study.run_study``), on DS1 only. DS2 is not read.

Criterion, written before the run (commit 83ed88a): row AN's, unchanged, as
``experiments/searchback_regular_study.py``'s docstring states it and ``run_study`` applies it: (a) noise stress
extra detections at most 1.1 times ``before``'s (the pre-AL detector); (b) DS1 missed plus extra beats at most
``current``'s + 10; (c) that docstring's end-to-end guard at seeds 0 and 1 (score, Se and +P, false pauses); the
passing candidate with the fewest DS1 errors is chosen, confirmed at seed 2, and adopted; otherwise ``current``
stays.

Outcome (EXPERIMENTS.md row AQ): ``floor1.5`` met the criterion and was confirmed, then withdrawn in the same session
for a cost the criterion did not cover: record 207's ventricular flutter (BENCHMARKS.md section 4).

Usage: PYTHONPATH=. .venv/bin/python experiments/searchback_noise_floor_study.py [--config configs/bundled.toml]
(results: experiments/results/searchback_noise_floor_study.json)
"""

from __future__ import annotations

import sys
from dataclasses import replace

from experiments.searchback_regular_study import CURRENT, run_study

SETTINGS = {"current": CURRENT, "floor1.5": replace(CURRENT, searchback_noise_floor=1.5),
            "floor2": replace(CURRENT, searchback_noise_floor=2.0),
            "floor2_regular": replace(CURRENT, searchback_noise_floor=2.0, searchback_regular_rr=True)}
CANDIDATES = ("floor1.5", "floor2", "floor2_regular")


def main(argv=None) -> int:
    return run_study(SETTINGS, CANDIDATES, "searchback_noise_floor", __doc__.splitlines()[0], argv)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
