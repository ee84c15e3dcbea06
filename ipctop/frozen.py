"""Frozen, slotted record classes, made at a fraction of `dataclasses`' start-up cost.

`@frozen` makes what `@dataclass(frozen=True, slots=True)` makes of the snapshot's model: an
`__init__` taking the annotated fields in order (with their defaults, then `__post_init__`),
equality and a hash over the fields, a repr, pickling, and no assignment after `__init__`.

Why not `dataclasses`: on Python 3.11 it compiles six functions for each class and then makes the
class again, about 0.45 ms a class. The 29 record classes `ipctop list` imports cost it 14 ms
of start-up that way, and importing `dataclasses` (with `inspect`, `ast`, `dis`) 5 ms more: a
quarter of an idle `ipctop list --json`. Here only `__init__` is compiled (it is what a scan
calls ten thousand times, so it must be as fast as dataclasses' own); the rest are functions
shared by every record.

A record's fields are `fields(cls)`; `replace(obj, **changes)` copies one with some fields changed
(and hands a true dataclass to `dataclasses.replace`).
"""

from __future__ import annotations

from operator import attrgetter
from typing import Any, TypeVar, dataclass_transform

T = TypeVar("T")


class FrozenError(AttributeError):
    """A field of a record was assigned to or deleted after `__init__`."""


class Uncompared:
    """The default of a field that equality, hash and repr leave out (`field(compare=False)`)."""

    __slots__ = ("default",)

    def __init__(self, default: Any) -> None:
        self.default = default


class Factory:
    """A default made anew for each record by calling `make` (`field(default_factory=make)`)."""

    __slots__ = ("make",)

    def __init__(self, make: Any) -> None:
        self.make = make


_NO_DEFAULT = object()


def _no_key(_record: object) -> tuple[()]:
    return ()


def _eq(self: Any, other: Any) -> Any:
    if other is self:
        return True
    if other.__class__ is self.__class__:
        key = self.__record_key__
        return key(self) == key(other)
    return NotImplemented


def _hash(self: Any) -> int:
    return hash(self.__record_key__(self))


def _repr(self: Any) -> str:
    shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__record_shown__)
    return f"{self.__class__.__qualname__}({shown})"


def _setattr(self: Any, name: str, _value: Any) -> None:
    raise FrozenError(f"cannot assign to field {name!r}: {self.__class__.__name__} records are frozen")


def _delattr(self: Any, name: str) -> None:
    raise FrozenError(f"cannot delete field {name!r}: {self.__class__.__name__} records are frozen")


def _reduce(self: Any) -> tuple[type, tuple[Any, ...]]:
    return self.__class__, tuple(getattr(self, name) for name in self.__record_fields__)


def _init_source(names: tuple[str, ...], defaults: dict[str, Any], post_init: bool) -> str:
    params = ", ".join(f"{name}=_default_{name}" if name in defaults else name for name in names)
    body = "".join(
        f"    _set(self, {name!r}, _default_{name}.make() if {name} is _default_{name} else {name})\n"
        if isinstance(defaults.get(name), Factory) else f"    _set(self, {name!r}, {name})\n"
        for name in names)
    if post_init:
        body += "    self.__post_init__()\n"
    return f"def __init__(self, {params}):\n" + (body or "    pass\n")


@dataclass_transform(frozen_default=True)  # type checkers read a record's __init__ as a dataclass's
def frozen(cls: type[T]) -> type[T]:
    """The class as a frozen, slotted record of its annotated fields (ClassVar ones excepted)."""
    inherited: tuple[str, ...] = ()
    defaults: dict[str, Any] = {}
    uncompared: set[str] = set()
    for base in reversed(cls.__mro__[1:]):
        if "__record_fields__" in base.__dict__:
            inherited = base.__record_fields__  # type: ignore[attr-defined]
            defaults.update(base.__record_defaults__)  # type: ignore[attr-defined]
            uncompared.update(base.__record_uncompared__)  # type: ignore[attr-defined]
    own = tuple(name for name, hint in cls.__dict__.get("__annotations__", {}).items()
                if not str(hint).startswith(("ClassVar", "typing.ClassVar")))
    namespace = {key: value for key, value in cls.__dict__.items()
                 if key not in own and key not in ("__dict__", "__weakref__")}
    for name in own:
        default = cls.__dict__.get(name, _NO_DEFAULT)
        if isinstance(default, Uncompared):
            uncompared.add(name)
            default = default.default
        if default is not _NO_DEFAULT:
            defaults[name] = default
        elif name in defaults:
            del defaults[name]
    names = inherited + tuple(name for name in own if name not in inherited)
    required_after_default = [name for index, name in enumerate(names)
                              if name not in defaults and any(n in defaults for n in names[:index])]
    if required_after_default:
        raise TypeError(f"{cls.__name__}: field {required_after_default[0]!r} has no default but follows one that has")
    compared = tuple(name for name in names if name not in uncompared)
    scope = {"_set": object.__setattr__, **{f"_default_{name}": value for name, value in defaults.items()}}
    exec(_init_source(names, defaults, hasattr(cls, "__post_init__")), scope)
    init = scope["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    namespace.update(
        __slots__=tuple(name for name in own if name not in inherited),
        __qualname__=cls.__qualname__,
        __init__=init,
        __setattr__=_setattr,
        __delattr__=_delattr,
        __reduce__=_reduce,
        __match_args__=names,
        __record_fields__=names,
        __record_defaults__=defaults,
        __record_uncompared__=frozenset(uncompared),
        __record_shown__=compared,
        __record_key__=attrgetter(*compared) if compared else staticmethod(_no_key),
    )
    namespace.setdefault("__eq__", _eq)
    namespace.setdefault("__repr__", _repr)
    if namespace.get("__hash__") is None:
        namespace["__hash__"] = _hash
    return type(cls)(cls.__name__, cls.__bases__, namespace)  # type: ignore[return-value]


def is_record(value: Any) -> bool:
    """Whether `value` (a class or an instance) is a `@frozen` record."""
    return hasattr(value, "__record_fields__")


def fields(value: Any) -> tuple[str, ...]:
    """The field names of a record class or instance, in `__init__`'s order."""
    return value.__record_fields__  # type: ignore[no-any-return]


def replace(obj: T, **changes: Any) -> T:
    """A copy of the record `obj` with `changes`; a true dataclass goes to `dataclasses.replace`."""
    names = getattr(obj, "__record_fields__", None)
    if names is None:
        import dataclasses  # here: only dataclasses outside the model (the TUI's rows) need it

        return dataclasses.replace(obj, **changes)  # type: ignore[type-var]
    unknown = set(changes).difference(names)
    if unknown:
        raise TypeError(f"{obj.__class__.__name__} has no field {sorted(unknown)[0]!r}")
    return obj.__class__(**{name: changes[name] if name in changes else getattr(obj, name) for name in names})
