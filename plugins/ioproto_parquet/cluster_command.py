"""``ioproto cluster``: ``decode --sink parquet:OUT`` and ``stats --from OUT`` on Dask."""

from __future__ import annotations

import contextlib
import logging
import signal
import sys
from collections.abc import Iterator, Sequence
from typing import Any

import click

from ioproto.cli.mistakes import Mistake
from ioproto.cli.options import decode_options, input_options


@click.command("cluster")
@input_options
@decode_options
@click.option(
    "--out",
    required=True,
    metavar="DIR",
    help="Output directory, the same path on every worker (a shared file system).",
)
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    help="The Dask scheduler to use, e.g. tcp://10.0.0.5:8786.",
)
@click.option(
    "--local-workers",
    type=click.IntRange(1),
    metavar="N",
    help="Instead of --scheduler: start a Dask cluster of N worker processes here.",
)
@click.option(
    "--sink-option",
    "sink_options",
    multiple=True,
    metavar="parquet.KEY=VALUE",
    help="Option for the parquet sink (repeatable).",
)
@click.option(
    "--stats/--no-stats",
    default=True,
    show_default=True,
    help="Then compute the stats report from OUT on a worker.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "md"]),
    default="text",
    show_default=True,
    help="Format of the stats report.",
)
def cluster_command(
    out: str,
    scheduler: str | None,
    local_workers: int | None,
    stats: bool,
    fmt: str,
    inputs: Sequence[str],
    **params: Any,
) -> None:
    """Decode each INPUT to Parquet on a Dask cluster, one task per capture, then print the
    stats report computed there. Needs `pip install 'ioproto[cluster]'` (Dask).

    Every worker must see INPUT and OUT at the same paths. Captures already complete in
    OUT are skipped, so a failed or interrupted job is finished by running it again.

    \b
    Examples:
      ioproto cluster --local-workers 2 --out archive/ captures/*.pcap
      ioproto cluster --scheduler tcp://10.0.0.5:8786 --out /shared/archive \\
          /shared/captures/*.pcap
    """
    from .cluster import decode_arguments, decode_on_cluster, stats_on_cluster

    if (scheduler is None) == (local_workers is None):
        raise click.UsageError("give --scheduler ADDRESS or --local-workers N")
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise click.UsageError(
            "ioproto cluster needs Dask: pip install 'ioproto[cluster]' (or distributed)"
        ) from None
    arguments = decode_arguments({**params, "sink_options": params.get("sink_options")})
    with _client(scheduler, local_workers) as client:
        try:
            results = decode_on_cluster(client, inputs, out, arguments)
        except KeyboardInterrupt:
            # Ctrl-C ends the command quietly (status 130): the tasks' futures, cancelled,
            # would each log "Task exception was never retrieved" with a traceback.
            for name in ("asyncio", "distributed"):
                logging.getLogger(name).disabled = True
            raise
        mistakes = _mistakes(results)
        if mistakes:
            raise Mistake(" / ".join(mistakes))
        # An input its source could not read has its error record stored, complete: said
        # (its line), status 1, but nothing to run again, as with decode.
        failed = [result for result in results if result.returncode != 0 and not result.complete]
        unreadable = any(result.returncode != 0 and result.complete for result in results)
        for result in results:
            line = result.message or result.input  # the decode's own, "ioproto: …"
            click.echo(line if line.startswith("ioproto: ") else f"ioproto: {line}", err=True)
        if failed:
            raise click.ClickException(
                f"{len(failed)} of {len(results)} inputs failed; run the same command "
                "again to finish them (completed inputs are skipped)"
            )
        if stats:
            code, report, errors = stats_on_cluster(client, [out], fmt=fmt)
            sys.stderr.write(errors)
            if code != 0:
                raise click.ClickException("the stats report failed on the cluster")
            sys.stdout.write(report)
    if unreadable:
        sys.exit(1)


#: The exit status of ``ioproto decode`` for the user's mistake.
_MISTAKE = 2


def _mistakes(results: Sequence[Any]) -> list[str]:
    """The distinct mistakes the tasks' decodes refused (the same option refused by every
    task is said once), in the words of ``ioproto cluster``: the run's options are yours,
    not a failure to run again."""
    said: dict[str, None] = {}
    for result in results:
        if result.returncode == _MISTAKE and result.message:
            text = result.message.removeprefix("ioproto: error: ")
            said[text.replace("'ioproto decode --help'", "'ioproto cluster --help'")] = None
    return list(said)


@contextlib.contextmanager
def _client(scheduler: str | None, local_workers: int | None) -> Iterator[Any]:
    import distributed

    # distributed's own annotations are partial: use its classes untyped.
    Client: Any = distributed.Client
    LocalCluster: Any = distributed.LocalCluster
    if scheduler is not None:
        from .reach import unreachable

        why = unreachable(scheduler)
        if why is not None:
            raise click.UsageError(f"cannot reach the Dask scheduler {scheduler}: {why}")
        try:
            client = Client(scheduler, timeout="20s")
        except OSError as exc:
            raise click.UsageError(f"cannot reach the Dask scheduler {scheduler}: {exc}") from None
        except (ValueError, TypeError) as exc:  # not an address Dask reads (no port, http://)
            raise click.UsageError(
                f"--scheduler {scheduler!r} is not a scheduler's address ({exc}); give one "
                "as tcp://HOST:PORT (the scheduler's port, 8786 by default)"
            ) from None
        with client:
            yield client
        return
    # The workers are started ignoring Ctrl-C (SIG_IGN is what a child keeps; they are
    # spawned by distributed's own thread, so a blocked mask here would not reach them):
    # the terminal sends Ctrl-C to the whole process group, and each worker would print
    # its KeyboardInterrupt; ioproto ends them as it ends. The cost: a Ctrl-C while they
    # start (about a second) is lost.
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        cluster = LocalCluster(
            n_workers=local_workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address="127.0.0.1:0",  # its HTTP server on a free port, never 8787
            host="127.0.0.1",  # a cluster for this machine only, on free ports
            scheduler_port=0,
            # Not the workers' warnings of tasks cancelled as the command ends (Ctrl-C).
            silence_logs=logging.ERROR,
        )
    finally:
        signal.signal(signal.SIGINT, previous)
    with cluster, Client(cluster) as client:
        yield client
