import numpy as np
import pytest
import torch

from fusion_core.checkpoints import save_model
from fusion_core.data.phantom import make_subject
from fusion_core.explain import attention_maps, lesion_maps
from fusion_core.inference import (
    ModelInputError,
    classify,
    encode,
    from_network,
    impute,
    list_models,
    load_model,
    to_network,
)
from fusion_core.models import (
    ClassifierConfig,
    CycleGAN,
    EncoderConfig,
    FusionClassifier,
    MultimodalVAE,
    TranslatorConfig,
    VAEConfig,
)

ENC = EncoderConfig(image_size=32, base_channels=8, n_down=2, max_channels=16)


@pytest.fixture(scope="module")
def subject():
    return make_subject(3, size=24, label=1)


@pytest.fixture(scope="module")
def volumes(subject):
    return {"CT": subject.ct, "MR": subject.mr_on_ct_grid()}


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    torch.manual_seed(0)
    root = tmp_path_factory.mktemp("models")
    models = {
        "vae": MultimodalVAE(VAEConfig(encoder=ENC, latent_dim=8)),
        "poe": FusionClassifier(ClassifierConfig(strategy="poe", encoder=ENC, embed_dim=8)),
        "attn": FusionClassifier(ClassifierConfig(strategy="intermediate-attention", encoder=ENC, embed_dim=8)),
        "ct": FusionClassifier(ClassifierConfig(strategy="ct", encoder=ENC, embed_dim=8)),
        "ct-crop": FusionClassifier(ClassifierConfig(strategy="ct", encoder=ENC, embed_dim=8, crop_fraction=0.5)),
        "cyc": CycleGAN(TranslatorConfig(image_size=32, base_channels=8, n_res_blocks=1)),
    }
    for name, m in models.items():
        save_model(m, root / name)
    return {name: load_model(root / name, device="cpu") for name in models}


@pytest.mark.parametrize("subset", [("CT",), ("MR",), ("CT", "MR")])
def test_encode_any_subset(saved, volumes, subset):
    z = encode(saved["vae"], {m: volumes[m] for m in subset})
    assert z.shape == (volumes["CT"].shape[0], 8) and z.dtype == np.float32
    z_poe = encode(saved["poe"], {m: volumes[m] for m in subset})
    assert z_poe.shape == (volumes["CT"].shape[0], 8)


def test_impute_ct_from_mr_on_input_grid(saved, volumes):
    ct = impute(saved["vae"], {"MR": volumes["MR"]}, target="CT")
    assert ct.same_grid(volumes["CT"]) and ct.modality == "CT"
    assert ct.array.min() >= -1024 and ct.array.max() <= 3000
    fake = impute(saved["cyc"], {"MR-T1": volumes["MR"]}, target="CT")
    assert fake.shape == volumes["CT"].shape
    mr = impute(saved["cyc"], {"CT": volumes["CT"]}, target="MR")
    assert mr.modality.startswith("MR") and mr.array.min() >= 0 and mr.array.max() <= 1000


def test_classify_full_and_missing(saved, volumes):
    full = classify(saved["poe"], volumes, mc_samples=4)
    assert 0 <= full.probability <= 1 and full.uncertainty >= 0
    assert full.slice_probabilities.shape == (volumes["CT"].shape[0],)
    assert len(full.top_slices) == 3
    missing = classify(saved["poe"], {"MR": volumes["MR"]}, mc_samples=1)
    assert missing.modalities == ("MR-T1",) and 0 <= missing.probability <= 1


def test_crop_from_saved_config_zooms_in(saved, volumes):
    model = saved["ct-crop"]
    assert model.config.crop_fraction == 0.5
    whole = to_network(saved["ct"], {"CT": volumes["CT"]})["CT"]
    zoomed = to_network(model, {"CT": volumes["CT"]})["CT"]
    assert whole.shape == zoomed.shape == (volumes["CT"].shape[0], 1, 32, 32)
    np.testing.assert_allclose(zoomed[:, 0, 16, 16], whole[:, 0, 16, 16], atol=0.3)
    back = from_network(zoomed, volumes["CT"], crop=0.5)
    assert back.shape == volumes["CT"].shape and back[:, :6].sum() == 0
    assert 0 <= classify(model, {"CT": volumes["CT"]}, mc_samples=1).probability <= 1


def test_batched_equals_per_slice(saved, volumes):
    a = classify(saved["poe"], volumes, mc_samples=1, batch_size=64).slice_probabilities
    b = classify(saved["poe"], volumes, mc_samples=1, batch_size=1).slice_probabilities
    np.testing.assert_allclose(a, b, atol=1e-5)


def test_attention_maps(saved, volumes):
    maps = attention_maps(saved["attn"], volumes, slice_index=5)
    assert maps["CT->MR"].shape == (8, 8, 8, 8)
    np.testing.assert_allclose(maps["CT->MR"].sum(axis=(2, 3)), 1.0, atol=1e-4)
    with pytest.raises(ModelInputError, match="outside"):
        attention_maps(saved["attn"], volumes, slice_index=999)


def test_refuses_bad_inputs(saved, subject, volumes):
    with pytest.raises(ModelInputError, match="not on one grid"):
        classify(saved["poe"], {"CT": subject.ct, "MR": subject.mr})
    with pytest.raises(ModelInputError, match="no volume"):
        encode(saved["vae"], {})
    with pytest.raises(ModelInputError, match="models take CT"):
        encode(saved["vae"], {"PET": volumes["CT"].with_array(volumes["CT"].array, modality="PT")})
    with pytest.raises(ModelInputError, match="CT-only classifier needs"):
        classify(saved["ct"], {"MR": volumes["MR"]})
    with pytest.raises(ModelInputError, match="needs a classifier"):
        classify(saved["vae"], volumes)
    with pytest.raises(ModelInputError, match="target must be"):
        impute(saved["vae"], {"MR": volumes["MR"]}, target="PET")
    with pytest.raises(ModelInputError, match="not one of"):
        load_model("no-such-model")


def test_list_models_reads_assets(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "model_card.json").write_text("{}")
    (tmp_path / "junk").mkdir()
    assert list_models(tmp_path) == ["a"]
    assert isinstance(list_models(), list)


@pytest.fixture
def brain_filtered_ct_model(tmp_path):
    """A tiny CT classifier whose card asks for slices with at least half brain (the candidate filter)."""
    torch.manual_seed(0)
    save_model(FusionClassifier(ClassifierConfig(strategy="ct", encoder=ENC, embed_dim=8)), tmp_path)
    (tmp_path / "model_card.json").write_text('{"trainer": {"data": {"min_brain_fraction": 0.5}}}')
    return load_model(tmp_path, device="cpu")


def test_classify_takes_top_k_over_brain_slices_only(volumes, brain_filtered_ct_model):
    model = brain_filtered_ct_model
    result = classify(model, {"CT": volumes["CT"]}, mc_samples=1)
    n = volumes["CT"].shape[0]
    assert 0 < len(result.candidate_slices) < n
    assert set(result.top_slices) <= set(result.candidate_slices)
    assert result.probability == pytest.approx(np.sort(result.slice_probabilities[result.candidate_slices])[-3:].mean())
    given = classify(model, {"CT": volumes["CT"]}, mc_samples=1, candidate_slices=[n - 1])
    assert list(given.top_slices) == [n - 1]
    assert given.probability == pytest.approx(given.slice_probabilities[n - 1])
    with pytest.raises(ModelInputError, match="candidate_slices"):
        classify(model, {"CT": volumes["CT"]}, mc_samples=1, candidate_slices=[n])


def test_lesion_maps_on_the_input_grid(volumes, tmp_path):
    torch.manual_seed(0)
    save_model(
        FusionClassifier(ClassifierConfig(strategy="late", encoder=ENC, embed_dim=8, lesion_maps=True)), tmp_path
    )
    maps = lesion_maps(load_model(tmp_path, device="cpu"), volumes)
    assert set(maps) == {"CT", "MR"}
    for vol in maps.values():
        assert vol.same_grid(volumes["CT"]) and vol.array.min() >= 0 and vol.array.max() <= 1


def test_lesion_maps_refused_without_heads(saved, volumes):
    with pytest.raises(ModelInputError, match="no lesion-map heads"):
        lesion_maps(saved["ct"], volumes)


def test_2_5_d_model_reads_neighbour_slices(volumes, tmp_path):
    torch.manual_seed(0)
    slab_enc = EncoderConfig(image_size=32, in_channels=3, base_channels=8, n_down=2, max_channels=16)
    save_model(FusionClassifier(ClassifierConfig(strategy="early", encoder=slab_enc, embed_dim=8)), tmp_path / "c")
    save_model(MultimodalVAE(VAEConfig(encoder=slab_enc, latent_dim=8)), tmp_path / "v")
    clf, vae = load_model(tmp_path / "c", device="cpu"), load_model(tmp_path / "v", device="cpu")
    x = to_network(clf, volumes)["MR"]
    n = volumes["MR"].shape[0]
    assert x.shape == (n, 3, 32, 32)
    assert torch.equal(x[1:, 0], x[:-1, 1]) and torch.equal(x[0, 0], x[0, 1])  # previous slice; the end repeats
    assert 0 <= classify(clf, volumes, mc_samples=1).probability <= 1
    assert impute(vae, {"MR": volumes["MR"]}, target="CT").same_grid(volumes["CT"])


def test_t1_t2_model_stacks_weightings_and_names_a_missing_one(subject, volumes, tmp_path):
    torch.manual_seed(0)
    config = ClassifierConfig(strategy="poe", encoder=ENC, embed_dim=8, mr_weightings=("T1", "T2"))
    save_model(FusionClassifier(config), tmp_path)
    model = load_model(tmp_path, device="cpu")
    assert model.card.inputs == ("CT", "MR-T1", "MR-T2")
    both = {"CT": volumes["CT"], "MR-T1": volumes["MR"], "MR-T2": subject.mr_on_ct_grid("T2")}
    x = to_network(model, both)
    assert x["MR"].shape == (volumes["CT"].shape[0], 2, 32, 32)
    assert not torch.equal(x["MR"][:, 0], x["MR"][:, 1])  # T1 first, then T2
    assert classify(model, both, mc_samples=1).modalities == ("CT", "MR-T1", "MR-T2")
    assert classify(model, {"CT": volumes["CT"]}, mc_samples=1).modalities == ("CT",)
    with pytest.raises(ModelInputError, match="MR-T2 is missing"):
        classify(model, {"CT": volumes["CT"], "MR": volumes["MR"]})


def test_loaded_model_carries_its_card_without_patching_the_network(saved):
    model = saved["poe"]
    assert model.card.task == "classifier" and model.card.strategy == "poe"
    assert not hasattr(model.network, "card") and not hasattr(model.network, "source")


def test_classify_is_reproducible_with_mc_dropout(saved, volumes):
    a = classify(saved["poe"], volumes, mc_samples=4)
    b = classify(saved["poe"], volumes, mc_samples=4)
    assert a.probability == b.probability


def test_classify_only_candidates_matches_the_full_run_on_them(volumes, brain_filtered_ct_model):
    model = brain_filtered_ct_model
    full = classify(model, {"CT": volumes["CT"]}, mc_samples=1)
    fast = classify(model, {"CT": volumes["CT"]}, mc_samples=1, only_candidates=True)
    others = np.setdiff1d(np.arange(len(full.slice_probabilities)), full.candidate_slices)
    assert np.isnan(fast.slice_probabilities[others]).all()
    np.testing.assert_allclose(
        fast.slice_probabilities[full.candidate_slices], full.slice_probabilities[full.candidate_slices], rtol=1e-5
    )
    assert fast.probability == pytest.approx(full.probability, rel=1e-5)
