"""One PASS/FAIL target line of RESULTS.md, as every section of the report writes it."""

from __future__ import annotations


def line(name: str, value: float | None, ok: bool, detail: str) -> str:
    """One target: "measured 46.8x faster ...", "measured 6.44 ms = ..." (a ratio's detail starts with x)."""
    verdict = "PASS" if value is not None and ok else "FAIL"
    if value is None:
        return f"- **{verdict}** {name}: measured n/a"
    shown = f"{value:,.0f}" if value >= 100 else f"{value:.3g}"
    return f"- **{verdict}** {name}: measured {shown}{'' if detail.startswith('x') else ' '}{detail}"
