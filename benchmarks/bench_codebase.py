"""Benchmark: the shape of the code — how thick ``ui/`` and the pages are, and how many functions are long.

Measured for the working tree and for a base commit, side by side:

* lines in ``ui/`` (every line of every ``ui/*.py``), total and per file;
* module-level code lines per page (``pages/*.py``): lines outside every ``def`` / ``class`` (decorators and
  signatures included in the def), not blank, not only a comment, not part of a docstring;
* functions over ``--limit`` (40) lines in ``fusion_core/``, ``ui/`` and ``pages/`` (``def`` line to last line,
  nested functions and methods counted on their own): how many, and which.

The base commit's files are read with ``git show`` (nothing is checked out).

Writes ``benchmarks/results/bench_codebase.json``.

Run:  python -m benchmarks.bench_codebase [--base 4681880] [--limit 40]
"""

from __future__ import annotations

import argparse
import ast
import io
import json
import subprocess
import tokenize
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "bench_codebase.json"
DEFAULT_BASE = "4681880"
PACKAGES = ("fusion_core", "ui", "pages")
_NOT_CODE = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT}
_NOT_CODE |= {tokenize.ENCODING, tokenize.ENDMARKER}


def code_lines(source: str) -> set[int]:
    """Line numbers (1-based) that hold at least one token of code (not a comment, not blank)."""
    lines: set[int] = set()
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type not in _NOT_CODE:
            lines.update(range(token.start[0], token.end[0] + 1))
    return lines


def _span(node: ast.AST) -> range:
    first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
    return range(first, node.end_lineno + 1)


def _is_docstring(node: ast.AST) -> bool:
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)


def module_level_lines(source: str) -> int:
    """Code lines outside every def/class body and outside docstrings (see the module docstring)."""
    outside: set[int] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            outside.update(_span(node))
        elif _is_docstring(node):
            outside.update(range(node.lineno, node.end_lineno + 1))
    return len(code_lines(source) - outside)


def long_functions(source: str, path: str, limit: int) -> list[dict]:
    """Every function (methods and nested ones too) longer than ``limit`` lines, def line to last line."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            length = node.end_lineno - node.lineno + 1
            if length > limit:
                found.append({"function": f"{path}:{node.name}", "line": node.lineno, "lines": length})
    return sorted(found, key=lambda f: -f["lines"])


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, check=True, capture_output=True, text=True).stdout


def tree_reader(base: str | None) -> tuple[list[str], Callable[[str], str]]:
    """(the .py paths under PACKAGES, a function reading one) for the working tree (None) or a commit."""
    if base is None:
        paths = sorted(str(p.relative_to(ROOT)) for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py"))
        return paths, lambda path: (ROOT / path).read_text(encoding="utf-8")
    listed = _git("ls-tree", "-r", "--name-only", base, "--", *PACKAGES).splitlines()
    return sorted(p for p in listed if p.endswith(".py")), lambda path: _git("show", f"{base}:{path}")


def measure(base: str | None, limit: int) -> dict:
    """The three measures for one tree."""
    paths, read = tree_reader(base)
    sources = {path: read(path) for path in paths}
    ui = {p: len(s.splitlines()) for p, s in sources.items() if p.startswith("ui/")}
    pages = {p: module_level_lines(s) for p, s in sources.items() if p.startswith("pages/")}
    long = [f for p, s in sources.items() for f in long_functions(s, p, limit)]
    return {
        "ui_lines_total": sum(ui.values()),
        "ui_lines_per_file": ui,
        "page_module_level_lines": pages,
        "page_module_level_max": max(pages.values(), default=0),
        f"functions_over_{limit}_lines": len(long),
        f"functions_over_{limit}_lines_list": sorted(long, key=lambda f: -f["lines"]),
    }


def side_by_side(base: dict, current: dict) -> dict:
    """Per-measure (base, current) pairs for the headline numbers."""
    keys = [k for k, v in current.items() if isinstance(v, int)]
    pages = sorted(set(base["page_module_level_lines"]) | set(current["page_module_level_lines"]))
    return {
        **{k: {"base": base.get(k), "current": current[k]} for k in keys},
        "page_module_level_lines": {
            p: {"base": base["page_module_level_lines"].get(p), "current": current["page_module_level_lines"].get(p)}
            for p in pages
        },
    }


def main(argv: list[str] | None = None) -> dict:
    """Measure the base commit and the working tree; write and print the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default=DEFAULT_BASE, help="commit to compare with (default %(default)s)")
    parser.add_argument("--limit", type=int, default=40, help="a function longer than this many lines is long")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    base_commit = _git("rev-parse", args.base).strip()
    head = _git("rev-parse", "HEAD").strip()
    dirty = bool(_git("status", "--porcelain", "--", *PACKAGES).strip())
    base, current = measure(base_commit, args.limit), measure(None, args.limit)
    result = {
        "base_commit": base_commit,
        "current": {"commit": head, "uncommitted_changes": dirty},
        "limit_lines": args.limit,
        "side_by_side": side_by_side(base, current),
        "base": base,
        "working_tree": current,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(result["side_by_side"], indent=1))
    return result


if __name__ == "__main__":
    main()
