"""The README's "From Python" example runs as written, in a fresh process, on the bundled model and excerpt."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
OUTPUT = '"208_report.pdf"'


def read_python_example() -> str:
    """The first ```python block under the README's "## From Python" heading."""
    text = (REPO_ROOT / "README.md").read_text()
    section = text.split("\n## From Python\n", 1)[1].split("\n## ", 1)[0]
    return re.search(r"```python\n(.*?)```", section, re.DOTALL).group(1)


def test_the_readme_python_example_analyses_the_excerpt(tmp_path):
    code = read_python_example()
    assert OUTPUT in code
    report = tmp_path / "208_report.pdf"
    code = code.replace(OUTPUT, repr(str(report)))  # the one file it writes goes to the test's folder
    code += "\nimport json; print(json.dumps({'n_beats': len(beats), 'summary_beats': summary['n_beats'], " \
            "'classes': sorted(set(beats['class'])), 'kinds': sorted({e['kind'] for e in events})}))\n"
    env = os.environ | {"TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": str(REPO_ROOT)}
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    facts = json.loads(done.stdout.strip().splitlines()[-1])
    # Excerpt 208 (MIT-BIH, 5 minutes): frequent multiform PVCs, couplets and fusion beats.
    assert facts["n_beats"] == facts["summary_beats"] > 300
    assert {"N", "V"} <= set(facts["classes"])
    assert "ventricular_couplet" in facts["kinds"]
    assert report.read_bytes().startswith(b"%PDF")
