"""The errors the I/O layer raises: each names the file and says what is wrong."""

from __future__ import annotations

import re
from pathlib import Path

from fusion_core.errors import FusionError


class VolumeLoadError(FusionError):
    """An input could not be turned into a :class:`~fusion_core.volume.Volume`.

    The message always names the file (or folder) and the problem, so a page can show it as-is.

    Attributes:
        path: the offending file or folder.
        problem: what is wrong, without the path.
    """

    def __init__(self, path: str | Path, problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"cannot load '{self.path}': {problem}")


class VolumeSaveError(FusionError):
    """A volume could not be written (unsupported suffix, unwritable folder, ...)."""

    def __init__(self, path: str | Path, problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"cannot save '{self.path}': {problem}")


class CohortError(FusionError):
    """A cohort folder or its CSV files do not describe a usable cohort."""


_PATH = re.compile(r"(?<![\w.])(/(?:[^\s\"']+/)+[^\s\"']*)")
_ITK_NOISE = re.compile(r"^(Exception thrown in SimpleITK .*|/.*\.(cxx|hxx|h):\d+:?)$")


def library_message(exc: BaseException) -> str:
    """Shorten a library exception to the lines a user can act on.

    SimpleITK messages start with the C++ source location; nibabel and gzip are already short.
    Paths inside the text are cut to their base names, so a message never shows a server's
    folders (an upload's temporary folder, say); the exception's type name appears only when
    the library gave no text.
    """
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    useful = [line for line in lines if not _ITK_NOISE.match(line)]
    text = " ".join(useful)
    text = re.sub(r"(sitk::ERROR|ITK ERROR):\s*", "", text)
    text = re.sub(r"\w+\(0x[0-9a-f]+\):\s*", "", text)
    text = _PATH.sub(lambda match: match.group(1).rsplit("/", 1)[-1], text)
    return text[:300] or type(exc).__name__
