"""The light teaching demos stay light: no torch behind the closed forms, the toy or the phantom demo."""

import subprocess
import sys


def test_light_demos_import_no_torch():
    modules = "fusion_core.teaching, fusion_core.teaching.xor, fusion_core.teaching.normalisation"
    code = f"import sys, {modules}; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
