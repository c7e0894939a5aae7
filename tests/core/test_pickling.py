"""Records pickle to what they were (they cross between processes: ioproto.worker)."""

from __future__ import annotations

import pickle
from pathlib import Path

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st
from ioproto_http.records import Chunk, ChunkKind, HttpInfo

import ioproto
from ioproto import Packet, Tag
from ioproto.fastrecords import rebuilder
from ioproto.model import Record

DATA = Path(__file__).resolve().parents[1] / "data"


def chain(record: object) -> list[tuple[type, dict[str, object]]]:
    """``record`` and its parents, each as its class and every field but ``parent``."""
    out = []
    while record is not None:
        fields = {
            field.name: getattr(record, field.name)
            for field in attrs.fields(type(record))
            if field.name != "parent"
        }
        out.append((type(record), fields))
        record = getattr(record, "parent", None)
    return out


@pytest.mark.parametrize("name", ["upgrade", "binary", "rejected", "msgpack_ws"])
def test_decoded_records_come_back_whole(name: str) -> None:
    """Every record of a real capture, classified, with its parents and their HTTP facts."""
    records = list(ioproto.decode(str(DATA / f"{name}.pcap")))
    assert records
    back = pickle.loads(pickle.dumps(records, protocol=pickle.HIGHEST_PROTOCOL))
    assert [chain(record) for record in back] == [chain(record) for record in records]


def test_shared_objects_stay_shared() -> None:
    """Two records of one HTTP body keep one parent, as they had."""
    info = HttpInfo(method="GET", headers=(("host", "x"),))
    chunk = Chunk(ts=1.0, kind=ChunkKind.HTTP_RESPONSE, data=b"ab", http=info)
    first = Packet(ts=1.0, parent=chunk, layer="test", tags=(Tag("a.b", [1]),))
    second = Packet(ts=2.0, parent=chunk, layer="test")
    one, two = pickle.loads(pickle.dumps([first, second]))
    assert one.parent is two.parent
    assert one.parent.http == info
    assert one.tags == (Tag("a.b", [1]),)


@attrs.frozen(slots=True, kw_only=True)
class PluginPacket(Packet):
    """A plugin's record class, defined outside ioproto."""

    layer: str = "plugin"
    score: int = 0
    labels: tuple[str, ...] = ()


@given(st.integers(), st.lists(st.text(), max_size=3), st.floats(allow_nan=False))
def test_a_plugins_record_class_comes_back_as_itself(
    score: int, labels: list[str], ts: float
) -> None:
    record = PluginPacket(ts=ts, score=score, labels=tuple(labels), sid="s")
    back = pickle.loads(pickle.dumps(record))
    assert type(back) is PluginPacket
    assert chain(back) == chain(record)


def test_pickle_names_each_class_rebuilder_on_the_class() -> None:
    """What pickle writes to name how a record is unpickled: the class's own attribute."""
    assert Packet._ioproto_make is rebuilder(Packet)
    assert PluginPacket._ioproto_make is rebuilder(PluginPacket)
    assert PluginPacket._ioproto_make is not Packet._ioproto_make
    assert Record._ioproto_make.__qualname__ == "Record._ioproto_make"
    assert b"PluginPacket._ioproto_make" in pickle.dumps(PluginPacket(ts=0.0))
