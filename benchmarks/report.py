"""The suite's results as a markdown table with every goal of issue 8, and the scaling chart."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

PER_SKU_READS = ("get_sku", "history_50", "fefo_lots", "stock_sku")


def _ms(value: float) -> str:
    return f"{value:.3f}" if value < 10 else f"{value:,.0f}"


def _iqr(stats: dict[str, float]) -> str:
    return f"{_ms(stats['median'])} ({_ms(stats['q1'])}-{_ms(stats['q3'])})"


def _row(name: str, m: dict[str, Any]) -> str:
    raw = _iqr(m["raw_ms"]) if "raw_ms" in m else "-"
    ratio = m.get("ratio")
    shown = f"{ratio['median']}x ({ratio['q1']}-{ratio['q3']})" if ratio else "-"
    return f"| {name} | {_iqr(m['library_ms'])} | {raw} | {shown} |"


def goals(r: dict[str, Any]) -> list[tuple[str, bool | None, str]]:
    """(goal, met?, measured) for every goal of issue 8; None when not measured."""
    out: list[tuple[str, bool | None, str]] = []
    for name in PER_SKU_READS:
        m = r["per_sku"][name]
        lib, ratio = m["library_ms"]["median"], m["ratio"]["median"]
        ok = lib < 1.0 and ratio <= 5.0
        out.append((f"{name}: <= 5x raw and < 1 ms", ok, f"{_ms(lib)} ms, {ratio}x"))
    for row in r["stock_all_curve"]:
        label = f"stock_all {row['skus']:,} SKUs x {row['events']:,} events: <= 1.25x fastest raw"
        ratio = row["ratio_vs_fastest"]
        out.append((label, ratio <= 1.25, f"{ratio}x ({row['fastest_raw']})"))
    first = r["stock_all_curve"][0]["skus"]
    by_events = {row["events"]: row for row in r["stock_all_curve"] if row["skus"] == first}
    ordered = sorted(by_events)
    for small, large in itertools.pairwise(ordered):
        a, b = by_events[small], by_events[large]
        factor = b["library_ms"]["median"] / a["library_ms"]["median"]
        events = b["events"] / a["events"]
        ok = factor <= events * 1.1
        out.append(
            (f"stock_all linear: {a['events']:,} -> {b['events']:,} events", ok,
             f"{events:.0f}x events -> {factor:.1f}x time")
        )  # fmt: skip
    ten = [row for row in r["stock_all_curve"] if row["events"] >= 10_000_000]
    out.append(
        ("stock_all 10M events < 10 s", ten[0]["library_ms"]["median"] < 10_000 if ten else None,
         f"{ten[0]['library_ms']['median'] / 1000:.1f} s" if ten else "run with --full")
    )  # fmt: skip
    rate = r["generate"]["events_per_s"]
    out.append(("generate >= 100,000 events/s", rate >= 100_000, f"{rate:,} events/s"))
    check = r["full_check_1m"]["library_ms"]["median"]
    checked = r["stock_all_curve"][1]["events"]
    label = f"full check on {checked:,} events < 5 s"
    out.append((label, check < 5000, f"{check / 1000:.1f} s"))
    out.append(
        ("PostgreSQL reported next to SQLite", "postgresql" in r or None,
         "yes" if "postgresql" in r else "INVENTORY_CORE_TEST_POSTGRES_URL not set")
    )  # fmt: skip
    return out


def markdown(r: dict[str, Any]) -> str:
    """The results as the markdown section of docs/performance.md."""
    m = r["machine"]
    lines = [
        f"Command: `{r['command']}` ({r['when']}, {r['seconds']} s; Python {m['python']}, "
        f"SQLite {m['sqlite']}, {m['cpus']} CPUs). Times in ms: median (interquartile range); "
        "ratio = library / raw sqlite3, per alternating pair.",
        "",
        "| workload | library ms | raw sqlite3 ms | ratio |",
        "|---|---|---|---|",
    ]
    for name, measured in r["per_sku"].items():
        lines.append(_row(name, measured))
    lines.append(_row("single-event write (sell)", r["single_write"]))
    checked = r["stock_all_curve"][1]["events"]
    shop = f"{r['generate']['events']:,}-event shop"
    lines.append(_row(f"full check, {checked:,} events", r["full_check_1m"]))
    lines.append(_row(f"backup ({shop})", r["backup"]))
    lines.append(_row(f"CSV export ({shop})", r["csv"]["export"]))
    lines.append(_row(f"CSV import ({shop})", r["csv"]["import"]))
    g = r["generate"]
    lines += [
        "",
        f"Bulk append (`generate`, {g['events']:,} events through `record_many`): "
        f"{g['events_per_s']:,} events/s; raw `executemany` of the same rows: "
        f"{g['raw_executemany_events_per_s']:,} events/s (raw is {g['ratio']}x faster).",
        "",
        "stock_all scaling curve:",
        "",
        "| SKUs | events | library ms | raw jump ms | raw fold ms | vs fastest raw | exact |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in r["stock_all_curve"]:
        lines.append(
            f"| {row['skus']:,} | {row['events']:,} | {_iqr(row['library_ms'])} | "
            f"{_iqr(row['raw_jump_ms'])} | {_iqr(row['raw_fold_ms'])} | "
            f"{row['ratio_vs_fastest']}x | {row['exact']} |"
        )
    if "postgresql" in r:
        lines += ["", "PostgreSQL next to SQLite (library medians, ms):", ""]
        lines += ["| workload | PostgreSQL | SQLite |", "|---|---|---|"]
        for name, pg_ms, sqlite_ms in r["postgresql"]["rows"]:
            lines.append(f"| {name} | {_ms(pg_ms)} | {_ms(sqlite_ms) if sqlite_ms else '-'} |")
    lines += ["", "Goals:", "", "| goal | met | measured |", "|---|---|---|"]
    for goal, met, measured in goals(r):
        mark = "n/a" if met is None else ("yes" if met else "**no**")
        lines.append(f"| {goal} | {mark} | {measured} |")
    return "\n".join(lines) + "\n"


def chart(r: dict[str, Any], path: Path) -> Path | None:
    """stock_all time against ledger size, library and raw, log-log; None without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    figure, axes = plt.subplots(figsize=(8, 5))
    for skus in sorted({row["skus"] for row in r["stock_all_curve"]}):
        rows = [row for row in r["stock_all_curve"] if row["skus"] == skus]
        events = [row["events"] for row in rows]
        axes.plot(
            events, [x["library_ms"]["median"] for x in rows], "o-", label=f"library, {skus:,} SKUs"
        )
        axes.plot(
            events,
            [x["raw_jump_ms"]["median"] for x in rows],
            "x--",
            label=f"raw jump, {skus:,} SKUs",
        )
    if "postgresql" in r:
        curve = r["postgresql"]["stock_all_curve"]
        axes.plot(
            [c["events"] for c in curve],
            [c["library_ms"] for c in curve],
            "s-",
            label="library on PostgreSQL",
        )
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel("events in the ledger")
    axes.set_ylabel("stock_all, ms (median)")
    axes.set_title("stock_all scaling")
    axes.legend(fontsize=8)
    axes.grid(True, which="both", alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path
