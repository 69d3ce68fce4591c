"""The scanner plugin interface.

A scanner is a class registered under the entry-point group `aifinops.scanners`. It declares
which inputs make it run (`applies`), then `scan()` returns observations plus coverage. A
scanner never raises for a region, file or account it cannot read: it records that in coverage
and goes on. Expected problems that stop the whole scanner are raised as `ScannerError`, which
the runner turns into one coverage line.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from aifinops_cli.core.models import ScanResult

if TYPE_CHECKING:
    from aifinops_cli.core.config import Config
    from aifinops_cli.pricing.catalog import PriceCatalog


class ScannerError(Exception):
    """An expected failure that stops one scanner (no credentials, unreadable input)."""


@dataclass
class ScanOptions:
    """What the user asked for on the command line, shared by all scanners."""

    providers: list[str] = field(default_factory=list)
    aws_profile: str | None = None
    aws_regions: list[str] = field(default_factory=list)
    gcp_projects: list[str] = field(default_factory=list)
    kube_contexts: list[str] = field(default_factory=list)
    prometheus_url: str | None = None
    llm_logs: list[str] = field(default_factory=list)
    llm_log_format: str | None = None
    billing: list[str] = field(default_factory=list)
    billing_format: str | None = None
    show_prompts: bool = False
    strict: bool = False
    lookback_days: int = 14
    max_workers: int = 8
    extra: dict[str, Any] = field(default_factory=dict)

    def in_play(self) -> set[str]:
        """The providers this scan is about: the cloud ones asked for, plus `llm` and `billing`
        when their inputs are given."""
        return set(self.providers) | {p for p, given in (("llm", self.llm_logs),
                                                          ("billing", self.billing)) if given}


@dataclass
class ScanContext:
    options: ScanOptions
    config: Config
    prices: PriceCatalog
    now: datetime
    progress: Callable[[str], None] = lambda message: None
    _cache: dict[Any, Any] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def memo(self, key: Any, compute: Callable[[], Any]) -> Any:
        """Compute a value once per scan, so scanners sharing an API call make it once."""
        with self._lock:
            slot = self._cache.setdefault(key, _Slot())
        with slot.lock:
            if not slot.done:
                slot.value = compute()
                slot.done = True
        return slot.value


class _Slot:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.done = False
        self.value: Any = None


class Scanner(ABC):
    name: ClassVar[str]
    provider: ClassVar[str]
    description: ClassVar[str]
    kinds: ClassVar[tuple[str, ...]] = ()

    def __init__(self, context: ScanContext) -> None:
        self.context = context

    @classmethod
    def applies(cls, options: ScanOptions) -> bool:
        """Whether this scanner runs for these options when none are named explicitly: by
        default, when its provider is in play. A plugin may decide otherwise."""
        return cls.provider in options.in_play()

    @classmethod
    def check_config(cls, config: Config, options: ScanOptions) -> None:
        """Check this scanner's config section before any scan work; raise ScannerError for a
        bad setting (the CLI exits 2 with it, instead of finding out after a long scan)."""
        return None

    @abstractmethod
    def scan(self) -> ScanResult: ...
