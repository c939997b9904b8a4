"""Two users at once on the model pages (Cross-modal Generation, Attention & Uncertainty, Latent Space):
each sees their own subject, generated images, click location and selection, and the shared cached
cases and models are never changed (weights, eval mode, no hooks left behind by attribution or MC dropout).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from fusion_core.evaluation import TissueClassMapper
from fusion_core.evaluation import cross_modal as cm

ROOT = Path(__file__).resolve().parents[2]


def _app(script: str, case=None, **state) -> AppTest:
    app = AppTest.from_file(str(ROOT / "pages" / script), default_timeout=300)
    if case is not None:
        app.session_state["active_case"] = case
    for key, value in state.items():
        app.session_state[key] = value
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def _case_digest(case) -> str:
    return hashlib.sha1(case.ct.array.tobytes() + case.mr.array.tobytes()).hexdigest()


def _model_state(name: str) -> tuple[str, bool, int]:
    """Digest of a shared model's weights and buffers, whether it is in training mode, and its hook count."""
    from ui.models import get_model

    network = get_model(name).network
    digest = hashlib.sha1()
    for key, tensor in sorted(network.state_dict().items()):
        digest.update(key.encode() + tensor.detach().cpu().numpy().tobytes())
    hooks = sum(len(m._forward_hooks) + len(m._forward_pre_hooks) + len(m._backward_hooks) for m in network.modules())
    return digest.hexdigest(), any(m.training for m in network.modules()), hooks


@pytest.fixture(scope="module")
def demo():
    from ui import session

    ids = session.demo_subject_ids()
    return ids, {i: session.demo_case(ids[i]) for i in (3, 7)}


@pytest.fixture
def fast_baseline(monkeypatch):
    # The Generation page fits the tissue-class baseline once per server; a fixed one keeps the test fast.
    monkeypatch.setattr(
        cm, "fit_baseline", lambda **_: TissueClassMapper(np.array([-0.6, 0.0, 0.6]), np.array([400.0, 20.0, 40.0]))
    )


def test_generation_shows_each_user_their_own_subject_and_images(demo, fast_baseline):
    ids, cases = demo
    before = {i: _case_digest(c) for i, c in cases.items()}
    user_a, user_b = _app("generation.py", cases[3]), _app("generation.py", cases[7])
    assert any(ids[3] in c.value for c in user_a.caption) and not any(ids[7] in c.value for c in user_a.caption)
    assert any(ids[7] in c.value for c in user_b.caption) and not any(ids[3] in c.value for c in user_b.caption)
    mae_a, mae_b = (float(u.table[0].value.iloc[0]["MAE (HU)"]) for u in (user_a, user_b))
    assert mae_a != mae_b  # each table scores its own subject's generated CT
    user_a.run()  # A's rerun after B's page: still A's subject and numbers
    assert any(ids[3] in c.value for c in user_a.caption)
    assert float(user_a.table[0].value.iloc[0]["MAE (HU)"]) == mae_a
    assert {i: _case_digest(c) for i, c in cases.items()} == before


def _looked_at(app: AppTest) -> np.ndarray:
    (chart,) = [c for c in app.get("plotly_chart") if "att-looked" in c.proto.id]
    return np.asarray(json.loads(chart.proto.spec)["data"][0]["z"])


def test_attention_click_and_attributions_stay_with_their_user_and_leave_the_models_untouched(demo):
    from fusion_core.explain import recommended_attribution
    from ui.attention import ATTENTION_MODEL, VAE_MODEL, WEIGHTS_MODEL

    ids, cases = demo
    names = (ATTENTION_MODEL, WEIGHTS_MODEL, VAE_MODEL, recommended_attribution()[0])  # the page's attributions
    models_before = {name: _model_state(name) for name in names}
    user_a, user_b = _app("attention.py", cases[3]), _app("attention.py", cases[7])
    b_before = _looked_at(user_b)
    user_a.number_input(key="att-query-y").set_value(50)
    user_a.number_input(key="att-query-x").set_value(80).run()
    assert not user_a.exception
    user_b.run()
    assert user_b.number_input(key="att-query-y").value == 64  # B's location did not follow A's click
    np.testing.assert_array_equal(_looked_at(user_b), b_before)
    assert any(ids[7] in c.value for c in user_b.caption)
    for name, (digest, training, hooks) in models_before.items():
        assert _model_state(name) == (digest, False, 0), name  # same weights, eval mode, no hooks left
        assert not training and hooks == 0


def test_a_latent_selection_stays_with_its_user():
    small = {"lat-n": 3, "lat-step": 8, "lat-method": "PCA"}
    user_a, user_b = _app("latents.py", **small), _app("latents.py", **small)
    user_a.session_state["lat-plot"] = {
        "selection": {"points": [{"customdata": i} for i in (2, 5)], "point_indices": [], "box": [], "lasso": []}
    }
    user_a.run()
    assert user_a.subheader[0].value == "2 selected slices"
    user_b.run()
    assert not any("selected slices" in s.value for s in user_b.subheader)
