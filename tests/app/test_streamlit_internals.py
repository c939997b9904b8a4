"""Streamlit's private parts the app relies on (``ui.streamlit_internals``) still behave as the app assumes.

Each test names what an upgrade broke and which feature it carries, so that a failure after ``pip install -U
streamlit`` reads as a to-do, not a puzzle. The last test keeps every other module off Streamlit's internals.
"""

from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path

import pytest
import streamlit
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
UPGRADE = f"Streamlit {streamlit.__version__} changed a private part ui/streamlit_internals.py relies on: "


def _private(module: str, name: str, feature: str):
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as error:
        pytest.fail(f"{UPGRADE}{module}.{name} is gone ({error}); {feature} needs another way.")


def test_the_xsrf_cookie_keeps_its_name_and_format():
    """ui.recovery binds a tab's remembered scans to its browser by this cookie's token."""
    from ui.streamlit_internals import XSRF_COOKIE, xsrf_token

    feature = "binding a reloaded tab to its browser (ui.recovery)"
    config = "streamlit.web.server.starlette.starlette_server_config"
    name = _private(config, "XSRF_COOKIE_NAME", feature)
    assert name == XSRF_COOKIE, f"{UPGRADE}the XSRF cookie is now {name!r}, not {XSRF_COOKIE!r}: {feature}"
    generate = _private("streamlit.web.server.starlette.starlette_app_utils", "generate_xsrf_token_string", feature)
    token = bytes(range(16))
    reissued = [generate(token, 1_700_000_000) for _ in range(3)]  # a fresh random mask each time
    assert len(set(reissued)) > 1 and {xsrf_token(c) for c in reissued} == {token}, (
        f"{UPGRADE}the XSRF cookie's format changed ({reissued[0]!r}): one browser no longer gives one token; "
        f"{feature} breaks."
    )
    assert xsrf_token(generate(bytes(16), 1_700_000_000)) != token


def test_st_stop_raises_the_exception_a_stopped_job_is_recognised_by():
    """A long job that a reload stops stays marked as interrupted (ui.recovery.running_job); a page's error
    boundary (ui.scaffold.page_boundary) lets st.stop() and st.rerun() through."""
    from ui.streamlit_internals import ScriptControlException, is_script_stop

    RAISED.clear()
    app = AppTest.from_function(_stopping_page, default_timeout=30)
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    kind = RAISED[0] if RAISED else None
    assert kind is not None and is_script_stop(kind), (
        f"{UPGRADE}st.stop() now raises {kind!r}, not StopException: an interrupted job is no longer recognised."
    )
    assert issubclass(kind, ScriptControlException) and not issubclass(ScriptControlException, Exception), (
        f"{UPGRADE}st.stop()'s exception is caught by `except Exception`: page boundaries would swallow it."
    )


RAISED: list[type[BaseException]] = []  # what the page below saw (AppTest runs it in this process)


def _stopping_page():
    import streamlit as st

    from tests.app.test_streamlit_internals import RAISED

    try:
        st.stop()
        st.write("not reached")  # the stop lands at the latest here
    except BaseException as error:
        RAISED.append(type(error))
        raise


def test_a_pages_folder_still_switches_streamlit_to_v1_until_navigation_runs():
    """ui.guard: a deep link on a fresh server runs pages/<page>.py alone while this flag is set."""
    from ui.streamlit_internals import leave_pages_directory_mode

    feature = "a deep link on a fresh server reaching app.py's navigation (ui.guard)"
    manager = _private("streamlit.runtime.pages_manager", "PagesManager", feature)
    assert hasattr(manager, "uses_pages_directory"), f"{UPGRADE}PagesManager.uses_pages_directory is gone: {feature}"
    runner = inspect.getsource(importlib.import_module("streamlit.runtime.scriptrunner.script_runner"))
    navigation = inspect.getsource(importlib.import_module("streamlit.commands.navigation"))
    assert "PagesManager.uses_pages_directory" in runner, f"{UPGRADE}the script runner no longer reads the flag"
    assert "PagesManager.uses_pages_directory = False" in navigation, f"{UPGRADE}st.navigation no longer clears it"
    saved = manager.uses_pages_directory
    try:
        manager.uses_pages_directory = True
        assert leave_pages_directory_mode() and manager.uses_pages_directory is False
        assert not leave_pages_directory_mode()
    finally:
        manager.uses_pages_directory = saved


def _streamlit_private_imports(tree: ast.Module) -> list[str]:
    modules = [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    modules += [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    return [m for m in modules if m.startswith(("streamlit.runtime", "streamlit.web", "streamlit.proto"))]


def test_no_other_module_reaches_into_streamlit():
    files = [*ROOT.glob("ui/*.py"), *ROOT.glob("pages/*.py"), ROOT / "app.py"]
    found = {
        str(path.relative_to(ROOT)): imports
        for path in files
        if path.name != "streamlit_internals.py"
        and (imports := _streamlit_private_imports(ast.parse(path.read_text())))
    }
    assert not found, f"import Streamlit's private parts through ui/streamlit_internals.py only: {found}"
    assert _streamlit_private_imports(ast.parse((ROOT / "ui" / "streamlit_internals.py").read_text()))
