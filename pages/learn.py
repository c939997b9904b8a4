"""Learn: interactive teaching demos of why and how multimodal fusion works."""

from __future__ import annotations

import streamlit as st

from ui import learn_basics, learn_images, learn_models, learn_toys
from ui.guard import require_app_navigation
from ui.learn_common import contents, demo_fragment
from ui.scaffold import page_boundary

require_app_navigation()

DEMOS = [
    (learn_basics.TWO_VIEWS, learn_basics.render_two_views),
    (learn_basics.BAYES, learn_basics.render_bayes),
    (learn_models.ARCHITECTURES, learn_models.render_architectures),
    (learn_images.MISREGISTRATION, learn_images.render_misregistration),
    (learn_images.NORMALISATION, learn_images.render_normalisation),
    (learn_toys.XOR, learn_toys.render_xor),
    (learn_toys.POE, learn_toys.render_poe),
    (learn_models.UNCERTAINTY, learn_models.render_uncertainty),
]

with page_boundary("showing the Learn page"):
    st.title("Learn")
    st.caption(
        "Short interactive demos of why and how fusing CT and MRI helps: each asks one question, "
        "lets you move a control or two, and answers with a picture and a number."
    )
    contents([demo for demo, _ in DEMOS])
    for demo, render in DEMOS:
        demo_fragment(demo, render)
