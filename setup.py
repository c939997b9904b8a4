"""The package list for setuptools; everything else is in pyproject.toml.

The wheel holds three things: the engine (``fusion_core`` and every subpackage, found), the shipped
assets (the checkout's top-level ``assets/`` installed as ``fusion_core/assets``, where
``fusion_core.paths.assets_dir`` finds them), and the Streamlit app (``app.py``, ``pages/``, ``ui/`` and
``.streamlit/config.toml`` installed together as ``fusion_explorer_app/``, so ``streamlit run`` on its
``app.py`` imports ``ui`` from beside it exactly as in the checkout). pyproject.toml cannot map
folders to other package names and find packages at once, hence this file.
"""

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

APP_MODULES = {"app"}  # the only Python module of the checkout's root that belongs to the app

ENGINE = find_packages(include=["fusion_core", "fusion_core.*"])
APP = ["fusion_explorer_app", "fusion_explorer_app.pages"]
APP += [f"fusion_explorer_app.{name}" for name in find_packages(include=["ui", "ui.*"])]


class BuildPy(build_py):
    """build_py that takes only ``app.py`` from the checkout's root (not this file)."""

    def find_package_modules(self, package, package_dir):
        modules = super().find_package_modules(package, package_dir)
        return [m for m in modules if package != "fusion_explorer_app" or m[1] in APP_MODULES]


setup(
    packages=[*ENGINE, "fusion_core.assets", *APP],
    package_dir={"fusion_core.assets": "assets", "fusion_explorer_app": "."},
    cmdclass={"build_py": BuildPy},
)
