"""AppTest of the Latent Space page on a tiny demo cohort (3 subjects, every 8th slice, PCA)."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]


def _selection(*ids: int) -> dict:
    # What the plotly chart's widget state holds after a lasso: AppTest cannot draw one, so it is set.
    return {"selection": {"points": [{"customdata": i} for i in ids], "point_indices": [], "box": [], "lasso": []}}


@pytest.fixture
def app():
    at = AppTest.from_file(str(ROOT / "pages/latents.py"), default_timeout=300)
    at.session_state["lat-n"] = 3
    at.session_state["lat-step"] = 8
    at.session_state["lat-method"] = "PCA"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_page_shows_map_and_numbers(app):
    assert app.title[0].value == "Latent Space"
    assert not app.error
    numbers = " ".join(m.value for m in app.markdown)
    assert "Cross-modal retrieval" in numbers and "Modality mixing" in numbers
    assert len(app.get("plotly_chart")) == 2  # the map and the canonical correlations
    assert any("Lasso" in i.value for i in app.info)


def test_a_set_selection_shows_thumbnails_that_survive_a_rerun(app):
    app.session_state["lat-plot"] = _selection(2, 5, 7)
    app.run()
    assert not app.exception
    assert app.subheader[0].value == "3 selected slices"
    assert len(app.get("image")) == 3
    app.session_state["lat-plot"] = _selection()  # a new figure drops the chart's selection; the page keeps it
    app.toggle(key="lat-links").set_value(True).run()
    assert app.subheader[0].value == "3 selected slices"


def test_one_point_shows_its_detail_and_neighbours(app):
    app.session_state["lat-plot"] = _selection(4)
    app.run()
    assert not app.exception
    assert "slice" in app.subheader[0].value
    assert len(app.get("image")) == 1 + 1 + 8  # the slice, its reconstruction, 8 neighbours
    app.button(key="lat-clear").click().run()
    assert not app.subheader


def test_data_page_opens_a_deep_link():
    at = AppTest.from_file(str(ROOT / "pages/data.py"), default_timeout=300)
    at.query_params["subject"] = "phantom-003"
    at.query_params["slice"] = "41"
    at.run()
    assert not at.exception
    assert at.selectbox(key="data-demo-subject").value == "phantom-003"
    assert at.slider(key="data-view-axial").value == 41


def test_one_point_per_subject(app):
    app.toggle(key="lat-per-subject").set_value(True).run()
    assert not app.exception
    assert any(c.value.startswith("9 subject means") for c in app.caption)  # 3 subjects x 3 posteriors
    app.toggle(key="lat-per-subject").set_value(False).run()
