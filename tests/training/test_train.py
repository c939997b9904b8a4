import csv
import dataclasses
import itertools
import json
import math

import pytest
import torch

from fusion_core.training import load_model_dir, load_train_config, train
from fusion_core.training.__main__ import main


@pytest.mark.parametrize("task", ["vae", "classifier", "translator"])
def test_two_step_run_writes_checkpoint(task, write_config, tmp_path):
    out = tmp_path / "out"
    assert main(["--config", str(write_config(task)), "--out", str(out), "--no-progress"]) == 0
    for name in (
        "model.safetensors",
        "config.json",
        "trainer.json",
        "metrics.csv",
        "metrics.json",
        "model_card.json",
        "state.pt",
    ):
        assert (out / name).is_file(), name
    card = json.loads((out / "model_card.json").read_text())
    assert card["task"] == task and card["command"].startswith("python -m fusion_core.training --config")
    assert card["train_seconds"] > 0
    model = load_model_dir(out)
    assert not model.training
    rows = list(csv.DictReader((out / "metrics.csv").read_text().splitlines()))
    assert rows and int(rows[0]["steps"]) == 2


def test_resume_continues_from_state(write_config, tmp_path):
    config = load_train_config(write_config("classifier"), epochs=2, max_steps=0)
    first = train(config.__class__(**{**config.__dict__, "epochs": 1}), tmp_path / "a", progress=False)
    resumed = train(config, tmp_path / "a", resume=True, progress=False)
    assert [r["epoch"] for r in resumed.history] == [1, 2]
    assert json.dumps(resumed.history[0]) == json.dumps(first.history[0])  # NaN-safe (tiny val split)


@pytest.mark.parametrize("task", ["vae", "classifier"])
def test_two_step_run_in_2_5_d(task, write_config, tmp_path):
    path = write_config(task)
    cfg = json.loads(path.read_text())
    cfg["data"]["neighbours"] = 1
    cfg["model"]["encoder"] = {**cfg["model"]["encoder"], "in_channels": 3}
    path.write_text(json.dumps(cfg))
    result = train(load_train_config(path), tmp_path / "slab", progress=False)
    assert result.steps == 2
    assert load_model_dir(tmp_path / "slab").config.encoder.in_channels == 3


def test_neighbours_must_match_input_channels(write_config):
    with pytest.raises(ValueError, match="in_channels 1 does not fit data neighbours 2"):
        load_train_config(write_config("classifier"), data={"neighbours": 2})
    with pytest.raises(ValueError, match="2-D only"):
        load_train_config(write_config("translator"), data={"neighbours": 1, "paired": False})


def test_keep_last_ships_the_final_epoch(write_config, tmp_path):
    config = load_train_config(write_config("translator", keep="last"), epochs=3, max_steps=0)
    result = train(config, tmp_path / "last", progress=False)
    assert result.best["epoch"] == 3 == len(result.history)
    with pytest.raises(ValueError, match="keep must be"):
        load_train_config(write_config("translator", keep="middle"))


def test_same_seed_same_weights(write_config, tmp_path):
    config = load_train_config(write_config("classifier"))
    train(config, tmp_path / "a", progress=False)
    train(config, tmp_path / "b", progress=False)
    a, b = load_model_dir(tmp_path / "a"), load_model_dir(tmp_path / "b")
    assert all(torch.equal(p, q) for p, q in zip(a.state_dict().values(), b.state_dict().values(), strict=True))


def test_bad_config_messages(tmp_path, write_config):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_train_config(tmp_path / "nope.json")
    with pytest.raises(ValueError, match="unknown Task 'gan'"):
        load_train_config(write_config("vae"), task="gan")


def test_random_flip_flips_images_together_not_labels():
    from fusion_core.training.steps import random_flip

    x = torch.arange(8.0).view(1, 1, 2, 4).repeat(3, 1, 1, 1)
    batch = {"CT": x, "MR": x + 100, "head": x * 0, "label": torch.tensor([1.0, 0.0, 1.0])}
    torch.manual_seed(0)
    out = random_flip(batch, 1.0)
    assert torch.equal(out["CT"], x.flip(-1)) and torch.equal(out["MR"], (x + 100).flip(-1))
    assert torch.equal(out["label"], batch["label"])
    assert random_flip(batch, 0.0) is batch


def test_init_from_copies_matching_tensors(tmp_path):
    from fusion_core.models import ClassifierConfig, EncoderConfig, FusionClassifier
    from fusion_core.training.checkpoint import CheckpointError, init_from_checkpoints, save_model

    enc = EncoderConfig(image_size=32, base_channels=8, n_down=2, max_channels=16)
    torch.manual_seed(0)
    ct_only = FusionClassifier(ClassifierConfig(strategy="ct", encoder=enc, embed_dim=8))
    save_model(ct_only, tmp_path / "ct")
    late = FusionClassifier(ClassifierConfig(strategy="late", encoder=enc, embed_dim=8))
    names = init_from_checkpoints(late, [str(tmp_path / "ct")])
    assert "encoders.CT.body.0.0.weight" in names and "heads.CT.out.weight" in names
    assert not any(n.startswith(("encoders.MR", "heads.MR")) for n in names)
    assert torch.equal(late.encoders["CT"].body[0][0].weight, ct_only.encoders["CT"].body[0][0].weight)
    with pytest.raises(CheckpointError, match=r"no model\.safetensors"):
        init_from_checkpoints(late, [str(tmp_path / "nope")])


def test_train_all_lists_every_strategy_and_rejects_unknown(capsys):
    from fusion_core.models import Strategy
    from fusion_core.training.train_all import SHIPPED
    from fusion_core.training.train_all import main as train_all_main

    assert {f"clf-{s.value}" for s in Strategy} <= set(SHIPPED)
    assert SHIPPED.index("clf-ct") < SHIPPED.index("clf-poe")  # specialists first: fusion models init from them
    with pytest.raises(SystemExit):
        train_all_main(["--only", "clf-magic"])
    assert "unknown model" in capsys.readouterr().err


def test_shipped_configs_load():
    from pathlib import Path

    from fusion_core.training.train_all import SHIPPED

    root = Path(__file__).resolve().parents[2] / "configs"
    for name in SHIPPED:
        config = load_train_config(root / f"{name}.json")
        assert config.name == name
        config.model_config()
        config.data_config()
        config.loss_weights()


@pytest.mark.parametrize(
    ("task", "model", "loss"),
    [
        ("vae", {"latent_channels": 2, "skips": True}, {"bone_weight": 3.0}),
        ("translator", {}, {"paired": 5.0, "structure": 2.0}),
    ],
)
def test_two_step_run_of_the_generators_on_patches(task, model, loss, write_config, tmp_path):
    """The shipped generator configs' options: U-HVED skips, bone weight, paired CycleGAN, training patches."""
    config = load_train_config(write_config(task, patch_size=16, val_stride=2, loss=loss))
    config = dataclasses.replace(config, model={**config.model, **model}, data={**config.data, "paired": True})
    result = train(config, tmp_path / "out", progress=False)
    assert result.steps == 2
    assert all(math.isfinite(v) for v in result.best.values())
    if task == "translator":
        assert "train_paired" in result.history[0]
    net = load_model_dir(tmp_path / "out")
    assert getattr(net.config, "skips", False) == (task == "vae")


def test_patches_are_refused_for_classifiers(write_config):
    with pytest.raises(ValueError, match="patch_size"):
        load_train_config(write_config("classifier", patch_size=16))


def test_random_patch_cuts_every_image_at_one_place():
    from fusion_core.training.steps import random_patch

    batch = {
        "CT": torch.arange(16.0).view(1, 1, 4, 4),
        "MR": torch.arange(16.0).view(1, 1, 4, 4),
        "has": torch.ones(1, 2),
    }
    out = random_patch(batch, 2)
    assert out["CT"].shape == (1, 1, 2, 2) and torch.equal(out["CT"], out["MR"]) and out["has"].shape == (1, 2)
    assert random_patch(batch, 0) is batch


def test_cosine_schedule_warms_up_decays_to_its_floor_and_constant_stays_put():
    from fusion_core.training.config import TrainConfig, scheduled_lr

    cosine = TrainConfig(name="t", task="classifier", lr=1e-3, lr_schedule="cosine", warmup_steps=10)
    lrs = [scheduled_lr(cosine, s, 110) for s in range(110)]
    assert lrs[0] == pytest.approx(1e-4) and lrs[9] == pytest.approx(1e-3)
    assert all(a >= b for a, b in itertools.pairwise(lrs[9:]))  # monotone after the warm-up
    assert lrs[-1] == pytest.approx(1e-5, rel=0.05) and scheduled_lr(cosine, 500, 110) == pytest.approx(1e-5)
    constant = TrainConfig(name="t", task="classifier", lr=1e-3)
    assert {scheduled_lr(constant, s, 110) for s in (0, 50, 109)} == {1e-3}
    with pytest.raises(ValueError, match="lr_schedule"):
        TrainConfig(name="t", task="classifier", lr_schedule="step")


def test_the_trainer_follows_the_schedule_and_records_it(write_config, tmp_path):
    config = load_train_config(write_config("classifier"), max_steps=4, lr_schedule="cosine", warmup_steps=0)
    result = train(config, tmp_path / "out", progress=False)
    # four planned steps: the last epoch's rate is the one of step 3 of 4, well below the base rate
    assert result.history[-1]["lr"] < 0.5 * config.lr
