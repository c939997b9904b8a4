import numpy as np
import pytest
import torch

from fusion_core.checkpoints import save_model
from fusion_core.data.phantom import make_subject
from fusion_core.inference import load_model
from fusion_core.models import EncoderConfig, MultimodalVAE, VAEConfig
from fusion_core.teaching.posterior import SUBSETS, posterior_by_subset


@pytest.fixture(scope="module")
def tiny_vae(tmp_path_factory):
    torch.manual_seed(0)
    encoder = EncoderConfig(image_size=32, base_channels=8, n_down=2, max_channels=16)
    root = tmp_path_factory.mktemp("vae")
    save_model(MultimodalVAE(VAEConfig(encoder=encoder, latent_dim=8)), root)
    return load_model(root, device="cpu")


def test_information_adds_up_across_modalities(tiny_vae):
    subject = make_subject(3, size=24, label=1)
    result = posterior_by_subset(tiny_vae, subject.ct, subject.mr_on_ct_grid())
    assert set(result.information) == set(SUBSETS)
    assert result.n_slices == subject.ct.shape[0]
    assert result.additivity_error() < 1e-3 * np.abs(result.information["CT + MR"]).max()
    # precision only grows with more input: the variance with both is below either one's
    assert np.all(
        result.variance["CT + MR"] <= np.minimum(result.variance["CT only"], result.variance["MR only"]) + 1e-6
    )
    assert np.all(result.information["CT only"] > 0)
