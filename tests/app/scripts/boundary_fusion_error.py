"""A page whose body raises a FusionError (the user's to fix): its message is shown as it is."""

import streamlit as st

from fusion_core.case import Case
from ui.scaffold import page_boundary

with page_boundary("drawing the test page"):
    st.write("before the failure")
    Case("lonely").aligned()  # no CT, no MR: a CaseError
