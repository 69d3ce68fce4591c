"""The HTML report: headline figures, charts (with history), findings table, no network; and one
render in headless Chromium to prove it opens from a file with nothing else."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from datetime import UTC, datetime
from html import escape, unescape
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
    # owner bars stacked by category: research 2,241.80 + 80.00 = 2,321.80 of 2,399.30
    assert "research: $2,321.80/month (96.8%)" in html
    assert (
        "research, zombie-infrastructure: $2,241.80" in html and "research, orphaned-storage: $80.00" in html
    )
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


def test_demo_report_is_one_self_contained_file(demo_dir):
    """The demo report: nothing to fetch, every analysis section drawn, a sensible size."""
    html = (demo_dir / "aifinops-report.html").read_text(encoding="utf-8")
    parser = Tags()
    parser.feed(html)
    assert parser.balanced and not parser.stack
    assert not any(t in ("script", "link", "iframe", "img", "object", "embed") for t, _ in parser.tags)
    assert not any("src" in a for _, a in parser.tags) and "url(" not in html
    assert all(a["href"].startswith(("https://", "http://")) for t, a in parser.tags if t == "a")
    doc = json.loads((demo_dir / "aifinops-report.json").read_text())
    for key, section in doc["analysis"].items():
        assert f'<h2 id="analysis-{key}">' in html
        for t in section["tables"]:
            assert f"<h3>{escape(t['title'])}</h3>" in html
    assert "`" not in html  # every recommendation's code span became <code>
    assert len(html.encode()) < 400_000  # about 80 kB for the demo's 41 findings


needs_chromium = pytest.mark.skipif(
    CHROMIUM is None,
    reason="chromium is not installed (Debian: apt-get install chromium); the HTML checks above still ran",
)


def chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
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
    result = subprocess.run([CHROMIUM, *flags, *args], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return result


# Written into a copy of the page (the report itself runs no script and its CSP allows none):
# the page's width against the window's, every table box's edges and whether its table scrolls
# inside it, and any element outside a table box that sticks out past the right edge.
MEASURE = """<script>(function(){
var W=document.documentElement.clientWidth, res={width:W, inner:window.innerWidth,
 scroll:document.documentElement.scrollWidth, boxes:[], outside:[]};
document.querySelectorAll('.scroll').forEach(function(b){var r=b.getBoundingClientRect(),
 h=b.previousElementSibling; res.boxes.push({title:h?h.textContent:'', left:r.left, right:r.right,
 client:b.clientWidth, inner:b.scrollWidth, findings:!!b.querySelector('table.findings')});});
document.querySelectorAll('body *').forEach(function(e){if(e.closest('.scroll'))return;
 var r=e.getBoundingClientRect();
 if(r.right>W+0.5)res.outside.push(e.tagName+'.'+(e.getAttribute('class')||''));});
var p=document.createElement('pre');p.id='measure';p.hidden=true;p.textContent=JSON.stringify(res);
document.body.appendChild(p);})();</script>"""


def measure(
    page: Path, width: int, tmp_path: Path, height: int = 1000, screenshot: Path | None = None
) -> dict:
    """Lay `page` out in a `width` px window in headless Chromium and read MEASURE's figures;
    with `screenshot`, the same launch saves the window as a PNG there too (MEASURE's output is a
    hidden element: the picture is the page's)."""
    probe = tmp_path / f"measure-{width}-{page.name}"
    html = page.read_text(encoding="utf-8").replace(
        "default-src 'none';", "default-src 'none'; script-src 'unsafe-inline';", 1
    )
    probe.write_text(html.replace("</body>", MEASURE + "</body>", 1), encoding="utf-8")
    shot = [f"--screenshot={screenshot}"] if screenshot else []
    dom = chromium(tmp_path, f"--window-size={width},{height}", *shot, "--dump-dom", probe.as_uri()).stdout
    found = re.search(r'<pre id="measure"[^>]*>(.*?)</pre>', dom, re.S)
    assert found, dom[-2000:]
    return json.loads(unescape(found.group(1)))


def overflow(m: dict) -> list[str]:
    """What sticks out of the page at this width: the page itself, a table box, other elements."""
    problems = (
        [f"page is {m['scroll']} px wide in a {m['width']} px window"] if m["scroll"] > m["width"] else []
    )
    problems += [
        f"table box {b['title']!r} ends at {b['right']:.0f} px" for b in m["boxes"] if b["right"] > m["width"]
    ]
    return problems + [f"{e} sticks out" for e in m["outside"]]


@needs_chromium
def test_measure_catches_a_page_that_overflows(tmp_path):
    """The overflow check can fail: a wide table outside a scrolling box widens the page."""
    page = tmp_path / "wide.html"
    page.write_text(
        '<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" '
        "content=\"default-src 'none'; style-src 'unsafe-inline'\"></head><body>"
        '<table style="width:2000px"><tr><td>wide</td></tr></table>'
        '<div class="scroll" style="overflow-x:auto"><table style="width:3000px"><tr><td>boxed'
        "</td></tr></table></div></body></html>"
    )
    m = measure(page, 1400, tmp_path)
    assert 1380 <= m["width"] <= 1400 and m["scroll"] >= 2000
    assert overflow(m)[0] == f"page is {m['scroll']} px wide in a {m['width']} px window"
    assert "TABLE. sticks out" in overflow(m)
    box = m["boxes"][0]
    assert box["inner"] >= 3000 and box["client"] <= 1400  # the boxed table scrolls inside its box


@needs_chromium
@pytest.mark.parametrize("width", [1400, 1920])
def test_demo_report_fits_the_window(demo_dir, tmp_path, width):
    """The demo report at 1400 and 1920 px: nothing wider than the window, every table inside
    its box (a wide analysis table scrolls there), the findings table whole without scrolling;
    and a screenshot to look at (saved in AIFINOPS_SCREENSHOTS too when that is set)."""
    report = demo_dir / "aifinops-report.html"
    png = tmp_path / f"demo-{width}.png"
    m = measure(report, width, tmp_path, height=2400, screenshot=png)  # one Chromium launch, not two
    assert width - 20 <= m["width"] <= width  # the window less its vertical scrollbar, if drawn
    assert overflow(m) == []
    assert len(m["boxes"]) >= 10  # findings, budgets, the billing and LLM analysis tables
    findings = [b for b in m["boxes"] if b["findings"]]
    assert findings and findings[0]["inner"] <= findings[0]["client"], findings

    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert int.from_bytes(data[16:20], "big") == width  # the PNG header's width
    assert len(data) > 100_000  # a blank page is a few kB; cards, charts and tables are not
    if os.environ.get("AIFINOPS_SCREENSHOTS"):
        shutil.copy(png, Path(os.environ["AIFINOPS_SCREENSHOTS"]) / png.name)


@needs_chromium
def test_renders_offline_in_headless_chromium(report, tmp_path):
    dom = chromium(tmp_path, "--dump-dom", report.as_uri())
    assert f'id="monthly-waste">${TOTAL:,.2f}</div>' in dom.stdout
    assert dom.stdout.count("<svg") >= 3
    assert "Monthly waste over time" in dom.stdout
