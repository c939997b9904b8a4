"""benchmarks/gpu_check.py: the no-CUDA path, the comparisons, and one model CPU against CPU."""

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest

PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "gpu_check.py"


@pytest.fixture(scope="module")
def gpu_check():
    spec = importlib.util.spec_from_file_location("gpu_check", PATH)
    module = importlib.util.module_from_spec(spec)
    sys.modules["gpu_check"] = module
    spec.loader.exec_module(module)
    return module


def test_without_cuda_it_says_so_and_exits_0(gpu_check, tmp_path, monkeypatch, capsys):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    out = tmp_path / "gpu_check.json"
    assert gpu_check.main(["--out", str(out)]) == 0
    assert "No CUDA device" in capsys.readouterr().out
    assert json.loads(out.read_text())["cuda"] is False
    out.write_text(json.dumps({"cuda": True, "all_ok": True}))  # an earlier GPU run is kept
    assert gpu_check.main(["--out", str(out)]) == 0
    assert json.loads(out.read_text())["cuda"] is True


def test_comparisons_apply_the_stated_tolerances(gpu_check):
    truth = np.zeros((2, 4, 4))
    assert gpu_check.compare("probability", 0.50, 0.51, truth)["ok"]
    assert not gpu_check.compare("probability", 0.50, 0.53, truth)["ok"]
    near = gpu_check.compare("impute_ct", truth + 100, truth + 105, truth)
    assert near["ok"] and near["mean_abs_diff_hu"] == 5 and near["max_abs_diff_hu"] == 5
    assert not gpu_check.compare("impute_ct", truth + 100, truth + 120, truth)["ok"]
    latents = np.ones((3, 8))
    assert gpu_check.compare("encode", latents, latents * 1.01, truth)["ok"]
    assert not gpu_check.compare("encode", latents, latents * 1.1, truth)["ok"]


def test_one_model_cpu_against_cpu_agrees_exactly(gpu_check):
    volumes, true_ct = gpu_check.phantom_inputs(size=64)
    assert set(gpu_check.inputs_for(["CT", "MR"], volumes)) == {"CT", "MR"}
    result = gpu_check.check_model("clf-ct", "cpu", volumes, true_ct, tall_repeats=1, repeats=1)
    assert result["ok"] and result["outputs"]["probability"]["abs_diff"] == 0.0
    assert result["slices_per_second"]["probability"]["cpu"] > 0
