"""``python -m fusion_core.report --case DIR|FILE|demo:phantom-000 --out report.html [--models ...]``."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from tqdm import tqdm

from fusion_core.case import Case
from fusion_core.data.cohorts import get_cohort_spec
from fusion_core.errors import FusionError
from fusion_core.errors import FusionError as _Error
from fusion_core.io import Cohort, load_cohort, open_path
from fusion_core.report import build_case_report, render_html

DEMO_PREFIX = "demo:"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the report's command line."""
    p = argparse.ArgumentParser(
        prog="python -m fusion_core.report", description="Write a self-contained HTML case report."
    )
    p.add_argument(
        "--case",
        required=True,
        help="a subject folder (ct.nii.gz, mr.nii.gz), a scan, a cohort folder "
        "(its first subject, or --subject), or demo:phantom-000",
    )
    p.add_argument("--subject", help="subject id inside a cohort folder")
    p.add_argument("--out", required=True, help="the HTML file to write")
    p.add_argument("--models", nargs="*", default=[], help="shipped generators and classifiers to run on the case")
    p.add_argument("--no-register", action="store_true", help="use the scans' known or scanner alignment")
    p.add_argument("--no-progress", action="store_true")
    return p.parse_args(argv)


def load_case(text: str, subject: str | None = None) -> tuple[Case, str]:
    """The case named on the command line and where it came from, in words.

    Raises:
        FusionError (CohortError, VolumeLoadError): nothing readable there.
    """
    if text.startswith(DEMO_PREFIX):
        return _demo_case(text[len(DEMO_PREFIX) :])
    path = Path(text).expanduser()
    if path.is_dir() and any(p.name.split(".")[0] in ("ct", "mr") for p in path.iterdir()):
        return load_cohort(path.parent).load_case(path.name), f"subject folder {path}"
    opened = open_path(path)
    if isinstance(opened, Cohort):
        chosen = subject or opened.subject_ids[0]
        return opened.load_case(chosen), f"cohort {path}, subject {chosen}"
    return opened, f"scan {path}"


def _demo_case(subject_id: str) -> tuple[Case, str]:
    spec = get_cohort_spec("demo")
    if subject_id not in spec.subject_ids():
        raise _Error(
            f"the demo cohort has no subject '{subject_id}' (it has {spec.subject_ids()[0]} … {spec.subject_ids()[-1]})"
        )
    case = spec.subject(spec.subject_ids().index(subject_id)).to_case()
    case.meta.setdefault("cohort_spec", spec.name)
    return case, f"demo cohort (synthetic phantom), {subject_id}"


def main(argv: list[str] | None = None) -> int:
    """Command line: build one case's report and write it as HTML.

    Returns:
        The exit code.
    """
    args = parse_args(argv)
    start = time.perf_counter()
    try:
        case, source = load_case(args.case, args.subject)
        with tqdm(total=3 + len(args.models), disable=args.no_progress, unit="step") as bar:

            def step(message: str) -> None:
                bar.set_description(message)
                bar.update(0 if bar.n == 0 and message == "scans" else 1)

            report = build_case_report(
                case, models=args.models, register=not args.no_register, source=source, progress=step
            )
            bar.update(bar.total - bar.n)
    except FusionError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_html(report), encoding="utf-8")
    print(f"{out} ({out.stat().st_size / 1e6:.2f} MB) in {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
