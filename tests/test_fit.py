"""Fitting a table into a width (ipctop/render/fit.py): which columns stay, how wide, cells cut."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from ipctop.render.fit import ColumnFit, fit_list, fit_widths


def test_a_narrow_screen_leaves_out_the_least_important_columns_first():
    columns = [
        ColumnFit(0, 6, 6),  # an id
        ColumnFit(0, 60, 14),  # attachers: may be cut to 14
        ColumnFit(2, 7, 7),  # status
        ColumnFit(5, 20, 12),  # creator
        ColumnFit(6, 9, 9),  # perms
    ]
    assert fit_widths(columns, 200) == [6, 60, 7, 20, 9]  # everything, whole
    assert fit_widths(columns, 60) == [6, 16, 7, 12, 9]  # all fit when cut; the room left widens the attachers
    assert fit_widths(columns, 50) == [6, 17, 7, 12, None]  # perms go first
    assert fit_widths(columns, 40) == [6, 21, 7, None, None]
    assert fit_widths(columns, 10) == [6, 14, None, None, None]  # priority 0 stays, cut to its minimum


def test_perms_are_left_out_rather_than_a_name_cut_but_kept_where_it_reads_comfortably():
    columns = [ColumnFit(0, 20, 10), ColumnFit(7, 9, 9)]  # a name, perms that yield
    assert fit_widths(columns, 34) == [20, 9]  # both whole
    assert fit_widths(columns, 30) == [20, None]  # the name whole, no perms
    columns = [ColumnFit(0, 300, 14), ColumnFit(7, 9, 9)]  # a very long list: always cut
    assert fit_widths(columns, 120) == [107, 9]  # past a comfortable width, perms stay
    columns = [ColumnFit(0, 20, 10), ColumnFit(6, 9, 9)]  # perms that do not yield
    assert fit_widths(columns, 30) == [17, 9]


def test_room_goes_first_to_a_comfortable_width_by_importance_then_to_all():
    columns = [ColumnFit(0, 300, 14), ColumnFit(5, 30, 12)]  # a long list of attachers, a command line
    widths = fit_widths(columns, 120, gap=0)
    assert widths[1] == 30  # the command line is not starved by the list
    assert widths[0] == 90
    assert fit_widths(columns, 40, gap=0) == [28, 12]  # little room: the important column gets it


@given(
    st.lists(st.tuples(st.integers(0, 7), st.integers(1, 80), st.integers(1, 80)), min_size=1, max_size=10),
    st.integers(0, 300),
)
def test_widths_never_exceed_the_room_unless_priority_0_needs_it(specs, available):
    columns = [ColumnFit(priority, max(natural, least), min(natural, least)) for priority, natural, least in specs]
    widths = fit_widths(columns, available)
    shown = [(column, width) for column, width in zip(columns, widths, strict=True) if width is not None]
    for column, width in shown:
        assert column.minimum <= width <= column.natural
    assert all(width is not None for column, width in zip(columns, widths, strict=True) if column.priority == 0)
    total = sum(width + 2 for _, width in shown)
    assert total <= available or all(column.priority == 0 and width == column.minimum for column, width in shown)


def test_a_list_keeps_whole_items_then_counts_the_rest():
    names = ["postgres: checkpointer[7026]", "postgres: walwriter[7027]", "postgres: autovacuum launcher[7028]"]
    brief = ["postgres[7026]", "postgres[7027]", "postgres[7028]"]
    assert fit_list(names, 200) == ", ".join(names)
    assert fit_list(names, 60) == "postgres: checkpointer[7026], postgres: walwriter[7027] +1"
    assert fit_list(names, 40) == "postgres: checkpointer[7026] +2"
    # Too narrow for one title: the brief names, as long as one of them is whole.
    assert fit_list(names, 20, short=brief) == "postgres[7026] +2"
    assert fit_list(names, 20) == "postgres: …[7026] +2"  # cut in its name: the pid stays
    assert fit_list(["a[1]"], 3) == "a[…"
