"""Data that crosses module boundaries.

Scanners produce `Observation`s (what they saw and what it costs); rules turn observations into
`Finding`s; a `Report` gathers findings, coverage and analysed totals. Every dollar figure can be
traced back to `CostLine`s: a unit price from a named, dated catalog times a quantity.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

HOURS_PER_MONTH = 730.0
"""AWS, Google Cloud and Azure all bill 'a month' of hourly resources as 730 hours."""
DAYS_PER_MONTH = HOURS_PER_MONTH / 24
"""The same month in days (30.4167): an observed period's run-rate scales by this / its days, so
a month of LLM spend and a month of GPU hours are one length."""


class Severity(StrEnum):
    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return list(Severity).index(self)

    @property
    def weight(self) -> float:
        return SEVERITY_WEIGHT[self]


class Confidence(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"

    @property
    def weight(self) -> float:
        return CONFIDENCE_WEIGHT[self]


# Scoring weights (see docs in README "Scoring"): priority = savings x severity x confidence.
SEVERITY_WEIGHT: dict[Severity, float] = {
    Severity.INFO: 0.25,
    Severity.LOW: 0.5,
    Severity.MEDIUM: 1.0,
    Severity.HIGH: 1.5,
    Severity.CRITICAL: 2.0,
}
CONFIDENCE_WEIGHT: dict[Confidence, float] = {
    Confidence.LOW: 0.5,
    Confidence.MEDIUM: 0.75,
    Confidence.HIGH: 1.0,
}


@dataclass(frozen=True)
class CostLine:
    """One priced component: `unit_price_usd` x `quantity` per month, with where the price came from."""

    description: str
    unit_price_usd: float
    unit: str  # e.g. "hour", "GB-month", "IOPS-month", "1M tokens"
    quantity: float  # per month
    source: str  # catalog id, e.g. "aws-on-demand"
    price_date: str  # ISO date the catalog price is valid for
    sku: str = ""  # e.g. "ec2:p3.2xlarge:us-east-1"
    discount_pct: float = 0.0

    @property
    def monthly_usd(self) -> float:
        return self.unit_price_usd * self.quantity * (1.0 - self.discount_pct / 100.0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "description": self.description,
            "sku": self.sku,
            "unit_price_usd": self.unit_price_usd,
            "unit": self.unit,
            "quantity": self.quantity,
            "discount_pct": self.discount_pct,
            "monthly_usd": round(self.monthly_usd, 6),
            "source": self.source,
            "price_date": self.price_date,
        }


@dataclass(frozen=True)
class Observation:
    """What a scanner saw about one resource (or one aggregate, such as an LLM session).

    `metrics` are measured numbers; `attributes` are facts (state, type, model). Rules read both.
    """

    provider: str  # aws, gcp, k8s, llm, billing
    kind: str  # e.g. aws.ec2.instance
    id: str  # the provider's own id, e.g. i-0abc...
    account: str = ""
    region: str = ""
    name: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    owner: str = ""
    metrics: dict[str, float | None] = field(default_factory=dict)
    attributes: dict[str, Any] = field(default_factory=dict)
    cost_lines: tuple[CostLine, ...] = ()
    evidence: tuple[str, ...] = ()  # human sentences explaining the measurements
    # the billable machines whose price is in `cost_lines` (see core/overlap.py), e.g.
    # "aws:ec2:i-0abc" or "gcp:compute:PROJECT/ZONE/NAME": the same machine seen by two scanners
    # (an EC2 instance that is also a Kubernetes node) must count once in the totals
    covers: tuple[str, ...] = ()
    # SKUs no catalog could price (e.g. "gcp.pd:pd-ssd:asia-southeast1"): `cost_lines` leave
    # them out, so every dollar figure of this observation is a lower bound (core/rules.py)
    unpriced: tuple[str, ...] = ()
    # ids this resource had in earlier versions of aifinops (e.g. one that named an input file):
    # a baseline written then still matches it (core/baseline.py)
    former_ids: tuple[str, ...] = ()

    @property
    def monthly_cost_usd(self) -> float:
        return sum(line.monthly_usd for line in self.cost_lines)

    def lookup(self, name: str) -> Any:
        """A field by name as rules see it: metrics, then attributes, then computed fields."""
        if name in self.metrics:
            return self.metrics[name]
        if name in self.attributes:
            return self.attributes[name]
        if name == "monthly_cost_usd":
            return self.monthly_cost_usd
        return None


@dataclass
class Finding:
    rule_id: str
    title: str
    category: str
    severity: Severity
    confidence: Confidence
    observation: Observation
    monthly_cost_usd: float
    estimated_monthly_savings_usd: float
    recommendation: str
    evidence: dict[str, Any]
    status: str = "new"  # new | known (in the baseline)
    suppressed: bool = False
    suppression_reason: str = ""
    overlaps: str = ""  # fingerprint of the finding that already counts this money (core/overlap.py)
    # an unpriced finding's rank, set by core/rules.sort_findings: its savings are only a lower
    # bound, so it ranks by severity first (README "Scoring"), never by an invented dollar figure
    ranked_priority: float | None = None

    @property
    def counted(self) -> bool:
        """Whether its savings are in the totals: not suppressed, not counted by another finding."""
        return not self.suppressed and not self.overlaps

    @property
    def unpriced(self) -> tuple[str, ...]:
        """SKUs missing from its price: its dollar figures are a lower bound, shown as such."""
        return self.observation.unpriced

    @property
    def fingerprint(self) -> str:
        """Identity across runs: rule, resource kind and id; never costs, timestamps or the
        names and paths of input files (a monthly-renamed export keeps its findings' ids)."""
        return self._fingerprint(self.observation.id)

    @property
    def former_fingerprints(self) -> tuple[str, ...]:
        """The fingerprints its resource's `former_ids` gave: what older baselines hold."""
        return tuple(self._fingerprint(i) for i in self.observation.former_ids)

    def _fingerprint(self, resource_id: str) -> str:
        o = self.observation
        raw = "|".join((self.rule_id, o.provider, o.account, o.region, o.kind, resource_id))
        return hashlib.sha256(raw.encode()).hexdigest()[:16]

    @property
    def priority(self) -> float:
        if self.ranked_priority is not None:
            return self.ranked_priority
        return self.savings_priority

    @property
    def savings_priority(self) -> float:
        """Savings x severity weight x confidence weight (a lower bound when unpriced)."""
        return round(self.estimated_monthly_savings_usd * self.severity.weight * self.confidence.weight, 2)


@dataclass(frozen=True)
class CoverageEntry:
    """One unit of scanning (a region, a file, a cluster) and how it went."""

    scanner: str
    scope: str  # region, project, context, file
    status: str  # ok | failed | skipped | partial
    message: str = ""
    resources: int = 0
    errors: int = 0


@dataclass
class UsageRollup:
    """Priced LLM usage, one row per (session, customer, feature, app, team, provider, model), for
    the unit-economics section (economics/): columnar (a pyarrow Table), never rendered as is.

    `monthly_factor` turns the observed period into a month (DAYS_PER_MONTH / observed_days)."""

    table: Any  # pyarrow.Table, columns in scanners/llm/usage.py USAGE_COLUMNS
    observed_days: float
    monthly_factor: float
    start: str = ""
    end: str = ""
    source: str = ""  # the logs it was read from
    price_source: str = ""  # e.g. "genai-prices 0.0.30"


UNIT_ECONOMICS_KIND = "llm.unit_economics"
"""One customer's or feature's cost against its revenue (economics/section.py `observations`)."""
UNIT_ECONOMICS_FIELDS = (
    "ai_cost_monthly_usd",
    "ai_cost_share_pct",
    "cost_per_successful_outcome_usd",
    "dimension",
    "gross_margin_pct",
    "gross_margin_usd",
    "infra_cost_monthly_usd",
    "monthly_revenue_usd",
    "plan",
    "requests",
    "revenue_source",
    "token_cost_monthly_usd",
)
"""Its fields, declared by the LLM scanner (whose usage it is built from) for the rule checks."""


@dataclass
class ScanResult:
    """What one scanner returns: observations, coverage, and optional analysed totals."""

    scanner: str
    observations: list[Observation] = field(default_factory=list)
    coverage: list[CoverageEntry] = field(default_factory=list)
    analysis: dict[str, Any] = field(default_factory=dict)
    unpriced: list[dict[str, str]] = field(default_factory=list)  # what no catalog could price
    usage: UsageRollup | None = None  # priced LLM usage for economics/, when asked for


@dataclass
class Report:
    tool_version: str
    started_at: str
    finished_at: str
    scanners: list[str]
    findings: list[Finding]
    coverage: list[CoverageEntry]
    observations_count: int = 0
    analysis: dict[str, Any] = field(default_factory=dict)
    parameters: dict[str, Any] = field(default_factory=dict)
    unpriced: list[dict[str, str]] = field(default_factory=list)
    # set by the scan command when asked (see core/history, core/suppressions, core/coverage_score)
    history: dict[str, Any] | None = None  # since the previous like run, and the trend
    suppressions: dict[str, Any] | None = None  # files applied, expired and unused entries
    visibility: dict[str, Any] | None = None  # score against the AI data path, blind spots
    usage: UsageRollup | None = None  # not rendered: the input of the economics section
    economics: dict[str, Any] | None = None  # unit economics and what-ifs (economics/section.py)
    # what each scanner saw, as (scanner, observation): not in the report document, only in
    # `--format observations` (what rules read, for writing and debugging rules)
    observed: list[tuple[str, Observation]] = field(default_factory=list, repr=False)

    @property
    def nothing_scanned(self) -> bool:
        """Every scope failed or was skipped (e.g. no credentials, a missing client library)."""
        return bool(self.coverage) and all(c.status in ("failed", "skipped") for c in self.coverage)

    @property
    def active_findings(self) -> list[Finding]:
        return [f for f in self.findings if not f.suppressed]
