"""Decoding what the relay copied: the tap's events become chunks and error records.

Each proxied connection is decoded by the pcap plugin's :class:`~ioproto_pcap.flow.Conversation`,
the same code that decodes a TCP connection in a capture file, fed the bytes of the
client's hop as the relay saw them. So records from the proxy and from a capture of the same
traffic are alike (connection ``client-server``, ``http-request``/``http-response`` bodies,
``ws-*`` messages with the upgrade request's :class:`~ioproto_http.records.HttpInfo`, sid, revision
and transport from the URLs), and bytes the tap had to drop are reported as a
``capture.tcp.gap`` after which decoding resynchronises, as after a lost TCP segment.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ioproto_http.records import Chunk
from ioproto_pcap.flow import Conversation, Emitter
from ioproto_pcap.http import split_target

from ioproto.components import Limits
from ioproto.model import ErrorRecord, Record

from .channel import CLOSE, ERROR, FIN, LOST, OPEN, Event


class TapDecoder:
    """Turns tap events (see :mod:`.channel`) into records, in order.

    ``feed(events)`` returns the records those events completed; ``finish()`` ends every
    connection still open (its unfinished messages are reported) and returns the last ones.
    ``options`` are the source options the pcap plugin's decoder understands (``all_http``).
    """

    def __init__(self, options: Mapping[str, Any], limits: Limits) -> None:
        self.emitter = Emitter(options, limits.max_payload, limits.max_raw_kept)
        self.conversations: dict[int, Conversation] = {}
        self.offsets: dict[int, list[int]] = {}

    def feed(self, events: list[Event]) -> list[Chunk | Record]:
        emitter = self.emitter
        conversations = self.conversations
        for op, conn, ts, payload in events:
            emitter.ts = ts
            conversation = conversations.get(conn)
            if op < FIN:
                if conversation is not None:
                    conversation.data(op, payload)
                    self.offsets[conn][op] += len(payload)
            elif op == OPEN:
                client, server = payload
                conversations[conn] = Conversation(
                    emitter, (client, server), 0, (_port(client), _port(server)), None
                )
                self.offsets[conn] = [0, 0]
            elif conversation is None:
                continue
            elif op < LOST:
                conversation.fin(op - FIN)
            elif op < OPEN:
                side = op - LOST
                offsets = self.offsets[conn]
                conversation.gap(side, offsets[side], payload)
                offsets[side] += payload
            elif op == CLOSE:
                conversation.close()
                del conversations[conn], self.offsets[conn]
            elif op == ERROR:
                rule, reason, target = payload
                emitter.out.append(_proxy_error(ts, conversation.name, rule, reason, target))
        return self._take()

    def finish(self) -> list[Chunk | Record]:
        for conversation in self.conversations.values():
            conversation.close()
        self.conversations.clear()
        self.offsets.clear()
        return self._take()

    def _take(self) -> list[Chunk | Record]:
        out = self.emitter.out
        if out:
            self.emitter.out = []
        return out


def _port(address: str) -> int:
    port = address.rpartition(":")[2]
    return int(port) if port.isascii() and port.isdigit() else 0


def _proxy_error(
    ts: float, connection: str, rule: str, reason: str, target: str | None
) -> ErrorRecord:
    query = dict(split_target(target)[1]) if target else {}
    return ErrorRecord(
        ts=ts,
        connection=connection,
        sid=query.get("sid") or None,
        transport=query.get("transport"),
        layer="proxy",
        rule=rule,
        reason=reason,
    )
