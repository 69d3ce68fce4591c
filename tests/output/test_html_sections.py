"""The HTML report's sections on a small report built by hand: category colours, the owner bars
stacked by category, recommendations' Markdown, budgets, analysis tables and their charts, and
suppressed findings with their reasons (in HTML and Markdown). Amounts are computed in comments."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from aifinops_cli.core.models import Confidence, CostLine, Finding, Observation, Report, Severity
from aifinops_cli.core.rules import CATEGORIES
from aifinops_cli.output import formatters
from aifinops_cli.output.html import CATEGORY_COLOUR, NEUTRAL, category_colour, inline_markdown


def finding(
    rule: str,
    category: str,
    owner: str,
    hours: float,
    rate: float,
    *,
    rid: str,
    kind: str = "aws.ec2.instance",
    recommendation: str = "Stop it.",
    evidence: dict | None = None,
    reason: str = "",
) -> Finding:
    """A finding whose cost is `hours` x `rate` and whose savings are all of it."""
    line = CostLine("gpu", rate, "hour", hours, "aws-on-demand", "2026-11-01", "ec2:p3")
    obs = Observation(provider="aws", kind=kind, id=rid, region="us-east-1", owner=owner, cost_lines=(line,))
    return Finding(
        rule_id=rule,
        title=f"title {rule}",
        category=category,
        severity=Severity.HIGH,
        confidence=Confidence.HIGH,
        observation=obs,
        monthly_cost_usd=obs.monthly_cost_usd,
        estimated_monthly_savings_usd=obs.monthly_cost_usd,
        recommendation=recommendation,
        evidence=evidence or {},
        suppressed=bool(reason),
        suppression_reason=reason,
    )


BUDGET = {
    "dimension": "team",
    "name": "support",
    "month": "2026-11",
    "budget_usd": 200.0,
    "month_to_date_usd": 150.0,
    # 12.5 $/day x 30.416 days = 380.21: 380.21 / 200 = 190.1%
    "projected_usd": 380.21,
    "projected_pct": 190.1,
}
FINDINGS = [
    # research: 730 h x 3.06 = 2,233.80 zombie + 1,000 GB-month x 0.08 = 80.00 orphaned -> 2,313.80
    finding("idle-gpu", "zombie-infrastructure", "research", 730, 3.06, rid="i-1"),
    finding("old-disk", "orphaned-storage", "research", 1000, 0.08, rid="vol-1"),
    # support: 100 h x 1.5 = 150.00 orphaned storage (same colour as research's disk)
    finding(
        "old-disk",
        "orphaned-storage",
        "support",
        100,
        1.5,
        rid="vol-2",
        recommendation="Run `aws ec2 delete-volume --volume-id ID` **after** a snapshot, see "
        "[the guide](https://docs.aws.amazon.com/ebs/?a=1&b=2) or [not this](javascript:alert(1)).",
    ),
    # the budget: 1 x 0.26 = 0.26 over budget (its own category colour)
    finding(
        "llm-budget",
        "budget",
        "support",
        1,
        0.26,
        rid="team:support:2026-11",
        kind="llm.budget",
        evidence=BUDGET,
    ),
    # suppressed: 730 h x 1.20 = 876.00, not in any total
    finding(
        "idle-gpu",
        "zombie-infrastructure",
        "research",
        730,
        1.2,
        rid="i-kept",
        reason="training restarts Monday (until 2099-12-31) [suppressions.yaml:2]",
    ),
]
# counted: 2,233.80 + 80.00 + 150.00 + 0.26 = 2,464.06
TOTAL = 2233.80 + 80.00 + 150.00 + 0.26

ANALYSIS = {
    "llm": {
        "title": "LLM request logs",
        "summary": {"requests": 500, "monthly run-rate USD": 6.53},
        "tables": [
            {
                "title": "LLM spend by team",
                "columns": ["team", "requests", "cost USD", "share"],
                # 9.6441 + 0.4982 = 10.1423; research 9.6441 / 10.1423 = 95.1%, cx 4.9%
                "rows": [["research", 115, 9.6441, 0.9509], ["cx", 36, 0.4982, 0.0491]],
            },
            {
                "title": "Top egress flows (per month)",
                "columns": ["Class", "From", "To", "GB/mo", "$/mo"],
                # 18,000 GB x 0.045 = 810.00; 12,000 GB x 0.02 = 240.00; total 1,050.00
                "rows": [
                    ["NAT processing", "us-west-2", "NAT gateway", 18000.0, 810.0],
                    ["inter-region", "us-east-1", "us-west-2", 12000.0, 240.0],
                ],
            },
            {
                "title": "LLM waste by finding",
                "columns": ["claimed by", "requests", "wasted USD / month"],
                # loop 5.15 + retry 0.01 = 5.16, the table's own total row: charted without it
                "rows": [["loop", 44, 5.15], ["retry", 18, 0.01], ["total", 62, 5.16]],
            },
        ],
    }
}


def report() -> Report:
    return Report(
        tool_version="test",
        started_at="2026-12-01T00:00:00Z",
        finished_at="2026-12-01T00:01:00Z",
        scanners=["aws", "llm"],
        findings=FINDINGS,
        coverage=[],
        observations_count=5,
        analysis=ANALYSIS,
        parameters={"owner_tag_keys": ["team"], "price_catalogs": []},
    )


class Marks(HTMLParser):
    """(data-category, colour) of every element marked with a category, and each chart's
    bar tooltips (`<title>` text inside an SVG)."""

    def __init__(self) -> None:
        super().__init__()
        self.marks: list[tuple[str, str]] = []
        self.titles: list[str] = []
        self._in_title = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "data-category" in a:
            colour = a.get("fill") or re.search(r"background:(#[0-9a-f]{6})", a.get("style", "")).group(1)
            self.marks.append((a["data-category"], colour))
        self._in_title = tag == "title"

    def handle_data(self, data):
        if self._in_title:
            self.titles.append(data)
            self._in_title = False


def page() -> tuple[str, Marks]:
    html = formatters()["html"]().render(report())
    parser = Marks()
    parser.feed(html)
    return html, parser


def test_one_colour_per_category_in_every_chart():
    _, parser = page()
    seen: dict[str, set[str]] = {}
    for cat, colour in parser.marks:
        seen.setdefault(cat, set()).add(colour)
    # category bars, owner segments and legends all name the same three categories...
    assert set(seen) == {"zombie-infrastructure", "orphaned-storage", "budget"}
    # ...each in exactly its one colour
    assert {c: s for c, s in seen.items()} == {c: {CATEGORY_COLOUR[c]} for c in seen}
    # orphaned-storage is in the category chart, research's and support's bars and the legend
    assert sum(1 for c, _ in parser.marks if c == "orphaned-storage") >= 4
    # every built-in category has its own colour, none of them the neutral bar colour
    assert set(CATEGORY_COLOUR) == set(CATEGORIES)
    assert len(set(CATEGORY_COLOUR.values()) | {NEUTRAL}) == len(CATEGORIES) + 1
    # a category of a user's own rules: the same colour every time, not a built-in one
    assert category_colour("my-rule-category") == category_colour("my-rule-category")
    assert category_colour("my-rule-category") not in CATEGORY_COLOUR.values()


def test_owner_bars_add_up_by_category():
    html, parser = page()
    share = 2313.80 / TOTAL * 100  # 93.9%
    assert f"research: $2,313.80/month ({share:.1f}%)" in parser.titles
    assert "research, zombie-infrastructure: $2,233.80" in parser.titles
    assert "research, orphaned-storage: $80.00" in parser.titles
    assert f"support: $150.26/month ({150.26 / TOTAL * 100:.1f}%)" in parser.titles  # 150 + 0.26
    # the suppressed 876.00 is in no bar and no total
    assert f'id="monthly-waste">${TOTAL:,.2f}</div>' in html  # $2,464.06
    assert "$876.00/month (" not in html and "$3,340.06" not in html


def test_recommendation_markdown_is_rendered_after_escaping():
    html, _ = page()
    assert (
        "Run <code>aws ec2 delete-volume --volume-id ID</code> <strong>after</strong> a snapshot, "
        'see <a href="https://docs.aws.amazon.com/ebs/?a=1&amp;b=2" rel="noopener noreferrer">the guide</a>'
        " or [not this](javascript:alert(1))."
    ) in html
    assert "`" not in html.split("<main>")[1]  # no raw backtick left anywhere in the page


def test_inline_markdown_cannot_make_markup():
    assert (
        inline_markdown("`<script>alert(1)</script>`") == "<code>&lt;script&gt;alert(1)&lt;/script&gt;</code>"
    )
    assert inline_markdown("**<img src=x>**") == "<strong>&lt;img src=x&gt;</strong>"
    # a quote in a link cannot end the attribute: it stays an entity inside href
    out = inline_markdown('[a](https://e.example/"onmouseover="x)')
    assert out == '<a href="https://e.example/&quot;onmouseover=&quot;x" rel="noopener noreferrer">a</a>'
    assert inline_markdown("[a](ftp://e.example/x)") == "[a](ftp://e.example/x)"
    assert inline_markdown("[a](data:text/html,x)") == "[a](data:text/html,x)"
    # no link inside a code span; marks are not nested into it either
    assert inline_markdown("`[a](https://e.example/) **b**`") == "<code>[a](https://e.example/) **b**</code>"
    assert inline_markdown("2 ** 3 and a*b") == "2 ** 3 and a*b"  # not bold: spaces inside the marks


def test_budgets_section():
    html, _ = page()
    section = html[html.index('<h2 id="budgets">') :]
    section = section[: section.index("</table>")]
    cells = re.findall(r"<td[^>]*>(.*?)</td>", section)
    assert cells[:6] == ["team", "support", "2026-11", "$200.00", "$150.00", "$380.21"]
    # 380.21 / 200 = 190.1% of the budget; the meter is full and red
    assert cells[6].startswith("190%") and 'class="" style="width:100%"' in cells[6]


def test_analysis_tables_and_charts():
    html, parser = page()
    # the summary as label/value rows, counts grouped and amounts with cents
    assert "<tr><th>requests</th><td>500</td></tr>" in html
    assert "<tr><th>monthly run-rate USD</th><td>6.53</td></tr>" in html
    # spend by team: a chart and the table; share shown as a percentage
    assert "research: $9.64/month (95.1%)" in parser.titles  # 9.6441 / 10.1423
    assert "cx: $0.4982/month (4.9%)" in parser.titles  # under $1: four places
    assert '<td class="n">95.1%</td>' in html and '<td class="n">9.64</td>' in html
    # egress routes, labelled class: from -> to
    assert "NAT processing: us-west-2 → NAT gateway: $810.00/month (77.1%)" in parser.titles  # 810 / 1,050
    assert "inter-region: us-east-1 → us-west-2: $240.00/month (22.9%)" in parser.titles
    # the waste table's total row is not a bar: loop 5.15 / (5.15 + 0.01) = 99.8%
    assert "loop: $5.15/month (99.8%)" in parser.titles
    assert not any(t.startswith("total:") for t in parser.titles)
    labels = re.findall(r'aria-label="([^"]+)"', html)
    assert labels == [
        "Waste by category",
        "Waste by owner / team",
        "LLM spend by team",
        "Top egress flows (per month)",
        "LLM waste by finding",
    ]


def test_suppressed_findings_listed_with_reasons():
    html, _ = page()
    assert '<h2 id="suppressed">Suppressed (1, not counted): $876.00/month</h2>' in html  # 730 x 1.20
    hidden = html[html.index('id="suppressed"') :]
    assert "<code>i-kept</code>" in hidden
    assert "training restarts Monday (until 2099-12-31) [suppressions.yaml:2]" in hidden

    md = formatters()["markdown"]().render(report())
    assert "Suppressed (not counted): 1. Each is listed with its reason under *Suppressed findings*." in md
    assert (
        "1 finding(s) worth $876.00/month are suppressed: not in the totals, and they never fail the gate."
    ) in md
    assert (
        "| idle-gpu | `i-kept` | research | $876.00 | "
        "training restarts Monday (until 2099-12-31) \\[suppressions.yaml:2] |"
    ) in md
    # the suppressed finding is in neither the findings list nor the totals
    assert f"**${TOTAL:,.2f} per month**" in md


def test_a_hostile_suppression_reason_is_text():
    reason = "a|b <img src=x> [x](http://e.example/) `c`"
    r = report()
    r.findings = [
        *FINDINGS[:-1],
        finding("idle-gpu", "zombie-infrastructure", "x", 1, 1.0, rid="i-h", reason=reason),
    ]
    md = formatters()["markdown"]().render(r)
    assert "| idle-gpu | `i-h` | x | $1.00 | a\\|b &lt;img src=x> \\[x](http://e.example/) `c` |" in md
    html = formatters()["html"]().render(r)
    assert "a|b &lt;img src=x&gt; [x](http://e.example/) `c`" in html  # a reason is not Markdown
    assert "<img" not in html and 'href="http://e.example/' not in html
