"""`ipctop.frozen` makes what `@dataclass(frozen=True, slots=True)` made of the model: the same
constructor, equality, hash, repr and pickling, no assignment, and `replace`; checked here against
a true frozen dataclass of the same fields, and on the model's own classes."""

from __future__ import annotations

import copy
import dataclasses
import pickle
from types import MappingProxyType

import pytest

from ipctop import model
from ipctop.collectors.procfs import ProcFS
from ipctop.frozen import Factory, FrozenError, Uncompared, fields, frozen, is_record, replace
from tests.support.startup import list_json_imports


@frozen
class Point:
    """A record of the kind the model has: required fields, then defaults."""

    x: int
    y: int
    label: str = ""
    tags: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True, slots=True)
class DataPoint:
    x: int
    y: int
    label: str = ""
    tags: tuple[str, ...] = ()


@frozen
class Based(Point):
    z: int = 0


@frozen
class WithList:
    title: str
    notes: list[str] = Factory(list)  # type: ignore[assignment]
    where: object = Uncompared(None)  # type: ignore[assignment]


def test_a_record_behaves_as_the_frozen_dataclass_it_replaces():
    ours, theirs = Point(1, 2, label="a"), DataPoint(1, 2, label="a")
    assert repr(ours) == repr(theirs).replace("DataPoint", "Point")
    assert ours == Point(1, 2, "a", ()) and ours != Point(1, 3, "a") and ours != (1, 2, "a", ())
    assert hash(ours) == hash(Point(1, 2, "a")) and len({ours, Point(1, 2, "a"), Point(2, 2)}) == 2
    assert fields(ours) == fields(Point) == tuple(f.name for f in dataclasses.fields(theirs))
    assert not hasattr(ours, "__dict__") and Point.__slots__ == ("x", "y", "label", "tags")
    with pytest.raises(FrozenError):
        ours.x = 5  # type: ignore[misc]
    with pytest.raises(AttributeError):
        del ours.y
    with pytest.raises(TypeError):
        Point(1)  # type: ignore[call-arg]
    assert pickle.loads(pickle.dumps(ours)) == ours and copy.deepcopy(ours) == ours and copy.copy(ours) == ours
    assert Point.__match_args__ == ("x", "y", "label", "tags")


def test_replace_copies_with_changes_and_refuses_unknown_fields():
    point = Point(1, 2, "a")
    moved = replace(point, y=5)
    assert moved == Point(1, 5, "a") and point == Point(1, 2, "a")
    with pytest.raises(TypeError, match="no field 'w'"):
        replace(point, w=1)
    assert replace(DataPoint(1, 2), x=3) == DataPoint(3, 2)  # a true dataclass goes to dataclasses.replace


def test_a_subclass_adds_its_fields_after_its_bases():
    based = Based(1, 2, z=3)
    assert fields(based) == ("x", "y", "label", "tags", "z") and based.z == 3 and based != Point(1, 2)
    assert isinstance(based, Point) and is_record(based) and not is_record(DataPoint(1, 2))


def test_factories_make_a_new_default_each_time_and_uncompared_fields_are_left_out():
    first, second = WithList("t"), WithList("t", where="elsewhere")
    first.notes.append("n")
    assert second.notes == [] and WithList("t").notes == []
    assert replace(WithList("t", where=1), title="t") == WithList("t")  # `where` is not compared
    assert "where" not in repr(second)


def test_a_required_field_after_a_default_is_refused():
    with pytest.raises(TypeError, match="'b' has no default"):
        @frozen
        class _Bad:
            a: int = 0
            b: int


def test_the_model_keeps_its_post_init_and_its_shared_empty_maps():
    snapshot = model.Snapshot(time=1.0, ipc_ns="ipc:[1]", pipes={})
    assert isinstance(snapshot.pipes, MappingProxyType) and isinstance(snapshot.shm, MappingProxyType)
    assert replace(snapshot, time=2.0).time == 2.0
    proc = ProcFS()
    assert replace(proc, skip=frozenset({1})) == proc  # `skip` and `progress` are not compared


def test_list_json_imports_neither_dataclasses_nor_inspect():
    # what a one-off look no longer pays at start-up (ipctop/frozen.py's docstring)
    assert list_json_imports("dataclasses", "inspect") == {"dataclasses": False, "inspect": False}
