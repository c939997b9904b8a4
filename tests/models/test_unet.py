"""Synthesis U-Net and flow-matching refiner: eval-mode shapes, save/load, seeded sampling."""

import pytest
import torch

from fusion_core.checkpoints import load_model_dir, save_model
from fusion_core.models import DiffusionConfig, DiffusionRefiner, SynthesisConfig, SynthesisUNet, build_model


@pytest.fixture
def synthesis_config(tiny_encoder) -> SynthesisConfig:
    return SynthesisConfig(encoder=tiny_encoder, mr_weightings=("T1", "T2"))


@pytest.fixture
def refiner(synthesis_config) -> DiffusionRefiner:
    torch.manual_seed(0)
    return DiffusionRefiner(
        DiffusionConfig(synthesis=synthesis_config, base_channels=8, max_channels=16, steps=2)
    ).eval()


def test_unet_shapes_in_eval_mode(synthesis_config):
    net = SynthesisUNet(synthesis_config).eval()
    with torch.inference_mode():
        assert net(torch.randn(3, 2, 32, 32)).shape == (3, 1, 32, 32)
    assert net.modalities == ("MR",) and net.outputs == ("CT",)
    ct2mr = SynthesisUNet(SynthesisConfig(encoder=synthesis_config.encoder, source="CT", target="MR"))
    assert ct2mr.modalities == ("CT",) and ct2mr.outputs == ("MR",) and ct2mr.config.input_names == ["CT"]


def test_2_5_d_unet_reads_neighbours_per_weighting(tiny_encoder):
    import dataclasses

    config = SynthesisConfig(encoder=dataclasses.replace(tiny_encoder, in_channels=3))
    assert config.source_channels == 6
    assert SynthesisUNet(config).eval()(torch.randn(2, 6, 32, 32)).shape == (2, 1, 32, 32)


def test_bad_synthesis_config():
    with pytest.raises(ValueError, match="source and target"):
        SynthesisConfig(source="CT", target="CT")
    with pytest.raises(ValueError, match="steps"):
        DiffusionConfig(steps=17)


@pytest.mark.parametrize("task", ["synthesis", "diffusion"])
def test_save_load_round_trip(task, synthesis_config, tmp_path):
    torch.manual_seed(1)
    config = synthesis_config if task == "synthesis" else DiffusionConfig(synthesis=synthesis_config, base_channels=8)
    net = build_model(task, config).eval()
    save_model(net, tmp_path)
    again = load_model_dir(tmp_path)
    assert again.config == net.config and not again.training
    x = torch.randn(2, 2, 32, 32)
    with torch.inference_mode():
        if task == "synthesis":
            assert torch.equal(net(x), again(x))
        else:
            draw = [m.sample(x, samples=2, generator=torch.Generator().manual_seed(0)) for m in (net, again)]
            assert torch.equal(*draw)


def test_refiner_unet_is_frozen(refiner):
    assert not any(p.requires_grad for p in refiner.unet.parameters())
    assert all(p.requires_grad for p in refiner.denoiser.parameters())


def test_sampler_is_deterministic_under_a_seed(refiner):
    x = torch.randn(2, 2, 32, 32)
    with torch.inference_mode():
        a = refiner.sample(x, samples=3, generator=torch.Generator().manual_seed(7))
        b = refiner.sample(x, samples=3, generator=torch.Generator().manual_seed(7))
        c = refiner.sample(x, samples=3, generator=torch.Generator().manual_seed(8))
    assert a.shape == (3, 2, 1, 32, 32) and torch.equal(a, b) and not torch.equal(a, c)


def test_more_samples_shrink_the_spread_of_the_mean(refiner):
    x = torch.randn(1, 2, 32, 32)

    def spread_of_mean(k: int) -> float:
        with torch.inference_mode():
            means = [refiner.sample(x, samples=k, generator=torch.Generator().manual_seed(s)).mean(0) for s in range(4)]
        return float(torch.stack(means).std(0).mean())

    assert spread_of_mean(6) < 0.7 * spread_of_mean(1)


def test_refiner_base_is_mirror_averaged_when_its_synthesis_config_says_so(refiner):
    import dataclasses

    from fusion_core.models.unet import flip_averaged

    mirrored_config = dataclasses.replace(
        refiner.config, synthesis=dataclasses.replace(refiner.config.synthesis, flip_average=True)
    )
    mirrored = DiffusionRefiner(mirrored_config).eval()
    mirrored.load_state_dict(refiner.state_dict())
    x = torch.randn(2, 2, 32, 32)
    with torch.inference_mode():
        assert torch.equal(refiner.base(x), refiner.unet(x))
        torch.testing.assert_close(mirrored.base(x), flip_averaged(refiner.unet, x))
        assert not torch.allclose(mirrored.base(x), refiner.base(x))  # a random U-Net is not mirror-symmetric
