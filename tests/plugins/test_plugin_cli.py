"""`arcos plugins run`: the registration check and one sandboxed run, locally."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import REPO_ROOT

EXAMPLES = REPO_ROOT / "examples" / "plugins"


def run(*arguments: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    return subprocess.run([sys.executable, "-m", "arcos", "plugins", "run", *arguments],
                          capture_output=True, text=True, timeout=120, env=env, cwd=cwd,
                          check=False)


def test_an_example_runs_with_its_manifest_beside_it(tmp_path: Path):
    given = {"evidence": [{"type": "coverage_report", "data": {"line_rate": 0.9}}]}
    done = run(str(EXAMPLES / "coverage_gate.py"), "--input", json.dumps(given), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["status"] == "succeeded"
    assert {"name": "coverage.gate_passed", "value": 1} in report["result"]


def test_a_refused_plugin_lists_its_problems_and_runs_nothing(tmp_path: Path):
    (tmp_path / "bad.py").write_text("import os\n\ndef run():\n    return os.getcwd()\n")
    (tmp_path / "bad.manifest.json").write_text(json.dumps({
        "id": "acme.bad", "name": "Bad", "version": "1.0.0", "type": "metric",
        "entry_point": "run"}))
    done = run(str(tmp_path / "bad.py"), cwd=tmp_path)
    assert done.returncode == 1
    report = json.loads(done.stdout)
    assert report["status"] == "refused"
    assert report["problems"][0]["line"] == 1 and "os" in report["problems"][0]["message"]


def test_unusable_input_says_what_to_change(tmp_path: Path):
    done = run(str(EXAMPLES / "coverage_gate.py"), "--input", "[1]", cwd=tmp_path)
    assert done.returncode == 2 and "JSON object" in done.stderr
    missing = run(str(tmp_path / "none.py"), cwd=tmp_path)
    assert missing.returncode == 2 and "cannot read the plugin" in missing.stderr
