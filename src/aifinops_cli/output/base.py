"""The formatter interface and its registry: one module per format, chosen by name."""

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


def formatters() -> dict[str, type[Formatter]]:
    from aifinops_cli.output.csv_format import CsvFormatter
    from aifinops_cli.output.html import HtmlFormatter
    from aifinops_cli.output.json_format import JsonFormatter
    from aifinops_cli.output.markdown import MarkdownFormatter
    from aifinops_cli.output.table import TableFormatter

    return {cls.name: cls for cls in (TableFormatter, JsonFormatter, MarkdownFormatter, CsvFormatter,
                                          HtmlFormatter)}
