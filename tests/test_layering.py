"""The core's layers: serving never imports training code, preprocessing needs no torch."""

import subprocess
import sys

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
