"""Session state shared by pages: which case is active. Defaults to the demo cohort's first subject."""

from __future__ import annotations

import streamlit as st

from fusion_core.case import Case

DEMO_COHORT_SIZE = 12
DEMO_SEED = 0
_ACTIVE_KEY = "active_case"


@st.cache_resource(show_spinner="Building the demo phantom cohort…")
def demo_cases(n: int = DEMO_COHORT_SIZE, seed: int = DEMO_SEED) -> list[Case]:
    """The built-in demo cohort as cases (cached once per server process; never mutated)."""
    from fusion_core.data.phantom import make_cohort

    return [subject.to_case() for subject in make_cohort(n, seed=seed, paired=True)]


def active_case() -> Case:
    """The case the user picked on the Data page, or the first demo subject."""
    case = st.session_state.get(_ACTIVE_KEY)
    if case is None:
        case = demo_cases()[0]
        st.session_state[_ACTIVE_KEY] = case
    return case


def set_active_case(case: Case) -> None:
    st.session_state[_ACTIVE_KEY] = case
