import pytest
import torch

from fusion_core.losses import (
    ClassifierLossWeights,
    CycleLossWeights,
    VAELossWeights,
    classifier_terms,
    discriminator_loss,
    generator_cycle_terms,
    heteroscedastic_bce,
    info_nce,
    kl_divergence,
    reconstruction_loss,
    vae_terms,
    weighted_total,
)
from fusion_core.models import (
    ClassifierConfig,
    CycleGAN,
    EncoderConfig,
    FusionClassifier,
    MultimodalVAE,
    PatchDiscriminator,
    TranslatorConfig,
    VAEConfig,
)

ENC = EncoderConfig(image_size=32, base_channels=8, n_down=2, max_channels=16)


def grads_nonzero(module) -> bool:
    return any(p.grad is not None and p.grad.abs().sum() > 0 for p in module.parameters())


def test_kl_zero_at_prior():
    assert kl_divergence(torch.zeros(2, 3), torch.zeros(2, 3)).item() == 0.0
    assert kl_divergence(torch.ones(2, 3), torch.zeros(2, 3)).item() == pytest.approx(1.5)


def test_info_nce_prefers_aligned():
    a = torch.eye(4)
    assert info_nce(a, a) < info_nce(a, a.roll(1, 0))


def test_reconstruction_weighting_and_kind():
    x, y = torch.zeros(1, 1, 2, 2), torch.tensor([[[[1.0, 0.0], [0.0, 0.0]]]])
    assert reconstruction_loss(x, y).item() == pytest.approx(0.25)
    assert reconstruction_loss(x, y, weight=y).item() == pytest.approx(1.0)
    with pytest.raises(ValueError, match="'l1' or 'mse'"):
        reconstruction_loss(x, y, kind="huber")


def test_heteroscedastic_large_variance_flattens_loss():
    t = torch.ones(1)
    confident_wrong = heteroscedastic_bce(torch.tensor([-5.0]), torch.tensor([-8.0]), t, samples=64)
    uncertain_wrong = heteroscedastic_bce(torch.tensor([-5.0]), torch.tensor([4.0]), t, samples=64)
    assert uncertain_wrong < confident_wrong


def test_all_weights_zero_raises():
    with pytest.raises(ValueError, match="every loss weight is zero"):
        weighted_total({"kl": torch.tensor(1.0)}, {"kl": 0.0})


@pytest.mark.parametrize("term", ["reconstruction", "cross", "kl", "contrastive", "adversarial"])
def test_vae_gradients_flow_through_each_term(term):
    torch.manual_seed(0)
    model = MultimodalVAE(VAEConfig(encoder=ENC, latent_dim=6, modality_dropout=0.0)).train()
    critic = PatchDiscriminator(1, 8)
    x = {m: torch.randn(4, 1, 32, 32) for m in ("CT", "MR")}
    stacked = {m: v.repeat(2, 1, 1, 1) for m, v in x.items()}
    mask = torch.cat([torch.ones(4, 2), torch.tensor([[1.0, 0.0], [0.0, 1.0]]).repeat(2, 1)])
    out = model(stacked, mask)
    zeros = dict.fromkeys(("reconstruction", "cross", "kl", "contrastive", "adversarial"), 0.0)
    weights = VAELossWeights(**{**zeros, term: 1.0})
    terms = vae_terms(out, stacked, weights=weights, critic=critic)
    assert set(terms) == {term}
    weighted_total(terms, {term: 1.0}).backward()
    assert grads_nonzero(model.encoders["MR"]) or term == "adversarial"
    assert grads_nonzero(model.decoders["CT"]) == (term in ("reconstruction", "cross", "adversarial"))


@pytest.mark.parametrize("strategy", ["poe", "uncertainty-late", "hybrid"])
def test_classifier_gradients(strategy):
    torch.manual_seed(0)
    model = FusionClassifier(ClassifierConfig(strategy=strategy, encoder=ENC, embed_dim=8)).train()
    out = model({m: torch.randn(4, 1, 32, 32) for m in ("CT", "MR")})
    terms = classifier_terms(out, torch.tensor([0, 1, 0, 1]), ClassifierLossWeights())
    assert ("kl" in terms) == (strategy == "poe")
    weighted_total(terms, {"bce": 1.0, "kl": 1.0}).backward()
    assert grads_nonzero(model.encoders["CT"]) and grads_nonzero(model.encoders["MR"])


@pytest.mark.parametrize("term", ["adversarial", "cycle", "identity", "structure"])
def test_cycle_gradients_flow_through_each_term(term):
    torch.manual_seed(0)
    model = CycleGAN(TranslatorConfig(image_size=32, base_channels=8, n_res_blocks=1, disc_channels=8))
    ct, mr = torch.rand(2, 1, 32, 32) * 2 - 1, torch.rand(2, 1, 32, 32) * 2 - 1
    weights = CycleLossWeights(identity=1.0, structure=1.0)
    terms = generator_cycle_terms(model(ct, mr), ct, mr, model, weights)
    weighted_total(terms, {term: 1.0}).backward()
    assert grads_nonzero(model.mr_to_ct) and grads_nonzero(model.ct_to_mr)
    model.zero_grad()
    discriminator_loss(model.disc_ct, ct, model.mr_to_ct(mr)).backward()
    assert grads_nonzero(model.disc_ct) and not grads_nonzero(model.mr_to_ct)


def test_pos_weight_upweights_positives():
    from fusion_core.losses.objectives import masked_branch_bce
    from fusion_core.models.classifiers import ClassifierOutput
    from fusion_core.models.heads import HeadOutput

    z = torch.zeros(2)
    out = ClassifierOutput(
        z, z, {"fused": HeadOutput(torch.tensor([-3.0, -3.0]), z, z)}, torch.ones(2, 1), torch.ones(2, 2), {}
    )
    target = torch.tensor([1.0, 0.0])  # the positive is badly wrong, the negative is right
    assert masked_branch_bce(out, target, samples=0, pos_weight=5.0) > masked_branch_bce(out, target, samples=0)


def test_corrupted_variance_term_pushes_only_corrupted_branch():
    torch.manual_seed(0)
    model = FusionClassifier(ClassifierConfig(strategy="uncertainty-late", encoder=ENC, embed_dim=8)).train()
    out = model({m: torch.randn(4, 1, 32, 32) for m in ("CT", "MR")})
    corrupted = torch.tensor([[0.0, 1.0], [0.0, 0.0], [0.0, 0.0], [0.0, 0.0]])
    weights = ClassifierLossWeights(corrupted_var=1.0)
    terms = classifier_terms(out, torch.zeros(4), weights, corrupted=corrupted)
    terms["corrupted_var"].backward()
    assert grads_nonzero(model.heads["MR"]) and not grads_nonzero(model.heads["CT"])
    assert "corrupted_var" not in classifier_terms(out, torch.zeros(4), ClassifierLossWeights(), corrupted=corrupted)


def test_lesion_map_term_trains_the_lesion_heads_and_encoders():
    torch.manual_seed(0)
    model = FusionClassifier(ClassifierConfig(strategy="late", encoder=ENC, embed_dim=8, lesion_maps=True)).train()
    out = model({m: torch.randn(4, 1, 32, 32) for m in ("CT", "MR")})
    lesion = torch.zeros(4, 1, 32, 32)
    lesion[1, :, 10:16, 10:16] = 1.0
    terms = classifier_terms(out, torch.tensor([0, 1, 0, 0]), ClassifierLossWeights(lesion=1.0), lesion=lesion)
    weighted_total(terms, {"lesion": 1.0}).backward()
    assert grads_nonzero(model.lesion_heads) and grads_nonzero(model.encoders["MR"])
    assert not grads_nonzero(model.heads)  # the localisation term does not touch the classification heads
    off = classifier_terms(out, torch.tensor([0, 1, 0, 0]), ClassifierLossWeights(lesion=0.0), lesion=lesion)
    assert "lesion" not in off


def test_lesion_map_bce_counts_only_present_rows_and_rewards_the_right_cells():
    from fusion_core.losses.terms import lesion_map_bce

    lesion = torch.zeros(2, 1, 8, 8)
    lesion[:, :, :4, :4] = 1.0  # the top-left cell of a 2x2 grid
    right = torch.full((2, 1, 2, 2), -6.0)
    right[:, :, 0, 0] = 6.0
    wrong = -right
    rows = torch.tensor([1.0, 0.0])
    assert lesion_map_bce(right, lesion, rows) < lesion_map_bce(wrong, lesion, rows)
    mixed = torch.cat([right[:1], wrong[1:]])
    assert lesion_map_bce(mixed, lesion, rows) == pytest.approx(float(lesion_map_bce(right, lesion, rows)))


def test_structure_loss_is_blind_to_contrast_inversion_but_not_to_moved_edges():
    from fusion_core.losses import structure_loss

    img = torch.zeros(1, 1, 32, 32)
    img[..., 8:24, 8:24] = 1.0
    moved = torch.roll(img, shifts=5, dims=-1)
    assert structure_loss(img, img) == pytest.approx(float(structure_loss(img, -img)), abs=1e-6)
    assert structure_loss(img, -img) < 0.01
    assert structure_loss(img, moved) > 0.5  # the moved vertical edges no longer match
    assert structure_loss(img, torch.zeros_like(img)) == pytest.approx(1.0)  # edges dropped


def test_paired_translation_loss_matches_rows_with_both_modalities():
    from fusion_core.losses import paired_translation_loss

    torch.manual_seed(0)
    model = CycleGAN(TranslatorConfig(image_size=32, base_channels=8, n_res_blocks=1, disc_channels=8))
    batch = {"CT": torch.rand(3, 1, 32, 32), "MR": torch.rand(3, 1, 32, 32), "head": torch.ones(3, 1, 32, 32)}
    has = torch.tensor([[True, True], [True, False], [False, True]])
    out = model(batch["CT"][has[:, 0]], batch["MR"][has[:, 1]])
    loss = paired_translation_loss(out, batch, has)
    expected = (out.fake_ct[0] - batch["CT"][0]).abs().mean() + (out.fake_mr[0] - batch["MR"][0]).abs().mean()
    assert torch.allclose(loss, expected, atol=1e-6)  # only row 0 has both, and its fakes come first
    loss.backward()
    assert grads_nonzero(model.mr_to_ct) and grads_nonzero(model.ct_to_mr)
    unpaired = torch.tensor([[True, False], [False, True], [False, True]])
    assert paired_translation_loss(model(batch["CT"][:1], batch["MR"][1:]), batch, unpaired) is None


def test_vae_bone_weight_raises_weight_on_bone_only():
    from fusion_core.training.steps import BONE_UNIT, vae_pixel_weight

    ct = torch.full((1, 1, 2, 2), -0.5)
    ct[0, 0, 0, 0] = BONE_UNIT + 0.1
    weight = vae_pixel_weight({"CT": ct, "head": torch.ones(1, 1, 2, 2)}, head_weight=4.0, bone_weight=3.0)
    assert weight.flatten().tolist() == [12.0, 4.0, 4.0, 4.0]
