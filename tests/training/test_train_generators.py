"""Two-step runs of the paired generators' configs (synthesis U-Net, flow-matching refiner) on a tiny cohort."""

import json

import pytest
import torch

from fusion_core.models.unet import flip_averaged
from fusion_core.training import load_model_dir, load_train_config, train

ENC = {"image_size": 32, "base_channels": 8, "n_down": 2, "max_channels": 16}


def generator_config(task: str, cache_dir, **extra) -> dict:
    synthesis = {"encoder": ENC, "source": "MR", "target": "CT", "mr_weightings": ["T1"]}
    model = synthesis if task == "synthesis" else {"synthesis": synthesis, "base_channels": 8, "max_channels": 16}
    data = {
        "n_subjects": 4,
        "phantom_options": {"size": 32},
        "image_size": 32,
        "slice_step": 4,
        "cache_dir": str(cache_dir),
        "split_fractions": [0.5, 0.5, 0.0],
    }
    common = {"epochs": 1, "batch_size": 4, "max_steps": 2, "patience": 0, "num_threads": 1}
    return {"name": f"tiny-{task}", "task": task, "model": model, "data": data, **common, **extra}


@pytest.fixture(scope="module")
def trained_unet(tmp_path_factory, cohort_cache):
    root = tmp_path_factory.mktemp("synthesis")
    path = root / "synthesis.json"
    path.write_text(json.dumps(generator_config("synthesis", cohort_cache)))
    result = train(load_train_config(path), root / "out", progress=False)
    return root / "out", result


def test_two_step_synthesis_run(trained_unet):
    out, result = trained_unet
    assert result.steps == 2 and "val_mae" in result.best
    card = json.loads((out / "model_card.json").read_text())
    assert card["task"] == "synthesis" and card["inputs"] == ["MR-T1"] and card["outputs"] == ["CT"]
    assert load_model_dir(out).config.target == "CT"


def test_two_step_diffusion_run_starts_from_the_unet(trained_unet, tmp_path, cohort_cache):
    unet_dir, _ = trained_unet
    path = tmp_path / "diffusion.json"
    path.write_text(json.dumps(generator_config("diffusion", cohort_cache, init_from=[str(unet_dir)])))
    result = train(load_train_config(path), tmp_path / "out", progress=False)
    assert result.steps == 2 and "val_flow" in result.best
    refiner, unet = load_model_dir(tmp_path / "out"), load_model_dir(unet_dir)
    for name, tensor in unet.unet.state_dict().items():  # the frozen copy is the U-Net, untouched by training
        assert torch.equal(refiner.unet.state_dict()[name], tensor), name
    card = json.loads((tmp_path / "out" / "model_card.json").read_text())
    assert card["outputs"] == ["CT"] and card["n_initialised_tensors"] == len(unet.state_dict())


def test_generator_config_checks_weightings(tmp_path, cohort_cache):
    config = generator_config("synthesis", cohort_cache)
    config["data"]["mr_weightings"] = ["T1", "T2"]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(config))
    with pytest.raises(ValueError, match="mr_weightings"):
        load_train_config(path)


def test_two_step_runs_of_the_shipped_recipe_2_5_d_and_a_mirrored_refiner_base(tmp_path, cohort_cache):
    """The shipped synth-unet is 2.5-D and the refiner mirror-averages its frozen copy: both train and chain."""
    slab = {"encoder": {**ENC, "in_channels": 3}}

    def write(task: str, **extra) -> object:
        config = generator_config(task, cohort_cache, **extra)
        config["data"]["neighbours"] = 1
        synthesis = config["model"] if task == "synthesis" else config["model"]["synthesis"]
        synthesis.update(slab, flip_average=True)
        path = tmp_path / f"{task}.json"
        path.write_text(json.dumps(config))
        return load_train_config(path)

    unet_result = train(write("synthesis"), tmp_path / "unet", progress=False)
    result = train(write("diffusion", init_from=[str(tmp_path / "unet")]), tmp_path / "refiner", progress=False)
    assert unet_result.steps == result.steps == 2
    refiner = load_model_dir(tmp_path / "refiner")
    assert refiner.config.synthesis.flip_average and refiner.config.synthesis.source_channels == 3
    x = torch.randn(2, 3, 32, 32)
    with torch.inference_mode():
        torch.testing.assert_close(refiner.base(x), flip_averaged(refiner.unet, x))
        assert refiner.sample(x, samples=2, generator=torch.Generator().manual_seed(0)).shape == (2, 2, 1, 32, 32)
