"""benchmarks/bench_roc.py: its core on synthetic scores files, and its refusal without any."""

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from fusion_core.evaluation import independence_bound

PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_roc.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_roc", PATH)
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_roc"] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


def test_panel_from_synthetic_scores(bench, tmp_path):
    dirs = bench.write_synthetic_models(tmp_path, n_subjects=120, seed=1)
    panel = bench.draw_panel(dirs, n_boot=100)
    assert len(panel.summaries) == 5  # clf-ct [CT], clf-mr [MR-T1], clf-early [3 subsets]
    best = bench.unimodal_aucs(panel.summaries)
    assert set(best) == {"CT", "MR-T1"} and panel.bound_inputs == ("CT", "MR-T1")
    assert panel.bound_auc == pytest.approx(independence_bound(best["CT"], best["MR-T1"]))
    assert len(panel.figure.data) == 5 + 2  # one trace per curve, the bound, chance
    fused = next(s for s in panel.summaries if s.subset == "CT+MR-T1")
    assert fused.roc.auc.auc > max(best.values())  # complementary lesions: fusing helps


def test_baseline_gives_the_same_aucs(bench, tmp_path):
    dirs = bench.write_synthetic_models(tmp_path, n_subjects=60)
    new = bench.draw_panel(dirs, n_boot=50)
    old = bench.draw_panel(dirs, n_boot=50, summarise=bench._loop_summaries)
    np.testing.assert_allclose([s.roc.auc.auc for s in new.summaries], [s.roc.auc.auc for s in old.summaries])


def test_main_exits_2_without_scores_files(bench, tmp_path, capsys):
    out = tmp_path / "r.json"
    assert bench.main(["--assets", str(tmp_path), "--out", str(out), "--no-phantom"]) == 2
    assert "no scores files found" in capsys.readouterr().err
    assert not out.exists()


def test_main_measures_synthetic_files(bench, tmp_path):
    out = tmp_path / "r.json"
    args = ["--synthetic", "60", "--repeats", "1", "--n-boot", "20", "--out", str(out), "--no-phantom"]
    assert bench.main(args) == 0
    result = json.loads(out.read_text())
    assert result["synthetic"] and result["curves"] == 5
    assert result["method"]["median_s"] > 0 and result["baseline"]["median_s"] > 0
