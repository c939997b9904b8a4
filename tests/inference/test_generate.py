"""Volume-level generation by the synthesis U-Net and the diffusion refiner: grid, units, spread, errors."""

import numpy as np
import pytest
import torch

from fusion_core.data.phantom import make_subject
from fusion_core.inference import ModelInputError, impute, impute_with_uncertainty, list_models, read_card
from fusion_core.models import DiffusionConfig, DiffusionRefiner, EncoderConfig, SynthesisConfig, SynthesisUNet

ENC = EncoderConfig(image_size=32, base_channels=8, n_down=2, max_channels=16)


@pytest.fixture(scope="module")
def volumes():
    s = make_subject(5, size=24, label=1)
    return {"CT": s.ct, "MR-T1": s.mr_on_ct_grid("T1"), "MR-T2": s.mr_on_ct_grid("T2")}


@pytest.fixture(scope="module")
def unet():
    torch.manual_seed(0)
    return SynthesisUNet(SynthesisConfig(encoder=ENC)).eval()


@pytest.fixture(scope="module")
def refiner():
    torch.manual_seed(0)
    config = DiffusionConfig(synthesis=SynthesisConfig(encoder=ENC), base_channels=8, steps=2, samples=2)
    return DiffusionRefiner(config).eval()


def test_synthesis_ct_keeps_the_input_grid_and_hu_range(unet, volumes):
    ct = impute(unet, volumes, "CT")
    assert ct.same_grid(volumes["CT"]) and ct.modality == "CT"
    assert ct.array.dtype == np.float32 and ct.array.min() >= -1024 and ct.array.max() <= 3000


def test_ct_to_mr_model_generates_mr_from_ct(volumes):
    net = SynthesisUNet(SynthesisConfig(encoder=ENC, source="CT", target="MR", mr_weightings=("T1",))).eval()
    mr = impute(net, {"CT": volumes["CT"]}, "MR")
    assert mr.same_grid(volumes["CT"]) and mr.modality == "MR-T1" and 0 <= mr.array.min() <= mr.array.max() <= 1000
    with pytest.raises(ModelInputError, match="generates MR only"):
        impute(net, {"CT": volumes["CT"]}, "CT")


def test_refused_target_and_missing_weighting(unet, volumes):
    with pytest.raises(ModelInputError, match="generates CT only"):
        impute(unet, volumes, "MR")
    with pytest.raises(ModelInputError, match="MR-T2 is missing"):
        impute(unet, {"MR-T1": volumes["MR-T1"]}, "CT")


def test_progress_reaches_one(unet, volumes):
    seen = []
    impute(unet, volumes, "CT", batch_size=8, progress=seen.append)
    assert len(seen) == int(np.ceil(volumes["CT"].shape[0] / 8)) and seen[-1] == 1.0 and seen == sorted(seen)


def test_diffusion_mean_and_spread_on_the_input_grid(refiner, volumes):
    result = impute_with_uncertainty(refiner, volumes, "CT", samples=3, seed=1)
    assert result.samples == 3 and result.mean.same_grid(volumes["CT"]) and result.std.same_grid(volumes["CT"])
    assert (result.std.array >= 0).all() and result.std.array.max() > 0
    again = impute_with_uncertainty(refiner, volumes, "CT", samples=3, seed=1)
    assert np.array_equal(result.mean.array, again.mean.array)
    default = impute(refiner, volumes, "CT")  # the mean of the default number of samples, seed 0
    assert np.array_equal(default.array, impute_with_uncertainty(refiner, volumes, "CT", seed=0).mean.array)


def test_deterministic_models_have_no_spread(unet, volumes):
    with pytest.raises(ModelInputError, match="deterministic: no spread"):
        impute_with_uncertainty(unet, volumes, "CT")


def test_cards_state_outputs(tmp_path):
    import json

    for name, card in {
        "old-vae": {"task": "vae"},
        "syn": {"task": "synthesis", "config": {"target": "MR"}},
        "dif": {"task": "diffusion", "config": {"synthesis": {"target": "CT"}}},
        "new": {"task": "synthesis", "outputs": ["CT"]},
        "clf": {"task": "classifier"},
    }.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / "model_card.json").write_text(json.dumps(card))
    outputs = {n: read_card(tmp_path / n).outputs for n in list_models(tmp_path)}
    assert outputs == {"old-vae": ("CT", "MR"), "syn": ("MR",), "dif": ("CT",), "new": ("CT",), "clf": ()}
    assert list_models(tmp_path, task="synthesis") == ["new", "syn"]


def test_cards_state_paired_or_unpaired_training_data(tmp_path):
    import json

    for name, card in {
        "new": {"task": "synthesis", "training_data": "unpaired", "cohort": {"definition": {"paired": True}}},
        "old-paired": {"task": "synthesis", "cohort": {"definition": {"paired": True}}},
        "old-unpaired": {"task": "translator", "cohort": {"definition": {"paired": False}}},
        "unknown": {"task": "vae"},
    }.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / "model_card.json").write_text(json.dumps(card))
    found = {n: read_card(tmp_path / n).training_data for n in list_models(tmp_path)}
    assert found == {"new": "unpaired", "old-paired": "paired", "old-unpaired": "unpaired", "unknown": ""}


def test_streaming_mean_and_spread_match_numpy():
    from fusion_core.inference.generate import mean_and_spread

    rng = np.random.default_rng(3)
    samples = [rng.normal(100.0, 30.0, (4, 5, 6)).astype(np.float32) for _ in range(7)]
    expected_mean, expected_std = np.mean(samples, axis=0), np.std(samples, axis=0)
    mean, spread = mean_and_spread(s.copy() for s in samples)
    np.testing.assert_allclose(mean, expected_mean, rtol=1e-5, atol=1e-3)
    np.testing.assert_allclose(spread, expected_std, rtol=1e-4, atol=1e-3)
    one_mean, one_spread = mean_and_spread([samples[0].copy()])
    np.testing.assert_array_equal(one_mean, samples[0])
    np.testing.assert_array_equal(one_spread, 0)
    with pytest.raises(ValueError, match="no samples"):
        mean_and_spread([])


@pytest.mark.parametrize("skips", [False, True])
def test_a_vae_samples_its_posterior_for_a_spread_and_decodes_the_mean_in_impute(volumes, skips):
    from fusion_core.models import MultimodalVAE, VAEConfig

    torch.manual_seed(0)
    vae = MultimodalVAE(VAEConfig(encoder=ENC, latent_channels=3, skips=skips)).eval()
    mr = {"MR-T1": volumes["MR-T1"]}
    result = impute_with_uncertainty(vae, mr, "CT", samples=4, seed=2)
    assert result.samples == 4 and result.mean.same_grid(volumes["CT"]) and result.std.array.max() > 0
    again = impute_with_uncertainty(vae, mr, "CT", samples=4, seed=2)
    np.testing.assert_array_equal(result.std.array, again.std.array)
    assert impute_with_uncertainty(vae, mr, "CT").samples == 8  # the VAE's default number of draws
    decoded = impute(vae, mr, "CT").array  # deterministic: the posterior mean decoded, not a sample mean
    np.testing.assert_array_equal(decoded, impute(vae, mr, "CT").array)


def test_flip_averaging_is_mirror_equivariant_and_used_when_the_config_says_so(volumes):
    import dataclasses

    from fusion_core.models.unet import flip_averaged

    torch.manual_seed(0)
    plain = SynthesisUNet(SynthesisConfig(encoder=ENC)).eval()
    x = torch.randn(2, 2, 32, 32)
    with torch.inference_mode():
        averaged = flip_averaged(plain, x)
        torch.testing.assert_close(flip_averaged(plain, x.flip(-1)), averaged.flip(-1))
        assert not torch.allclose(averaged, plain(x))  # a random network is not mirror-symmetric
    mirrored = SynthesisUNet(dataclasses.replace(plain.config, flip_average=True)).eval()
    mirrored.load_state_dict(plain.state_dict())
    mr = {"MR-T1": volumes["MR-T1"], "MR-T2": volumes["MR-T2"]}
    assert not np.array_equal(impute(plain, mr, "CT").array, impute(mirrored, mr, "CT").array)


def test_spread_of_chosen_slices_only(refiner, volumes):
    n = volumes["CT"].shape[0]
    mr = {"MR-T1": volumes["MR-T1"], "MR-T2": volumes["MR-T2"]}
    some = impute_with_uncertainty(refiner, mr, "CT", seed=1, slices=[3, n - 1])
    again = impute_with_uncertainty(refiner, mr, "CT", seed=1, slices=[3, n - 1])
    whole = impute_with_uncertainty(refiner, mr, "CT", seed=1)
    sampled = np.isfinite(some.std.array).all(axis=(1, 2))
    assert sampled.tolist() == [i in (3, n - 1) for i in range(n)]
    assert some.std.same_grid(volumes["CT"]) and np.array_equal(some.std.array, again.std.array, equal_nan=True)
    # same base prediction: the means differ by the sampled residual only (scaled small)
    assert np.abs(some.mean.array[3] - whole.mean.array[3]).max() < 0.25 * np.abs(whole.mean.array[3]).max()
    with pytest.raises(ModelInputError, match="slices"):
        impute_with_uncertainty(refiner, mr, "CT", slices=[n])
