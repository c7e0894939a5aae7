"""What a capture held, for the :class:`~ioproto.model.InputSummary` that says why it gave no
records: frames, TCP connections and their server ports, those the port filter left out.

Kept cheap and bounded: a dictionary look-up per connection opened and per segment the port
filter drops, at most :data:`MAX_PAIRS` port pairs remembered.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection

from ioproto.model import InputSummary
from ioproto.render import plural

from .link import ACK, SYN

MAX_PAIRS = 4096
SHOWN_PORTS = 8


class Conversations:
    """The port pairs of TCP conversations (at most :data:`MAX_PAIRS`), and their server
    ports: a SYN says which side it is; for a conversation caught without one (a capture
    started mid-connection) it is the port found in more conversations (clients' ephemeral
    ports each appear in one), else the lower one."""

    __slots__ = ("pairs",)

    def __init__(self) -> None:
        self.pairs: dict[tuple[int, int], int | None] = {}

    def add(self, sport: int, dport: int, flags: int) -> None:
        pair = (sport, dport) if sport < dport else (dport, sport)
        pairs = self.pairs
        if flags & SYN:
            if pair in pairs or len(pairs) < MAX_PAIRS:
                pairs[pair] = sport if flags & ACK else dport
        elif pair not in pairs and len(pairs) < MAX_PAIRS:
            pairs[pair] = None

    def merge(self, other: Conversations) -> None:
        """Add ``other``'s pairs (a pair's known server port wins over an unknown one)."""
        pairs = self.pairs
        for pair, server in other.pairs.items():
            if pair in pairs:
                if pairs[pair] is None:
                    pairs[pair] = server
            elif len(pairs) < MAX_PAIRS:
                pairs[pair] = server

    def server_ports(self) -> list[int]:
        uses = Counter(port for pair in self.pairs for port in pair)
        ports = set()
        for (low, high), server in self.pairs.items():
            if server is None:
                server = high if uses[high] > uses[low] else low
            ports.add(server)
        return sorted(ports)


class Seen:
    """Counts kept while a capture is read (see the module docstring)."""

    __slots__ = ("connections", "filtered", "followed", "problem")

    def __init__(self) -> None:
        self.connections = 0
        #: The first problem that ended reading the file (``capture.file.*``: its reason);
        #: with no frame read, the capture was unreadable.
        self.problem: str | None = None
        #: The conversations the source follows, and those the port filter leaves out.
        self.followed = Conversations()
        self.filtered = Conversations()

    def connection(self, sport: int, dport: int, flags: int) -> None:
        """A TCP connection the source follows, opened by a segment with ``flags``."""
        self.connections += 1
        self.followed.add(sport, dport, flags)

    def merge(self, other: Seen) -> None:
        """Add what ``other`` (another worker's share of the same capture) saw."""
        self.connections += other.connections
        self.problem = self.problem or other.problem
        self.followed.merge(other.followed)
        self.filtered.merge(other.filtered)

    def summary(
        self,
        input: str,
        ts: float,
        *,
        frames: int,
        segments: int,
        filter_ports: Collection[int] | None,
    ) -> InputSummary:
        """The summary of ``input``. Its ``empty_reason`` is always set: whether the layers
        above find anything in the TCP streams is not the source's to know; ``unreadable``
        when a problem ended reading before the first frame (not a capture at all)."""
        counts = {
            "frames": frames,
            "tcp_segments": segments,
            "tcp_connections": self.connections,
        }
        reason = self._why_empty(frames, segments, filter_ports)
        unreadable = self.problem if not frames else None
        return InputSummary(
            ts=ts,
            connection=input,
            input=input,
            counts=counts,
            empty_reason=unreadable or reason,
            unreadable=unreadable,
        )

    def _why_empty(self, frames: int, segments: int, filter_ports: Collection[int] | None) -> str:
        if not frames:
            return "the capture holds no packets"
        if not segments:
            return f"none of the capture's {plural(frames, 'packet')} is TCP over IP"
        if filter_ports and not self.connections:
            wanted = ", ".join(str(port) for port in sorted(filter_ports))
            held = self.filtered.server_ports()
            return (
                f"no TCP connection on port {wanted}; the capture holds {_ports(held)} "
                f"(try --port {held[0]})"
                if held
                else f"no TCP connection on port {wanted}"
            )
        return (
            f"no Engine.IO traffic in {plural(self.connections, 'TCP connection')} "
            f"({_ports(self.followed.server_ports())}): no HTTP request with EIO= in its query or "
            "/socket.io/ or /engine.io/ in its path (encrypted traffic cannot be read; "
            "-D all_http=true shows every HTTP message)"
        )


def _ports(ports: list[int]) -> str:
    if not ports:
        return "no ports"
    shown = ", ".join(str(port) for port in ports[:SHOWN_PORTS])
    if len(ports) > SHOWN_PORTS:
        shown += f" and {len(ports) - SHOWN_PORTS} more"
    return ("port " if len(ports) == 1 else "ports ") + shown
