"""``Field``: immutable, compared by value, checked when made (a plain class, so that the
listing commands import no attrs)."""

from __future__ import annotations

import copy
import pickle

import pytest

from ioproto.filters import Field


def _get(record: object) -> None:
    return None


def test_fields_with_the_same_values_are_equal_and_hash_alike() -> None:
    one = Field(name="sio.event", type="string", get=_get, description="the event")
    two = Field(name="sio.event", type="string", get=_get, description="the event")
    assert one == two and hash(one) == hash(two)
    assert one != Field(name="sio.event", type="string", get=_get, description="other")
    assert len({one, two}) == 1
    assert "get" not in repr(one) and "name='sio.event'" in repr(one)


def test_a_field_cannot_be_changed() -> None:
    field = Field(name="sio.event", type="string", get=_get)
    with pytest.raises(AttributeError):
        field.name = "other"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        del field.type  # type: ignore[misc]


@pytest.mark.parametrize(
    ("name", "kind", "message"),
    [
        ("1st", "string", "dotted words"),
        ("sio..event", "string", "dotted words"),
        ("sio event", "string", "dotted words"),
        ("sio.event", "text", "is not one of"),
    ],
)
def test_a_bad_name_or_type_is_refused(name: str, kind: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Field(name=name, type=kind, get=_get)


def test_the_arguments_are_keywords() -> None:
    with pytest.raises(TypeError):
        Field("sio.event", "string", _get)  # type: ignore[misc]


def test_a_field_copies_and_pickles() -> None:
    field = Field(name="sio.event", type="string", get=_get, layer="socketio", many=True)
    assert copy.copy(field) == field and copy.deepcopy(field) == field
    assert pickle.loads(pickle.dumps(field)) == field
