"""How the commands present themselves: help panels, value placeholders, global flags anywhere.

The root group (`RootGroup`) does two things once typer has built every command under it:
it gives each option a plain placeholder (`PATH`, `TEXT`, none for a flag) instead of typer's
`<bool>` / `<list[str]>`, and it accepts the root's own flags (`-q`, `--config`, `--no-color`,
`--debug`) after the command too, as `aifinops scan -q`, the way the cloud CLIs take them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, get_args

from aifinops_cli.cli.common import ErrorMappingGroup
from aifinops_cli.core.registry import FORMAT_GROUP, PluginLoadError, group_entry_points

if TYPE_CHECKING:
    from typer._click import Command
    from typer._click import Context as ClickContext

# `scan --help` in panels (the providers' own options keep their panels: core/plugin.py); an
# option not named here is listed under "Options"
SCAN_PANELS: dict[str, tuple[str, ...]] = {
    "What to scan": ("demo", "provider", "scanner", "lookback_days", "strict", "workers", "timeout"),
    "Rules and findings": (
        "rules",
        "set_",
        "suppressions",
        "baseline",
        "fail_on",
        "fail_on_cost",
        "min_severity",
        "owner",
    ),
    "Output": ("output_format", "output", "output_dir", "timestamped", "split_by"),
    "Unit economics": ("revenue",),
    "Alerts": ("notify_urls", "notify_min_severity", "notify_min_usd"),
    "Unattended runs": ("record", "state_dir", "lock", "log_file"),
}
# what a value placeholder reads as, by the option's value type (no placeholder for a flag)
PLACEHOLDERS: dict[type, str] = {str: "TEXT", Path: "PATH", int: "INTEGER", float: "NUMBER"}


def format_names() -> list[str]:
    """Every registered output format, from the entry points alone (nothing imported); none
    when the metadata is stale (`scan` then says to reinstall)."""
    try:
        return sorted({ep.name for ep in group_entry_points(FORMAT_GROUP)})
    except PluginLoadError:
        return []


def format_help() -> str:
    return f"Report formats: {', '.join(format_names())} (repeatable or comma-separated; default table)."


def place_scan_options(params: list[Any]) -> None:
    """Put `scan`'s own options in SCAN_PANELS and name every registered format in `--format`'s
    help. `params` are inspect.Parameters annotated `Annotated[type, typer.Option(...)]`."""
    panel_of = {name: panel for panel, names in SCAN_PANELS.items() for name in names}
    for param in params:
        info = next((a for a in get_args(param.annotation)[1:] if hasattr(a, "rich_help_panel")), None)
        if info is None:
            continue
        if param.name in panel_of and info.rich_help_panel is None:
            info.rich_help_panel = panel_of[param.name]
        if param.name == "output_format":
            info.help = format_help()


def _commands(command: Command) -> Iterator[Command]:
    yield command
    for sub in getattr(command, "commands", {}).values():
        yield from _commands(sub)


def _placeholder(param: Any) -> str | None:
    """The placeholder for an option without an explicit metavar; None: keep typer's (choices)."""
    if getattr(param, "is_flag", False) or getattr(param, "count", False):
        return ""
    desc = getattr(param, "type_descriptor", None)
    if desc is None or desc.is_choice or desc.is_tuple or desc.is_datetime:
        return None
    if desc.is_path:
        return "PATH"
    annotation = desc.annotation
    if desc.is_list:
        annotation = (get_args(annotation) or (str,))[0]
    return PLACEHOLDERS.get(annotation, "VALUE")


def tidy_placeholders(root: Command) -> None:
    from typer._click import Context

    names = (root.context_settings or {}).get("help_option_names", ["--help"])
    for command in _commands(root):
        # built now, as click would on the first --help (it keeps the one it made)
        help_option = command.get_help_option(Context(command, help_option_names=names))
        if help_option is not None:
            help_option.metavar = ""
        for param in command.params:
            kind = getattr(param, "param_type_name", "")
            if kind == "argument" and not getattr(param, "_placeholder", False):
                placeholder = _placeholder(param)
                if placeholder is not None:  # an argument's type column ignores its metavar
                    param.display_type_rich = lambda ctx, p=placeholder: p  # type: ignore[attr-defined]
                param._placeholder = True  # type: ignore[attr-defined]
            if kind != "option" or param.metavar is not None:
                continue
            placeholder = _placeholder(param)
            if placeholder is not None:
                param.metavar = placeholder


def hoist_globals(params: list[Any], args: list[str]) -> list[str]:
    """`args` with the root's flags found after the command moved in front of it, so
    `aifinops scan -q --config c.yaml` means `aifinops -q --config c.yaml scan`. Help and eager
    flags (`--version`) stay where they are; nothing after `--` moves."""
    takes_value: dict[str, bool] = {}
    for p in params:
        if getattr(p, "is_eager", False) or p.name == "help":
            continue
        for opt in [*p.opts, *p.secondary_opts]:
            takes_value[opt] = not p.is_flag
    front: list[str] = []
    i = 0
    while i < len(args) and args[i].startswith("-") and args[i] != "--":  # the root's own, in place
        front.append(args[i])
        opt = args[i].split("=", 1)[0]
        if takes_value.get(opt) and "=" not in args[i] and i + 1 < len(args):
            i += 1
            front.append(args[i])
        i += 1
    rest, moved = [], []
    while i < len(args):
        arg = args[i]
        if arg == "--":
            rest += args[i:]
            break
        opt = arg.split("=", 1)[0]
        if opt in takes_value:
            moved.append(arg)
            if takes_value[opt] and "=" not in arg and i + 1 < len(args):
                i += 1
                moved.append(args[i])
        else:
            rest.append(arg)
        i += 1
    return [*front, *moved, *rest]


class RootGroup(ErrorMappingGroup):
    """The `aifinops` group: plain placeholders on every command, root flags after a command."""

    def parse_args(self, ctx: ClickContext, args: list[str]) -> list[str]:
        # here rather than in __init__: typer adds the completion options after building the group
        tidy_placeholders(self)
        return super().parse_args(ctx, hoist_globals(self.params, args))
