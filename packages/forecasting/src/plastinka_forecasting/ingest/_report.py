"""Presenting a validation report: a plain-text table for people, the API's ``DatasetReport`` for machines."""

from __future__ import annotations

import re
from collections import Counter

from plastinka_forecasting.frames import SalesData, ValidationReport
from plastinka_forecasting.panel import partial_last_period
from plastinka_schemas import DatasetReport, Frequency, ValidationIssue


def format_report(report: ValidationReport, *, limit: int = 50) -> str:
    """A summary line, then up to ``limit`` issues as an aligned table and a count of the rest."""
    actions = Counter(issue.action for issue in report.issues)
    lines = [
        f"rows read: {report.rows_read}, used: {report.rows_used}, dropped: {report.dropped}, "
        f"repaired: {actions['repaired']}, warnings: {actions['warning']}"
    ]
    lines += [f"warning: {warning}" for warning in report.warnings]
    if not report.issues:
        lines.append("no issues")
        return "\n".join(lines)
    shown = report.issues[: max(limit, 0)]
    table = [("file", "row", "column", "action", "reason")]
    table += [(i.file, "" if i.row is None else str(i.row), i.column or "", i.action, i.reason) for i in shown]
    widths = [max(len(row[col]) for row in table) for col in range(4)]
    for row in table:
        lines.append("  ".join(cell.ljust(width) for cell, width in zip(row[:4], widths, strict=True)) + "  " + row[4])
    if len(report.issues) > len(shown):
        lines.append(f"... and {len(report.issues) - len(shown)} more issues")
    return "\n".join(lines)


_QUOTED = re.compile(r"'[^']*'")
_NUMBERS = re.compile(r"\d+(?:[.,:-]\d+)*")
MAX_KINDS = 100


def issue_kind(issue: ValidationIssue) -> str:
    """``"dropped: unparseable date '…'"``: the reason with its quoted values and numbers elided."""
    return f"{issue.action}: " + _NUMBERS.sub("#", _QUOTED.sub("'…'", issue.reason))


def dataset_report(data: SalesData, *, max_issues: int | None = None) -> DatasetReport:
    """The report of a loaded dataset, for the API and ``validate --json`` alike: counts are always exact;
    ``issues`` lists the first ``max_issues`` of them and ``truncated`` says when it lists fewer than all."""
    report = data.report
    dates = data.sales.get_column("date")
    issues = report.issues if max_issues is None else report.issues[: max(max_issues, 0)]
    counts = Counter(issue.action for issue in report.issues)
    partial = {f.value: p.period for f in Frequency if (p := partial_last_period(data.sales, f)) is not None}
    return DatasetReport(
        rows=report.sales_rows,
        items=data.attributes.height,
        period_start=dates.min() if dates.len() else None,
        period_end=dates.max() if dates.len() else None,
        stocked_items=None if data.stock is None else data.stock.height,
        partial_last_period=partial,
        rows_read=report.rows_read,
        sales_rows_read=report.sales_rows_read,
        sales_rows=report.sales_rows,
        stock_rows_read=report.stock_rows_read,
        stock_rows=report.stock_rows,
        dropped=counts["dropped"],
        repaired=counts["repaired"],
        copies_sold=report.copies_sold,
        copies_returned=report.copies_returned,
        date_formats=report.date_formats,
        warnings=report.warnings,
        issues_total=len(report.issues),
        issue_counts={action: counts[action] for action in ("dropped", "repaired", "warning")},
        issue_kinds=dict(Counter(issue_kind(issue) for issue in report.issues).most_common(MAX_KINDS)),
        truncated=len(issues) < len(report.issues),
        issues=issues,
    )
