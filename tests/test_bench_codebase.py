"""benchmarks/bench_codebase.py counts what it says: module-level code lines and long functions."""

from __future__ import annotations

from benchmarks.bench_codebase import long_functions, module_level_lines

PAGE = '''"""A page.

Its docstring spans lines.
"""

import streamlit as st  # a comment after code: the line holds code

# a comment line does not count


@st.cache_data
def helper(x):
    """Inside a def: never module-level."""
    return x + 1


with st.container():
    st.title("Page")
    st.caption(
        "two lines"
    )
'''


def test_module_level_lines_skip_docstrings_comments_blanks_and_defs():
    assert module_level_lines(PAGE) == 6  # import, with, title, and the caption call's three lines


def test_long_functions_lists_each_function_over_the_limit_with_its_length():
    body = "\n".join(f"    x{i} = {i}" for i in range(5))
    source = f"def short():\n    return 1\n\n\ndef long():\n{body}\n    return 0\n"
    assert long_functions(source, "m.py", 5) == [{"function": "m.py:long", "line": 5, "lines": 7}]
    assert long_functions(source, "m.py", 7) == []
