"""The same queries pushed down: Athena (moto) and BigQuery (a local fake of its REST API).

The far ends hold the answers a real engine would return for the CUR 2.0 rows of
tests/data/billing/cur2.parquet (written out by hand below); what is checked is that the SQL sent
is the shared statement in the engine's dialect, and that answers come back as the same figures.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.athena.models import QueryResults, athena_backends

from aifinops_cli.core.config import Config
from aifinops_cli.scanners.billing.queries import DIMS, KEY, SETS, set_id
from aifinops_cli.scanners.billing.scanner import read_billing

ACCOUNT = "123456789012"
KEY_DEFAULTS = dict.fromkeys(KEY)


def stmt1_rows() -> list[dict[str, Any]]:
    """Statement 1's answer for cur2.parquet: totals, two egress keys + one GPU key, daily."""
    base = {
        **dict.fromkeys(DIMS),
        "n_eff_zero": 0,
        "n_bad_cost": 0,
        "n_bad_date": 0,
        "period_start": "2025-04-01",
        "transfer_class": None,
        "ai_component": None,
        "t_src": None,
        "t_dst": None,
        "gb": None,
        "storage_service": 0,
    }
    rows = [
        {
            **base,
            "set_id": set_id(SETS["totals"]),
            "currency": "USD",
            "n_rows": 3,
            "n_ok": 3,
            "cost": 128.0,
            "quantity": 390.0,
            "first_date": "2025-04-01",
            "last_date": "2025-04-30",
        }
    ]
    keys = [
        (
            "EUC1-USE1-AWS-Out-Bytes",
            "search",
            5.0,
            250.0,
            "inter_region",
            None,
            "eu-central-1",
            "us-east-1",
            "InterRegion Outbound",
            "GB",
            "2025-04-01",
        ),
        (
            "EUC1-BoxUsage:g5.2xlarge",
            "search",
            121.2,
            100.0,
            None,
            "compute",
            None,
            None,
            None,
            "Hrs",
            "2025-04-15",
        ),
        (
            "EUC1-NatGateway-Bytes",
            None,
            1.8,
            40.0,
            "nat",
            None,
            "eu-central-1",
            "NAT gateway",
            None,
            "GB",
            "2025-04-30",
        ),
    ]
    for ut, owner, cost, qty, cls, comp, src, dst, tt, unit, day in keys:
        rows.append(
            {
                **base,
                "set_id": set_id(SETS["keys"]),
                "currency": "USD",
                "service": "AmazonEC2",
                "usage_type": ut,
                "owner": owner,
                "region": "eu-central-1",
                "unit": unit,
                "transfer_type": tt,
                "to_region": "us-east-1" if cls == "inter_region" else None,
                "n_rows": 1,
                "n_ok": 1,
                "cost": cost,
                "quantity": qty,
                "transfer_class": cls,
                "ai_component": comp,
                "t_src": src,
                "t_dst": dst,
                "gb": qty if cls else None,
                "first_date": day,
                "last_date": day,
            }
        )
        rows.append(
            {
                **base,
                "set_id": set_id(SETS["daily"]),
                "currency": "USD",
                "service": "AmazonEC2",
                "usage_date": day,
                "owner": owner,
                "n_rows": 1,
                "n_ok": 1,
                "cost": cost,
                "first_date": day,
                "last_date": day,
            }
        )
    return rows


def stmt2_rows() -> list[dict[str, Any]]:
    """Statement 2's answer: the resources behind the two egress keys; i-a also runs the GPU."""
    return [
        {
            "currency": "USD",
            **KEY_DEFAULTS,
            "service": "AmazonEC2",
            "usage_type": "EUC1-USE1-AWS-Out-Bytes",
            "region": "eu-central-1",
            "unit": "GB",
            "transfer_type": "InterRegion Outbound",
            "to_region": "us-east-1",
            "owner": "search",
            "res_ai": 1,
            "resource_id": "i-a",
            "cost": 5.0,
            "quantity": 250.0,
        },
        {
            "currency": "USD",
            **KEY_DEFAULTS,
            "service": "AmazonEC2",
            "usage_type": "EUC1-NatGateway-Bytes",
            "region": "eu-central-1",
            "unit": "GB",
            "owner": "",
            "res_ai": 0,
            "resource_id": "nat-x",
            "cost": 1.8,
            "quantity": 40.0,
        },
    ]


def _athena_type(v: Any) -> str:
    return "bigint" if isinstance(v, int) else "double" if isinstance(v, float) else "varchar"


def athena_results(rows: list[dict[str, Any]]) -> QueryResults:
    cols = list(dict.fromkeys(c for r in rows for c in r))
    rows = [{c: r.get(c) for c in cols} for r in rows]
    types = {c: next((_athena_type(r[c]) for r in rows if r[c] is not None), "varchar") for c in cols}
    data = [{"Data": [{"VarCharValue": c} for c in cols]}]
    data += [{"Data": [{} if r[c] is None else {"VarCharValue": str(r[c])} for c in cols]} for r in rows]
    return QueryResults(rows=data, column_info=[{"Name": c, "Type": types[c]} for c in cols])


@pytest.fixture
def athena(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for key in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        glue = boto3.client("glue", region_name="us-east-1")
        glue.create_database(DatabaseInput={"Name": "cur"})
        cols = [
            ("bill_billing_period_start_date", "timestamp"),
            ("line_item_usage_start_date", "timestamp"),
            ("line_item_usage_account_id", "string"),
            ("line_item_product_code", "string"),
            ("line_item_usage_type", "string"),
            ("line_item_resource_id", "string"),
            ("line_item_usage_amount", "double"),
            ("line_item_unblended_cost", "double"),
            ("line_item_currency_code", "string"),
            ("product_region_code", "string"),
            ("product_from_region_code", "string"),
            ("product_to_region_code", "string"),
            ("pricing_unit", "string"),
            ("product", "map<string,string>"),
            ("resource_tags", "map<string,string>"),
        ]
        glue.create_table(
            DatabaseName="cur",
            TableInput={
                "Name": "cur2_daily",
                "StorageDescriptor": {"Columns": [{"Name": n, "Type": t} for n, t in cols]},
                "PartitionKeys": [{"Name": "billing_period", "Type": "string"}],
            },
        )
        yield athena_backends[ACCOUNT]["us-east-1"]


def test_athena_pushdown(athena: Any) -> None:
    athena.query_results_queue.extend([athena_results(stmt1_rows()), athena_results(stmt2_rows())])
    config = Config()
    config.sections["billing"] = {"athena": {"output_location": "s3://results/aifinops/", "poll_seconds": 0}}
    read = read_billing(["athena://cur.cur2_daily"], config)
    assert [c.status for c in read.coverage] == ["ok"], read.coverage
    (facts,) = read.facts
    assert facts.format_label == "AWS CUR 2.0" and facts.total_cost == pytest.approx(128.0)
    flows = {f.key: f for f in facts.flows}
    ir = flows["inter_region:eu-central-1->us-east-1"]
    assert (ir.gb, ir.cost, ir.ai_cost) == pytest.approx((250.0, 5.0, 5.0))
    assert facts.ai == pytest.approx({("search", "compute"): 121.2, ("search", "data_transfer"): 5.0})
    sent = [e.query for e in athena.executions.values()]
    assert len(sent) == 2
    assert 'FROM "cur"."cur2_daily"' in sent[0] and "GROUPING SETS" in sent[0]
    assert "element_at(\"resource_tags\", 'user_team')" in sent[0]  # Trino spelling, CUR 2.0 tags map
    assert "regexp_like(" in sent[0] and "regexp_matches(" not in sent[0]
    assert "'EUC1-USE1-AWS-Out-Bytes'" in sent[1]  # statement 2 reads only the egress keys again


def test_athena_missing_table_is_one_coverage_line(athena: Any) -> None:
    read = read_billing(["athena://cur.nope"], Config())
    (entry,) = read.coverage
    assert entry.status == "failed" and "EntityNotFound" in entry.message


# --- BigQuery --------------------------------------------------------------------------------

GCP_SCHEMA = {
    "fields": [
        {"name": "billing_account_id", "type": "STRING", "mode": "NULLABLE"},
        {
            "name": "service",
            "type": "RECORD",
            "mode": "NULLABLE",
            "fields": [{"name": "id", "type": "STRING"}, {"name": "description", "type": "STRING"}],
        },
        {
            "name": "sku",
            "type": "RECORD",
            "mode": "NULLABLE",
            "fields": [{"name": "id", "type": "STRING"}, {"name": "description", "type": "STRING"}],
        },
        {"name": "usage_start_time", "type": "TIMESTAMP", "mode": "NULLABLE"},
        {
            "name": "project",
            "type": "RECORD",
            "mode": "NULLABLE",
            "fields": [
                {"name": "id", "type": "STRING"},
                {
                    "name": "labels",
                    "type": "RECORD",
                    "mode": "REPEATED",
                    "fields": [{"name": "key", "type": "STRING"}, {"name": "value", "type": "STRING"}],
                },
            ],
        },
        {
            "name": "labels",
            "type": "RECORD",
            "mode": "REPEATED",
            "fields": [{"name": "key", "type": "STRING"}, {"name": "value", "type": "STRING"}],
        },
        {
            "name": "location",
            "type": "RECORD",
            "mode": "NULLABLE",
            "fields": [
                {"name": "location", "type": "STRING"},
                {"name": "region", "type": "STRING"},
                {"name": "zone", "type": "STRING"},
            ],
        },
        {"name": "cost", "type": "FLOAT", "mode": "NULLABLE"},
        {"name": "currency", "type": "STRING", "mode": "NULLABLE"},
        {
            "name": "usage",
            "type": "RECORD",
            "mode": "NULLABLE",
            "fields": [
                {"name": "amount", "type": "FLOAT"},
                {"name": "unit", "type": "STRING"},
                {"name": "amount_in_pricing_units", "type": "FLOAT"},
                {"name": "pricing_unit", "type": "STRING"},
            ],
        },
        {
            "name": "credits",
            "type": "RECORD",
            "mode": "REPEATED",
            "fields": [{"name": "name", "type": "STRING"}, {"name": "amount", "type": "FLOAT"}],
        },
    ]
}


def bq_stmt1_rows() -> list[dict[str, Any]]:
    """Statement 1's answer for one GCP inter-region line: 300 GiB, $24 less a $4 credit."""
    base = {
        **dict.fromkeys(DIMS),
        "n_eff_zero": 0,
        "n_bad_cost": 0,
        "n_bad_date": 0,
        "period_start": None,
        "transfer_class": None,
        "ai_component": None,
        "t_src": None,
        "t_dst": None,
        "gb": None,
        "storage_service": 0,
        "first_date": "2025-05-01",
        "last_date": "2025-05-31",
    }
    sku = "Network Inter Region Data Transfer Out from Americas to EMEA"
    return [
        {
            **base,
            "set_id": set_id(SETS["totals"]),
            "currency": "USD",
            "n_rows": 1,
            "n_ok": 1,
            "cost": 20.0,
            "quantity": 300.0,
        },
        {
            **base,
            "set_id": set_id(SETS["keys"]),
            "currency": "USD",
            "service": "Compute Engine",
            "usage_type": sku,
            "route_text": sku,
            "region": "us-central1",
            "unit": "gibibyte",
            "owner": "vision",
            "n_rows": 1,
            "n_ok": 1,
            "cost": 20.0,
            "quantity": 300.0,
            "transfer_class": "inter_region",
            "t_src": "us-central1",
            "t_dst": "EMEA",
            "gb": 300.0,
        },
    ]


class FakeBigQuery(BaseHTTPRequestHandler):
    """Just enough of the BigQuery v2 REST API: tables.get and jobs.query."""

    queries: list[str] = []  # noqa: RUF012 - shared with the test
    answers: list[list[dict[str, Any]]] = []  # noqa: RUF012

    def log_message(self, *args: Any) -> None:
        pass

    def _send(self, body: dict[str, Any]) -> None:
        raw = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def do_GET(self) -> None:
        if "/tables/" in self.path:
            self._send(
                {
                    "kind": "bigquery#table",
                    "tableReference": {
                        "projectId": "acme-billing",
                        "datasetId": "billing",
                        "tableId": "gcp_billing_export_v1_X",
                    },
                    "schema": GCP_SCHEMA,
                }
            )
        else:
            self.send_error(404)

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if not self.path.split("?")[0].endswith("/queries"):
            self.send_error(404)
            return
        FakeBigQuery.queries.append(body["query"])
        rows = FakeBigQuery.answers.pop(0) if FakeBigQuery.answers else []
        cols = list(dict.fromkeys(c for r in rows for c in r)) or ["x"]
        rows = [{c: r.get(c) for c in cols} for r in rows]

        def typ(c: str) -> str:
            sample = next((r[c] for r in rows if r[c] is not None), None)
            if isinstance(sample, int):
                return "INTEGER"
            return "FLOAT" if isinstance(sample, float) else "STRING"

        self._send(
            {
                "kind": "bigquery#queryResponse",
                "jobComplete": True,
                "jobReference": {
                    "projectId": "acme-billing",
                    "jobId": f"job{len(FakeBigQuery.queries)}",
                    "location": "US",
                },
                "schema": {"fields": [{"name": c, "type": typ(c), "mode": "NULLABLE"} for c in cols]},
                "totalRows": str(len(rows)),
                "rows": [{"f": [{"v": None if r[c] is None else str(r[c])} for c in cols]} for r in rows],
            }
        )


@pytest.fixture
def bigquery() -> Iterator[str]:
    pytest.importorskip("google.cloud.bigquery")
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeBigQuery)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    FakeBigQuery.queries.clear()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_bigquery_pushdown(bigquery: str) -> None:
    FakeBigQuery.answers[:] = [bq_stmt1_rows(), []]
    config = Config()
    config.sections["billing"] = {"bigquery": {"endpoint": bigquery}}
    read = read_billing(["bigquery://acme-billing.billing.gcp_billing_export_v1_X"], config)
    assert [c.status for c in read.coverage] == ["ok"], read.coverage
    (facts,) = read.facts
    assert facts.format_label == "Google Cloud billing export"
    (flow,) = facts.flows
    assert (flow.key, flow.gb, flow.cost) == ("inter_region:us-central1->EMEA", 300.0, 20.0)
    sql = FakeBigQuery.queries[0]
    assert "FROM `acme-billing.billing.gcp_billing_export_v1_X`" in sql and "GROUPING SETS" in sql
    assert "(SELECT SUM(c.amount) FROM UNNEST(`credits`) AS c)" in sql  # net of credits, pushed down
    assert "REGEXP_CONTAINS(" in sql and "TO_JSON_STRING(`labels`)" in sql
