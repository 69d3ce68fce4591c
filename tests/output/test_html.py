"""The HTML report: headline figures, charts (with history), findings table, no network; and one
render in headless Chromium to prove it opens from a file with nothing else."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest

from aifinops_cli.demo.aws import DemoInstance, DemoVolume, seed_region
from tests.conftest import run_cli

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

INSTANCES = [
    # idle GPU: p3.2xlarge 3.06 x 730 = 2,233.80 + 100 GB gp3 root x 0.08 = 8.00 -> 2,241.80
    DemoInstance("idle-p3", "p3.2xlarge", {"team": "research"}, cpu=1.0, gpu=0.5),
]
VOLUMES = [
    # gp3 1000 GB x 0.08 = 80.00, team research
    DemoVolume("old-ckpt", 1000, "gp3", {"team": "research"}),
    # io1 100 GB x 0.125 = 12.50 + 1000 IOPS x 0.065 = 65.00 -> 77.50, no owner: "(unowned)"
    DemoVolume("io1-old <b>", 100, "io1", {}, iops=1000),
]
TOTAL = 2241.80 + 80.00 + 77.50  # 2,399.30 a month; x 12 = 28,791.60 a year


VOID_TAGS = frozenset({"meta", "br", "input", "img", "link", "hr", "rect", "line"})


class Tags(HTMLParser):
    """Every start tag with its attributes, and whether tags close in order."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.stack: list[str] = []
        self.balanced = True

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag not in VOID_TAGS:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        if tag in VOID_TAGS:
            return
        if not self.stack or self.stack.pop() != tag:
            self.balanced = False


@pytest.fixture
def report(shared_estate, runner, tmp_path) -> Path:
    shared_estate("test_html", lambda: seed_region("us-east-1", INSTANCES, VOLUMES, datetime.now(UTC)))
    state = tmp_path / "state"
    args = [
        "scan",
        "--regions",
        "us-east-1",
        "--scanner",
        "aws.ec2,aws.ebs",
        "--record",
        "--state-dir",
        str(state),
    ]
    assert run_cli(runner, *args, "--format", "json").exit_code == 0  # yesterday
    out = tmp_path / "aifinops-report.html"
    result = run_cli(runner, *args, "--format", "html", "--output", str(out))
    assert result.exit_code == 0, result.output
    return out


def test_headline_charts_and_table(report):
    html = report.read_text()
    assert html.startswith("<!DOCTYPE html>")
    assert f'<div class="v" id="monthly-waste">${TOTAL:,.2f}</div>' in html  # $2,399.30
    assert '<div class="v" id="annual-waste">$28,791.60</div>' in html
    assert '<div class="v" id="findings">3</div>' in html
    # visibility: compute and storage seen in full, the other three areas blind: 2 x 100 / 5
    assert '<div class="v" id="visibility">40/100</div>' in html
    assert "<title>AI fragmentation tax: $2,399.30/month</title>" in html
    # nothing changed since yesterday's recorded run
    assert "±$0.00</div>" in html and "since run #1" in html

    parser = Tags()
    parser.feed(html)
    assert parser.balanced and not parser.stack
    svgs = [a for t, a in parser.tags if t == "svg" and a.get("role") == "img"]
    assert [a["aria-label"] for a in svgs] == [
        "Waste by category",
        "Waste by owner / team",
        "Monthly waste over time",
    ]
    # category bars: zombie-infrastructure 2,241.80, orphaned-storage 80 + 77.50 = 157.50
    assert "zombie-infrastructure: $2,241.80/month (93.4%)" in html
    assert "orphaned-storage: $157.50/month (6.6%)" in html
    assert "(unowned): $77.50/month (3.2%)" in html
    # over time: one column per recorded run
    assert "run 1 " in html and "run 2 " in html
    # the findings table has every finding, and user text is escaped
    assert html.count("<tr>") - html.count("<thead><tr>") >= 3
    assert "io1-old &lt;b&gt;" in html and "io1-old <b>" not in html

    # self-contained: no scripts, no external anything, a CSP that forbids fetching
    assert not any(t in ("script", "link", "iframe", "img", "object") for t, _ in parser.tags)
    assert not re.search(r"(?i)(https?:|//[a-z]|url\()", html)
    csp = next(a for t, a in parser.tags if t == "meta" and a.get("http-equiv"))
    assert csp["content"].startswith("default-src 'none'")


@pytest.mark.skipif(
    CHROMIUM is None,
    reason="chromium is not installed (Debian: apt-get install chromium); the HTML checks above still ran",
)
def test_renders_in_headless_chromium(report, tmp_path):
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-extensions",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'profile'}",
        # any request would have to go through this closed port: a report that needs the
        # network cannot render its content
        "--proxy-server=127.0.0.1:9",
    ]
    dom = subprocess.run(
        [CHROMIUM, *flags, "--dump-dom", report.as_uri()], capture_output=True, text=True, timeout=120
    )
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert f'id="monthly-waste">${TOTAL:,.2f}</div>' in dom.stdout
    assert dom.stdout.count("<svg") >= 3
    assert "Monthly waste over time" in dom.stdout
    png = tmp_path / "report.png"
    shot = subprocess.run(
        [CHROMIUM, *flags, f"--screenshot={png}", "--window-size=1200,1600", report.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert shot.returncode == 0, shot.stderr[-2000:]
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 20_000  # a blank page is a few kB; charts and tables are not
