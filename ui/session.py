"""Session state shared by pages: which case is active. Defaults to the demo cohort's first subject."""

from __future__ import annotations

import streamlit as st

from fusion_core.case import Case

DEMO_COHORT_SIZE = 24
DEMO_SEED = 0
DEMO_SITES = ("A", "B", "C")
_ACTIVE_KEY = "active_case"


def demo_subject_ids() -> list[str]:
    """Ids of the demo cohort, e.g. "phantom-000"; subjects are built only when asked for."""
    return [f"phantom-{i:03d}" for i in range(DEMO_COHORT_SIZE)]


def demo_site(subject_id: str) -> str:
    from fusion_core.data.phantom import cohort_site

    return cohort_site(demo_subject_ids().index(subject_id), DEMO_SITES)


@st.cache_resource(show_spinner="Generating the demo subject…", max_entries=DEMO_COHORT_SIZE)
def demo_case(subject_id: str) -> Case:
    """One demo subject as a case (cached per server process; never mutated)."""
    from fusion_core.data.phantom import cohort_subject

    index = demo_subject_ids().index(subject_id)
    return cohort_subject(index, seed=DEMO_SEED, sites=DEMO_SITES).to_case()


def active_case() -> Case:
    """The case the user picked on the Data page, or the first demo subject."""
    case = st.session_state.get(_ACTIVE_KEY)
    if case is None:
        case = demo_case(demo_subject_ids()[0])
        st.session_state[_ACTIVE_KEY] = case
    return case


def set_active_case(case: Case) -> None:
    st.session_state[_ACTIVE_KEY] = case
