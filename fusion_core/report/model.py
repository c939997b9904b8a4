"""The case report's data: typed sections filled by :mod:`fusion_core.report.build`, drawn by
:mod:`fusion_core.report.render`. Images are PNG data URIs (the report is one self-contained file)."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class Figure:
    """One embedded image: a PNG data URI, its caption and (for maps) its colour scale.

    Attributes:
        uri: ``data:image/png;base64,...``.
        caption: what it shows, in words.
        scale: CSS gradient of the colour bar, or "" for a grey image.
        scale_limits: (low, high) labels of the colour bar with units, or ("", "").
        panels: images side by side in it (it is drawn that many widths wide).
    """

    uri: str
    caption: str
    scale: str = ""
    scale_limits: tuple[str, str] = ("", "")
    panels: int = 1


@dataclasses.dataclass(frozen=True)
class ModelNote:
    """On every model result: what the model was trained on and whether this scan is of that kind.

    Attributes:
        model: model name.
        card_version: short digest of its card.
        cohort: "'classifier-train' (synthetic phantom), train split".
        warnings: e.g. "not validated on this kind of scan" (empty when none applies).
    """

    model: str
    card_version: str
    cohort: str
    warnings: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class ScanSection:
    """One input scan: metadata rows, load notes and a slice through it."""

    label: str
    metadata: dict[str, str]
    notes: tuple[str, ...]
    figure: Figure


@dataclasses.dataclass(frozen=True)
class RegistrationSection:
    """How the MR was put on the CT grid.

    Attributes:
        initialisation: how the search started, in words.
        mi_before, mi_after: mutual information inside the head before and after.
        tre_before_mm, tre_after_mm: median TRE against the known truth (None when unknown).
        transform: (name, value) rows describing the CT->MR transform.
        seconds, stop_reason: how the optimiser ended.
        figure: the registered MR over the CT.
    """

    initialisation: str
    mi_before: float
    mi_after: float
    tre_before_mm: float | None
    tre_after_mm: float | None
    transform: tuple[tuple[str, str], ...]
    seconds: float
    stop_reason: str
    figure: Figure | None = None


@dataclasses.dataclass(frozen=True)
class NormalisationRow:
    """One scan's normaliser and the statistics it used."""

    scan: str
    method: str
    statistics: str


@dataclasses.dataclass(frozen=True)
class SynthesisSection:
    """One generated volume: the model, its metrics against the real scan, its maps."""

    note: ModelNote
    source: str
    target: str
    metrics: dict[str, str]
    figures: tuple[Figure, ...]
    remarks: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class ClassifierSection:
    """One classifier's lesion probability, its uncertainty and its calibration on its test split."""

    note: ModelNote
    probability: float
    uncertainty: float
    calibration: str
    attribution: Figure | None = None


@dataclasses.dataclass
class CaseReport:
    """Everything computed for one case; sections whose inputs were missing are None/empty and
    ``omitted`` says why, one line each.

    Attributes:
        subject_id: the case.
        created: ISO timestamp.
        source: where the case came from, in words.
        scans, registration, normalisation, syntheses, classifiers: the sections.
        omitted: (section title, reason) for each section left out.
        seconds: time to build.
    """

    subject_id: str
    created: str
    source: str
    scans: list[ScanSection] = dataclasses.field(default_factory=list)
    registration: RegistrationSection | None = None
    normalisation: list[NormalisationRow] = dataclasses.field(default_factory=list)
    syntheses: list[SynthesisSection] = dataclasses.field(default_factory=list)
    classifiers: list[ClassifierSection] = dataclasses.field(default_factory=list)
    omitted: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    seconds: float = 0.0

    def omit(self, section: str, reason: str) -> None:
        self.omitted.append((section, reason))
