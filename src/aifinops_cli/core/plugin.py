"""The plugin interface: what a scanner is given (ScanContext, ScanOptions, Limits) and returns.

A scanner is a class registered under the entry-point group `aifinops.scanners`. It declares
which inputs make it run (`applies`), then `scan()` returns observations plus coverage. A
scanner never raises for a region, file or account it cannot read: it records that in coverage
and goes on. Expected problems that stop the whole scanner are raised as `ScannerError`, which
the pipeline turns into one coverage line. Fan-outs over scopes go through core/fanout.py.
"""

from __future__ import annotations

import importlib
import importlib.util
import math
import sys
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from aifinops_cli.core.models import ScanResult
from aifinops_cli.errors import AifinopsError

if TYPE_CHECKING:
    from aifinops_cli.core.config import Config
    from aifinops_cli.pricing.catalog import PriceCatalog


class ScannerError(AifinopsError):
    """An expected failure that stops one scanner (no credentials, unreadable input)."""


# Network limits: one place for these facts (README "Timeouts and partial scans").
DEFAULT_SCAN_TIMEOUT = 900.0  # seconds: a cron run ends within 15 minutes, whatever hangs
DEFAULT_CONNECT_TIMEOUT = 10.0
DEFAULT_READ_TIMEOUT = 60.0
DEFAULT_MAX_ATTEMPTS = 4  # per API call: the first try and three retries


@dataclass(frozen=True)
class Limits:
    """How long any one call, and the whole scan, may take.

    `scan_timeout` None means no deadline. Clients get `connect_timeout`/`read_timeout` per HTTP
    request and at most `max_attempts` tries per call; past the deadline no new request starts."""

    scan_timeout: float | None = DEFAULT_SCAN_TIMEOUT
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    read_timeout: float = DEFAULT_READ_TIMEOUT
    max_attempts: int = DEFAULT_MAX_ATTEMPTS

    @property
    def http_timeout(self) -> tuple[float, float]:
        """(connect, read) as requests, urllib3 and the kubernetes client's `_request_timeout`
        take it."""
        return (self.connect_timeout, self.read_timeout)

    @classmethod
    def from_settings(cls, section: Any, timeout: float | None = None) -> Limits:
        """The config's `scan:` section (timeout, connect_timeout, read_timeout, max_attempts),
        with `--timeout` over `scan.timeout`. A bad value raises ValueError with a one-line
        message; a timeout of 0 means no deadline."""
        if section is None:
            section = {}
        if not isinstance(section, dict):
            raise ValueError(
                "config `scan:` must be a mapping (timeout, connect_timeout, read_timeout, max_attempts)"
            )
        unknown = sorted(str(k) for k in section if k not in _LIMIT_KEYS)
        if unknown:
            raise ValueError(f"config scan.{unknown[0]}: unknown setting (known: {', '.join(_LIMIT_KEYS)})")

        def seconds(key: str, value: Any, zero_ok: bool) -> float:
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not math.isfinite(value)
                or value < 0
                or (value == 0 and not zero_ok)
                or value > 7 * 86400
            ):
                raise ValueError(
                    f"{key} must be a number of seconds "
                    f"{'>= 0' if zero_ok else '> 0'} and at most a week, got {value!r}"
                )
            return float(value)

        raw_timeout = timeout if timeout is not None else section.get("timeout", DEFAULT_SCAN_TIMEOUT)
        where = "--timeout" if timeout is not None else "config scan.timeout"
        scan_timeout = seconds(where, raw_timeout, zero_ok=True) or None
        attempts = section.get("max_attempts", DEFAULT_MAX_ATTEMPTS)
        if isinstance(attempts, bool) or not isinstance(attempts, int) or not 1 <= attempts <= 20:
            raise ValueError(
                f"config scan.max_attempts must be a whole number from 1 to 20, got {attempts!r}"
            )
        return cls(
            scan_timeout=scan_timeout,
            connect_timeout=seconds(
                "config scan.connect_timeout", section.get("connect_timeout", DEFAULT_CONNECT_TIMEOUT), False
            ),
            read_timeout=seconds(
                "config scan.read_timeout", section.get("read_timeout", DEFAULT_READ_TIMEOUT), False
            ),
            max_attempts=attempts,
        )


_LIMIT_KEYS = ("timeout", "connect_timeout", "read_timeout", "max_attempts")


@dataclass(frozen=True)
class ProviderOption:
    """One `scan` flag a provider contributes; it shows in the provider's own help panel.

    `kind` is "text" (one value), "list" (repeatable; `split` also takes comma-separated values)
    or "flag" (on/off). The value reaches `Provider.settings` under `key`."""

    key: str
    flags: tuple[str, ...]
    help: str
    kind: str = "text"
    split: bool = False
    envvar: str | None = None


class Provider:
    """A provider plugin, registered under the entry-point group `aifinops.providers`.

    It owns its `scan` flags (`options`, shown in the help panel `title`), its config section
    (`section`, default its name; `config_keys` are the keys that section accepts, checked
    with file:line when the config is read; None: any key, `check_section` decides), the value
    checks of that section (`check_section`, run by the pipeline's prepare for every section
    present, whether or not the provider runs), its typed settings (`settings()`, from its flags
    and its section, read by scanners as `ctx.settings(name)`), and whether its inputs put it in
    play without `-p`.
    Its scanners are the `aifinops.scanners` entry points named `<name>` or `<name>.<what>`.
    The built-in providers are registered exactly this way, in our own pyproject.
    """

    name: ClassVar[str]
    title: ClassVar[str] = ""  # the help panel of its flags (default: the name, upper case)
    description: ClassVar[str] = ""
    section: ClassVar[str | None] = None
    config_keys: ClassVar[tuple[str, ...] | None] = None
    options: ClassVar[tuple[ProviderOption, ...]] = ()
    # files shipped beside the provider's module: its rules (for the kinds its scanners observe)
    # and its price catalog; the built-ins' live in the bundled rules/ and pricing/data/
    rules_files: ClassVar[tuple[str, ...]] = ()
    catalog_files: ClassVar[tuple[str, ...]] = ()
    # the optional client libraries its scanners import (module names) and the extra that
    # installs them (`pip install 'aifinops[<extra>]'`): `scanners list` says whether they are
    # installed; a scanner that finds one missing is one "skipped" coverage line naming the extra
    client_modules: ClassVar[tuple[str, ...]] = ()
    extra: ClassVar[str | None] = None

    @classmethod
    def missing_clients(cls) -> list[str]:
        """Its client modules that are not installed (found, not imported)."""
        missing = []
        for module in cls.client_modules:
            try:
                found = importlib.util.find_spec(module) is not None
            except (ImportError, ValueError):  # a parent package missing
                found = False
            if not found:
                missing.append(module)
        return missing

    @classmethod
    def rule_paths(cls) -> list[Path]:
        return [cls._beside(name) for name in cls.rules_files]

    @classmethod
    def catalog_paths(cls) -> list[Path]:
        return [cls._beside(name) for name in cls.catalog_files]

    @classmethod
    def _beside(cls, name: str) -> Path:
        module = sys.modules[cls.__module__]
        return Path(module.__file__ or ".").parent / name

    @classmethod
    def section_name(cls) -> str:
        return cls.section or cls.name

    @classmethod
    def panel(cls) -> str:
        return cls.title or cls.name.upper()

    @classmethod
    def settings(cls, values: dict[str, Any], section: dict[str, Any]) -> Any:
        """Typed settings from this provider's flags (`values`, by option key; None or empty when
        not given) and its config section. By default: the section, with the flags given over it."""
        given = {k: v for k, v in values.items() if v not in (None, [], ())}
        return {**section, **given}

    @classmethod
    def in_play(cls, settings: Any) -> bool:
        """Whether its inputs were given (a project, a log file), so it is scanned without `-p`."""
        return False

    # --- its scopes and what their failures mean (used by its scanners' fan-out) -------------
    scope_kind: ClassVar[str] = "scope"  # what one scope is: region, project, context, file
    # the module that knows its scopes and failures, imported only when a scan fans out (so a
    # provider module imports no cloud client); it defines scopes(ctx), expected_errors(),
    # explain_failure(exc, scope) and, optionally, is_fatal(exc). "" for a provider that does not fan out
    # or overrides the methods below itself.
    failures: ClassVar[str] = ""

    @classmethod
    def _failures(cls) -> Any:
        return importlib.import_module(cls.failures) if cls.failures else None

    @classmethod
    def scope_label(cls, name: str) -> str:
        """A scope's name as its coverage line shows it ("project ml-prod"); by default the name."""
        return name

    @classmethod
    def scopes(cls, ctx: ScanContext) -> Sequence[Any]:
        """The scopes a scan of this provider covers (its settings, else what its credentials
        see); none by default: a provider that fans out says which."""
        module = cls._failures()
        return list(module.scopes(ctx)) if module else []

    @classmethod
    def expected_errors(cls) -> tuple[type[BaseException], ...]:
        """What its cloud or the network can do to a call (refuse, not answer, answer garbage):
        explained per scope. Anything else a scope raises is a bug (exit 4)."""
        module = cls._failures()
        return tuple(module.expected_errors()) if module else ()

    @classmethod
    def explain(cls, exc: BaseException, scope: str = "") -> str:
        """One line: what an expected error means and what to do (the one place for this
        provider's credential and permission advice). `scope` "" for the whole provider."""
        module = cls._failures()
        if module:
            return str(module.explain_failure(exc, scope))
        return f"{scope + ': ' if scope else ''}{type(exc).__name__}: {exc}"

    @classmethod
    def is_fatal(cls, exc: BaseException) -> bool:
        """Whether an expected error would repeat in every scope (bad credentials): when every
        scope failed and one of them so, the scanner stops with one line."""
        module = cls._failures()
        return bool(module.is_fatal(exc)) if module and hasattr(module, "is_fatal") else False

    @classmethod
    def scan_scopes(
        cls,
        ctx: ScanContext,
        scanner: str,
        work: Callable[[Any], Any],
        scopes: Sequence[Any] | None = None,
        name: Callable[[Any], str] = str,
    ) -> Any:
        """Run `work` per scope (default: `scopes(ctx)`) through core/fanout.py scan_scopes, with
        this provider's labels, expected errors, explanation and fatal errors (a ScopeOutcome)."""
        from aifinops_cli.core.fanout import scan_scopes

        return scan_scopes(
            ctx,
            scanner,
            cls.scopes(ctx) if scopes is None else scopes,
            work,
            expected=cls.expected_errors(),
            explain=cls.explain,
            name=name,
            label=cls.scope_label,
            fatal=cls.is_fatal,
        )

    @classmethod
    def check_section(cls, section: dict[str, Any], settings: Any) -> None:
        """Check its config section's values (and its flags, in `settings`) before any scan work:
        raise ScannerError (or ValueError) whose message starts `config <section>.<key>:`, so the
        pipeline can point at the key's file:line. By default: its declared keys only."""
        check_keys(cls.section_name(), section, cls.config_keys)


def check_keys(section_name: str, section: Any, keys: tuple[str, ...] | None) -> None:
    """A provider section is a mapping of its declared keys (`keys` None: any key)."""
    if not isinstance(section, dict):
        raise ScannerError(f"config {section_name}: expected a mapping")
    if keys is None:
        return
    for key in section:
        if key not in keys:
            raise ScannerError(f"config {section_name}.{key}: unknown setting (known: {', '.join(keys)})")


def split_list(value: Any) -> list[str]:
    """A config list given as a list or as one comma-separated string."""
    if value is not None and not isinstance(value, str | list | tuple):
        raise ValueError(f"expected a list or comma-separated text, got {value!r}")
    items = value.split(",") if isinstance(value, str) else list(value or [])
    return [str(v).strip() for v in items if str(v).strip()]


@dataclass
class ScanOptions:
    """What the user asked for, shared by all scanners; each provider's own flags and config are
    its typed settings (`settings`, by provider name; read as `ctx.settings(name)`)."""

    providers: list[str] = field(default_factory=list)  # asked for by name (-p)
    strict: bool = False
    lookback_days: int = 14
    max_workers: int = 8
    limits: Limits = field(default_factory=Limits)
    settings: dict[str, Any] = field(default_factory=dict)  # provider name -> its typed settings

    def settings_for(self, provider: str) -> Any:
        """A provider's settings; its defaults (no flags, no config) when none were given."""
        if provider not in self.settings:
            from aifinops_cli.core.registry import load_providers

            self.settings[provider] = load_providers()[provider].settings({}, {})
        return self.settings[provider]

    def in_play(self) -> set[str]:
        """The providers this scan is about: those asked for, plus those whose inputs are given
        (a GCP project, a kube context, LLM logs, a billing export)."""
        from aifinops_cli.core.registry import load_providers

        known = load_providers()
        return set(self.providers) | {
            name for name, value in self.settings.items() if name in known and known[name].in_play(value)
        }


@dataclass
class ScanContext:
    options: ScanOptions
    config: Config
    prices: PriceCatalog
    now: datetime
    progress: Callable[[str], None] = lambda message: None
    started: float = field(default_factory=time.monotonic)
    internal_errors: list[BaseException] = field(default_factory=list)  # bugs caught in a scope
    _cache: dict[Any, Any] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def settings(self, provider: str) -> Any:
        """The typed settings of a provider (Provider.settings), its defaults if none were given."""
        return self.options.settings_for(provider)

    @property
    def deadline(self) -> float | None:
        """The scan deadline on the `time.monotonic()` clock (None: no deadline)."""
        timeout = self.options.limits.scan_timeout
        return None if timeout is None else self.started + timeout

    def expired(self) -> bool:
        deadline = self.deadline
        return deadline is not None and time.monotonic() >= deadline

    def memo(self, key: Any, compute: Callable[[], Any]) -> Any:
        """Compute a value once per scan, so scanners sharing an API call make it once. A failure
        is remembered too: a region that timed out for one scanner is not waited on again."""
        with self._lock:
            slot = self._cache.setdefault(key, _Slot())
        with slot.lock:
            if not slot.done:
                try:
                    slot.value = compute()
                except Exception as exc:
                    slot.error = exc
                slot.done = True
        if slot.error is not None:
            raise slot.error
        return slot.value


class _Slot:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.done = False
        self.value: Any = None
        self.error: Exception | None = None


class Scanner(ABC):
    name: ClassVar[str]
    provider: ClassVar[str]
    description: ClassVar[str]
    kinds: ClassVar[tuple[str, ...]] = ()
    # kind -> the metric and attribute names its observations carry; rules naming others are
    # refused before a scan (core/rules.py check_vocabulary). Empty: this plugin declares none.
    fields: ClassVar[dict[str, tuple[str, ...]]] = {}

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
