"""Scan: a minimum V probability on DS1 out-of-fold predictions (EXPERIMENTS.md, observation after row G).

A beat whose top class is V with probability below ``t`` takes its second class instead. Uses the
out-of-fold DS1 probabilities cached by ``experiments/s_rule_study.py`` (run it first); DS2 is not read.

Usage: PYTHONPATH=. .venv/bin/python experiments/v_threshold_scan.py [--config configs/bundled.toml]
"""

from __future__ import annotations

from experiments.s_rule_study import load_oof, load_study_inputs
from pipeline.scoring import count_classes

V = 2


def main(argv=None) -> int:
    config, data, _ = load_study_inputs(__doc__.splitlines()[0], argv)
    oof = load_oof(config, data)
    for t in (0.0, 0.5, 0.6, 0.7, 0.8, 0.9):
        p = oof.copy()
        p[(p.argmax(axis=1) == V) & (p[:, V] < t), V] = -1.0
        c = count_classes(data.labels, p.argmax(axis=1))
        print(f"t={t:.1f}: V Se {100 * c.sensitivity(V):.1f} +P {100 * c.positive_predictivity(V):.1f} "
              f"F1 {c.f1(V):.3f}; S F1 {c.f1(1):.3f}; score {(c.f1(V) + c.f1(1)) / 2:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
