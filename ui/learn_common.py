"""Shared pieces of the Learn page's demos: the list of demos and each one's opening."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import streamlit as st

from ui.scaffold import page_boundary


@dataclass(frozen=True)
class Demo:
    number: int
    anchor: str  # /learn#<anchor> opens the page at this demo
    title: str
    question: str


def open_demo(demo: Demo) -> None:
    """The demo's header (with its anchor) and its one-sentence question."""
    st.header(f"{demo.number} · {demo.title}", anchor=demo.anchor, divider="gray")
    st.markdown(f"**{demo.question}**")


def contents(demos: list[Demo]) -> None:
    """Links to every demo, for a teacher jumping between them."""
    st.markdown(" · ".join(f"[{d.number}. {d.title}](#{d.anchor})" for d in demos))


@st.fragment
def demo_fragment(demo: Demo, render: Callable[[], None]) -> None:
    """Run one demo as a fragment: moving its controls reruns this demo only, not the whole page.

    The error boundary is inside the fragment, because a fragment's rerun does not pass through
    the page's own boundary: a failing demo shows a message and leaves the others standing.
    """
    with page_boundary(f"showing demo {demo.number} ({demo.title})"):
        render()
