"""Data roots: a visitor opens only folders under them, after symlinks and '..' are resolved."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import pytest

from fusion_core.io import PathNotAllowedError, check_inside_roots, data_roots
from fusion_core.io.roots import is_local_address
from fusion_core.io.upload import DEFAULT_MAX_UPLOAD_MB

ROOT = Path(__file__).resolve().parents[2]


def test_default_roots_are_data_and_home_only_when_local(tmp_path, monkeypatch):
    monkeypatch.delenv("FUSION_DATA_ROOTS", raising=False)
    assert data_roots(local_only=False, cwd=tmp_path) == [(tmp_path / "data").resolve()]
    assert data_roots(local_only=True, cwd=tmp_path) == [(tmp_path / "data").resolve(), Path.home().resolve()]


def test_setting_replaces_the_defaults(tmp_path, monkeypatch):
    monkeypatch.setenv("FUSION_DATA_ROOTS", f"{tmp_path / 'a'}{os.pathsep}{tmp_path / 'b'}")
    assert data_roots(local_only=True) == [(tmp_path / "a").resolve(), (tmp_path / "b").resolve()]


def test_paths_are_resolved_before_checking(tmp_path):
    root = tmp_path / "data"
    (root / "cohort").mkdir(parents=True)
    (tmp_path / "secret").mkdir()
    (root / "link").symlink_to(tmp_path / "secret")
    assert check_inside_roots(root / "cohort", [root.resolve()]) == (root / "cohort").resolve()
    for escape in (root / ".." / "secret", root / "link", Path("/etc")):
        with pytest.raises(PathNotAllowedError, match=r"outside the folders this server may read.*FUSION_DATA_ROOTS"):
            check_inside_roots(escape, [root.resolve()])


@pytest.mark.parametrize(
    ("address", "local"), [("127.0.0.1", True), ("localhost", True), ("", False), ("0.0.0.0", False)]
)
def test_local_addresses(address, local):
    assert is_local_address(address) is local


def test_server_settings_serve_locally_with_the_documented_upload_limit():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())["server"]
    assert config["address"] == "127.0.0.1"
    assert config["maxUploadSize"] == DEFAULT_MAX_UPLOAD_MB
    assert "ADDRESS ?= 127.0.0.1" in (ROOT / "Makefile").read_text()
    assert f"{DEFAULT_MAX_UPLOAD_MB} MB" in (ROOT / "README.md").read_text()
