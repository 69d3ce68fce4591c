"""Observations as JSON Lines (`observations`): what every scanner saw, before any rule judged it.

A rule can only use the kinds, metrics and attributes scanners emit (`rules validate` checks
against their declarations); this file shows them on a real estate, one object per line, the
way Cloud Custodian keeps a policy's `resources.json` beside its report. Rule authors grep it,
and `jq` reads it a line at a time however large the scan."""

from __future__ import annotations

import json
import math
from typing import IO, Any

from aifinops_cli.core.models import Observation, Report
from aifinops_cli.output.base import Formatter


def observation_to_dict(scanner: str, obs: Observation) -> dict[str, Any]:
    return {
        "scanner": scanner,
        "provider": obs.provider,
        "kind": obs.kind,
        "id": obs.id,
        "name": obs.name,
        "account": obs.account,
        "region": obs.region,
        "owner": obs.owner,
        "tags": obs.tags,
        # JSON has no NaN or infinity: a metric that is not a finite number is null
        "metrics": {k: v if v is None or math.isfinite(v) else None for k, v in obs.metrics.items()},
        "attributes": obs.attributes,
        "monthly_cost_usd": round(obs.monthly_cost_usd, 6),
        "cost_lines": [line.to_dict() for line in obs.cost_lines],  # as findings' cost_basis
        "unpriced": list(obs.unpriced),
        "evidence": list(obs.evidence),
    }


class ObservationsFormatter(Formatter):
    name = "observations"
    extension = "observations.jsonl"
    description = "what each scanner saw, before rules: one JSON object per line (for writing rules)"

    def render(self, report: Report) -> str:
        return "".join(self._line(scanner, obs) for scanner, obs in report.observed)

    def write_to(self, report: Report, handle: IO[str]) -> None:
        for scanner, obs in report.observed:
            handle.write(self._line(scanner, obs))

    @staticmethod
    def _line(scanner: str, obs: Observation) -> str:
        # default=str: attribute values a scanner keeps as dates or sets still print
        return json.dumps(observation_to_dict(scanner, obs), default=str, sort_keys=False) + "\n"
