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
    with pytest.raises(ValueError, match="batch_size"):
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
