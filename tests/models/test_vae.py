import itertools

import pytest
import torch

from fusion_core.models import MultimodalVAE, VAEConfig, build_model, config_to_dict


@pytest.fixture
def vae(tiny_encoder):
    torch.manual_seed(0)
    return MultimodalVAE(VAEConfig(encoder=tiny_encoder, latent_dim=6)).eval()


def test_eval_shapes(vae, pair):
    out = vae(pair)
    assert set(out.recon) == {"CT", "MR"}
    assert out.recon["CT"].shape == (3, 1, 32, 32)
    assert out.mu.shape == out.logvar.shape == out.z.shape == (3, 6)
    assert torch.equal(out.z, out.mu)  # no sampling in eval mode
    assert out.expert_mu.shape == (3, 2, 6)


@pytest.mark.parametrize("subset", [s for r in range(3) for s in itertools.combinations(("CT", "MR"), r)])
def test_every_subset_encodes(vae, pair, subset):
    inputs = {m: pair[m] for m in subset}
    out = vae(inputs, batch_size=3)
    assert out.mask.tolist() == [[float("CT" in subset), float("MR" in subset)]] * 3
    assert out.recon["CT"].shape == (3, 1, 32, 32)
    if not subset:
        assert torch.equal(out.mu, torch.zeros(3, 6)) and torch.equal(out.logvar, torch.zeros(3, 6))
    else:
        assert not torch.equal(out.mu, torch.zeros(3, 6))


def test_mask_equals_leaving_modality_out(vae, pair):
    masked = vae(pair, torch.tensor([[0.0, 1.0]] * 3))
    absent = vae({"MR": pair["MR"]})
    assert torch.allclose(masked.mu, absent.mu, atol=1e-6)


def test_no_input_needs_batch_size(vae):
    with pytest.raises(ValueError, match="batch size"):
        vae({})


def test_unknown_modality_rejected(vae, pair):
    with pytest.raises(ValueError, match="unknown modality"):
        vae({"PET": pair["CT"]})


def test_training_mode_samples_and_drops(tiny_encoder, pair):
    torch.manual_seed(1)
    vae = MultimodalVAE(VAEConfig(encoder=tiny_encoder, latent_dim=6, modality_dropout=0.9)).train()
    out = vae({k: v.repeat(10, 1, 1, 1) for k, v in pair.items()})
    assert not torch.equal(out.z, out.mu)
    assert (out.mask.sum(1) == 1).any()


def test_build_from_dict_round_trip(vae, pair):
    rebuilt = build_model("vae", config_to_dict(vae.config)).eval()
    rebuilt.load_state_dict(vae.state_dict())
    assert rebuilt.config == vae.config
    assert torch.equal(rebuilt(pair).mu, vae(pair).mu)


def test_bad_image_size():
    from fusion_core.models import EncoderConfig

    with pytest.raises(ValueError, match="divisible"):
        EncoderConfig(image_size=30, n_down=2)


def test_spatial_latent_shapes_and_prior(tiny_encoder, pair):
    torch.manual_seed(0)
    vae = MultimodalVAE(VAEConfig(encoder=tiny_encoder, latent_channels=3)).eval()
    assert vae.config.code_dim == 3 * 8 * 8
    out = vae({"MR": pair["MR"]})
    assert out.mu.shape == (3, 192) and out.recon["CT"].shape == (3, 1, 32, 32)
    assert torch.equal(vae({}, batch_size=2).mu, torch.zeros(2, 192))


@pytest.fixture
def skip_vae(tiny_encoder):
    torch.manual_seed(0)
    return MultimodalVAE(VAEConfig(encoder=tiny_encoder, latent_channels=3, skips=True)).eval()


@pytest.mark.parametrize("subset", [("CT", "MR"), ("CT",), ("MR",), ()])
def test_skip_vae_shapes_with_any_subset(skip_vae, pair, subset):
    out = skip_vae({m: pair[m] for m in subset}, batch_size=3)
    assert out.recon["CT"].shape == out.recon["MR"].shape == (3, 1, 32, 32)
    assert out.mu.shape == (3, 3 * 8 * 8) and out.expert_mu.shape == (3, 2, 192)
    assert torch.isfinite(out.recon["CT"]).all()


def test_skip_fusion_leaves_a_masked_modality_out(skip_vae, pair):
    """A hidden modality (mask 0) neither enters the PoE nor the skip features: same as not giving it."""
    masked = skip_vae(pair, torch.tensor([[0.0, 1.0]] * 3))
    absent = skip_vae({"MR": pair["MR"]})
    assert torch.allclose(masked.recon["CT"], absent.recon["CT"], atol=1e-5)
    _, _, stages = skip_vae._encode(pair, 3)
    fused = skip_vae.fuse_skips(stages, torch.tensor([[1.0, 1.0], [1.0, 0.0], [0.0, 0.0]]))
    for level, ct, mr in zip(fused, stages["CT"], stages["MR"], strict=True):
        assert torch.allclose(level[0], (ct[0] + mr[0]) / 2, atol=1e-6)
        assert torch.allclose(level[1], ct[1]) and torch.equal(level[2], torch.zeros_like(level[2]))


def test_skip_vae_cross_generation_and_round_trip(skip_vae, pair):
    from_mr, from_ct = skip_vae({"MR": pair["MR"]}).recon["CT"], skip_vae({"CT": pair["CT"]}).recon["MR"]
    assert from_mr.shape == from_ct.shape == (3, 1, 32, 32)
    rebuilt = build_model("vae", config_to_dict(skip_vae.config)).eval()
    rebuilt.load_state_dict(skip_vae.state_dict())
    assert torch.equal(rebuilt({"MR": pair["MR"]}).recon["CT"], from_mr)
    assert skip_vae.decode(torch.zeros(2, 192))["CT"].shape == (2, 1, 32, 32)  # from the latent alone


def test_skip_vae_is_fully_convolutional(skip_vae, pair):
    """Training patches: a 16-pixel patch of a 32-pixel model gives a 16-pixel output and a smaller latent."""
    out = skip_vae({m: v[..., :16, :16] for m, v in pair.items()})
    assert out.recon["CT"].shape == (3, 1, 16, 16) and out.mu.shape == (3, 3 * 4 * 4)


def test_skips_need_a_spatial_latent(tiny_encoder):
    with pytest.raises(ValueError, match="spatial latent"):
        VAEConfig(encoder=tiny_encoder, skips=True)


def test_posterior_equals_forward_without_decoding(skip_vae, pair):
    for inputs in (pair, {"MR": pair["MR"]}):
        mu, logvar = skip_vae.posterior(inputs)
        out = skip_vae(inputs)
        assert torch.equal(mu, out.mu) and torch.equal(logvar, out.logvar)
