"""st.stop() inside the boundary is control flow: the page stops quietly, no error shown."""

import streamlit as st

from ui.scaffold import page_boundary

with page_boundary("drawing the test page"):
    st.write("before the stop")
    st.stop()
    st.write("never reached")
