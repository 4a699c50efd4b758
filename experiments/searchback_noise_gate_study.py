"""Study: search back only over candidates above the running noise peak level (row AP), DS1 only.

Row AL (session 28) shortened the search-back's gap from 1.66 to 1.4 times the recent mean RR; in heavy noise the
detector then finds more false beats (``benchmarks/detector_noise.py``: 0 dB white noise, 2,436 -> 6,144 extra
detections on its 10 records). Row AN measured the gap on Pan and Tompkins's regular-interval average instead and did
not meet its criterion. The mechanism looked at here is the search-back's threshold: ``searchback_fraction`` (0.6) of
the detection threshold ``N + 0.5 (S - N)`` (S, N: the running signal and noise peak levels) is ``0.3 S + 0.3 N``,
which falls below the running noise peak level N as soon as N > 0.43 S, i.e. in heavy noise; the highest candidate in
the gap is then as likely noise as a beat. With ``DetectorSettings.searchback_noise_floor = 1`` the search-back's
threshold is at least N, so it never accepts a candidate smaller than the typical noise peak; in clean signal
(N < 0.43 S) nothing changes.

Settings: ``current`` (1.4, plain mean: shipped since row AL); ``before`` (1.66, plain mean; noise stress only);
candidates ``gate1.4`` (``current`` with the gate) and ``gate_regular1.4`` (row AN's ``regular1.4`` with the gate).

Measured as row AN (``experiments/searchback_regular_study.py``), on DS1 only: noise stress on DS1's clean records;
EC57 missed and extra beats from 5 minutes; end to end with the nested networks of seeds 0 and 1. DS2 is not read.

Criterion, written before the run (commit f79cb64): row AN's, unchanged, as
``experiments/searchback_regular_study.py``'s docstring states it and ``run_study`` applies it: (a) noise stress
extra detections at most 1.1 times ``before``'s (the pre-AL detector); (b) DS1 missed plus extra beats at most
``current``'s + 10; (c) that docstring's end-to-end guard at seeds 0 and 1 (score, Se and +P, false pauses); the
passing candidate with the fewest DS1 errors is chosen, confirmed at seed 2, and adopted; otherwise ``current``
stays.

Usage: PYTHONPATH=. .venv/bin/python experiments/searchback_noise_gate_study.py [--config configs/bundled.toml]
(results: experiments/results/searchback_noise_gate_study.json; written when the gate was the switch
``searchback_above_noise = true``, which behaved as ``searchback_noise_floor = 1.0`` does)
"""

from __future__ import annotations

import sys
from dataclasses import replace

from experiments.searchback_regular_study import CURRENT, run_study

SETTINGS = {"current": CURRENT, "gate1.4": replace(CURRENT, searchback_noise_floor=1.0),
            "gate_regular1.4": replace(CURRENT, searchback_noise_floor=1.0, searchback_regular_rr=True)}
CANDIDATES = ("gate1.4", "gate_regular1.4")


def main(argv=None) -> int:
    return run_study(SETTINGS, CANDIDATES, "searchback_noise_gate", __doc__.splitlines()[0], argv)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
