"""AppTest of the Attention & Uncertainty page: runs on the demo subject, a set click location moves the MR map."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def app() -> AppTest:
    app = AppTest.from_file(str(ROOT / "pages" / "attention.py"), default_timeout=300)
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def _figure(app: AppTest, key: str) -> dict:
    (chart,) = [c for c in app.get("plotly_chart") if key in c.proto.id]
    return json.loads(chart.proto.spec)


def _looked_at(app: AppTest) -> np.ndarray:
    """The RGB overlay of the MR attention chart (its go.Image)."""
    return np.asarray(_figure(app, "att-looked")["data"][0]["z"])


def test_page_shows_every_section_without_errors(app):
    assert not app.error
    assert [h.value for h in app.subheader][:3] == [
        "1 · Cross-modal attention: click a location",
        "2 · What clf-intermediate-attention's decision rests on",
        "3 · How sure the classifier is",
    ]
    assert app.slider(key="att-slice").value > 0  # the slice through the lesion, on a lesion subject


def test_a_set_click_location_moves_the_mr_attention(app):
    before = _looked_at(app)
    app.number_input(key="att-query-y").set_value(50)
    app.number_input(key="att-query-x").set_value(80).run()
    assert not app.exception
    after = _looked_at(app)
    assert not np.array_equal(before, after)


def _weights(app: AppTest) -> dict[str, float]:
    now = _figure(app, "att-weights")["data"][-1]
    return dict(zip(now["x"], now["y"], strict=True))


def test_removing_the_mr_moves_the_weight_and_recomputes_no_attribution(app, monkeypatch):
    import fusion_core.explain

    calls = []
    original = fusion_core.explain.attribution_map
    monkeypatch.setattr(fusion_core.explain, "attribution_map", lambda *a, **k: calls.append(a) or original(*a, **k))
    assert _weights(app)["MR"] > 0.05
    app.checkbox(key="att-remove").check().run()
    assert not app.exception
    assert _weights(app) == {"CT": 1.0, "MR": 0.0}
    assert calls == []  # the weights' controls do not touch the cached attributions
