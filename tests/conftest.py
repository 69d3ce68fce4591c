"""Shared fixtures: a moto server behind a recording proxy, clean AWS env, a CLI runner."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from typer.testing import CliRunner

from aifinops_cli.cli.app import app
from tests.fakes.aws_proxy import AwsFarEnd


@pytest.fixture(autouse=True)
def _wide_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.delenv("AIFINOPS_CONFIG", raising=False)


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    """Fake credentials and nothing from the developer's own AWS setup."""
    for key in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    # moto's server mishandles gzip-compressed PutMetricData bodies (used only for seeding)
    monkeypatch.setenv("AWS_DISABLE_REQUEST_COMPRESSION", "true")


@pytest.fixture(scope="session")
def _far_end() -> Iterator[AwsFarEnd]:
    with AwsFarEnd() as far_end:
        yield far_end


@pytest.fixture
def far_end(_far_end: AwsFarEnd, aws_env: None, monkeypatch: pytest.MonkeyPatch) -> AwsFarEnd:
    """A reset moto server; botocore reaches it through AWS_ENDPOINT_URL via the proxy."""
    requests.post(f"{_far_end.moto_url}/moto-api/reset", timeout=10)
    _far_end.recorder.calls.clear()
    _far_end.recorder.faults.clear()
    _far_end.recorder.release.clear()  # a hang fault holds again (an earlier test may have let go)
    monkeypatch.setenv("AWS_ENDPOINT_URL", _far_end.url)
    return _far_end


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def run_cli(runner: CliRunner, *args: str) -> Any:
    return runner.invoke(app, list(args), catch_exceptions=False)


def run_json(runner: CliRunner, *args: str) -> dict[str, Any]:
    result = run_cli(runner, *args, "--format", "json")
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)
