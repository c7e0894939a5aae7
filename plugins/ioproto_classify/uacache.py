"""A file of the User-Agents already identified, so that a later run need not load ua-parser.

Loading ua-parser's ~1,300 regular expressions costs about 0.1 s, a third of decoding a
small capture, and a run meets few distinct User-Agents, mostly the same from one run to
the next. :class:`KnownClients` keeps what :func:`~.useragent.identify` answered for each
(the five fields of a ``ClientInfo``) in a JSON file, read on the first identification of
a run and written back, merged with the file as it then is, when the classifier closes.

Where: ``$IOPROTO_CACHE_DIR``, else ``$XDG_CACHE_HOME/ioproto``, else ``~/.cache/ioproto``;
``IOPROTO_CACHE_DIR=off`` (or empty) turns the file off. Its name carries a digest of what
the answers depend on (the rules of :mod:`.useragent` and the installed ua-parser and its
regex list, by size and modification time), so a change of either starts a new file and
removes the old ones.

Contract: the answers are the same with the file as without it; the file never fails a
run (an unreadable, malformed or foreign file is ignored, an unwritable directory leaves
it unwritten); it holds at most :data:`MAX_FILE_BYTES` (User-Agents are untrusted input,
cut to 512 characters before they get here; once full, new ones are answered but not
kept); it is replaced atomically, so concurrent runs lose at most each other's additions.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import zlib
from collections.abc import Sequence
from importlib.util import find_spec
from pathlib import Path

#: The largest cache file written, in bytes: about 1,000 browser User-Agents.
MAX_FILE_BYTES = 256 * 1024

#: Bumped when the file's layout changes.
FORMAT = 1

#: The fields of a cached answer, in order (``ClientInfo``'s).
FIELDS = ("kind", "name", "version", "os", "device")

_PREFIX = "useragents-"

Answer = tuple[str, str, str | None, str | None, str | None]


def cache_directory() -> Path | None:
    """The directory of the file, or ``None`` when the user turned it off."""
    configured = os.environ.get("IOPROTO_CACHE_DIR")
    if configured is not None:
        if configured.strip() in ("", "off"):
            return None
        return Path(configured).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "ioproto"


def rules_digest() -> str:
    """A digest of what identification depends on: the rules module's source and the
    installed ua-parser packages (the size and modification time of their files)."""
    parts = [f"format {FORMAT}".encode()]
    rules = Path(__file__).with_name("useragent.py")
    try:
        parts.append(rules.read_bytes())
    except OSError:
        parts.append(b"no rules file")
    for package in ("ua_parser", "ua_parser_builtins"):
        folder = _package_folder(package)
        parts.append(f"{package}:".encode())
        if folder is None:
            continue
        try:
            for name in sorted(name for name in os.listdir(folder) if name.endswith(".py")):
                stat = os.stat(os.path.join(folder, name))
                parts.append(f"{name} {stat.st_size} {stat.st_mtime_ns};".encode())
        except OSError:
            parts.append(b"unreadable")
    # A file name, not a security boundary: two checksums (zlib is loaded anyway; hashlib
    # would load OpenSSL, 3 ms of a run).
    text = b"\n".join(parts)
    return f"{zlib.crc32(text):08x}{zlib.adler32(text):08x}"


def _package_folder(package: str) -> str | None:
    """The folder of an installed top-level package, found without importing it."""
    try:
        spec = find_spec(package)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return next(iter(spec.submodule_search_locations), None)


class KnownClients:
    """The cached answers of one run: :meth:`get` before parsing, :meth:`add` after,
    :meth:`save` at the end (see the module docstring)."""

    def __init__(self, directory: Path | None = None, digest: str | None = None) -> None:
        self._directory = directory
        self._digest = digest
        self._loaded = False
        self._answers: dict[str, Answer] = {}
        self._added: dict[str, Answer] = {}
        self._added_bytes = 0  # as written: what cannot fit in the file is not held either

    @property
    def path(self) -> Path | None:
        """The file, or ``None`` when caching is off."""
        if self._directory is None:
            self._directory = cache_directory()
            if self._directory is None:
                return None
        if self._digest is None:
            self._digest = rules_digest()
        return self._directory / f"{_PREFIX}{self._digest}.json"

    def get(self, user_agent: str) -> Answer | None:
        """The cached answer for ``user_agent``, if any."""
        self._load()
        return self._answers.get(user_agent)

    def add(self, user_agent: str, answer: Sequence[str | None]) -> None:
        """Remember ``answer`` (the five fields) for ``user_agent``, to be saved."""
        self._load()
        if user_agent in self._answers or not _encodable(user_agent):
            return
        kept = _answer(list(answer))
        if kept is None:
            return
        size = len(_entry(user_agent, kept).encode()) + 1  # and a comma
        if self._added_bytes + size > MAX_FILE_BYTES:
            return  # a long live run meeting endless new agents holds no more than a file
        self._added_bytes += size
        self._answers[user_agent] = kept
        self._added[user_agent] = kept

    def _load(self) -> None:
        """Read the file, once."""
        if not self._loaded:
            self._loaded = True
            path = self.path
            if path is not None:
                self._answers = _read(path)

    def save(self) -> None:
        """Write what this run added, merged with the file as it is now, atomically; within
        :data:`MAX_FILE_BYTES` (what does not fit is left out). Never raises."""
        if not self._added:
            return
        path = self.path
        added, self._added, self._added_bytes = self._added, {}, 0
        if path is None:
            return
        try:
            merged = _read(path)
            size = len(_encode(merged).encode())
            changed = False
            for user_agent, answer in added.items():
                if user_agent in merged:
                    continue
                size += len(_entry(user_agent, answer).encode()) + 1
                if size > MAX_FILE_BYTES:
                    break
                merged[user_agent] = answer
                changed = True
            if not changed:
                return
            text = _encode(merged)
            path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(prefix=".useragents-", dir=path.parent)
            try:
                with os.fdopen(handle, "w", encoding="utf-8") as stream:
                    stream.write(text)
                os.replace(temporary, path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(temporary)
                raise
            _remove_stale(path)
        except (OSError, ValueError):
            pass  # a cache: a run is never worse off for not writing it


def _read(path: Path) -> dict[str, Answer]:
    """The answers of the file at ``path``; nothing when it is missing, too large or not
    one this module wrote."""
    try:
        with open(path, "rb") as stream:
            data = stream.read(MAX_FILE_BYTES + 1)
        if len(data) > MAX_FILE_BYTES:
            return {}
        document = json.loads(data)
    except (OSError, ValueError):
        return {}
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        return {}
    entries = document.get("clients")
    if not isinstance(entries, dict):
        return {}
    answers: dict[str, Answer] = {}
    for user_agent, fields in entries.items():
        answer = _answer(fields)
        if answer is None:
            return {}  # not what this module writes: trust none of it
        answers[user_agent] = answer
    return answers


def _answer(fields: object) -> Answer | None:
    """``fields`` as an answer, or ``None`` when they are not five strings or nulls, the
    first two strings."""
    if not isinstance(fields, list) or len(fields) != len(FIELDS):
        return None
    kind, name, version, os_name, device = fields
    if not isinstance(kind, str) or not isinstance(name, str):
        return None
    if not all(value is None or isinstance(value, str) for value in (version, os_name, device)):
        return None
    return (kind, name, version, os_name, device)


def _encode(answers: dict[str, Answer]) -> str:
    return json.dumps(
        {"format": FORMAT, "clients": {key: list(value) for key, value in answers.items()}},
        ensure_ascii=False,
        separators=(",", ":"),
    )


def _encodable(text: str) -> bool:
    """Whether ``text`` can be written as UTF-8 (a header decoded with surrogate escapes
    cannot)."""
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def _entry(user_agent: str, answer: Answer) -> str:
    """How :func:`_encode` writes one answer (to count its bytes)."""
    return json.dumps({user_agent: list(answer)}, ensure_ascii=False, separators=(",", ":"))[1:-1]


def _remove_stale(current: Path) -> None:
    """Remove the files of other digests (another ua-parser or other rules)."""
    for other in current.parent.glob(f"{_PREFIX}*.json"):
        if other != current:
            with contextlib.suppress(OSError):
                other.unlink()
