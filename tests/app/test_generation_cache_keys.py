"""The Generation page's cached pictures follow the direction: what was drawn for MR → CT never comes back
under CT → MR labels (issue 22: the sampled mean and the what-if reference were keyed without the direction).

Each test runs the page's real section on a small phantom subject with the shipped ``vae-poe`` (it makes both CT
and MR), first MR → CT and then CT → MR, and records which volume each figure was drawn over.
"""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from fusion_core.data.phantom import make_subject
from fusion_core.inference import list_models

pytestmark = pytest.mark.skipif("vae-poe" not in list_models(), reason="vae-poe is not shipped")


def _sections_page():
    """The what-if and uncertainty sections alone, on the case and direction the test puts in session state."""
    import numpy as np
    import streamlit as st

    from ui import generation as gen
    from ui import generation_sections as sections

    case = st.session_state["test-case"]
    source, target = st.session_state["test-direction"]
    real = gen.real_target(case.fingerprint, target, case)
    point = np.asarray(case.ct.origin)  # any point: the panels clip it into the volume
    sections.whatif_section(case, target, point, (40.0, 400.0))
    sections.uncertainty_section(case, source, target, point, (40.0, 400.0), real)


def _run_both_directions(seed: int, toggles: dict[str, object]) -> AppTest:
    """MR -> CT, then CT -> MR on the same session (a small paired phantom subject, the MR on the CT grid)."""
    app = AppTest.from_function(_sections_page, default_timeout=300)
    app.session_state["test-case"] = make_subject(seed, size=48).to_case().aligned()
    for key, value in toggles.items():
        app.session_state[key] = value
    for direction in (("MR", "CT"), ("CT", "MR")):
        app.session_state["test-direction"] = direction
        app.run()
        assert not app.exception, [e.value for e in app.exception]
    return app


def test_the_sampled_mean_is_the_mean_of_the_direction_shown(monkeypatch):
    import ui.generation_sections as sections

    drawn = []
    real_panels = sections.linked_map_panels

    def recording(base, heat, point, **kwargs):
        drawn.append(base.modality)
        return real_panels(base, heat, point, **kwargs)

    monkeypatch.setattr(sections, "linked_map_panels", recording)
    toggles = {"gen-whatif": False, "gen-unc": True, "gen-unc-model": "vae-poe", "gen-samples": 4}
    _run_both_directions(31, toggles)
    # Each direction draws the spread (and the error of the mean) over the sampled mean.
    assert drawn[:2] == ["CT", "CT"] and len(drawn) == 4 and all(m.startswith("MR") for m in drawn[2:]), drawn


def test_the_whatif_reference_is_the_target_shown(monkeypatch):
    import ui.generation_sections as sections

    drawn = []
    real_map = sections.map_slice_rgb

    def recording(base, heat, plane, index, **kwargs):
        drawn.append(base.modality)
        return real_map(base, heat, plane, index, **kwargs)

    monkeypatch.setattr(sections, "map_slice_rgb", recording)
    _run_both_directions(37, {"gen-whatif": True, "gen-unc": False})
    # Three posterior maps per direction, each over the first imputed volume of that target.
    assert drawn[:3] == ["CT"] * 3 and all(m.startswith("MR") for m in drawn[3:]) and len(drawn) == 6, drawn
