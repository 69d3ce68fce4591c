"""Hostile values in every output format (issue 13): data from tags, names and logs is shown as
data, never run as markup, a formula, HTML or a terminal command, and never sinks the run.

The values are generated: seeded combinations of the fragments each reader interprets (rich
markup, ESC/OSC sequences, spreadsheet formula openers, HTML, Markdown links/images/headings,
bidi overrides, NUL), put in every string field a finding, a coverage entry or an analysis table
carries; then the CLI end to end on a billing export whose tags and resource ids are hostile.
"""

from __future__ import annotations

import csv
import io
import json
import random
import re
import shutil
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from aifinops_cli.cli.app import app
from aifinops_cli.core.models import (
    Confidence,
    CostLine,
    CoverageEntry,
    Finding,
    Observation,
    Report,
    Severity,
)
from aifinops_cli.output import formatters
from aifinops_cli.output.safe import csv_cell, md_code, md_text, plain
from tests.paths import TEST_DATA

DATA = TEST_DATA / "billing"

FRAGMENTS = [
    "[/oops]",
    "[bold red]loud[/]",
    "[link=http://evil.example/]click[/link]",
    "\x1b[2J",
    "\x1b]8;;http://evil.example/\x07link\x1b]8;;\x07",
    "\x1b]0;pwned title\x07",
    "\x1b[31m",
    '=HYPERLINK("http://evil.example/")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1:A9)",
    "\tx",
    "\rx",
    '<img src="http://evil.example/t.gif">',
    "<script>alert(1)</script>",
    "![t](http://evil.example/t.gif)",
    "[x](http://evil.example/)",
    "\n# Fake heading\n",
    "a|b",
    "`tick`",
    "\\[",
    "&lt;",
    "\u202egnp.exe",
    "\x00",
    "\x9b2J",
    "team",
    "ml-research",
]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def hostile_values(seed: int, n: int) -> list[str]:
    """n strings of 1-4 fragments each; every fragment appears at the start of some value."""
    rnd = random.Random(seed)
    out = [f + "x" for f in FRAGMENTS]  # each fragment first at least once
    while len(out) < n:
        out.append("".join(rnd.choice(FRAGMENTS) for _ in range(rnd.randint(1, 4))))
    return out


def hostile_report(values: list[str]) -> Report:
    """One finding per value: the value in the owner, name, id, region, account, tag and title.
    Each costs 10 h x $2.50 = $25.00 a month, savings 25.00 x 0.8 = $20.00."""
    findings = []
    for i, v in enumerate(values):
        line = CostLine(f"gpu {v}", 2.5, "hour", 10.0, "aws-on-demand", "2026-11-01", f"ec2:{v}")
        obs = Observation(
            provider="aws",
            kind="aws.ec2.instance",
            id=f"i-{i}{v}",
            account=v,
            region=v,
            name=v,
            tags={"team": v, v: "x"},
            owner=v,
            cost_lines=(line,),
        )
        findings.append(
            Finding(
                rule_id=f"rule-{v}",
                title=f"title {v}",
                category=f"cat{i % 3} {v}",
                severity=Severity.HIGH,
                confidence=Confidence.HIGH,
                observation=obs,
                monthly_cost_usd=obs.monthly_cost_usd,
                estimated_monthly_savings_usd=20.0,
                recommendation=f"do {v}",
                evidence={"note": v, "notes": [v], "cost_basis": [line.to_dict()]},
            )
        )
    coverage = [CoverageEntry("aws", v, "failed", f"because {v}") for v in values[:5]]
    coverage.append(CoverageEntry("aws", "us-east-1", "ok", resources=len(values)))
    analysis = {
        "llm": {
            "title": f"LLM {values[0]}",
            "summary": {values[1]: values[2]},
            "tables": [
                # a money column: the HTML draws a bar chart labelled with these values
                {
                    "title": values[3],
                    "columns": [values[4], "n", "cost USD"],
                    "rows": [[v, 1, 2.5] for v in values[:8]],
                }
            ],
        }
    }
    return Report(
        tool_version="test",
        started_at="2026-12-01T00:00:00Z",
        finished_at="2026-12-01T00:01:00Z",
        scanners=["aws"],
        findings=findings,
        coverage=coverage,
        observations_count=len(values),
        analysis=analysis,
        parameters={"owner_tag_keys": ["team"], "price_catalogs": []},
    )


VALUES = hostile_values(1313, 80)
SGR = re.compile(r"\x1b\[[0-9;]*m")  # the colours rich itself writes
LINK_OR_IMAGE = re.compile(r"(?<!\\)\[[^\]\n]*\]\((?:http|javascript)")


def _controls(text: str) -> list[str]:
    return [
        c
        for c in text
        if (ord(c) < 32 and c not in "\n") or 0x7F <= ord(c) <= 0x9F or c in "\u202e\u2066\u2067\u2068\u2069"
    ]


@pytest.mark.parametrize("color", [False, True])
def test_table_shows_hostile_values_as_text(color: bool) -> None:
    report = hostile_report(VALUES)
    buf = io.StringIO()
    console = Console(
        file=buf,
        width=400,
        force_terminal=color,
        no_color=not color,
        color_system="standard" if color else None,
    )
    formatters()["table"]().print_to(report, console)  # raised MarkupError on [/oops] before
    text = SGR.sub("", buf.getvalue())
    assert "\x1b" not in text and not _controls(text)
    assert "[/oops]" in text and "[link=http://evil.example/]click[/link]" in text  # as data
    assert "Fragmentation tax: $1,600.00/month" in text  # 80 findings x $20.00


def test_csv_cells_cannot_be_formulas() -> None:
    report = hostile_report(VALUES)
    rows = list(csv.DictReader(io.StringIO(formatters()["csv"]().render(report))))
    assert len(rows) == len(VALUES)
    for row, value in zip(rows, VALUES, strict=True):
        for cell in row.values():
            assert not cell.startswith(FORMULA_START), cell
            assert not _controls(cell.replace("\n", "")), cell
        assert row["owner"] == csv_cell(value)
        assert float(row["monthly_cost_usd"]) == 25.0  # 10 h x $2.50
        assert float(row["estimated_monthly_savings_usd"]) == 20.0
    first = rows[VALUES.index('=HYPERLINK("http://evil.example/")x')]
    assert first["owner"] == '\'=HYPERLINK("http://evil.example/")x'  # OWASP: a leading quote


def test_csv_leaves_numbers_and_plain_text_alone() -> None:
    assert csv_cell(-5.5) == -5.5 and csv_cell(0) == 0
    assert csv_cell("ml-research") == "ml-research"
    assert csv_cell("-2+3") == "'-2+3" and csv_cell("@x") == "'@x" and csv_cell("\tx") == "' x"


def test_markdown_has_no_html_links_or_new_blocks_from_data() -> None:
    report = hostile_report(VALUES)
    text = formatters()["markdown"]().render(report)
    assert "<img" not in text and "<script" not in text and "&lt;script>" in text
    assert not LINK_OR_IMAGE.search(text)
    assert not _controls(text.replace("\t", ""))
    for line in text.splitlines():
        assert not line.lstrip().startswith("# Fake"), line
        if line.startswith("| "):  # every table row keeps its column count
            cells = re.split(r"(?<!\\)\|", line.strip())[1:-1]
            assert len(cells) in (2, 3, 4, 8), line
    assert "## All findings" in text and text.count("| high | rule-") == len(VALUES)


def test_markdown_helpers() -> None:
    assert md_text("a\n# b") == "a # b"
    assert md_text("<img src=x>") == "&lt;img src=x>"
    assert md_text("![t](http://e)") == "!\\[t](http://e)"
    assert md_text("&amp;") == "&amp;amp;" and md_text("R&D") == "R&D"
    assert md_code("a`b") == "`` a`b ``" and md_code("plain") == "`plain`"
    assert md_code("a|b", table=True) == "`a\\|b`"


def test_html_escapes_every_value() -> None:
    text = formatters()["html"]().render(hostile_report(VALUES))
    assert "<script" not in text and "<img" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert text.count('role="img"') == 3  # by category, by owner, and the analysis table's chart
    # recommendations' Markdown makes links, only http(s) ones, and no value adds an attribute
    tags = re.findall(r"<[a-z][^>]*>", text)
    assert all(
        re.fullmatch(r'<a href="https?://[^"<>\s]*" rel="noopener noreferrer">', t)
        for t in tags
        if t.startswith("<a ")
    )
    assert not [t for t in tags if re.search(r"\son\w+=|javascript:", t)]


def test_json_keeps_values_exactly_and_streams_the_same_bytes() -> None:
    report = hostile_report(VALUES)
    fmt = formatters()["json"]()
    buf = io.StringIO()
    fmt.write_to(report, buf)
    assert buf.getvalue() == fmt.render(report)
    doc = json.loads(buf.getvalue())
    assert [f["owner"] for f in doc["findings"]] == VALUES  # JSON carries the raw data
    assert doc["summary"]["monthly_waste_usd"] == 1600.0  # 80 x $20.00


def test_plain_strips_sequences_with_their_parameters() -> None:
    assert plain("a\x1b[2Jb\x1b]8;;http://e\x07c\x1b]8;;\x07d\u202ee\x00f") == "abcdef"
    assert plain("one\r\ntwo") == "one two" and plain("ok [b]x[/b]") == "ok [b]x[/b]"


# -- end to end: a billing export with hostile tags and resource ids ---------------------------


def hostile_cur(tmp_path: Path, owner: str, resource: str) -> Path:
    """The legacy CUR test export, every row tagged `owner` and naming `resource`."""
    rows = list(csv.reader((DATA / "cur_legacy.csv").open(encoding="utf-8")))
    tag = next(i for i, c in enumerate(rows[0]) if c.startswith("resourceTags/"))
    rid = rows[0].index("lineItem/ResourceId")
    for row in rows[1:]:
        row[tag], row[rid] = owner, resource
    path = tmp_path / "cur.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


OWNERS = [
    "[/oops]",
    "[/oops]\x1b[2J[link=http://evil.example]x[/link]",
    "\x1b]0;t\x07[bold]",
    "=cmd|' /C calc'!A0",
    "<img src=x> ![t](http://evil.example/t.gif)",
]
# (a newline inside a CSV field is the billing reader's case, not the outputs': see hostile_report)


FILE_FORMATS = ["json", "markdown", "csv", "html"]


@pytest.mark.parametrize("owner", OWNERS)
def test_scan_with_hostile_tags_renders_every_format(tmp_path: Path, owner: str) -> None:
    """One scan writes the file formats, a second prints the table to stdout (the path that
    exited 4 before); each format's output is checked as it was when each had its own scan."""
    cur = hostile_cur(tmp_path, owner, '=HYPERLINK("http://evil.example")')
    base = ["scan", "--scanner", "billing", "--billing", str(cur)]
    out_dir = tmp_path / "out"
    runner = CliRunner()
    outputs: dict[str, str] = {}
    for fmt, args in (
        ("table", ["-f", "table"]),
        ("files", ["-f", ",".join(FILE_FORMATS), "--output-dir", str(out_dir)]),
    ):
        result = runner.invoke(app, [*base, *args])
        assert result.exit_code == 0, (fmt, result.exception, result.stderr)  # the table exited 4 before
        assert "Traceback" not in result.stderr and "internal error" not in result.stderr, fmt
        if fmt == "table":
            outputs[fmt] = result.stdout
    for fmt in FILE_FORMATS:  # a file gets what stdout would (Formatter.write_to either way)
        name = f"aifinops-report.{formatters()[fmt].extension}"
        outputs[fmt] = (out_dir / name).read_text(encoding="utf-8")
    # the AI flow: 1,000 GB x $0.02 = $20.00, 80% avoidable = $16.00
    (f,) = [f for f in json.loads(outputs.pop("json"))["findings"] if f["rule_id"] == "billing-ai-egress"]
    assert f["owner"] == owner and (f["monthly_cost_usd"], f["estimated_monthly_savings_usd"]) == (20.0, 16.0)
    assert set(outputs) == {"table", "markdown", "csv", "html"}
    for fmt, out in outputs.items():
        assert "\x1b" not in SGR.sub("", out) and not _controls(out.replace("\t", "")), fmt
        assert "$16.00" in out or "16.0" in out, fmt  # the good part is still reported


def test_recorded_hostile_history_still_shows(tmp_path: Path) -> None:
    """A recorded run with a `[/oops]` owner crashed `history` and `diff` afterwards."""
    cur = hostile_cur(tmp_path, "[/oops]\x1b[2J", "[link=http://evil.example]r[/link]")
    state = tmp_path / "state"
    runner = CliRunner()
    for _ in range(2):
        r = runner.invoke(
            app,
            [
                "scan",
                "--scanner",
                "billing",
                "--billing",
                str(cur),
                "--record",
                "--state-dir",
                str(state),
                "-f",
                "json",
                "-o",
                str(tmp_path / "r.json"),
            ],
        )
        assert r.exit_code == 0, r.stderr
    for args in (["history", "--by", "owner"], ["diff", "previous", "latest"]):
        for fmt in ("table", "markdown"):
            r = runner.invoke(app, [*args, "--state-dir", str(state), "-f", fmt])
            assert r.exit_code == 0, (args, r.exception, r.stderr)
            assert "\x1b" not in r.stdout and "Traceback" not in r.stderr
    r = runner.invoke(app, ["history", "--by", "owner", "--state-dir", str(state)])
    assert "[/oops]" in r.stdout and "$16.00" in r.stdout  # 80% of 1,000 GB x $0.02


def test_terminal_table_is_capped_per_category_but_totals_count_all() -> None:
    from aifinops_cli.output.table import ROWS_PER_CATEGORY

    report = hostile_report(["team"] * (ROWS_PER_CATEGORY * 3 + 30))  # 630 in 3 categories
    text = formatters()["table"]().render(report)
    assert "Fragmentation tax: $12,600.00/month" in text  # 630 x $20.00
    assert text.count("... 10 more") == 3  # 210 per category, 200 shown: $200.00 left each
    assert "($200.00/month)" in text


@pytest.mark.skipif(shutil.which("true") is None, reason="needs a POSIX system")
def test_stderr_coverage_lines_are_escaped(tmp_path: Path) -> None:
    """A coverage scope with markup and ESC reaches stderr as text (missing file named so)."""
    name = tmp_path / "[red]x[/red]\x1b[2J.csv"
    result = CliRunner().invoke(app, ["scan", "--scanner", "billing", "--billing", str(name), "-f", "json"])
    assert result.exit_code == 3
    assert "\x1b" not in result.stderr and "[red]x[/red]" in result.stderr
