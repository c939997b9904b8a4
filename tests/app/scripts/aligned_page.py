"""A model page in miniature: it calls only aligned_active_case() and says where the alignment came from."""

import streamlit as st

from ui.aligned import aligned_active_case
from ui.scaffold import page_boundary

with page_boundary("aligning the test case"):
    aligned = aligned_active_case()
    st.markdown(f"source: {aligned.source}")
    st.caption(aligned.note)
    st.write(f"grid: {aligned.case.mr.shape == aligned.case.ct.shape}")
