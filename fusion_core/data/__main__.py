"""Phantom cohort CLI: ``python -m fusion_core.data --out DIR [--n 40 --seed 0 --unpaired --spec demo]``.

Installed as the ``fusion-phantom`` console script. The command lives here, above ``phantom`` and
``export``, so neither module imports the other in a circle.
"""

from fusion_core.data.export import cli

if __name__ == "__main__":
    raise SystemExit(cli())
