"""The styregruppe/lokalråd governance report: counts of concerns by category, area, queue and
month, as tables, server-side SVG charts and CSV — with small-count suppression.

Rule: every value (cells and totals alike) whose true count is under :data:`SUPPRESS_BELOW`,
0 included, is shown as :data:`SUPPRESSED`, and no suppressed value may be derivable from the
shown ones by one subtraction (see :func:`suppress`). Everything here is pure: no I/O.
"""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from html import escape

SUPPRESS_BELOW = 5
SUPPRESSED = "<5"

_INK = "#1a1a1a"  # text on white: contrast ~17:1
_BAR = "#1f4e79"  # bars on white: contrast ~9:1
_AXIS = "#595959"  # contrast ~7:1
MIN_FONT_PX = 13  # the smallest text in a chart (month labels); titles 16, values 14
_LABEL_CHARS = 32  # longer bar labels are cut (the full label is in <desc>)


@dataclass(frozen=True)
class CrossTable:
    """True counts ``counts[row][col]``; never shown as such, only through :func:`suppress`."""

    title: str
    row_keys: tuple[str, ...]
    row_labels: tuple[str, ...]
    col_keys: tuple[str, ...]
    col_labels: tuple[str, ...]
    counts: tuple[tuple[int, ...], ...]

    def __post_init__(self) -> None:
        if not self.row_keys or not self.col_keys:
            raise ValueError("a table needs at least one row and one column")
        if len(self.row_labels) != len(self.row_keys) or len(self.col_labels) != len(self.col_keys):
            raise ValueError("every key needs exactly one label")
        if len(set(self.row_keys)) != len(self.row_keys) or len(set(self.col_keys)) != len(
            self.col_keys
        ):
            raise ValueError("keys must be unique")
        if len(self.counts) != len(self.row_keys) or any(
            len(row) != len(self.col_keys) or min(row) < 0 for row in self.counts
        ):
            raise ValueError("counts must be a non-negative [row][col] grid")

    @property
    def row_totals(self) -> tuple[int, ...]:
        return tuple(sum(row) for row in self.counts)

    @property
    def col_totals(self) -> tuple[int, ...]:
        return tuple(sum(col) for col in zip(*self.counts, strict=True))

    @property
    def total(self) -> int:
        return sum(self.row_totals)


def crosstab(
    title: str,
    pairs: Iterable[tuple[str, str]] | Mapping[tuple[str, str], int],
    row_keys: Sequence[str],
    row_labels: Sequence[str],
    col_keys: Sequence[str],
    col_labels: Sequence[str],
) -> CrossTable:
    """Count ``(row_key, col_key)`` pairs (or take their counts, a mapping pair -> n); pairs
    with a key not listed are ignored."""
    seen = Counter(pairs)
    counts = tuple(tuple(seen[(r, c)] for c in col_keys) for r in row_keys)
    return CrossTable(
        title, tuple(row_keys), tuple(row_labels), tuple(col_keys), tuple(col_labels), counts
    )


def _check_shown(values: Iterable[int | None]) -> None:
    if any(v is not None and v < SUPPRESS_BELOW for v in values):
        raise ValueError(f"a shown count must be None (suppressed) or >= {SUPPRESS_BELOW}")


@dataclass(frozen=True)
class ShownTable:
    """What may be shown or exported: every value is an int >= 5, or None (suppressed)."""

    title: str
    row_keys: tuple[str, ...]
    row_labels: tuple[str, ...]
    col_labels: tuple[str, ...]
    cells: tuple[tuple[int | None, ...], ...]
    row_totals: tuple[int | None, ...]
    col_totals: tuple[int | None, ...]
    total: int | None

    def __post_init__(self) -> None:
        _check_shown(
            [*itertools.chain.from_iterable(self.cells), *self.row_totals, *self.col_totals]
        )
        _check_shown([self.total])

    def text(self, value: int | None) -> str:
        return SUPPRESSED if value is None else str(value)

    def share(self, row_total: int | None) -> float | None:
        """A row's share of the table's total in per cent (one decimal), or None when either
        is suppressed (a share must not reveal a hidden count)."""
        if row_total is None or not self.total:
            return None
        return round(100 * row_total / self.total, 1)

    def share_text(self, row_total: int | None) -> str:
        value = self.share(row_total)
        return NO_SHARE if value is None else number_da(value)


NO_SHARE = "–"


def number_da(value: float) -> str:
    """A number as Danish Excel reads it: decimal comma, no thousands separator ("12,5")."""
    if isinstance(value, int):
        return str(value)
    return f"{value:.1f}".replace(".", ",")


def suppress(table: CrossTable) -> ShownTable:
    """Primary and secondary (complementary) suppression of ``table``.

    The table is a grid ``(rows + 1) x (cols + 1)``: the cells, a totals column, a totals row and
    the grand total in the corner. A *line* is a row of that grid (a row's cells + its total, or
    the column totals + the grand total) or a column of it (a column's cells + its total, or the
    row totals + the grand total); the last value of every line is the sum of the others.

    Primary: every value under SUPPRESS_BELOW is suppressed. Secondary, until nothing changes: a
    line with exactly one suppressed value would give it away — it is the line's total minus the
    shown values (or, if it is the total, their sum) — so the smallest shown cell of that line is
    suppressed too (its total only if no cell is left shown). Every line has >= 2 values, so such
    a line always has a value left to suppress; each pass either suppresses at least one more of
    finitely many values or changes nothing, so the loop terminates.

    This defends against one-line subtraction, the standard rule for published statistics; it
    does not defend against every linear-algebra attack (solving several lines together can
    still narrow a suppressed value down to a range, rarely to a point).
    """
    n_rows, n_cols = len(table.row_keys), len(table.col_keys)
    grid = [[*row, total] for row, total in zip(table.counts, table.row_totals, strict=True)]
    grid.append([*table.col_totals, table.total])
    hidden = [[v < SUPPRESS_BELOW for v in line] for line in grid]
    lines = [[(r, c) for c in range(n_cols + 1)] for r in range(n_rows + 1)]
    lines += [[(r, c) for r in range(n_rows + 1)] for c in range(n_cols + 1)]
    changed = True
    while changed:
        changed = False
        for line in lines:
            if sum(hidden[r][c] for r, c in line) != 1:
                continue
            candidates = [(r, c) for r, c in line[:-1] if not hidden[r][c]] or line[-1:]
            r, c = min(candidates, key=lambda p: grid[p[0]][p[1]])
            hidden[r][c] = changed = True
    shown = [
        tuple(None if h else v for v, h in zip(line, hide, strict=True))
        for line, hide in zip(grid, hidden, strict=True)
    ]
    return ShownTable(
        title=table.title,
        row_keys=table.row_keys,
        row_labels=table.row_labels,
        col_labels=table.col_labels,
        cells=tuple(line[:-1] for line in shown[:-1]),
        row_totals=tuple(line[-1] for line in shown[:-1]),
        col_totals=shown[-1][:-1],
        total=shown[-1][-1],
    )


# --- charts: server-side SVG, no script, no external resource --------------------------------


def _n(x: float) -> str:
    return f"{x:.1f}".removesuffix(".0")


def _chart_start(
    kind: str,
    chart_id: str | None,
    title: str,
    labels: Sequence[str],
    values: Sequence[int | None],
    width: float,
    height: float,
    suppressed_text: str,
) -> tuple[str, float]:
    """The opening of a chart and the value a full-length bar stands for.

    The chart is drawn at its natural size (``width``/``height`` in CSS px, never scaled
    down to fit), so that its text is as large as written — at least :data:`MIN_FONT_PX`; a
    chart wider than its box scrolls inside the box.

    The scale depends on the shown values only, and ids on the title and labels only: nothing in
    the output depends on a suppressed value's true count.
    """
    if len(labels) != len(values):
        raise ValueError("one value per label")
    _check_shown(values)
    if chart_id is None:
        digest = hashlib.sha256("\x1f".join([kind, title, *labels]).encode()).hexdigest()
        chart_id = f"{kind}-{digest[:12]}"
    cid = escape(chart_id)
    desc = "; ".join(
        f"{label}: {suppressed_text if v is None else v}"
        for label, v in zip(labels, values, strict=True)
    )
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{_n(width)}" '
        f'height="{_n(height)}" viewBox="0 0 {_n(width)} {_n(height)}" '
        f'aria-labelledby="{cid}-title {cid}-desc" '
        f'font-family="system-ui, sans-serif" font-size="14">'
        f'<title id="{cid}-title">{escape(title)}</title>'
        f'<desc id="{cid}-desc">{escape(desc)}</desc>'
        f'<rect width="100%" height="100%" fill="#ffffff"/>'
        f'<text x="8" y="22" font-size="16" font-weight="bold" fill="{_INK}">{escape(title)}</text>'
    )
    scale = max([v for v in values if v is not None], default=SUPPRESS_BELOW)
    return head, scale


def _title_w(title: str) -> int:
    return 16 + 10 * len(title)  # room for the title at 16px bold


def _bar(x: float, y: float, w: float, h: float, value: int | None) -> str:
    style = (
        f'fill="{_BAR}"'
        if value is not None
        else f'fill="#ffffff" stroke="{_BAR}" stroke-width="1.5" stroke-dasharray="4 3"'
    )
    return f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(w)}" height="{_n(h)}" {style}/>'


def _text(x: float, y: float, text: str, anchor: str, size: int = 14) -> str:
    return (
        f'<text x="{_n(x)}" y="{_n(y)}" text-anchor="{anchor}" font-size="{size}" '
        f'fill="{_INK}">{escape(text)}</text>'
    )


def bar_chart_svg(
    title: str,
    labels: Sequence[str],
    values: Sequence[int | None],
    *,
    suppressed_text: str = SUPPRESSED,
    chart_id: str | None = None,
) -> str:
    """Horizontal bars, one per label; a suppressed value is a dashed outline as long as 5."""
    cut = [x if len(x) <= _LABEL_CHARS else x[: _LABEL_CHARS - 1] + "…" for x in labels]
    label_w = 16 + 8 * max((len(x) for x in cut), default=0)
    bar_w, top, row_h, bar_h = 400.0, 36, 28, 18
    width, height = max(label_w + bar_w + 56, _title_w(title)), top + row_h * len(labels) + 8
    head, scale = _chart_start(
        "bar", chart_id, title, labels, values, width, height, suppressed_text
    )
    parts = [head]
    for i, (label, value) in enumerate(zip(cut, values, strict=True)):
        y = top + i * row_h
        w = bar_w * (SUPPRESS_BELOW if value is None else value) / scale
        shown = suppressed_text if value is None else str(value)
        parts += [
            _text(label_w - 8, y + bar_h - 4, label, "end"),
            _bar(label_w, y, w, bar_h, value),
            _text(label_w + w + 6, y + bar_h - 4, shown, "start"),
        ]
    return "".join(parts) + "</svg>"


def monthly_chart_svg(
    title: str,
    months: Sequence[str],
    values: Sequence[int | None],
    *,
    suppressed_text: str = SUPPRESSED,
    chart_id: str | None = None,
) -> str:
    """Vertical columns, one per month; a suppressed value is a dashed outline as tall as 5."""
    slot, col_w, top, plot_h = 64, 40, 56, 200.0
    base = top + plot_h
    width, height = max(16 + slot * len(months), _title_w(title)), base + 32
    head, scale = _chart_start(
        "month", chart_id, title, months, values, width, height, suppressed_text
    )
    parts = [
        head,
        f'<line x1="8" y1="{_n(base)}" x2="{_n(width - 8)}" y2="{_n(base)}" stroke="{_AXIS}"/>',
    ]
    for i, (month, value) in enumerate(zip(months, values, strict=True)):
        x = 8 + i * slot + (slot - col_w) / 2
        h = plot_h * (SUPPRESS_BELOW if value is None else value) / scale
        shown = suppressed_text if value is None else str(value)
        parts += [
            _bar(x, base - h, col_w, h, value),
            _text(x + col_w / 2, base - h - 6, shown, "middle"),
            _text(x + col_w / 2, base + 20, month, "middle", MIN_FONT_PX),
        ]
    return "".join(parts) + "</svg>"


# --- CSV --------------------------------------------------------------------------------------

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _safe(text: str) -> str:
    """A text a spreadsheet would run as a formula gets a leading apostrophe (CSV injection)."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def to_csv(tables: Sequence[ShownTable], *, total_label: str, share_label: str | None = None,
           heading: Sequence[Sequence[str]] = ()) -> str:
    """One block per table — title line, header, a line per row, totals line — blank-separated,
    after the ``heading`` lines (e.g. the period) if any.

    Suppressed values are written as SUPPRESSED ("<5"). Fields are separated by ";", the list
    separator of Danish Excel (with the UTF-8 BOM the download adds, it opens the file as
    columns with æøå intact). With ``share_label``, a last column holds each row's share of
    the total in per cent with a decimal comma ("12,5"), as Danish Excel reads numbers.
    """
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    for line in heading:
        writer.writerow([_safe(x) for x in line])
    if heading:
        writer.writerow([])
    for i, t in enumerate(tables):
        if i:
            writer.writerow([])
        share = [_safe(share_label)] if share_label else []
        writer.writerow([_safe(t.title)])
        writer.writerow(["", *map(_safe, t.col_labels), _safe(total_label), *share])
        for label, cells, row_total in zip(t.row_labels, t.cells, t.row_totals, strict=True):
            writer.writerow([_safe(label), *map(t.text, cells), t.text(row_total),
                             *([t.share_text(row_total)] if share_label else [])])
        writer.writerow([_safe(total_label), *map(t.text, t.col_totals), t.text(t.total),
                         *([t.share_text(t.total)] if share_label else [])])
    return out.getvalue()
