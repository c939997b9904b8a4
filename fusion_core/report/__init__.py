"""A self-contained HTML report of one case: scans and load notes, registration, normalisation,
synthetic scans with metrics and maps, classifiers with uncertainty, calibration and attribution, and on
every model result the cohort it was trained on and whether this kind of scan was validated.

``build_case_report(case, models=...) -> CaseReport`` computes (core functions only); ``render_html``
draws it (pure); ``report_html(case, ...) -> bytes`` does both for download buttons;
``python -m fusion_core.report --case DIR|demo:phantom-000 --out report.html``.

PDF is not offered: the maintained HTML-to-PDF libraries (WeasyPrint, xhtml2pdf) pull in Pango or
ReportLab and a CSS engine, and a browser's "Print to PDF" of this file gives the same document.
"""

from fusion_core.report.build import build_case_report
from fusion_core.report.caveats import model_caveats
from fusion_core.report.model import CaseReport
from fusion_core.report.render import render_html


def report_html(case, **options) -> bytes:
    """``render_html(build_case_report(case, **options))`` as UTF-8 bytes (a download button's data)."""
    return render_html(build_case_report(case, **options)).encode("utf-8")


__all__ = ["CaseReport", "build_case_report", "model_caveats", "render_html", "report_html"]
