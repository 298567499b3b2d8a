"""The member page's files, compressed once and kept in memory.

Why not compress per request: the page is small and the same for everyone,
so gzip runs once per file version (at level 9) and every later request is
a dictionary lookup. A changed file on disk is noticed by its mtime and size.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

# Some distributions map .js to application/javascript or nothing at all.
mimetypes.add_type("text/javascript", ".js")
mimetypes.add_type("application/json", ".json")
mimetypes.add_type("image/svg+xml", ".svg")
COMPRESSIBLE = {".html", ".js", ".css", ".json", ".svg", ".txt"}


@dataclass(frozen=True, slots=True)
class Entry:
    stamp: tuple[int, int]
    body: bytes
    gz: bytes | None
    etag: str
    content_type: str


class StaticFiles:
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.cache: dict[Path, Entry] = {}

    def entry(self, tail: str) -> Entry | None:
        try:
            path = (self.root / (tail or "index.html")).resolve()
            if not path.is_relative_to(self.root) or not path.is_file():
                return None
            st = path.stat()
        except (ValueError, OSError):  # a NUL byte, a name too long: no such file either
            return None
        stamp = (st.st_mtime_ns, st.st_size)
        cached = self.cache.get(path)
        if cached is not None and cached.stamp == stamp:
            return cached
        body = path.read_bytes()
        gz = gzip.compress(body, 9, mtime=0) if path.suffix in COMPRESSIBLE else None
        ctype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        if ctype.startswith("text/") or ctype in {"application/json", "image/svg+xml"}:
            ctype += "; charset=utf-8"
        entry = Entry(stamp, body, gz if gz is not None and len(gz) < len(body) else None,
                      '"' + hashlib.sha256(body).hexdigest()[:20] + '"', ctype)
        self.cache[path] = entry
        return entry

    async def handle(self, request: web.Request) -> web.Response:
        return self.respond(request, request.match_info.get("tail", ""))

    def respond(self, request: web.Request, tail: str) -> web.Response:
        """The file `tail` as the answer to `request` (also for pages at other paths, such
        as an event's /e/{slug}, which is client_web/event.html)."""
        entry = self.entry(tail)
        if entry is None:
            raise web.HTTPNotFound(text="Not found.")
        headers = {"Cache-Control": "no-cache", "ETag": entry.etag, "Vary": "Accept-Encoding",
                   "Content-Type": entry.content_type}
        if request.headers.get("If-None-Match") == entry.etag:
            return web.Response(status=304, headers=headers)
        if entry.gz is not None and "gzip" in request.headers.get("Accept-Encoding", ""):
            headers["Content-Encoding"] = "gzip"
            return web.Response(body=entry.gz, headers=headers)
        return web.Response(body=entry.body, headers=headers)
