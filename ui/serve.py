"""``fusion-explorer``: serve the app with ``streamlit run`` wherever the package is installed.

The app (``app.py``, ``pages/``, ``ui/``, ``.streamlit/config.toml``) is installed together, so this
module finds ``app.py`` one folder up, in the wheel as in the checkout; Streamlit reads the
``.streamlit/config.toml`` beside it (localhost only, headless). Extra arguments go to
``streamlit run``, e.g. ``fusion-explorer --server.port 8600``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

APP = Path(__file__).resolve().parents[1] / "app.py"  # the app's own layout: app.py beside ui/


def main(argv: Sequence[str] | None = None) -> int:
    """Replace this process with ``streamlit run <installed app.py> [argv]``."""
    args = sys.argv[1:] if argv is None else list(argv)
    # Streamlit's public command line in this interpreter (its Python API for `run` is private); exec so that
    # signals (Ctrl+C, a service manager's stop) reach the server itself.
    os.execv(sys.executable, [sys.executable, "-m", "streamlit", "run", str(APP), *args])
    return 0  # not reached: execv replaces this process


if __name__ == "__main__":
    raise SystemExit(main())
