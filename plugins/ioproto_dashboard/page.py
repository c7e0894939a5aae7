"""The page's files (shipped in the package, no build step) and the static report.

:data:`STATIC_FILES` is the whole list of files the server may send; ``index.html`` names
them as ``static/NAME``. :func:`export_html` inlines every script and style into one page
and embeds the data as JSON, so the report opens from disk, offline. Its
Content-Security-Policy allows exactly its own inline scripts (by hash), so nothing in the
embedded data can ever run.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from functools import cache
from importlib import resources
from typing import Any

#: name -> content type; vendored files live in ``static/vendor/``.
STATIC_FILES = {
    "dashboard.css": "text/css",
    "format.js": "text/javascript",
    "data.js": "text/javascript",
    "charts.js": "text/javascript",
    "views.js": "text/javascript",
    "packets.js": "text/javascript",
    "app.js": "text/javascript",
    "uPlot.iife.min.js": "text/javascript",
    "uPlot.min.css": "text/css",
}
_VENDORED = frozenset({"uPlot.iife.min.js", "uPlot.min.css"})
_SCRIPT = re.compile(r'<script src="static/([^"]+)"></script>')
_STYLE = re.compile(r'<link rel="stylesheet" href="static/([^"]+)">')


def _file(relative: str) -> bytes:
    return (resources.files(__package__) / "static" / relative).read_bytes()


@cache
def static_bytes(name: str) -> bytes:
    """The bytes of the static file ``name`` (one of :data:`STATIC_FILES`)."""
    if name not in STATIC_FILES:
        raise KeyError(name)
    return _file(f"vendor/{name}" if name in _VENDORED else name)


@cache
def index_html() -> bytes:
    return _file("index.html")


def embed_json(data: Any) -> str:
    """``data`` as JSON that is safe inside a ``<script type="application/json">``: no
    ``<``, ``>``, ``&`` or line separators appear literally, so the text cannot end the
    element or be read as markup."""
    text = json.dumps(data, ensure_ascii=True, separators=(",", ":"), allow_nan=False, default=str)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def export_html(data: dict[str, Any]) -> str:
    """The self-contained report page for ``data`` (:meth:`.hub.Hub.export_data`)."""
    page = index_html().decode()
    scripts: list[str] = []
    styles: list[str] = []

    def inline_script(match: re.Match[str]) -> str:
        code = static_bytes(match.group(1)).decode()
        if "</script" in code.lower():
            raise ValueError(f"{match.group(1)} cannot be inlined: it contains </script")
        scripts.append(code)
        return f"<script>{code}</script>"

    def inline_style(match: re.Match[str]) -> str:
        css = static_bytes(match.group(1)).decode()
        styles.append(css)
        return f"<style>{css}</style>"

    page = _STYLE.sub(inline_style, page)
    first_script = page.index('<script src="static/')
    page = (
        page[:first_script]
        + f'<script type="application/json" id="ioproto-data">{embed_json(data)}</script>\n'
        + _SCRIPT.sub(inline_script, page[first_script:])
    )
    policy = (
        "default-src 'none'; img-src data:; base-uri 'none'; form-action 'none'; "
        f"script-src {' '.join(_sha256(code) for code in scripts)}; "
        f"style-src {' '.join(_sha256(css) for css in styles)}"
    )
    meta = f'<meta http-equiv="Content-Security-Policy" content="{policy}">'
    page = page.replace('<meta charset="utf-8">', '<meta charset="utf-8">\n' + meta, 1)
    return page.replace("<title>ioproto dashboard</title>", "<title>ioproto report</title>", 1)
