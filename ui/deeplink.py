"""Deep links into the Data page: ``/data?subject=phantom-003&slice=41`` opens that demo subject at that
axial slice (0-based index on the CT grid), e.g. from a thumbnail on the Latent Space page.
"""

from __future__ import annotations

import streamlit as st

from ui import session

DATA_KEYS = {"source": "data-source", "subject": "data-demo-subject", "axial": "data-view-axial"}


def apply_data_query_params() -> None:
    """Copy ``subject``/``slice`` query parameters into the Data page's widgets once, then drop them.

    Unknown subjects and unreadable slice numbers are ignored (the page opens as usual).
    """
    subject, index = st.query_params.get("subject"), st.query_params.get("slice")
    if subject is None or subject not in session.demo_subject_ids():
        return
    st.session_state[DATA_KEYS["source"]] = "Demo cohort"
    st.session_state[DATA_KEYS["subject"]] = subject
    if index is not None and index.isdigit():
        n = session.demo_case(subject).ct.shape[0]
        st.session_state[DATA_KEYS["axial"]] = min(int(index), n - 1)
    for key in ("subject", "slice"):  # only the link's own parameters: the tab's recovery token stays
        st.query_params.pop(key, None)
