"""Demo 6, additive vs multiplicative fusion on an XOR-like toy.

Each modality sees one number; the label is 1 when the two agree in sign (x_1 x_2 > 0). Neither
modality alone says anything, and no additive model f(x_1) + g(x_2) can separate the classes: it
would need f(+) + g(+) > 0 and f(-) + g(-) > 0 but f(+) + g(-) < 0 and f(-) + g(+) < 0, and both
pairs add up to the same total. Tensor (bilinear) fusion, a linear head on the outer product
[h_1, 1] x [h_2, 1] of the two embeddings, has the products h_1 h_2 it needs.

Both models are tiny (one hidden layer of 8 per modality) and train full-batch in well under a
second on a CPU, seeded, so a page can train them live. Plain numpy with hand-written gradients:
no torch thread pool to fight a running model for the two cores, and no global state touched.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from fusion_core.evaluation import auc_score

GRID_LIMIT = 2.5  # decision-boundary grids cover [-2.5, 2.5]^2 (about 99 % of the points)
HIDDEN = 8  # embedding width per modality
LEARNING_RATE = 0.05
ADAM_BETAS = (0.9, 0.999)


class ToyFusion(StrEnum):
    """How the toy network combines the two modalities: a sum of per-modality terms, or their outer product."""

    ADDITIVE = "additive"
    TENSOR = "tensor"


class ToyTask(StrEnum):
    """What the label depends on: the interaction (same sign, XOR-like) or the sum of the two values."""

    INTERACTION = "interaction"
    SUM = "sum"


@dataclass(frozen=True)
class XorData:
    """x: (n, 2) float32, one column per modality; labels: (n,) 0/1."""

    x: np.ndarray
    labels: np.ndarray


def make_xor_data(n: int = 800, *, seed: int = 0, task: ToyTask | str = ToyTask.INTERACTION) -> XorData:
    """``n`` points x ~ N(0, I_2) labelled 1 where x_1 x_2 > 0 ("interaction") or x_1 + x_2 > 0 ("sum")."""
    x = np.random.default_rng(seed).normal(size=(n, 2)).astype(np.float32)
    decision = x[:, 0] * x[:, 1] if ToyTask(task) is ToyTask.INTERACTION else x[:, 0] + x[:, 1]
    return XorData(x=x, labels=(decision > 0).astype(int))


def _init(kind: ToyFusion, hidden: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    width = 2 * hidden if kind is ToyFusion.ADDITIVE else (hidden + 1) ** 2
    return {
        "w": rng.normal(0.0, 1.0, (2, hidden)),  # one 1 -> hidden encoder per modality
        "b": rng.normal(0.0, 0.5, (2, hidden)),
        "v": rng.normal(0.0, 1.0 / np.sqrt(width), width),
        "c": np.zeros(1),
    }


def _embed(params: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    """(n, 2, hidden) tanh embeddings, one per modality."""
    return np.tanh(x[:, :, None] * params["w"][None] + params["b"][None])


def _with_one(h: np.ndarray) -> np.ndarray:
    return np.concatenate([h, np.ones((h.shape[0], 1))], axis=1)


def _logits(kind: ToyFusion, params: dict[str, np.ndarray], h: np.ndarray) -> np.ndarray:
    if kind is ToyFusion.ADDITIVE:
        return h.reshape(len(h), -1) @ params["v"] + params["c"][0]
    v = params["v"].reshape(h.shape[2] + 1, h.shape[2] + 1)
    return np.einsum("bj,jk,bk->b", _with_one(h[:, 0]), v, _with_one(h[:, 1])) + params["c"][0]


def _gradients(kind: ToyFusion, params: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray):
    """Mean binary cross-entropy and its gradient with respect to every parameter (by hand)."""
    h = _embed(params, x)
    z = _logits(kind, params, h)
    loss = float(np.mean(np.logaddexp(0.0, z) - y * z))
    dz = (1.0 / (1.0 + np.exp(-z)) - y) / len(y)
    if kind is ToyFusion.ADDITIVE:
        dv = h.reshape(len(h), -1).T @ dz
        dh = dz[:, None, None] * params["v"].reshape(1, 2, -1)
    else:
        a1, a2 = _with_one(h[:, 0]), _with_one(h[:, 1])
        v = params["v"].reshape(a1.shape[1], a2.shape[1])
        dv = np.einsum("b,bj,bk->jk", dz, a1, a2).ravel()
        dh = np.stack([(a2 @ v.T)[:, :-1], (a1 @ v)[:, :-1]], axis=1) * dz[:, None, None]
    dpre = dh * (1.0 - h**2)
    grads = {"w": np.einsum("bmh,bm->mh", dpre, x), "b": dpre.sum(0), "v": dv, "c": np.array([dz.sum()])}
    return loss, grads


@dataclass(frozen=True)
class ToyFit:
    """A trained toy model and how it did.

    Attributes:
        kind: "additive" or "tensor".
        task: "interaction" or "sum".
        test_auc: AUC on fresh test points (another seed).
        losses: (steps,) training loss per step.
        grid: (g,) coordinates of the decision grid along each axis.
        probability: (g, g) predicted P(label 1), rows along x_2, columns along x_1.
    """

    kind: str
    task: str
    test_auc: float
    losses: np.ndarray
    grid: np.ndarray
    probability: np.ndarray


def train_toy_fusion(
    kind: ToyFusion | str,
    *,
    task: ToyTask | str = ToyTask.INTERACTION,
    n: int = 800,
    steps: int = 300,
    seed: int = 0,
    grid_size: int = 61,
) -> ToyFit:
    """Train additive or tensor fusion on :func:`make_xor_data` and evaluate it.

    Args:
        kind: "additive" or "tensor".
        task: what the label depends on (see :class:`ToyTask`).
        n: training points (the test set has as many, from seed + 1).
        steps: full-batch Adam steps (learning rate 0.05).
        seed: seeds the data and the initial weights.
        grid_size: points per axis of the decision grid.

    Returns:
        The test AUC, loss curve and the decision grid.
    """
    kind = ToyFusion(kind)
    params = _init(kind, HIDDEN, np.random.default_rng(seed))
    train, test = make_xor_data(n, seed=seed, task=task), make_xor_data(n, seed=seed + 1, task=task)
    losses = _fit(kind, params, train.x.astype(float), train.labels.astype(float), steps)
    grid = np.linspace(-GRID_LIMIT, GRID_LIMIT, grid_size)
    gx, gy = np.meshgrid(grid, grid)
    grid_logits = _logits(kind, params, _embed(params, np.stack([gx.ravel(), gy.ravel()], 1)))
    return ToyFit(
        kind=str(kind),
        task=str(ToyTask(task)),
        test_auc=auc_score(test.labels, _logits(kind, params, _embed(params, test.x.astype(float)))),
        losses=losses,
        grid=grid,
        probability=(1.0 / (1.0 + np.exp(-grid_logits))).reshape(grid_size, grid_size),
    )


def _fit(kind: ToyFusion, params: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray, steps: int) -> np.ndarray:
    """Full-batch Adam (in place on ``params``); returns the loss per step."""
    m = {k: np.zeros_like(p) for k, p in params.items()}
    s = {k: np.zeros_like(p) for k, p in params.items()}
    losses = np.empty(steps)
    for step in range(1, steps + 1):
        losses[step - 1], grads = _gradients(kind, params, x, y)
        for k, g in grads.items():
            m[k] = ADAM_BETAS[0] * m[k] + (1 - ADAM_BETAS[0]) * g
            s[k] = ADAM_BETAS[1] * s[k] + (1 - ADAM_BETAS[1]) * g**2
            m_hat, s_hat = m[k] / (1 - ADAM_BETAS[0] ** step), s[k] / (1 - ADAM_BETAS[1] ** step)
            params[k] -= LEARNING_RATE * m_hat / (np.sqrt(s_hat) + 1e-8)
    return losses
