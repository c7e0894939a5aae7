"""The stats figures computed in SQL over Parquet output (``ioproto stats --from DIR``).

The same figures as :class:`~ioproto_stats.collector.StatsCollector` gives for the records
streamed from the captures: DuckDB counts per record, per session and per event over the
tables of docs/formats.md ("Parquet"), opened by :func:`ioproto_parquet.store.connect`;
the results fill a :class:`~ioproto_stats.collector.Tally` and
:func:`~ioproto_stats.collector.assemble` lays them out, as it does for the stream.

Where the two differ by design: percentiles here are exact, while the streaming collector
samples beyond 20,000 values (2,000 per event); the streaming collector folds more than
1,000 distinct events or error reasons into ``(other)`` and more than 100,000 sessions into
totals, SQL does not; means are sums in another order (the last bits of a float may
differ). Figures rely on the classifiers' tags, as the stored records carry them, and a
session's end on its summary (``unknown`` without one; the stream knows it from the
pipeline's session store).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .collector import (
    EVICTED,
    EventFacts,
    SessionCounts,
    SessionFacts,
    Tally,
    assemble,
    transport_close_how,
)

if TYPE_CHECKING:
    import duckdb

#: Records the collector counts as packets (it returns early for errors, session records
#: and unanswered acks; a transport-close is no packet: ioproto_engineio.records
#: counts_as_packet).
_PACKETS = """
    layer IN ('engineio', 'socketio') AND source_table NOT IN ('errors', 'sessions')
    AND NOT (source_table = 'socketio' AND type = 'UNANSWERED_ACK')
    AND NOT (source_table = 'engineio' AND type = 'transport-close')
"""
_KIND = """
    coalesce(tag_transport_kind, CASE WHEN transport = 'polling' THEN 'polling-xhr'
                                      ELSE transport END)
"""
_PERCENTILES = (0.5, 0.9, 0.99)


def figures_from(roots: Sequence[str], *, top: int | None = None) -> dict[str, Any]:
    """The stats figures of every capture stored under ``roots`` (directories or URLs)."""
    from ioproto_parquet.store import connect

    connection = connect(roots)
    try:
        return assemble(tally(connection), top=top)
    finally:
        connection.close()


def tally(connection: duckdb.DuckDBPyConnection) -> Tally:
    """Count what the figures need, in SQL, from a connection with the Parquet views."""

    from ioproto_parquet.store import interruptible

    def rows(sql: str) -> list[tuple[Any, ...]]:
        return interruptible(connection, lambda: connection.execute(sql).fetchall())

    # An error record at time 0 has no time (as the collector takes it).
    timed = "WHERE NOT (source_table = 'errors' AND epoch_us(ts) = 0)"
    records, first_us, last_us = rows(
        f"SELECT count(*), min(epoch_us(ts)) FILTER ({timed}), max(epoch_us(ts)) FILTER ({timed}) "
        "FROM records"
    )[0]
    (packets,) = rows(f"SELECT count(*) FROM records WHERE {_PACKETS}")[0]
    return Tally(
        records=records,
        packets=packets,
        layers=Counter(dict(rows("SELECT layer, count(*) FROM records GROUP BY layer"))),
        first_ts=first_us / 1_000_000 if first_us is not None else None,
        last_ts=last_us / 1_000_000 if last_us is not None else None,
        sessions=SessionCounts.of(_sessions(rows)),
        summaries=rows("SELECT count(*) FROM sessions WHERE type = 'summary'")[0][0],
        packets_by_transport=Counter(
            dict(
                rows(
                    f"SELECT coalesce({_KIND}, 'unknown'), count(*) FROM records "
                    f"WHERE {_PACKETS} GROUP BY 1"
                )
            )
        ),
        upgrade=_summary(rows, "engineio", "tag_upgrade_time", "type = 'upgrade'"),
        handshake=_summary(rows, "engineio", "tag_latency_handshake", "type = 'open'"),
        heartbeat=_summary(rows, "engineio", "tag_latency_heartbeat", "type = 'pong'"),
        ack=_summary(rows, "socketio", _ACK_RTT, "type = 'ACK'"),
        ack_by_event=_ack_by_event(rows),
        events=_events(rows),
        unanswered_acks=Counter(
            {
                (nsp, name): count
                for nsp, name, count in rows(
                    "SELECT nsp, coalesce(event, '?'), count(*) FROM socketio "
                    "WHERE type = 'UNANSWERED_ACK' GROUP BY ALL"
                )
            }
        ),
        heartbeat_timeouts=rows(
            "SELECT count(*) FROM sessions WHERE type = 'heartbeat-timeout' AND timed_out"
        )[0][0],
        heartbeat_pending=rows(
            "SELECT count(*) FROM sessions "
            "WHERE type = 'heartbeat-timeout' AND NOT coalesce(timed_out, false)"
        )[0][0],
        **_errors(rows),
    )


_ACK_RTT = "coalesce(tag_latency_ack, epoch(ts) - epoch(answers_ts))"


def _summary_columns(value: str) -> str:
    """SQL for count, sum, min, max and the nearest-rank percentiles of ``value``.

    The rank is computed as :meth:`Samples.percentile` does, in double precision
    (``ceil(fraction * n)``, at least 1), so that the same values give the same answer.
    """
    ranks = ", ".join(
        f"list_sort(list({value}) FILTER (WHERE {value} IS NOT NULL))"
        f"[greatest(1, ceil({fraction}::DOUBLE * count({value})::DOUBLE))::BIGINT]"
        for fraction in _PERCENTILES
    )
    return f"count({value}), sum({value}), min({value}), max({value}), {ranks}"


def _as_summary(
    count: int, total: float | None, low: Any, high: Any, *ranks: Any
) -> dict[str, Any]:
    p50, p90, p99 = ranks if count else (None, None, None)
    return {
        "count": count,
        "mean": total / count if count and total is not None else None,
        "min": low,
        "p50": p50,
        "p90": p90,
        "p99": p99,
        "max": high,
    }


def _summary(rows: Any, table: str, value: str, where: str) -> dict[str, Any]:
    (row,) = rows(f"SELECT {_summary_columns(value)} FROM {table} WHERE {where}")
    return _as_summary(*row)


def _ack_by_event(rows: Any) -> dict[tuple[str, str], dict[str, Any]]:
    found = rows(
        f"SELECT nsp, coalesce(answers_event, '?'), {_summary_columns(_ACK_RTT)} "
        f"FROM socketio WHERE type = 'ACK' GROUP BY ALL HAVING count({_ACK_RTT}) > 0"
    )
    return {(nsp, name): _as_summary(*rest) for nsp, name, *rest in found}


def _events(rows: Any) -> dict[tuple[str, str], EventFacts]:
    events: dict[tuple[str, str], EventFacts] = {}
    for nsp, name, c2s, s2c, bytes_c2s, bytes_s2c, attachments, acks in rows(
        """
        SELECT nsp,
               CASE WHEN type = 'EVENT' THEN coalesce(event, '?')
                    ELSE coalesce(answers_event, '?') END AS name,
               count(*) FILTER (WHERE type = 'EVENT' AND direction IS DISTINCT FROM 's2c'),
               count(*) FILTER (WHERE type = 'EVENT' AND direction = 's2c'),
               coalesce(sum(tag_event_bytes) FILTER (
                   WHERE type = 'EVENT' AND direction IS DISTINCT FROM 's2c'), 0),
               coalesce(sum(tag_event_bytes) FILTER (
                   WHERE type = 'EVENT' AND direction = 's2c'), 0),
               coalesce(sum(attachments), 0),
               count(*) FILTER (WHERE type = 'ACK')
        FROM socketio WHERE type IN ('EVENT', 'ACK') GROUP BY ALL
        """
    ):
        events[(nsp, name)] = EventFacts(
            count_c2s=c2s,
            count_s2c=s2c,
            bytes_c2s=int(bytes_c2s),
            bytes_s2c=int(bytes_s2c),
            attachments=int(attachments),
            acks=acks,
        )
    return events


def _sessions(rows: Any) -> list[SessionFacts]:
    """Per session (by sid, records in capture order): the first transport kind, the last
    one up to the upgrade, handshake, probe, upgrade and the first client seen — the rules
    of ``StatsCollector._session`` — and how it ended: its first summary's ``end_reason``
    (none without the ``session`` classifier; an evicted session with a later summary, its
    continuation's, was seen again) and its first ``transport-close``."""
    found = rows(
        f"""
        WITH seen AS (
            SELECT capture, record_index, sid,
                   CASE WHEN source_table = 'errors' THEN NULL ELSE {_KIND} END AS kind,
                   source_table = 'engineio' AND type = 'upgrade' AS is_upgrade,
                   source_table = 'engineio' AND type = 'open' AS is_handshake,
                   tag_client_kind, tag_client_name, tag_client_version, tag_client_os,
                   tag_client_device
            FROM records
            WHERE sid IS NOT NULL AND ({_PACKETS} OR source_table IN ('errors', 'chunks'))
        ),
        probes AS (
            SELECT DISTINCT sid FROM engineio WHERE type = 'ping' AND data = 'probe'
        ),
        ends AS (
            SELECT sid, first(end_reason ORDER BY capture, record_index) AS end_reason,
                   count(*) > 1 AS continued
            FROM sessions WHERE type = 'summary' AND sid IS NOT NULL GROUP BY sid
        ),
        closes AS (
            SELECT sid, first([transport, code::VARCHAR, message, direction]
                              ORDER BY capture, record_index) AS how
            FROM engineio WHERE type = 'transport-close' AND sid IS NOT NULL GROUP BY sid
        ),
        ordered AS (
            SELECT *, min(CASE WHEN is_upgrade THEN (capture, record_index) END)
                          OVER (PARTITION BY sid) AS upgrade_at
            FROM seen
        )
        SELECT sid,
               first(kind ORDER BY capture, record_index) FILTER (WHERE kind IS NOT NULL),
               last(kind ORDER BY capture, record_index) FILTER (
                   WHERE kind IS NOT NULL AND (upgrade_at IS NULL OR is_upgrade
                         OR (capture, record_index) <= upgrade_at)),
               bool_or(is_handshake),
               sid IN (SELECT sid FROM probes),
               bool_or(is_upgrade),
               first([tag_client_kind, tag_client_name, tag_client_version, tag_client_os,
                      tag_client_device] ORDER BY capture, record_index)
                   FILTER (WHERE tag_client_name IS NOT NULL),
               any_value(ends.end_reason),
               any_value(closes.how),
               coalesce(any_value(ends.continued), false)
        FROM ordered LEFT JOIN ends USING (sid) LEFT JOIN closes USING (sid)
        GROUP BY sid ORDER BY sid
        """
    )
    return [
        SessionFacts(
            first=first,
            last=last,
            handshake=bool(handshake),
            probed=bool(probed),
            upgraded=bool(upgraded),
            client=tuple(client) if client is not None else None,
            end=end or "unknown",
            transport_close=_how(close),
            seen_again=bool(continued) and end == EVICTED,
        )
        for _sid, first, last, handshake, probed, upgraded, client, end, close, continued in found
    ]


def _how(close: list[Any] | None) -> str | None:
    """How a transport closed, from ``[transport, code, message, direction]``."""
    if close is None:
        return None
    transport, code, message, direction = close
    number = int(code) if code is not None else None
    return transport_close_how(transport, number, message, direction)


def _errors(rows: Any) -> dict[str, Any]:
    """``errors`` by kind and ``error_reasons`` by (kind, reason), as ``_error`` counts
    them: reasons are stripped and cut to 200 characters here, in Python, as there."""
    found: list[tuple[str, str, int]] = rows(
        """
        SELECT coalesce(tag_error_kind, 'decode'), rule, count(*) FROM errors GROUP BY ALL
        UNION ALL
        SELECT tag_error_kind, coalesce(tag_error_reason, ''), count(*) FROM engineio
        WHERE type <> 'http-error' AND tag_error_kind IS NOT NULL GROUP BY ALL
        UNION ALL
        SELECT coalesce(tag_error_kind, 'http'),
               'HTTP ' || status || ' ' || coalesce(message, ''), count(*)
        FROM engineio WHERE type = 'http-error' GROUP BY ALL
        UNION ALL
        SELECT 'connect-error', tag_error_reason, count(*) FROM socketio
        WHERE type IN ('CONNECT_ERROR', 'ERROR') AND tag_error_reason IS NOT NULL
        GROUP BY ALL
        """
    )
    for data, count in rows(
        "SELECT data, count(*) FROM socketio "
        "WHERE type IN ('CONNECT_ERROR', 'ERROR') AND tag_error_reason IS NULL GROUP BY ALL"
    ):
        value = json.loads(data) if data is not None else None
        reason = value.get("message") if isinstance(value, dict) else value
        found.append(("connect-error", str(reason), count))
    errors: Counter[str] = Counter()
    reasons: Counter[tuple[str, str]] = Counter()
    for kind, reason, count in found:
        errors[kind] += count
        reasons[(kind, reason.strip()[:200])] += count
    return {"errors": errors, "error_reasons": reasons}
