"""A built wheel holds every file arcos/ reads at run time, not only its Python modules.

This builds a real wheel (pip, with build isolation, so the `setuptools>=77` that
pyproject.toml requires is installed from the configured index; about 5 s) from a copy of
the source tree and compares its non-Python files with those under arcos/. A data file
the `[tool.setuptools.package-data]` globs miss (a domain's second REST document, say)
would be absent from an installed server, whose REST routes would then fail to load.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).parent.parent


def data_files_in_the_source() -> set[str]:
    return {
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / "arcos").rglob("*")
        if path.is_file() and path.suffix not in {".py", ".pyc"}
        and "__pycache__" not in path.parts
    }


def test_the_source_has_the_data_files_this_test_is_about():
    files = data_files_in_the_source()
    assert {"arcos/py.typed", "arcos/evidence/rest.graphql",
            "arcos/community/benchmarks_rest.graphql", "arcos/migrations/baseline_sqlite.sql",
            "arcos/migrations/baseline_postgres.sql"} <= files


def test_a_built_wheel_ships_every_data_file_under_arcos(tmp_path: Path):
    source = tmp_path / "src"
    source.mkdir()
    # A copy, so the build's build/ and *.egg-info never land in the checkout.
    shutil.copytree(ROOT / "arcos", source / "arcos",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    out = tmp_path / "dist"
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out),
         str(source)],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    (wheel,) = out.glob("arcos-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        shipped = {name for name in archive.namelist() if name.startswith("arcos/")}
    missing = data_files_in_the_source() - shipped
    assert not missing, f"data files the wheel leaves out: {sorted(missing)}"
    assert "arcos/cli.py" in shipped
    # The migrations are modules of a package (arcos/migrations/), found by listing it.
    assert {"arcos/migrations/__init__.py", "arcos/migrations/0001_initial.py"} <= shipped
