import pytest
import torch

from fusion_core.models.poe import drop_modalities, product_of_experts


def test_no_expert_gives_prior():
    mu, logvar = torch.randn(4, 2, 5), torch.randn(4, 2, 5)
    jm, jl = product_of_experts(mu, logvar, torch.zeros(4, 2))
    assert torch.equal(jm, torch.zeros(4, 5))
    assert torch.equal(jl, torch.zeros(4, 5))


def test_single_expert_combines_with_prior():
    mu = torch.tensor([[[2.0]], [[2.0]]]).expand(2, 1, 1)
    logvar = torch.zeros(2, 1, 1)  # unit variance expert + unit prior -> mean halved, variance halved
    jm, jl = product_of_experts(mu, logvar, torch.ones(2, 1))
    assert torch.allclose(jm, torch.ones(2, 1))
    assert torch.allclose(jl, torch.log(torch.full((2, 1), 0.5)))


def test_masked_expert_ignored_even_if_huge():
    mu = torch.tensor([[[1.0], [1e6]]])
    logvar = torch.tensor([[[-4.0], [-4.0]]])
    jm, _ = product_of_experts(mu, logvar, torch.tensor([[1.0, 0.0]]))
    jm_alone, _ = product_of_experts(mu[:, :1], logvar[:, :1], torch.ones(1, 1))
    assert torch.allclose(jm, jm_alone)


@pytest.mark.parametrize("p", [0.0, 0.5, 1.0])
def test_drop_modalities_keeps_one(p):
    torch.manual_seed(0)
    mask = torch.tensor([[1.0, 1.0]] * 50 + [[0.0, 1.0]] * 10 + [[0.0, 0.0]] * 3)
    out = drop_modalities(mask, p)
    assert torch.all(out <= mask)
    assert torch.all(out[:60].sum(1) >= 1)
    assert torch.all(out[60:] == 0)
    if p == 0.0:
        assert torch.equal(out, mask)
