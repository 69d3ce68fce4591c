"""Suppressions: known exceptions that should stop failing CI, each with a reason and a shelf life.

A suppression file is YAML:

    suppressions:
      - rule: aws-ebs-unattached          # rule id (glob: aws-ebs-*)
        resource: vol-0abc123              # the cloud's own id, or its Name (glob)
        reason: restore drill volume, kept until the audit closes
        expires: 2026-03-31                # optional; the entry applies through that day
      - tag: {env: sandbox}                # every tag given must match (value glob)
        reason: sandbox accounts are reviewed monthly by platform
      - owner: research                    # the owner the report shows ("(unowned)" for none)
        rule: aws-ec2-idle-gpu
        reason: research holds GPUs over the conference deadline
        expires: 2026-06-15

Every selector given in an entry must match (they are ANDed); an entry needs at least one
selector and a reason. A suppressed finding stays in the JSON report with `suppressed: true` and
its reason, but leaves the totals and cannot fail `--fail-on`. An entry whose expiry has passed
suppresses nothing and is reported, so an exception cannot quietly become permanent. The date
check takes `today` as a parameter: the caller decides what day it is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from aifinops_cli.core.models import Finding
from aifinops_cli.core.report import UNOWNED
from aifinops_cli.core.yamlsrc import Located, load_documents, read_text

SELECTORS = ("rule", "resource", "tag", "owner", "account", "region")
_KEYS = {*SELECTORS, "reason", "expires"}


@dataclass
class Suppression:
    reason: str
    source: str  # file:line, so a report reader can find the entry
    rule: str | None = None
    resource: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    owner: str | None = None
    account: str | None = None
    region: str | None = None
    expires: date | None = None
    matched: int = 0

    def expired(self, today: date) -> bool:
        return self.expires is not None and today > self.expires

    def matches(self, finding: Finding) -> bool:
        o = finding.observation
        if self.rule is not None and not fnmatchcase(finding.rule_id, self.rule):
            return False
        if self.resource is not None and not any(  # a former id: entries written before it changed
            fnmatchcase(name, self.resource) for name in (o.id, o.name, *o.former_ids) if name
        ):
            return False
        if self.owner is not None and not fnmatchcase(o.owner or UNOWNED, self.owner):
            return False
        if self.account is not None and not fnmatchcase(o.account, self.account):
            return False
        if self.region is not None and not fnmatchcase(o.region, self.region):
            return False
        if self.tags:
            tags = {k.strip().lower(): v for k, v in o.tags.items()}
            for key, pattern in self.tags.items():
                value = tags.get(key.strip().lower())
                if value is None or not fnmatchcase(value, pattern):
                    return False
        return True

    def selector(self) -> str:
        parts = [
            f"{k}={getattr(self, k)}"
            for k in ("rule", "resource", "owner", "account", "region")
            if getattr(self, k) is not None
        ]
        parts += [f"tag:{k}={v}" for k, v in self.tags.items()]
        return ", ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "selector": self.selector(),
            "reason": self.reason,
            "expires": self.expires.isoformat() if self.expires else None,
            "matched": self.matched,
        }


def _tags(doc: Located, path: tuple[Any, ...], value: Any) -> dict[str, str]:
    if isinstance(value, dict):
        return {str(k): str(v) for k, v in value.items()}
    if isinstance(value, str) and "=" in value:
        key, val = value.split("=", 1)
        return {key.strip(): val.strip()}
    raise doc.error(path, "tag must be a mapping {key: value} or 'key=value'")


def _entry(doc: Located, index: int, raw: Any) -> Suppression:
    path: tuple[Any, ...] = ("suppressions", index)
    if not isinstance(raw, dict):
        raise doc.error(
            path, "each suppression must be a mapping (rule, resource, tag, owner, reason, expires)"
        )
    unknown = sorted(set(map(str, raw)) - _KEYS)
    if unknown:
        raise doc.error((*path, unknown[0]), f"unknown key (known: {', '.join(sorted(_KEYS))})")
    reason = raw.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise doc.error(path, "a suppression needs a `reason` (why this is a known exception)")
    if not any(raw.get(k) not in (None, "", {}) for k in SELECTORS):
        raise doc.error(
            path,
            f"a suppression needs at least one of {', '.join(SELECTORS)}; "
            "an entry that matches everything would hide all waste",
        )
    expires = raw.get("expires")
    if expires is not None:
        if isinstance(expires, str):
            try:
                expires = date.fromisoformat(expires.strip())
            except ValueError:
                raise doc.error((*path, "expires"), "expected a date, YYYY-MM-DD") from None
        if isinstance(expires, datetime):
            expires = expires.date()
        if not isinstance(expires, date):
            raise doc.error((*path, "expires"), "expected a date, YYYY-MM-DD")
    source = f"{doc.file}:{doc.line_of(path)}"

    def text(key: str) -> str | None:
        value = raw.get(key)
        return None if value is None else str(value)

    return Suppression(
        reason=reason.strip(),
        source=source,
        rule=text("rule"),
        resource=text("resource"),
        tags=_tags(doc, (*path, "tag"), raw["tag"]) if raw.get("tag") else {},
        owner=text("owner"),
        account=text("account"),
        region=text("region"),
        expires=expires,
    )


def parse(text: str, file: str) -> list[Suppression]:
    docs = load_documents(text, file)
    doc = docs[0] if docs else Located(None, file)
    data = doc.data
    if data is None:
        return []
    if isinstance(data, list):  # a bare list is accepted too
        data = {"suppressions": data}
    if not isinstance(data, dict) or set(data) - {"suppressions"}:
        raise doc.error((), "a suppression file is a mapping with one key, `suppressions`")
    entries = data.get("suppressions") or []
    if not isinstance(entries, list):
        raise doc.error(("suppressions",), "expected a list of entries")
    return [_entry(doc, i, raw) for i, raw in enumerate(entries)]


def load(paths: list[Path]) -> list[Suppression]:
    out: list[Suppression] = []
    for path in paths:
        out += parse(read_text(path, "suppression file"), str(path))
    return out


@dataclass
class SuppressionOutcome:
    files: list[str]
    entries: list[Suppression]
    suppressed: int
    expired: list[Suppression]
    today: date

    def to_dict(self) -> dict[str, Any]:
        lapsed = {id(e) for e in self.expired}
        return {
            "files": self.files,
            "checked_on": self.today.isoformat(),
            "entries": len(self.entries),
            "suppressed_findings": self.suppressed,
            "expired": [e.to_dict() for e in self.expired],
            "unused": [e.to_dict() for e in self.entries if not e.matched and id(e) not in lapsed],
        }


def apply(
    findings: list[Finding], entries: list[Suppression], today: date, files: list[str] | None = None
) -> SuppressionOutcome:
    """Mark findings matched by a live entry as suppressed (first matching entry wins).

    Expired entries suppress nothing; they still count what they *would* have matched, so the
    report can say how many findings came back when the exception lapsed.
    """
    live = [e for e in entries if not e.expired(today)]
    expired = [e for e in entries if e.expired(today)]
    count = 0
    for f in findings:
        hit = next((e for e in live if e.matches(f)), None)
        if hit is not None:
            hit.matched += 1
            f.suppressed = True
            until = f" (until {hit.expires.isoformat()})" if hit.expires else ""
            f.suppression_reason = f"{hit.reason}{until} [{hit.source}]"
            count += 1
            continue
        for e in expired:
            if e.matches(f):
                e.matched += 1
    return SuppressionOutcome(
        files=list(files or []), entries=entries, suppressed=count, expired=expired, today=today
    )
