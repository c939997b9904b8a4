"""fusion_core.explain: rollout, Grad-CAM on a planted lesion, IG completeness, agreement, fusion weights,
and that attribution never changes the shared model (also from two threads at once)."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch

from fusion_core.data.phantom import make_subject
from fusion_core.errors import FusionError
from fusion_core.explain import (
    MEAN_OF_HEADS,
    agreement,
    attention_layers,
    attention_maps,
    attention_rollout,
    attention_view,
    attribution_map,
    evidence_uncertainty,
    fusion_weights,
    gradcam_depths,
    in_lesion_fraction,
    modality_importance,
    pointing_game,
)
from fusion_core.explain.attribution import LogitOf, integrated_gradients, private_network, slice_inputs
from fusion_core.inference import as_loaded, load_model, to_network
from fusion_core.models import ClassifierConfig, EncoderConfig, FusionClassifier
from fusion_core.volume import Volume

pytest.importorskip("captum")


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Tiny convolutions: one thread is fastest, and kind to a busy machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


ENC = EncoderConfig(image_size=32, base_channels=8, n_down=2, max_channels=16)
SIZE = 32


def test_rollout_on_a_hand_built_stack():
    a1 = np.array([[[0.0, 1.0], [1.0, 0.0]], [[1.0, 0.0], [0.0, 1.0]]])  # two heads: swap and keep
    a2 = np.array([[0.5, 0.5], [0.0, 1.0]])
    mean1 = a1.mean(0)  # [[.5, .5], [.5, .5]]
    expected = (0.5 * a2 + 0.5 * np.eye(2)) @ (0.5 * mean1 + 0.5 * np.eye(2))
    np.testing.assert_allclose(attention_rollout([a1, a2]), expected / expected.sum(1, keepdims=True))
    np.testing.assert_allclose(attention_rollout([a1], residual=False, head=0), a1[0])
    np.testing.assert_allclose(attention_rollout([a1, a2]).sum(1), 1.0)
    with pytest.raises(FusionError, match="keys"):
        attention_rollout([np.ones((3, 2)) / 2, np.ones((2, 2)) / 2], residual=False)
    with pytest.raises(FusionError, match="head 5"):
        attention_rollout([a1], head=5)


def test_pointing_game_and_in_lesion_fraction():
    mask = np.zeros((2, 20, 20))
    mask[:, 5:8, 5:8] = 1
    maps = np.zeros((2, 20, 20))
    maps[0, 6, 6] = 1.0  # on the lesion
    maps[1, 8, 8] = 1.0  # 1.4 px off its corner
    assert pointing_game(maps, mask, tolerance_px=0) == 0.5
    assert pointing_game(maps, mask, tolerance_px=2) == 1.0
    assert np.isnan(pointing_game(maps[0], np.zeros((20, 20))))
    assert in_lesion_fraction(maps[0], mask[0]) == 1.0 and in_lesion_fraction(maps[1], mask[1]) == 0.0
    result = agreement(maps[0], mask[0], np.ones((20, 20)), tolerance_px=0)
    assert result.pointing == 1.0 and result.random_in_lesion == pytest.approx(9 / 400)


def blob_volume(centres: list[tuple[int, int] | None], seed: int = 0) -> tuple[Volume, np.ndarray]:
    """A CT (n, 32, 32) of soft tissue with a bright 5-px disc at each given centre; and the disc masks."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:SIZE, :SIZE]
    array = 30.0 + rng.normal(0, 20, (len(centres), SIZE, SIZE))
    masks = np.zeros_like(array, dtype=bool)
    for i, c in enumerate(centres):
        if c is not None:
            masks[i] = (yy - c[0]) ** 2 + (xx - c[1]) ** 2 <= 9
            array[i][masks[i]] += 600.0
    return Volume(array.astype(np.float32), modality="CT"), masks


@pytest.fixture(scope="module")
def trained_ct():
    """A CT-only classifier trained for a few steps on random bright discs (lesion) vs none."""
    torch.manual_seed(0)
    rng = np.random.default_rng(1)
    centres = [tuple(rng.integers(6, 26, 2)) if i % 2 else None for i in range(32)]
    volume, _ = blob_volume(centres)
    x = to_network(FusionClassifier(ClassifierConfig(strategy="ct", encoder=ENC, embed_dim=8)), {"CT": volume})["CT"]
    y = torch.tensor([float(c is not None) for c in centres])
    net = FusionClassifier(ClassifierConfig(strategy="ct", encoder=ENC, embed_dim=8, dropout=0.2))
    optimiser = torch.optim.Adam(net.parameters(), lr=1e-2)
    for _ in range(25):
        optimiser.zero_grad()
        torch.nn.functional.binary_cross_entropy_with_logits(net({"CT": x}).logit, y).backward()
        optimiser.step()
    return as_loaded(net.eval())


def test_gradcam_shapes_and_peak_on_a_planted_lesion(trained_ct):
    volume, masks = blob_volume([(8, 22), (22, 9), (16, 16)], seed=5)
    hits = []
    for k in range(3):
        maps = attribution_map(trained_ct, {"CT": volume}, k, method="gradcam")
        assert set(maps) == {"CT"} and maps["CT"].shape == (SIZE, SIZE) and maps["CT"].min() >= 0
        hits.append(pointing_game(maps["CT"], masks[k], tolerance_px=3))
    assert np.mean(hits) >= 2 / 3


def test_integrated_gradients_complete(trained_ct):
    volume, _ = blob_volume([(10, 20)])
    x, _ = slice_inputs(trained_ct, {"CT": volume}, 0)
    net = private_network(trained_ct)
    with torch.enable_grad():
        attributions, _ = integrated_gradients(net, x, steps=64)
    wrapper = LogitOf(net, ("CT",))
    with torch.inference_mode():
        change = float(wrapper(x["CT"]) - wrapper(torch.full_like(x["CT"], float(x["CT"].min()))))
    assert float(attributions["CT"].sum()) == pytest.approx(change, rel=0.02, abs=1e-3)


def test_method_is_checked(trained_ct):
    volume, _ = blob_volume([None])
    with pytest.raises(FusionError, match="unknown attribution method"):
        attribution_map(trained_ct, {"CT": volume}, 0, method="lime")


@pytest.fixture(scope="module")
def attention_model():
    torch.manual_seed(0)
    net = FusionClassifier(ClassifierConfig(strategy="intermediate-attention", encoder=ENC, embed_dim=8, heads=2))
    return as_loaded(net.eval())


@pytest.fixture(scope="module")
def pair():
    s = make_subject(3, size=24, label=1)
    return {"CT": s.ct, "MR": s.mr_on_ct_grid()}


def test_gradcam_at_every_encoder_depth_is_a_map_of_the_slice(attention_model, pair):
    depths = gradcam_depths(attention_model)
    assert depths == ENC.n_down + 1
    shape = pair["CT"].shape[1:]
    maps = [attribution_map(attention_model, pair, 5, method="gradcam", depth=d) for d in range(depths)]
    for m in maps:
        assert set(m) == {"CT", "MR"} and all(a.shape == shape and a.min() >= 0 for a in m.values())
    np.testing.assert_array_equal(maps[-1]["CT"], attribution_map(attention_model, pair, 5)["CT"])  # default: deepest
    assert not np.array_equal(maps[0]["CT"], maps[-1]["CT"])
    with pytest.raises(FusionError, match="depths 0"):
        attribution_map(attention_model, pair, 5, method="gradcam", depth=depths)
    with pytest.raises(FusionError, match="only Grad-CAM"):
        attribution_map(attention_model, pair, 5, method="integrated_gradients", depth=0)


def test_attention_per_head_and_rollout_match_the_model(attention_model, pair):
    layers = attention_layers(attention_model, pair, 5)
    assert set(layers) == {"CT->MR", "MR->CT"} and layers["CT->MR"][0].shape == (2, 8, 8, 8, 8)
    mean = attention_view(layers["CT->MR"], head=MEAN_OF_HEADS)
    np.testing.assert_allclose(mean, attention_maps(attention_model, pair, 5)["CT->MR"], atol=1e-5)
    np.testing.assert_allclose(attention_view(layers["MR->CT"], layer=0, head=1).sum((2, 3)), 1.0, atol=1e-5)


def fingerprint(network: torch.nn.Module) -> tuple:
    hooks = sum(len(m._forward_hooks) + len(m._forward_pre_hooks) + len(m._backward_hooks) for m in network.modules())
    grads = tuple(p.requires_grad for p in network.parameters())
    state = {k: v.clone() for k, v in network.state_dict().items()}
    return network.training, any(m.training for m in network.modules()), hooks, grads, state


def test_shared_model_unchanged_after_attribution(attention_model, pair):
    before = fingerprint(attention_model.network)
    for method in ("gradcam", "integrated_gradients"):
        attribution_map(attention_model, pair, 5, method=method)
    evidence_uncertainty(attention_model, pair, 5, samples=2)
    modality_importance(attention_model, pair, 5)
    attention_layers(attention_model, pair, 5)
    after = fingerprint(attention_model.network)
    assert before[:4] == after[:4]
    assert all(torch.equal(before[4][k], after[4][k]) for k in before[4])


def test_two_concurrent_calls_do_not_disturb_each_other(attention_model, pair):
    expected = {k: attribution_map(attention_model, pair, k, method="gradcam") for k in (4, 6)}
    results: dict[int, dict] = {}
    threads = [
        threading.Thread(target=lambda k=k: results.__setitem__(k, attribution_map(attention_model, pair, k)))
        for k in (4, 6)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for k in (4, 6):
        for m in expected[k]:
            np.testing.assert_allclose(results[k][m], expected[k][m], atol=1e-6)


def test_uncertainty_maps_on_the_grid(attention_model, pair):
    u = evidence_uncertainty(attention_model, pair, 5, samples=3)
    assert set(u.epistemic) == {"CT", "MR"} and u.epistemic["CT"].shape == pair["CT"].shape[1:]
    assert u.logit_epistemic > 0 and u.logit_aleatoric > 0


def test_uncertainty_weights_move_away_from_a_noisy_modality():
    model = load_model("clf-uncertainty-late", device="cpu")
    s = make_subject(11, size=48, label=1)
    volumes = {"CT": s.ct, "MR-T1": s.mr_on_ct_grid("T1"), "MR-T2": s.mr_on_ct_grid("T2")}
    k = s.ct.shape[0] // 2
    clean = fusion_weights(model, volumes, k)
    rng = np.random.default_rng(0)
    noisy = {**volumes, "CT": s.ct.with_array(s.ct.array + rng.normal(0, 800, s.ct.shape).astype(np.float32))}
    assert fusion_weights(model, noisy, k)["CT"] < clean["CT"] - 0.1
    assert fusion_weights(model, {"CT": s.ct}, k) == {"CT": 1.0, "MR": 0.0}
    assert sum(clean.values()) == pytest.approx(1.0)


def test_maps_export_as_nifti_on_the_input_grid(tmp_path, small_ct):
    import io
    import zipfile

    from fusion_core.explain.export import maps_zip, png_bytes
    from fusion_core.io import load_volume

    heat = np.arange(256, dtype=np.float32).reshape(16, 16)
    with zipfile.ZipFile(io.BytesIO(maps_zip({"CT Grad-CAM": heat}, small_ct, 5))) as archive:
        archive.extractall(tmp_path)
    volume = load_volume(tmp_path / "CT_Grad-CAM.nii.gz")
    np.testing.assert_allclose(volume.array[0], heat)
    np.testing.assert_allclose(volume.origin, small_ct.index_to_physical((0, 0, 5)), atol=1e-4)
    assert volume.spacing == pytest.approx(small_ct.spacing)
    assert png_bytes(np.zeros((4, 4, 3), np.uint8)).startswith(b"\x89PNG")


def test_cached_network_inputs_follow_the_volumes(trained_ct):
    from fusion_core.explain import attribution

    a, _ = blob_volume([(8, 8)], seed=1)
    b, _ = blob_volume([(24, 24)], seed=1)
    maps_a = attribution_map(trained_ct, {"CT": a}, 0)["CT"]
    maps_b = attribution_map(trained_ct, {"CT": b}, 0)["CT"]
    assert not np.allclose(maps_a, maps_b)
    np.testing.assert_allclose(attribution_map(trained_ct, {"CT": a}, 0)["CT"], maps_a)
    assert len(attribution._TENSORS) <= attribution.TENSOR_CACHE_SIZE
