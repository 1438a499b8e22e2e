"""Show the lag view on a terminal: one rich table, statuses in colour."""

from __future__ import annotations

from rich import box
from rich.table import Table
from rich.text import Text

from carehub.ops.lag import LagView
from carehub.ops.rules import Status

STATUS_STYLE = {
    Status.OK: "bold green",
    Status.WARN: "bold yellow",
    Status.STALL: "bold dark_orange",
    Status.STOP: "bold red",
    Status.REWIND: "bold magenta",
}


def age(seconds: float | None) -> str:
    """A lag in seconds as a person reads it: 0 s, 42 s, 3 min 5 s, 2 h 10 min."""
    if seconds is None:
        return "unknown"
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min {whole % 60} s"
    return f"{whole // 3600} h {whole % 3600 // 60} min"


def lag_table(view: LagView) -> Table:
    """Per group a summary row, then a row per partition with the rule that decided its status."""
    table = Table(
        title=f"consumer lag at {view.at:%Y-%m-%d %H:%M:%S} UTC", title_justify="left", box=box.SIMPLE_HEAD,
        caption="oldest: age of the oldest unconsumed record" if view.groups
        else "no consumer group has committed an offset yet",
    )
    table.add_column(Text("group / topic[partition]"), overflow="fold")
    for name in ("status", "committed", "end", "lag", "oldest"):
        table.add_column(name, justify="left" if name == "status" else "right", no_wrap=True)
    table.add_column("rule", no_wrap=True)
    for group in view.groups:
        table.add_row(
            Text(group.group, style="bold"), Text(group.status, style=STATUS_STYLE[group.status]),
            "", "", f"{group.lag:,}", age(group.lag_seconds), "", end_section=False,
        )
        for number, p in enumerate(group.partitions, 1):
            table.add_row(
                Text(f"  {p.topic}[{p.partition}]"), Text(p.status, style=STATUS_STYLE[p.status]),
                f"{p.committed:,}", f"{p.end:,}", f"{p.lag:,}", age(p.lag_seconds), p.rule,
                end_section=number == len(group.partitions),
            )
    return table
