import numpy as np
import pytest

from fusion_core.teaching import xor
from fusion_core.teaching.xor import ToyFusion, make_xor_data, train_toy_fusion


def test_tensor_fusion_learns_the_interaction():
    assert train_toy_fusion("tensor", seed=0).test_auc > 0.95


@pytest.mark.parametrize("seed", [0, 1])
def test_additive_fusion_cannot(seed):
    assert train_toy_fusion("additive", seed=seed).test_auc < 0.65


def test_both_learn_a_sum():
    for kind in ToyFusion:
        assert train_toy_fusion(kind, task="sum", seed=0).test_auc > 0.95


def test_each_modality_alone_says_nothing():
    data = make_xor_data(4000, seed=3)
    assert abs(data.labels.mean() - 0.5) < 0.03
    for column in range(2):
        assert abs(np.corrcoef(data.x[:, column], data.labels)[0, 1]) < 0.05


def test_training_is_seeded_and_the_grid_is_a_probability_map():
    a, b = train_toy_fusion("tensor", seed=2, steps=20), train_toy_fusion("tensor", seed=2, steps=20)
    assert np.array_equal(a.probability, b.probability)
    assert a.probability.shape == (a.grid.size, a.grid.size)
    assert a.probability.min() >= 0.0 and a.probability.max() <= 1.0


@pytest.mark.parametrize("kind", list(ToyFusion))
def test_hand_written_gradients_match_finite_differences(kind):
    rng = np.random.default_rng(0)
    params = xor._init(kind, 3, rng)
    data = make_xor_data(20, seed=5)
    x, y = data.x.astype(float), data.labels.astype(float)
    _, grads = xor._gradients(kind, params, x, y)
    for name, value in params.items():
        index = (0,) * value.ndim
        old = value[index]
        value[index] = old + 1e-6
        up, _ = xor._gradients(kind, params, x, y)
        value[index] = old - 1e-6
        down, _ = xor._gradients(kind, params, x, y)
        value[index] = old
        assert grads[name][index] == pytest.approx((up - down) / 2e-6, rel=1e-4, abs=1e-7)
