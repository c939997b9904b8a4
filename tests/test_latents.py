"""encode_cohort: latents of every slice of a cohort with who each slice is."""

import numpy as np
import pytest
import torch

from fusion_core.data.phantom import make_subject
from fusion_core.errors import FusionError
from fusion_core.inference import as_loaded
from fusion_core.latents import encode_cohort
from fusion_core.models import EncoderConfig, MultimodalVAE, VAEConfig


@pytest.fixture(scope="module")
def vae():
    torch.manual_seed(0)
    return as_loaded(
        MultimodalVAE(VAEConfig(encoder=EncoderConfig(image_size=32, base_channels=8, n_down=2), latent_dim=6))
    )


@pytest.fixture(scope="module")
def cases():
    return [make_subject(seed, size=24, label=seed % 2).to_case() for seed in (1, 2)]


@pytest.mark.parametrize("posterior", ["joint", "CT", "MR"])
def test_encode_cohort_rows_match_slices(vae, cases, posterior):
    table = encode_cohort(vae, cases, posterior=posterior, slice_step=2)
    n = sum(len(range(0, c.ct.shape[0], 2)) for c in cases)
    assert table.latents.shape == (n, 6) and len(table.meta) == n
    assert set(table.meta["subject_id"]) == {c.subject_id for c in cases}
    assert (table.meta["posterior"] == posterior).all()
    assert set(table.meta["slice_has_lesion"].dropna()) <= {0.0, 1.0}


def test_posteriors_differ_and_unknown_is_refused(vae, cases):
    ct = encode_cohort(vae, cases, posterior="CT").latents
    mr = encode_cohort(vae, cases, posterior="MR").latents
    assert not np.allclose(ct, mr)
    with pytest.raises(FusionError, match="unknown posterior"):
        encode_cohort(vae, cases, posterior="PET")
