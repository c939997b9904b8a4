"""The app's pages in one list: app.py builds the navigation from it and Home describes it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

PAGES_DIR = Path(__file__).resolve().parents[1] / "pages"


@dataclass(frozen=True)
class PageInfo:
    script: str
    title: str
    icon: str
    url_path: str
    summary: str


PAGES: tuple[PageInfo, ...] = (
    PageInfo("home.py", "Home", ":material/home:", "", "What the app is, who it is for, what each page does."),
    PageInfo(
        "data.py",
        "Data",
        ":material/folder_open:",
        "data",
        "Choose the demo cohort, a cohort folder or uploaded files; see each scan's metadata and a tri-planar "
        "viewer with CT window presets, CT and MR slices linked by physical position.",
    ),
)
