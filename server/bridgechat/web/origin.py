"""Which pages may open a connection or call the API: the Origin check."""

from __future__ import annotations

from aiohttp import web

from bridgechat.settings import Settings


def origin_allowed(request: web.Request, settings: Settings, *, missing_ok: bool) -> bool:
    origin = request.headers.get("Origin")
    if origin is None:
        return missing_ok
    allowed = {f"{request.scheme}://{request.host}".lower(), *settings.allowed_origins}
    if settings.public_url:
        allowed.add(settings.public_url.rstrip("/").lower())
    return origin.rstrip("/").lower() in allowed
