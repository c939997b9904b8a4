"""Training on a cohort folder: the phantom written to disk trains like the phantom in memory."""

from __future__ import annotations

import json

import numpy as np
import pytest
from safetensors.torch import load_file

from fusion_core.training.__main__ import main as train_main
from fusion_core.training.slice_table import SliceDataConfig, build_slice_table
from tests.training.conftest import tiny_config


@pytest.fixture(scope="module")
def phantom_folder(tmp_path_factory):
    """The tiny training cohort (6 subjects, size 32, seed 0) written by the phantom CLI."""
    from fusion_core.data.export import cli

    root = tmp_path_factory.mktemp("folder") / "cohort"
    assert cli(["--out", str(root), "--n", "6", "--size", "32", "--seed", "0"]) == 0
    return root


def test_folder_slices_match_the_in_memory_phantom(phantom_folder, tmp_path):
    data = tiny_config("classifier", tmp_path)["data"]
    memory = build_slice_table(SliceDataConfig(**data))
    files = build_slice_table(SliceDataConfig(**data, cohort_dir=str(phantom_folder)))
    for key in ("subject_id", "slice", "label", "split", "subject_label", "site", "lesion_type", "has"):
        np.testing.assert_array_equal(files[key], memory[key], err_msg=key)
    for key in ("CT", "MR"):
        np.testing.assert_allclose(files[key], memory[key], atol=2e-3, err_msg=key)


def test_cli_trains_on_a_folder_like_on_the_phantom(phantom_folder, tmp_path):
    config = tmp_path / "clf.json"
    config.write_text(json.dumps(tiny_config("classifier", tmp_path / "cache")))
    common = ["--config", str(config), "--no-progress", "--seed", "0"]
    assert train_main([*common, "--out", str(tmp_path / "memory")]) == 0
    assert train_main([*common, "--out", str(tmp_path / "files"), "--cohort", str(phantom_folder)]) == 0
    memory, files = (load_file(str(tmp_path / d / "model.safetensors")) for d in ("memory", "files"))
    assert memory.keys() == files.keys()
    worst = max(float((memory[k].float() - files[k].float()).abs().max()) for k in memory)
    assert worst < 1e-3
    card = json.loads((tmp_path / "files" / "model_card.json").read_text())
    assert card["cohort"]["folder"] == str(phantom_folder.resolve())
    assert len(card["cohort"]["digest"]) == 16 and card["cohort"]["spec"] == "folder:cohort"
    assert "--cohort" in card["command"]


def test_folder_content_decides_the_cache_key(phantom_folder, tmp_path):
    config = SliceDataConfig(cohort_dir=str(phantom_folder), cache_dir=str(tmp_path))
    key = config.cache_key()
    (phantom_folder / "cohort.csv").write_text((phantom_folder / "cohort.csv").read_text() + "\n")
    assert SliceDataConfig(cohort_dir=str(phantom_folder), cache_dir=str(tmp_path)).cache_key() != key


def test_init_accepts_a_shipped_model_name():
    from fusion_core.inference import ASSETS_DIR
    from fusion_core.training.__main__ import checkpoint_dir, parse_args

    assert checkpoint_dir("clf-early") == str(ASSETS_DIR / "clf-early")
    args = parse_args(["--config", "c.json", "--cohort", "DIR", "--init", "clf-early"])
    assert args.cohort == "DIR" and args.init == ["clf-early"]


@pytest.mark.slow
def test_ddp_trains_on_a_cohort_folder(phantom_folder, tmp_path):
    import torch.multiprocessing as mp

    from tests.training.test_ddp import free_port, worker

    config = tiny_config("classifier", tmp_path / "cache")
    config["data"]["cohort_dir"] = str(phantom_folder)
    path = tmp_path / "clf.json"
    path.write_text(json.dumps(config))
    build_slice_table(SliceDataConfig(**config["data"]))  # rank 0 would build it; built once before spawning
    sums = mp.Manager().dict()
    mp.spawn(worker, args=(2, free_port(), str(path), str(tmp_path / "out"), sums), nprocs=2, join=True)
    assert sums[0][0] == "DistributedDataParallel" and sums[0][1] == pytest.approx(sums[1][1], rel=1e-6)
    assert json.loads((tmp_path / "out" / "model_card.json").read_text())["cohort"]["folder"]
