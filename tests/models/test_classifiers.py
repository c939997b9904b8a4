import pytest
import torch

from fusion_core.models import ClassifierConfig, FusionClassifier, Strategy, build_model, config_to_dict

ALL = [s.value for s in Strategy]


def make(strategy, tiny_encoder, **kw):
    torch.manual_seed(0)
    return FusionClassifier(ClassifierConfig(strategy=strategy, encoder=tiny_encoder, embed_dim=8, **kw)).eval()


@pytest.mark.parametrize("strategy", ALL)
def test_eval_shapes(strategy, tiny_encoder, pair):
    out = make(strategy, tiny_encoder)(pair)
    assert out.logit.shape == out.variance.shape == (3,)
    assert torch.all(out.variance > 0)
    assert out.branch_mask.shape == (3, len(out.branches))


@pytest.mark.parametrize("strategy", ALL)
def test_save_load_round_trip(strategy, tiny_encoder, pair, tmp_path):
    model = make(strategy, tiny_encoder)
    torch.save(model.state_dict(), tmp_path / "w.pt")
    rebuilt = build_model("classifier", config_to_dict(model.config)).eval()
    rebuilt.load_state_dict(torch.load(tmp_path / "w.pt", weights_only=True))
    assert torch.equal(rebuilt(pair).logit, model(pair).logit)


@pytest.mark.parametrize("strategy", ["poe", "late", "uncertainty-late", "hybrid"])
def test_missing_modality_works(strategy, tiny_encoder, pair):
    model = make(strategy, tiny_encoder)
    out = model({"MR": pair["MR"]})
    assert torch.isfinite(out.logit).all()
    assert out.mask[:, 0].sum() == 0


def test_late_missing_modality_equals_unimodal_branch(tiny_encoder, pair):
    model = make("late", tiny_encoder)
    out = model({"CT": pair["CT"]})
    assert torch.allclose(out.logit, out.branches["CT"].logit, atol=1e-4)


def test_uncertainty_late_weights_follow_precision(tiny_encoder, pair):
    from fusion_core.models.classifiers import precision_weights
    from fusion_core.models.heads import HeadOutput

    z = torch.zeros(2)
    branches = {
        "CT": HeadOutput(z, torch.log(torch.tensor([0.01, 0.01])), z),
        "MR": HeadOutput(z, torch.log(torch.tensor([100.0, 0.01])), z),
    }
    w = precision_weights(branches, torch.tensor([[1.0, 1.0], [1.0, 0.0]]))
    assert w[0, 1] < 1e-3 and w[0, 0] > 0.999  # noisy modality ~ weight 0
    assert w[1, 1] == 0 and w[1, 0] == pytest.approx(1.0)  # missing modality weight exactly 0


def test_mc_dropout_gives_epistemic_variance(tiny_encoder, pair):
    model = make("uncertainty-late", tiny_encoder, dropout=0.5)
    single = model(pair)
    mc = model(pair, mc_samples=8)
    assert torch.all(single.branches["CT"].epistemic == 0)
    assert torch.all(mc.branches["CT"].epistemic > 0)
    assert not model.training


def test_attention_weights_returned(tiny_encoder, pair):
    out = make("intermediate-attention", tiny_encoder)(pair)
    w = out.attention["CT->MR"]
    assert w.shape == (3, 64, 64)  # 8x8 tokens attend to 8x8 tokens
    assert torch.allclose(w.sum(-1), torch.ones(3, 64), atol=1e-5)


def test_unknown_strategy_lists_choices():
    with pytest.raises(ValueError, match=r"choose one of .*'poe'"):
        ClassifierConfig(strategy="magic")


def test_batched_equals_per_slice(tiny_encoder, pair):
    model = make("intermediate-concat", tiny_encoder)
    batched = model(pair).logit
    single = torch.cat([model({k: v[i : i + 1] for k, v in pair.items()}).logit for i in range(3)])
    assert torch.allclose(batched, single, atol=1e-5)


@pytest.mark.parametrize("strategy", ALL)
def test_lesion_maps_one_per_encoder_on_feature_grid(strategy, tiny_encoder, pair):
    model = make(strategy, tiny_encoder, lesion_maps=True)
    out = model(pair)
    assert set(out.lesion_maps) == set(model.encoders)
    s = tiny_encoder.feature_size
    assert all(v.shape == (3, 1, s, s) for v in out.lesion_maps.values())
    assert not make(strategy, tiny_encoder)(pair).lesion_maps


def test_poe_subset_loss_adds_single_modality_branches_in_training_only(tiny_encoder, pair):
    model = make("poe", tiny_encoder, subset_loss=True)
    assert list(model(pair).branches) == ["fused"]  # eval: the joint posterior only
    out = model.train()({"CT": pair["CT"]})
    assert list(out.branches) == ["fused", "poe|CT", "poe|MR"]
    assert out.branch_mask.tolist() == [[1.0, 1.0, 0.0]] * 3  # the MR-only branch had no MR to use
