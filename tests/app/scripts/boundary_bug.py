"""A page whose body fails with a bug (not a FusionError): the boundary must turn it into a message."""

import streamlit as st

from ui.scaffold import page_boundary

with page_boundary("drawing the test page"):
    st.write("before the failure")
    raise ZeroDivisionError("division by zero in the test page\nsecond line never shown")
