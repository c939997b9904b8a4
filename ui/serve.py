"""``fusion-explorer``: serve the app with ``streamlit run`` wherever the package is installed.

The app (``app.py``, ``pages/``, ``ui/``, ``.streamlit/config.toml``) is installed together, so this
module finds ``app.py`` one folder up, in the wheel as in the checkout; Streamlit reads the
``.streamlit/config.toml`` beside it (localhost only, headless). Extra arguments go to
``streamlit run``, e.g. ``fusion-explorer --server.port 8600``.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from streamlit.web import cli

APP = Path(__file__).resolve().parents[1] / "app.py"  # the app's own layout: app.py beside ui/


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``streamlit run <installed app.py> [argv]``; returns Streamlit's exit status."""
    args = sys.argv[1:] if argv is None else list(argv)
    sys.argv = ["streamlit", "run", str(APP), *args]
    return cli.main()


if __name__ == "__main__":
    raise SystemExit(main())
