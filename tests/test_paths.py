"""One place finds the shipped assets and the caches, each configurable by one variable."""

from __future__ import annotations

import sys
from pathlib import Path

from fusion_core import paths
from fusion_core.inference.registry import ASSETS_DIR, list_models

ROOT = Path(__file__).resolve().parents[1]


def test_assets_are_found_in_the_checkout_without_configuration(monkeypatch):
    monkeypatch.delenv(paths.ASSETS_ENV, raising=False)
    assert paths.assets_dir() == ROOT / "assets"
    assert ASSETS_DIR == ROOT / "assets" / "models"
    assert "clf-ct" in list_models()


def test_fusion_assets_names_another_folder(monkeypatch, tmp_path):
    monkeypatch.setenv(paths.ASSETS_ENV, str(tmp_path))
    assert paths.assets_dir() == tmp_path.resolve()


def test_fusion_cache_moves_every_cache(monkeypatch, tmp_path):
    from fusion_core.training.slice_table import SliceDataConfig, _cache_path

    monkeypatch.setenv(paths.CACHE_ENV, str(tmp_path))
    assert paths.cache_dir("slices") == tmp_path / "slices"
    assert _cache_path(SliceDataConfig()).parent == tmp_path / "slices"
    assert _cache_path(SliceDataConfig(cache_dir=str(tmp_path / "own"))).parent == tmp_path / "own"


def test_the_default_cache_is_the_users_not_the_working_directory(monkeypatch, tmp_path):
    monkeypatch.delenv(paths.CACHE_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    if sys.platform not in ("win32", "darwin"):
        assert paths.cache_dir("slices") == tmp_path / "fusion-explorer" / "slices"
    assert not paths.cache_dir().is_relative_to(Path.cwd() / "data")
