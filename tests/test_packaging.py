"""``pip install .`` ships what the app needs: a wheel built from the checkout holds the engine, every
shipped model card and asset, the app with its pages, and the four console scripts."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = {
    "fusion-explorer": "fusion_explorer_app.ui.serve:main",
    "fusion-pipeline": "fusion_core.pipeline.__main__:main",
    "fusion-train": "fusion_core.training.__main__:main",
    "fusion-phantom": "fusion_core.data.export:cli",
}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> zipfile.ZipFile:
    source, out = tmp_path_factory.mktemp("source"), tmp_path_factory.mktemp("wheel")
    for name in _tracked("."):  # a clean copy: setuptools' in-tree build/ could hold stale files
        if (ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    command = [sys.executable, "-m", "pip", "wheel", str(source), "-w", str(out), "--no-deps", "-q"]
    subprocess.run(command, check=True, capture_output=True, text=True, timeout=600)
    (path,) = out.glob("fusion_explorer-*.whl")
    return zipfile.ZipFile(path)


def _tracked(folder: str) -> list[str]:
    """Files under ``folder`` that git tracks or would (untracked, not ignored)."""
    command = ["git", "ls-files", "--cached", "--others", "--exclude-standard", folder]
    out = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True)
    return out.stdout.split()


@pytest.mark.slow
def test_wheel_holds_engine_assets_app_and_scripts(wheel):
    names = set(wheel.namelist())
    assets = _tracked("assets")
    assert any(a.endswith("/model_card.json") for a in assets)
    assert {f"fusion_core/{a}" for a in assets} <= names  # every shipped asset, model cards included
    engine = {p.relative_to(ROOT).as_posix() for p in (ROOT / "fusion_core").rglob("*.py")}
    assert engine <= names
    app = ["app.py", ".streamlit/config.toml", *_tracked("pages"), *_tracked("ui")]
    assert {f"fusion_explorer_app/{a}" for a in app} <= names
    assert not {n for n in names if n.startswith(("tests/", "benchmarks/", "fusion_explorer_app/setup"))}
    (entry_points,) = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
    text = wheel.read(entry_points).decode()
    assert all(f"{script} = {target}" in text for script, target in SCRIPTS.items())
    (metadata,) = [n for n in names if n.endswith(".dist-info/METADATA")]
    assert "Requires-Dist: torch<2.14,>=2.13" in wheel.read(metadata).decode()
