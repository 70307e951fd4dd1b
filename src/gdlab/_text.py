"""Plain-text pieces of results' reprs: counted nouns and aligned tables."""

from __future__ import annotations


def count(number: int, noun: str) -> str:
    """``1 row``, ``3 rows``, ``1,000 steps``."""
    return f"{number:,} {noun}{'s' * (number != 1)}"


def table(rows: list[list[str]], *, left: int = 1) -> list[str]:
    """Rows of cells as indented lines: the first ``left`` columns left-aligned (names), the rest right.

    Example:
        >>> print("\\n".join(table([["name", "value"], ["b", "1.5"], ["b0", "-10"]])))
          name  value
          b       1.5
          b0      -10
    """
    widths = [max(len(row[j]) for row in rows) for j in range(len(rows[0]))]
    return [
        "  "
        + "  ".join(
            c.ljust(w) if j < left else c.rjust(w) for j, (c, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    ]
