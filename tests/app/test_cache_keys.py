"""Caches keyed on what determines them (issue 22): a static check of every ``st.cache_data`` /
``st.cache_resource`` function in ``ui/`` and of every call to one in ``ui/`` and ``pages/``, and the key helpers.

The rules, read from the source with ``ast``:

1. A cached function may skip an argument (``_case``, ``_volume``) only beside a parameter that determines it
   (``fingerprint``, ``key``, ``*_fingerprint`` or ``*_key``), and its docstring names the skipped argument (it
   says what determines it).
2. No cached function takes a ``role``: a volume is keyed on itself (``ui.display``), never on a name for it.
3. No call passes a key built by hand to a cached function: no f-string, string ``+``/``%``/``.format``/``.join``,
   and no tuple literal holding a string. Keys come from the values themselves or from ``ui.cache_keys``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

from fusion_core.volume import Volume
from ui.cache_keys import LatentsKey, latents_key, volume_key

ROOT = Path(__file__).resolve().parents[2]
DETERMINING = ("fingerprint", "key")
# Owned by the Register & Fuse rewrite (running beside this change): its cached widgets still name volumes by
# hand (``display_volume(case_key, role, _volume)``, tuple keys). Remove an entry once that file follows the rules.
NOT_YET = {"ui/register_widgets.py", "pages/register_fuse.py"}
CACHE_DECORATORS = {"cache_data", "cache_resource"}


def _is_cache_decorator(node: ast.expr) -> bool:
    target = node.func if isinstance(node, ast.Call) else node
    return isinstance(target, ast.Attribute) and target.attr in CACHE_DECORATORS


def cached_functions(tree: ast.Module) -> list[ast.FunctionDef]:
    """The functions of a module decorated with ``st.cache_data`` or ``st.cache_resource`` (called or not)."""
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef) and any(_is_cache_decorator(d) for d in node.decorator_list)
    ]


def definition_problems(function: ast.FunctionDef) -> list[str]:
    """Rules 1 and 2 for one cached function."""
    names = [a.arg for a in (*function.args.posonlyargs, *function.args.args, *function.args.kwonlyargs)]
    determining = [n for n in names if not n.startswith("_") and n.endswith(DETERMINING)]
    docstring = ast.get_docstring(function) or ""
    problems = [f"{function.name}: takes a role (key the volume on itself: ui.display)" for n in names if n == "role"]
    for skipped in (n for n in names if n.startswith("_")):
        if not determining:
            problems.append(f"{function.name}: skips {skipped} with no fingerprint/key parameter beside it")
        elif f"``{skipped}``" not in docstring:
            problems.append(f"{function.name}: its docstring does not say what determines ``{skipped}``")
    return problems


def _hand_built(node: ast.expr) -> bool:
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mod)):
        return any(isinstance(s, ast.JoinedStr) or _is_str(s) for s in (node.left, node.right))
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("format", "join"):
        return _is_str(node.func.value)
    return isinstance(node, (ast.Tuple, ast.List)) and any(_is_str(e) or _hand_built(e) for e in node.elts)


def _is_str(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def _cached_callee(call: ast.Call, local: set[str], modules: dict[str, set[str]], imported: dict[str, str]) -> bool:
    """Whether a call reaches a cached function: ``name(...)`` (defined here or imported from ``ui``) or
    ``alias.name(...)`` with ``alias`` a ``ui`` module."""
    func = call.func
    if isinstance(func, ast.Name):
        return func.id in local or func.id in modules.get(imported.get(func.id, ""), set())
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        return func.attr in modules.get(imported.get(func.value.id, ""), set())
    return False


def _ui_imports(tree: ast.Module) -> dict[str, str]:
    """Local name -> the ``ui`` module it is (``from ui import generation as gen``) or comes from."""
    names = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "ui":
            names.update({a.asname or a.name: f"ui.{a.name}" for a in node.names})
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("ui."):
            names.update({a.asname or a.name: node.module for a in node.names})
        elif isinstance(node, ast.Import):
            names.update({a.asname: a.name for a in node.names if a.name.startswith("ui.") and a.asname})
    return names


def call_problems(tree: ast.Module, module: str, modules: dict[str, set[str]]) -> list[str]:
    """Rule 3 for every call to a cached function in one module."""
    imported, local = _ui_imports(tree), modules.get(module, set())
    built = _hand_built_names(tree)
    problems = []
    for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call)):
        if not _cached_callee(call, local, modules, imported):
            continue
        for arg in (*call.args, *(k.value for k in call.keywords)):
            if _hand_built(arg) or (isinstance(arg, ast.Name) and arg.id in built):
                problems.append(f"line {call.lineno}: a key built by hand: {ast.unparse(arg)}")
    return problems


def _hand_built_names(tree: ast.Module) -> set[str]:
    """Names assigned a hand-built key anywhere in the module (``key = f"{source}|{n}"``)."""
    return {
        target.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign) and _hand_built(node.value)
        for target in node.targets
        if isinstance(target, ast.Name)
    }


def _sources() -> dict[str, ast.Module]:
    files = sorted(ROOT.glob("ui/*.py")) + sorted(ROOT.glob("pages/*.py"))
    return {str(p.relative_to(ROOT)): ast.parse(p.read_text(), filename=str(p)) for p in files}


def _cached_by_module(sources: dict[str, ast.Module]) -> dict[str, set[str]]:
    return {
        path[:-3].replace("/", "."): {f.name for f in cached_functions(tree)}
        for path, tree in sources.items()
        if path.startswith("ui/")
    }


def test_every_cached_function_skips_only_what_a_key_beside_it_determines():
    sources = _sources()
    assert sum(len(cached_functions(t)) for t in sources.values()) > 50  # the scan finds ui's caches
    problems = [
        f"{path}: {p}"
        for path, tree in sources.items()
        if path not in NOT_YET
        for f in cached_functions(tree)
        for p in definition_problems(f)
    ]
    assert not problems, "\n".join(problems)


def test_no_call_site_builds_a_cache_key_by_hand():
    sources = _sources()
    modules = _cached_by_module(sources)
    problems = [
        f"{path} {p}"
        for path, tree in sources.items()
        if path not in NOT_YET
        for p in call_problems(tree, path[:-3].replace("/", "."), modules)
    ]
    assert not problems, "\n".join(problems)


def test_the_files_not_yet_checked_exist():
    """An entry of ``NOT_YET`` for a file that is gone would exempt nothing: remove it."""
    assert all((ROOT / path).is_file() for path in NOT_YET), NOT_YET


OLD_GENERATION = '''
import streamlit as st
from ui import generation as gen

@st.cache_resource(max_entries=64, show_spinner=False)
def display(case_key: str, role: str, _volume):
    """The canonical copy of a volume; ``role`` names it in the cache key."""

@st.cache_resource
def head(_case):
    return _case

def section(case, name, samples, result, vaes, target, label, fixed):
    key = f"{case.subject_id}|{samples}"
    gen.display(key, None, result.mean)
    gen.display(case.fingerprint, f"unc-mean-{name}-{samples}", result.mean)
    gen.display(case.fingerprint, "whatif-" + label, result.mean)
    gen.display((case.fingerprint, fixed, "before"), result)
    gen.display(case.fingerprint, "|".join(vaes), result)
'''


def test_the_rules_catch_the_keys_issue_22_found():
    """The checks fail on the Generation page's old keys (so a pass above means something)."""
    tree = ast.parse(OLD_GENERATION)
    modules = {"ui.generation": {f.name for f in cached_functions(tree)}}
    defined = [p for f in cached_functions(tree) for p in definition_problems(f)]
    assert any("takes a role" in p for p in defined) and any("head: skips _case" in p for p in defined)
    assert any("does not say what determines ``_volume``" in p for p in defined)
    assert len(call_problems(tree, "ui.section", modules)) == 5


def _volume(value: float = 0.0, **geometry) -> Volume:
    return Volume(np.full((3, 4, 5), value, np.float32), modality="CT", **geometry)


def test_volume_key_follows_voxels_geometry_and_modality():
    base = _volume()
    assert volume_key(base) == volume_key(_volume()) == volume_key(base)
    others = [_volume(1.0), _volume(spacing=(2.0, 1.0, 1.0)), base.with_array(base.array, modality="MR")]
    assert len({volume_key(base), *map(volume_key, others)}) == 4


def test_latents_key_is_hashable_and_its_table_key_ignores_per_subject():
    one = latents_key("Demo cohort", "", 12, 4, "vae-poe", ["CT", "MR"], per_subject=True)
    assert isinstance(one, LatentsKey) and hash(one) == hash(
        latents_key("Demo cohort", "", 12, 4, "vae-poe", ("CT", "MR"), per_subject=True)
    )
    assert one.table() == latents_key("Demo cohort", "", 12, 4, "vae-poe", ("CT", "MR"), per_subject=False) != one


@pytest.mark.parametrize("path", ["ui/generation_sections.py", "pages/generation.py", "pages/latents.py"])
def test_the_fixed_call_sites_are_checked(path):
    """The files issue 22 named are inside the scan (not in ``NOT_YET``) and call cached functions."""
    sources = _sources()
    modules = _cached_by_module(sources)
    imported = _ui_imports(sources[path])
    calls = [n for n in ast.walk(sources[path]) if isinstance(n, ast.Call)]
    local = modules.get(path[:-3].replace("/", "."), set())
    assert path not in NOT_YET and any(_cached_callee(c, local, modules, imported) for c in calls)
