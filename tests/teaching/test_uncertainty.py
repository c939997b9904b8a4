import numpy as np
import pytest
import torch

from fusion_core.checkpoints import save_model
from fusion_core.data.phantom import make_subject
from fusion_core.inference import load_model
from fusion_core.models import ClassifierConfig, EncoderConfig, FusionClassifier
from fusion_core.teaching.uncertainty import noise_weight_curve


@pytest.fixture(scope="module")
def volumes():
    subject = make_subject(3, size=24, label=1)
    return {"CT": subject.ct, "MR": subject.mr_on_ct_grid()}


@pytest.fixture(scope="module")
def tiny_late(tmp_path_factory):
    torch.manual_seed(0)
    encoder = EncoderConfig(image_size=32, base_channels=8, n_down=2, max_channels=16)
    root = tmp_path_factory.mktemp("late")
    save_model(FusionClassifier(ClassifierConfig(strategy="uncertainty-late", encoder=encoder, embed_dim=8)), root)
    return load_model(root, device="cpu")


def test_weights_are_a_distribution_per_level_and_missing_means_zero(tiny_late, volumes):
    curve = noise_weight_curve(tiny_late, volumes, noise_levels=(0.0, 1.0), n_slices=4, mc_samples=2)
    total = curve.weights["CT"] + curve.weights["MR"]
    assert np.allclose(total, 1.0, atol=1e-5)
    assert curve.missing_weights == pytest.approx({"CT": 1.0, "MR": 0.0})
    assert curve.examples.shape == (2, 32, 32)
    assert not np.allclose(curve.examples[0], curve.examples[1])  # the noise is really there


def test_seeded_and_leaves_the_global_rng_alone(tiny_late, volumes):
    torch.manual_seed(123)
    expected_next = torch.rand(1)
    torch.manual_seed(123)
    a = noise_weight_curve(tiny_late, volumes, noise_levels=(0.5,), n_slices=4, mc_samples=3, seed=7)
    assert torch.rand(1) == expected_next
    b = noise_weight_curve(tiny_late, volumes, noise_levels=(0.5,), n_slices=4, mc_samples=3, seed=7)
    assert np.array_equal(a.weights["MR"], b.weights["MR"])


@pytest.mark.slow
def test_shipped_model_trusts_a_noisy_mr_less():
    from fusion_core.data.cohorts import get_cohort_spec

    case = get_cohort_spec("demo").subject(0).to_case().aligned()
    model = load_model("clf-uncertainty-late", device="cpu")
    curve = noise_weight_curve(model, {"CT": case.ct, **case.mr_weightings}, noise_levels=(0.0, 3.0))
    assert curve.weights["MR"][1] < curve.weights["MR"][0] - 0.2
