import numpy as np
import pytest
import torch

from fusion_core.errors import FusionError
from fusion_core.models.poe import product_of_experts
from fusion_core.teaching.poe import GaussianExpert, gaussian_density, product_of_gaussians


def test_product_of_gaussians_formula():
    ct, mr = GaussianExpert("CT", 1.0, 4.0), GaussianExpert("MR", -2.0, 1.0)
    fused = product_of_gaussians([ct, mr])
    assert fused.precision == pytest.approx(4.0 + 1.0 + 1.0)
    assert fused.mean == pytest.approx((4.0 * 1.0 + 1.0 * -2.0 + 1.0 * 0.0) / 6.0)


def test_product_density_is_proportional_to_the_product_of_densities():
    experts = [GaussianExpert("CT", 0.5, 2.0), GaussianExpert("MR", 1.5, 3.0)]
    fused = product_of_gaussians(experts, prior=False)
    x = np.linspace(-2, 3, 11)
    ratio = gaussian_density(experts[0], x) * gaussian_density(experts[1], x) / gaussian_density(fused, x)
    assert np.allclose(ratio, ratio[0])


def test_fused_belief_follows_the_confident_expert():
    fused = product_of_gaussians([GaussianExpert("CT", 2.0, 50.0), GaussianExpert("MR", -2.0, 0.5)])
    assert fused.mean == pytest.approx(2.0, abs=0.1)


def test_missing_expert_leaves_the_prior_in_its_place():
    only_prior = product_of_gaussians([GaussianExpert("CT", 2.0, 5.0, present=False)])
    assert (only_prior.mean, only_prior.precision) == (0.0, 1.0)


def test_matches_the_model_product_of_experts():
    mu = torch.tensor([[[1.0], [-2.0]]])
    logvar = torch.log(1.0 / torch.tensor([[[4.0], [1.0]]]))
    for mask in ([1.0, 1.0], [1.0, 0.0]):
        joint_mu, joint_logvar = product_of_experts(mu, logvar, torch.tensor([mask]))
        fused = product_of_gaussians(
            [GaussianExpert("CT", 1.0, 4.0, bool(mask[0])), GaussianExpert("MR", -2.0, 1.0, bool(mask[1]))]
        )
        assert joint_mu.item() == pytest.approx(fused.mean)
        assert torch.exp(joint_logvar).item() == pytest.approx(fused.variance)


def test_nothing_to_multiply_is_an_error():
    with pytest.raises(FusionError, match="at least one"):
        product_of_gaussians([], prior=False)
