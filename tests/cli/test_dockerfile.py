"""The Dockerfile: built and run when a Docker daemon answers (README "In CI", Container), else
skipped, with the manual check the README documents. The static checks run everywhere."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.paths import ROOT

DOCKERFILE = (ROOT / "Dockerfile").read_text()


def _daemon() -> bool:
    if shutil.which("docker") is None:
        return False
    probe = subprocess.run(["docker", "info"], capture_output=True, text=True, check=False, timeout=30)
    return probe.returncode == 0


def test_image_is_slim_non_root_and_built_from_the_checkout():
    stages = [line for line in DOCKERFILE.splitlines() if line.startswith("FROM ")]
    assert stages == ["FROM python:${PYTHON_VERSION}-slim AS build", "FROM python:${PYTHON_VERSION}-slim"]
    final = DOCKERFILE[DOCKERFILE.rindex("\nFROM ") :]
    assert "USER 10001:10001" in final and 'ENTRYPOINT ["aifinops"]' in final
    assert "COPY --from=build /opt/aifinops /opt/aifinops" in final  # no sources, no pip cache
    # the build context is an allow-list: what the wheel is built from, nothing else
    ignore = [
        line
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    assert ignore[0] == "*"
    assert {line for line in ignore if line.startswith("!")} == {
        "!pyproject.toml",
        "!README.md",
        "!rules/",
        "!src/",
    }


@pytest.mark.skipif(not _daemon(), reason="no Docker daemon: README 'Container' has the manual check")
def test_image_builds_and_scans_the_demo_as_a_non_root_user():
    tag = "aifinops:test-demo"
    build = subprocess.run(
        ["docker", "build", "--build-arg", "EXTRAS=demo", "-t", tag, str(ROOT)],
        capture_output=True, text=True, check=False, timeout=1800,
    )  # fmt: skip
    assert build.returncode == 0, build.stderr[-3000:]
    who = subprocess.run(
        ["docker", "run", "--rm", "--entrypoint", "id", tag], capture_output=True, text=True, check=True
    )
    assert who.stdout.startswith("uid=10001(aifinops) gid=10001(aifinops)")
    demo = subprocess.run(
        ["docker", "run", "--rm", tag, "scan", "--demo", "-f", "markdown"],
        capture_output=True, text=True, check=False, timeout=600,
    )  # fmt: skip
    assert demo.returncode == 0, demo.stderr
    assert demo.stdout.startswith("# AI fragmentation-tax report")
