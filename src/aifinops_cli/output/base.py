"""The formatter interface: what every output format, built-in or plugin, implements.

A format is one class registered under the entry-point group `aifinops.formats` (the registry is
`aifinops_cli.output.formatters`); it may import this module, `output.safe`, `core.money` and the
rest of `core`, never another format."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import IO, ClassVar

from rich.console import Console

from aifinops_cli.core.models import Report


class Formatter(ABC):
    name: ClassVar[str]
    extension: ClassVar[str]
    description: ClassVar[str]

    @abstractmethod
    def render(self, report: Report) -> str:
        """The whole document as text."""

    def write_to(self, report: Report, handle: IO[str]) -> None:
        """Write the document to an open file; formats too large to hold as one string stream."""
        handle.write(self.render(report))

    def print_to(self, report: Report, console: Console) -> None:
        """Write to a terminal; formats with colour override this."""
        self.write_to(report, console.file)
