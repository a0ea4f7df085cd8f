"""The import direction of ARCHITECTURE.md holds, and its checks catch a violation.

``lint-imports`` (contracts in pyproject.toml) runs in ``make test``; these tests run
it against a copy of the tree with one deliberate violation each, so a contract
that stopped matching anything would be noticed, and check what the contracts
cannot say: only ``kiosk.ui`` imports Kivy directly.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("core", "devices", "sync", "server", "kiosk")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _copy_tree(dest: Path) -> None:
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package,
            dest / package,
            ignore=lambda _dir, names: [
                n for n in names if not (n.endswith(".py") or "." not in n) or n == "__pycache__"
            ],
        )
    shutil.copy(ROOT / "pyproject.toml", dest / "pyproject.toml")


def _lint(tree: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_tree_keeps_every_contract(tmp_path: Path) -> None:
    _copy_tree(tmp_path)
    run = _lint(tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "BROKEN" not in run.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("core/violation.py", "import kiosk.flows\n", "core is the bottom package"),
        ("server/violation.py", "from core import wire\nimport sync.store\n", "never on each"),
        ("devices/violation.py", "import kiosk.config\n", "never import the kiosk app"),
        ("kiosk/flows/violation.py", "import kivy.clock\n", "flows are plain Python"),
        ("kiosk/flows/violation2.py", "import kiosk.ui.app\n", "flows are plain Python"),
        ("sync/effects_back.py", "import sync.store\n", "no import circles"),
        ("kiosk/ui/violation.py", "import tests.ui.pilot\n", "never import test or benchmark"),
    ],
)
def test_a_deliberate_violation_breaks_the_build(
    tmp_path: Path, module: str, line: str, contract: str
) -> None:
    _copy_tree(tmp_path)
    path = tmp_path / module
    path.write_text(line)
    if module == "sync/effects_back.py":
        # sync.store imports sync.effects; make effects import the store back.
        effects = tmp_path / "sync" / "effects.py"
        effects.write_text(effects.read_text() + "\nimport sync.store  # noqa\n")
    run = _lint(tmp_path)
    assert run.returncode != 0, run.stdout
    broken = run.stdout.split("Broken contracts", 1)[-1]
    assert contract in broken, run.stdout


def test_only_kiosk_ui_imports_kivy() -> None:
    graph = grimp.build_graph(*PACKAGES, include_external_packages=True, cache_dir=None)
    importers = graph.find_modules_that_directly_import("kivy")
    assert importers, "grimp found no Kivy importer at all: the check would pass vacuously"
    outside = sorted(m for m in importers if not m.startswith("kiosk.ui"))
    assert outside == [], f"only kiosk.ui may import Kivy; also: {outside}"
