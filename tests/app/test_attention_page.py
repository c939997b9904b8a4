"""AppTest of the Attention & Uncertainty page: runs on the demo subject, a set click location moves the MR map."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def app() -> AppTest:
    app = AppTest.from_file(str(ROOT / "pages" / "attention.py"), default_timeout=300)
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def _looked_at(app: AppTest) -> np.ndarray:
    import json

    (chart,) = [c for c in app.get("plotly_chart") if c.proto.id.endswith("att-looked") or "att-looked" in c.proto.id]
    figure = json.loads(chart.proto.spec)
    return np.asarray(figure["data"][0]["source"] if "source" in figure["data"][0] else figure["data"][0]["z"])


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
