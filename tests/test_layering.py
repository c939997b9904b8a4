"""The core's layers: serving never imports training code, preprocessing needs no torch, nothing imports streamlit."""

import subprocess
import sys
from pathlib import Path

import pytest


def _modules_after_import(module: str) -> set[str]:
    code = f"import sys, {module}; print('\\n'.join(sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


@pytest.mark.parametrize("module", ["fusion_core.inference", "fusion_core.explain", "fusion_core.latents"])
def test_serving_never_imports_training_code(module):
    loaded = _modules_after_import(module)
    assert not {m for m in loaded if m.startswith("fusion_core.training")}


def test_preprocess_needs_no_torch():
    assert "torch" not in _modules_after_import("fusion_core.preprocess")


def test_fusion_core_and_every_subpackage_import_without_streamlit():
    root = Path(__file__).resolve().parents[1] / "fusion_core"
    packages = ["fusion_core"] + [f"fusion_core.{p.parent.name}" for p in sorted(root.glob("*/__init__.py"))]
    code = (
        "import importlib, sys\n"
        f"for name in {packages!r}:\n"
        "    importlib.import_module(name)\n"
        "    if 'streamlit' in sys.modules: print(name); break\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert len(packages) > 10
    assert out.stdout.strip() == "", f"importing {out.stdout.strip()} imported streamlit"
