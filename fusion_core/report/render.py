"""A :class:`CaseReport` as one self-contained HTML page: inline CSS, images as data URIs, no scripts,
nothing fetched. Pure: the same report gives the same text."""

from __future__ import annotations

import html

from fusion_core.report.model import (
    CaseReport,
    ClassifierSection,
    Figure,
    ModelNote,
    RegistrationSection,
    ScanSection,
    SynthesisSection,
)

_CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2rem auto;max-width:1100px;color:#1b1b1f;
line-height:1.45;padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{border-bottom:1px solid #ccd;padding-bottom:.2rem;margin-top:2rem}
h3{margin-bottom:.3rem}.muted{color:#555;font-size:.9rem}
table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #ccd;padding:.25rem .6rem;text-align:left;
font-size:.9rem}th{background:#f3f3f7}
.figs{display:flex;flex-wrap:wrap;gap:1rem}figure{margin:0;width:300px}figure img{width:100%;
image-rendering:auto;background:#000}figcaption{font-size:.85rem;color:#333}
.bar{height:10px;width:100%;margin-top:.2rem}.barlabels{display:flex;justify-content:space-between;font-size:.75rem}
.warn{background:#fff4e5;border-left:4px solid #e08a00;padding:.4rem .7rem;margin:.4rem 0}
.note{background:#eef3fb;border-left:4px solid #4a78c2;padding:.4rem .7rem;margin:.4rem 0}
"""


def render_html(report: CaseReport) -> str:
    """The report as an HTML document (UTF-8 text)."""
    parts = [
        _header(report),
        _section("Scans", [_scan(s) for s in report.scans]),
        _registration(report.registration) if report.registration else "",
        _normalisation(report) if report.normalisation else "",
        _section("Synthetic scans", [_synthesis(s) for s in report.syntheses]) if report.syntheses else "",
        _section("Lesion classifiers", [_classifier(c) for c in report.classifiers]) if report.classifiers else "",
        _omitted(report),
    ]
    body = "\n".join(p for p in parts if p)
    title = _e(f"Fusion Explorer case report: {report.subject_id}")
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><style>{_CSS}</style></head>'
        f"<body>\n{body}\n</body></html>\n"
    )


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _header(report: CaseReport) -> str:
    source = f" · {_e(report.source)}" if report.source else ""
    return (
        f"<h1>Case report: {_e(report.subject_id)}</h1>"
        f'<p class="muted">Made by Fusion Explorer on {_e(report.created)}{source} · built in '
        f"{report.seconds:.1f} s. Synthetic scans and model scores are research outputs, not a diagnosis.</p>"
    )


def _section(title: str, blocks: list[str]) -> str:
    return f"<h2>{_e(title)}</h2>\n" + "\n".join(blocks)


def _table(rows: dict[str, str] | tuple[tuple[str, str], ...], header: tuple[str, str] | None = None) -> str:
    items = rows.items() if isinstance(rows, dict) else rows
    head = f"<tr><th>{_e(header[0])}</th><th>{_e(header[1])}</th></tr>" if header else ""
    cells = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in items)
    return f"<table>{head}{cells}</table>"


def _figure(figure: Figure) -> str:
    bar = ""
    if figure.scale:
        low, high = (_e(v) for v in figure.scale_limits)
        bar = (
            f'<div class="bar" style="background:{_e(figure.scale)}"></div>'
            f'<div class="barlabels"><span>{low}</span><span>{high}</span></div>'
        )
    style = f' style="width:{300 * figure.panels}px"' if figure.panels > 1 else ""
    caption = _e(figure.caption)
    return f'<figure{style}><img src="{figure.uri}" alt="{caption}">{bar}<figcaption>{caption}</figcaption></figure>'


def _figures(figures: list[Figure] | tuple[Figure, ...]) -> str:
    return '<div class="figs">' + "".join(_figure(f) for f in figures) + "</div>"


def _scan(scan: ScanSection) -> str:
    notes = "".join(f'<div class="note">Load note: {_e(n)}</div>' for n in scan.notes)
    return f"<h3>{_e(scan.label)}</h3><div class='figs'>{_table(scan.metadata)}{_figure(scan.figure)}</div>{notes}"


def _registration(reg: RegistrationSection) -> str:
    rows = [
        ("initialisation", reg.initialisation),
        ("mutual information in the head (before → after)", f"{reg.mi_before:.3f} → {reg.mi_after:.3f}"),
    ]
    if reg.tre_after_mm is not None:
        rows.append(
            (
                "median TRE against the known truth (before → after)",
                f"{reg.tre_before_mm:.2f} → {reg.tre_after_mm:.2f} mm",
            )
        )
    else:
        rows.append(("TRE", "not measurable: the true alignment of these scans is unknown"))
    rows += [*reg.transform, ("time, stop", f"{reg.seconds:.1f} s, {reg.stop_reason}")]
    figure = _figures([reg.figure]) if reg.figure else ""
    return _section("Registration (MR onto the CT grid)", [_table(tuple(rows)), figure])


def _normalisation(report: CaseReport) -> str:
    rows = tuple((f"{r.scan}: {r.method}", r.statistics) for r in report.normalisation)
    text = "<p class='muted'>Intensity normalisation each model input gets (statistics inside the head).</p>"
    return _section("Normalisation", [text + _table(rows, ("scan: method", "statistics used"))])


def _note(note: ModelNote) -> str:
    warnings = "".join(f'<div class="warn">{_e(w)}</div>' for w in note.warnings)
    return f"<p class='muted'>Model card version {_e(note.card_version)} · trained on {_e(note.cohort)}</p>{warnings}"


def _synthesis(s: SynthesisSection) -> str:
    metrics = _table(s.metrics) if s.metrics else ""
    remarks = "".join(f"<p class='muted'>{_e(r)}</p>" for r in s.remarks)
    title = f"{s.target} from {s.source}: {s.note.model}"
    return f"<h3>{_e(title)}</h3>{_note(s.note)}{metrics}{_figures(s.figures)}{remarks}"


def _classifier(c: ClassifierSection) -> str:
    rows = (
        ("lesion probability", f"{c.probability:.3f} ± {c.uncertainty:.3f} (MC-dropout spread)"),
        ("calibration", c.calibration),
    )
    figure = _figures([c.attribution]) if c.attribution else "<p class='muted'>No attribution map.</p>"
    return f"<h3>{_e(c.note.model)}</h3>{_note(c.note)}{_table(rows)}{figure}"


def _omitted(report: CaseReport) -> str:
    if not report.omitted:
        return ""
    items = "".join(f"<li><b>{_e(section)}</b>: {_e(reason)}</li>" for section, reason in report.omitted)
    return f"<h2>Not in this report</h2><ul>{items}</ul>"
