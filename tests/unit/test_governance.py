"""The governance report (hub/web/governance.py): small-count suppression, SVG charts, CSV."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.web.governance import (
    SUPPRESSED,
    CrossTable,
    ShownTable,
    bar_chart_svg,
    crosstab,
    monthly_chart_svg,
    suppress,
    to_csv,
)

SVG = "{http://www.w3.org/2000/svg}"


def table(counts: list[list[int]], title: str = "Bekymringer") -> CrossTable:
    rows = tuple(f"r{i}" for i in range(len(counts)))
    cols = tuple(f"2026-{i + 1:02d}" for i in range(len(counts[0])))
    return CrossTable(
        title,
        rows,
        tuple(f"Række {r}" for r in rows),
        cols,
        cols,
        tuple(tuple(row) for row in counts),
    )


def lines(t: ShownTable) -> list[list[int | None]]:
    """Every row line, column line, the totals row and the totals column, each total last."""
    grid = [[*cells, total] for cells, total in zip(t.cells, t.row_totals, strict=True)]
    grid.append([*t.col_totals, t.total])
    return grid + [list(col) for col in zip(*grid, strict=True)]


def test_crosstab_counts_listed_pairs_and_ignores_others() -> None:
    pairs = [
        ("a", "2026-01"),
        ("a", "2026-01"),
        ("b", "2026-02"),
        ("x", "2026-01"),
        ("a", "2025-12"),
    ]
    t = crosstab("T", pairs, ["a", "b"], ["A", "B"], ["2026-01", "2026-02"], ["jan", "feb"])
    assert t.counts == ((2, 0), (0, 1))
    assert (t.row_totals, t.col_totals, t.total) == ((2, 1), (2, 1), 3)


def test_crosstable_rejects_malformed_tables() -> None:
    with pytest.raises(ValueError, match="at least one"):
        CrossTable("T", (), (), ("m",), ("m",), ())
    with pytest.raises(ValueError, match="grid"):
        CrossTable("T", ("a",), ("A",), ("m",), ("m",), ((1, 2),))


def test_primary_suppression_of_small_cells_and_totals() -> None:
    shown = suppress(table([[1, 2, 20], [1, 1, 30]]))
    # Cells 1, 2, 1, 1 and the column totals 2 and 3 are under 5; no line is left with exactly
    # one hidden value, so nothing else is hidden.
    assert shown.cells == ((None, None, 20), (None, None, 30))
    assert shown.row_totals == (23, 32)
    assert (shown.col_totals, shown.total) == ((None, None, 50), 55)


def test_small_row_and_column_totals_are_hidden_with_their_cells() -> None:
    shown = suppress(table([[1, 2], [1, 40]]))
    # Cells 1, 2, 1 and the totals 3 (row 0) and 2 (column 0) are under 5.
    assert shown.cells[0] == (None, None)
    assert shown.row_totals[0] is None
    assert shown.col_totals[0] is None
    assert all(v is None or v >= 5 for line in lines(shown) for v in line)


def test_one_small_cell_in_a_row_hides_a_second_cell_of_that_row() -> None:
    shown = suppress(table([[2, 10, 7], [8, 9, 12]]))
    # Row 0: 2 is primary; 7, the smallest other cell, is secondary (else 19 - 10 - 7 = 2).
    # Columns 0 and 2 then each hold one hidden cell, so 8 and 12 go too.
    assert shown.cells == ((None, 10, None), (None, 9, None))
    assert shown.row_totals == (19, 29)
    assert shown.col_totals == (10, 19, 19)
    assert shown.total == 48


def test_total_is_hidden_when_it_is_the_only_value_left() -> None:
    shown = suppress(table([[3], [10], [12]]))
    # Column: 3 is primary, 10 secondary; row 1 is (10, total 10): only its total is left.
    assert shown.cells == ((None,), (None,), (12,))
    assert shown.row_totals == (None, None, 12)
    assert (shown.col_totals, shown.total) == ((25,), 25)


def test_shown_table_refuses_small_values() -> None:
    with pytest.raises(ValueError, match=">= 5"):
        ShownTable("T", ("a",), ("A",), ("m",), ((4,),), (None,), (None,), None)
    assert ShownTable("T", ("a",), ("A",), ("m",), ((5,),), (5,), (5,), 5).text(None) == SUPPRESSED


@st.composite
def cross_tables(draw: st.DrawFn) -> CrossTable:
    n_rows, n_cols = draw(st.integers(1, 5)), draw(st.integers(1, 4))
    count = st.one_of(st.integers(0, 6), st.integers(0, 30))
    row = st.lists(count, min_size=n_cols, max_size=n_cols)
    return table(draw(st.lists(row, min_size=n_rows, max_size=n_rows)))


@given(cross_tables())
def test_suppression_properties(t: CrossTable) -> None:
    shown = suppress(t)
    true = [[*row, total] for row, total in zip(t.counts, t.row_totals, strict=True)]
    true.append([*t.col_totals, t.total])
    shown_grid = lines(shown)[: len(true)]
    for true_line, shown_line in zip(true, shown_grid, strict=True):
        for v, s in zip(true_line, shown_line, strict=True):
            assert s is None or s == v  # (c) shown values are the true counts
            if v < 5:
                assert s is None  # primary suppression
    for line in lines(shown):
        assert all(v is None or v >= 5 for v in line)  # (a)
        assert sum(v is None for v in line) != 1  # (b) nothing derivable by one subtraction


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)  # noqa: S314 - our own output, parsed to check it is well-formed
    assert root.tag == f"{SVG}svg"
    return root


@pytest.mark.parametrize("chart", [bar_chart_svg, monthly_chart_svg])
def test_chart_is_accessible_well_formed_svg(chart: object) -> None:
    assert callable(chart)
    svg: str = chart("Bekymringer pr. måned", ["2026-01", "2026-02"], [12, None])
    root = parse(svg)
    assert root.get("role") == "img"
    assert root.get("viewBox")
    # Drawn at its natural size, one unit a CSS pixel: never shrunk (its text stays legible).
    assert root.get("width") == str(root.get("viewBox")).split()[2]
    by_id = {e.get("id"): e for e in root.iter() if e.get("id")}
    title_id, desc_id = str(root.get("aria-labelledby")).split()
    assert by_id[title_id].tag == f"{SVG}title"
    assert by_id[title_id].text == "Bekymringer pr. måned"
    assert by_id[desc_id].tag == f"{SVG}desc"
    assert "2026-02: <5" in str(by_id[desc_id].text)
    assert "<5" in [e.text for e in root.iter(f"{SVG}text")]
    assert "script" not in svg
    assert svg.count("http") == 1  # the xmlns only: no external resource


@pytest.mark.parametrize("chart", [bar_chart_svg, monthly_chart_svg])
def test_chart_escapes_text(chart: object) -> None:
    assert callable(chart)
    evil = '<script>&"'
    svg: str = chart(evil, [evil, "ok"], [None, 7])
    root = parse(svg)
    assert "<script>" not in svg
    assert not [e for e in root.iter() if e.tag.endswith("script")]
    assert evil in [e.text for e in root.iter(f"{SVG}text")]
    assert root.find(f"{SVG}title") is not None
    assert root.findtext(f"{SVG}title") == evil


def test_suppressed_bar_does_not_leak_its_true_count() -> None:
    charts = []
    for small in (0, 4):
        shown = suppress(table([[small, 20, 30], [25, 20, 30]]))
        assert shown.cells[0][0] is None
        charts.append(
            (
                bar_chart_svg("Kolonne", list(shown.col_labels), list(shown.cells[0])),
                monthly_chart_svg("Række", list(shown.col_labels), list(shown.cells[0])),
            )
        )
    assert charts[0] == charts[1]
    # A suppressed bar is as long as a shown 5 would be: 5/20 of the longest (20) bar.
    rects = [r for r in parse(bar_chart_svg("T", ["a", "b"], [None, 20])).iter(f"{SVG}rect")][1:]
    assert float(str(rects[0].get("width"))) * 4 == float(str(rects[1].get("width")))
    assert rects[0].get("stroke-dasharray")
    assert rects[1].get("stroke-dasharray") is None


def test_charts_refuse_values_that_should_have_been_suppressed() -> None:
    with pytest.raises(ValueError, match=">= 5"):
        bar_chart_svg("T", ["a"], [4])
    with pytest.raises(ValueError, match="one value per label"):
        monthly_chart_svg("T", ["2026-01"], [])


def test_csv_round_trips_with_suppression() -> None:
    first = suppress(table([[2, 10, 7], [8, 9, 12]], title="Kategori pr. måned"))
    second = suppress(table([[30]], title="=Område"))
    text = to_csv([first, second], total_label="I alt")
    assert "\n;2026-01;2026-02;2026-03;I alt" in text.replace("\r", "")  # Danish Excel: ";"
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows == [
        ["Kategori pr. måned"],
        ["", "2026-01", "2026-02", "2026-03", "I alt"],
        ["Række r0", "<5", "10", "<5", "19"],
        ["Række r1", "<5", "9", "<5", "29"],
        ["I alt", "10", "19", "19", "48"],
        [],
        ["'=Område"],  # a spreadsheet must not run it as a formula
        ["", "2026-01", "I alt"],
        ["Række r0", "30", "30"],
        ["I alt", "30", "30"],
    ]
