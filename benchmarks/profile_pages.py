"""Profile: where each page's first run spends its time, before and after, as the top entries of cProfile.

Method:   each page script runs once in Streamlit's AppTest in a fresh ``python`` process (cold: imports,
          model loading, the demo subject and the page's computations), under cProfile attached to the
          script's thread; the entries with the largest cumulative time in the project's code (and
          torch's module calls) are kept. ``before`` runs the same in a temporary git worktree of the
          ``--base`` commit, with the same interpreter.
Baseline: the ``--base`` commit, profiled in the same run.

Run:  .venv/bin/python -m benchmarks.profile_pages [--pages generation attention] [--base 78f2053]
      (writes benchmarks/results/profile_pages.json)
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "profile_pages.json"
BASE = "78f2053"
PAGES = ("generation", "attention", "latents", "learn", "performance", "data", "register_fuse")
TOP = 15

# Runs in the child process: profile one page's first AppTest run from the checkout ``root``.
_CHILD = r"""
import cProfile, json, pstats, sys, threading, time
root, page, top = sys.argv[1], sys.argv[2], int(sys.argv[3])
sys.path.insert(0, root)
from streamlit.testing.v1 import AppTest
profiles, run = [], threading.Thread.run
def profiled(self):
    profile = cProfile.Profile(); profiles.append(profile); profile.enable()
    try: run(self)
    finally: profile.disable()
threading.Thread.run = profiled
app = AppTest.from_file(f"{root}/pages/{page}.py", default_timeout=900)
start = time.perf_counter(); app.run(); seconds = time.perf_counter() - start
stats = pstats.Stats(profiles[0])
for p in profiles[1:]: stats.add(p)
rows = [(f"{k[0].replace(root + '/', '')}:{k[1]}({k[2]})", v[3]) for k, v in stats.stats.items()
        if (root in k[0] and "/.venv/" not in k[0]) or k[0].endswith("torch/nn/modules/module.py")]
rows.sort(key=lambda r: -r[1])
print(json.dumps({"seconds": round(seconds, 2), "errors": [str(e.value) for e in app.exception],
                  "top_cumulative_s": [[name, round(s, 2)] for name, s in rows[:top]]}))
"""


def profile(root: Path, page: str) -> dict:
    """One page's cold first run profiled in a fresh process from the checkout ``root``."""
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(root), page, str(TOP)], capture_output=True, text=True, cwd=root
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    return json.loads(lines[-1]) if lines else {"error": done.stderr[-2000:]}


def main(argv: list[str] | None = None) -> int:
    from benchmarks.bench_pages import checkout

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", nargs="*", default=list(PAGES))
    parser.add_argument("--base", default=BASE)
    args = parser.parse_args(argv)
    results: dict = {"base": args.base, "after": {}, "before": {}}
    for page in args.pages:
        results["after"][page] = profile(ROOT, page)
        print("after", page, results["after"][page].get("seconds"), flush=True)
    with checkout(args.base) as folder:
        for page in args.pages:
            results["before"][page] = profile(folder, page)
            print("before", page, results["before"][page].get("seconds"), flush=True)
    results["command"] = "python -m benchmarks.profile_pages " + " ".join(argv or sys.argv[1:])
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
