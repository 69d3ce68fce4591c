"""Alerts through apprise (Slack, Teams, email, webhooks and ~100 more by URL): `--notify URL` or
config `notify: {urls, min_severity, min_usd}`. Checked before the scan (a URL apprise cannot
read is exit 2); sent after the reports are written, only for news (core/alerts.py). A delivery
that fails is one warning on stderr: the scan's exit code stands, as with `--log-file`."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aifinops_cli.cli.common import fail
from aifinops_cli.core.alerts import ANOMALY, BUDGET, TOP_ALERTED, WASTE, AlertPolicy, amount_usd, kind_of
from aifinops_cli.core.config import Config
from aifinops_cli.core.models import Finding, Report, Severity
from aifinops_cli.core.money import money, usd
from aifinops_cli.core.report import UNOWNED, totals
from aifinops_cli.output.safe import md_code, md_text, plain

INSTALL = "pip install 'aifinops[notify]'"
NAMES = {  # (one, several)
    BUDGET: ("budget breach", "budget breaches"),
    ANOMALY: ("spend anomaly", "spend anomalies"),
    WASTE: ("new finding", "new findings"),
}


@dataclass(frozen=True)
class Message:
    title: str
    body: str  # Markdown: apprise converts it for services that take HTML or plain text


def policy(
    config: Config, urls: Sequence[str], min_severity: Severity | None, min_usd: float | None
) -> AlertPolicy:
    """Flags over the config's `notify:` section (flag URLs replace the config's)."""
    section = config.section("notify")
    configured = section.get("urls") or []
    configured = [configured] if isinstance(configured, str) else configured
    chosen = tuple(urls) or tuple(str(u) for u in configured)
    severity = min_severity
    if severity is None and section.get("min_severity") is not None:
        severity = Severity(str(section["min_severity"]).lower())
    usd_floor = min_usd if min_usd is not None else float(section.get("min_usd") or 0.0)
    return AlertPolicy(chosen, severity, usd_floor)


def _apprise(debug: bool = False) -> Any:
    try:
        import apprise
    except ImportError:
        fail(f"--notify needs the apprise library: {INSTALL}")
    if not debug:  # its own log lines would repeat our one line per URL
        logging.getLogger("apprise").setLevel(logging.CRITICAL)
    return apprise


def shown(url: str) -> str:
    """A notification URL as a message may print it: its scheme and host, never its tokens."""
    scheme, sep, rest = url.partition("://")
    host = rest.split("/", 1)[0].rsplit("@", 1)[-1] if sep else ""
    return f"{scheme}://{host}/…" if sep else "(not a URL)"


def check(alerts: AlertPolicy, debug: bool = False) -> None:
    """Every URL is one apprise can send to, before any scan work (exit 2 otherwise)."""
    if not alerts.urls:
        return
    apprise = _apprise(debug)
    for url in alerts.urls:
        if apprise.Apprise.instantiate(url) is None:
            fail(
                f"--notify {shown(url)}: not a notification URL apprise can use "
                "(see https://github.com/caronc/apprise/wiki for each service's URL)"
            )


def _line(f: Finding) -> str:
    o = f.observation
    owner = o.owner or UNOWNED
    kind = kind_of(f)
    what = {
        WASTE: f"{money(f.estimated_monthly_savings_usd, bool(f.unpriced))}/month to save",
        BUDGET: f"{usd(amount_usd(f))} over budget",
        ANOMALY: f"{usd(amount_usd(f))} above forecast",
    }[kind]
    return (
        f"- **{what}**, {f.severity.value}: {md_text(f.title)}: {md_code(o.id)} "
        f"({md_text(o.provider)}{', ' + md_text(o.region) if o.region else ''}; owner {md_text(owner)})"
    )


def message(report: Report, news: list[Finding], report_paths: Sequence[str]) -> Message:
    """The headline, the top findings of each kind, where the full report is."""
    summary = totals(report.active_findings)
    kinds = {k: [f for f in news if kind_of(f) == k] for k in (BUDGET, ANOMALY, WASTE)}
    # savings of the new waste, each machine once (an overlap is counted by another finding);
    # breaches and anomalies are money spent, not savings: listed, not added in
    to_save = sum(f.estimated_monthly_savings_usd for f in kinds[WASTE] if f.counted)
    counts = ", ".join(f"{len(v)} {NAMES[k][len(v) != 1]}" for k, v in kinds.items() if v)
    saving = f", {usd(to_save)}/month to save" if kinds[WASTE] else ""
    title = f"aifinops: {counts}{saving}"
    body = [
        f"**{usd(summary['monthly_waste_usd'])} per month** of AI waste in this scan "
        f"({usd(summary['annual_waste_usd'])} a year, {summary['findings']} findings). "
        f"New (not in the baseline, not suppressed): {counts}{saving}.",
    ]
    for kind in (BUDGET, ANOMALY, WASTE):
        found = kinds[kind]
        if not found:
            continue
        body += ["", f"**{NAMES[kind][1].capitalize()}**"]
        body += [_line(f) for f in found[:TOP_ALERTED]]
        if len(found) > TOP_ALERTED:
            body.append(f"- and {len(found) - TOP_ALERTED} more")
    where = ", ".join(md_code(p) for p in report_paths) if report_paths else "printed on stdout only"
    body += ["", f"Report: {where}"]
    return Message(plain(title), "\n".join(body))


def send(alerts: AlertPolicy, report: Report, report_paths: Sequence[str], debug: bool = False) -> list[str]:
    """Send the alert when there is news; the warnings of URLs that failed (none: all sent)."""
    news = alerts.news(report)
    if not alerts.urls or not news:
        return []
    apprise = _apprise(debug)
    msg = message(report, news, report_paths)
    problems = []
    for url in alerts.urls:
        sender = apprise.Apprise()
        sender.add(url)
        ok = sender.notify(
            body=msg.body,
            title=msg.title,
            body_format=apprise.NotifyFormat.MARKDOWN,
            notify_type=apprise.NotifyType.WARNING,
        )
        if not ok:
            problems.append(f"notification to {shown(url)} failed (the reports were written)")
    return problems
