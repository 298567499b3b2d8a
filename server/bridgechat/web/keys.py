"""The application's typed keys, in a module of their own so that the moderation and
privacy packages can take them without importing the member handlers."""

from __future__ import annotations

from aiohttp import web

from bridgechat.node import Node
from bridgechat.settings import Settings
from bridgechat.web.gate import Gate

NODE = web.AppKey("node", Node)
SETTINGS = web.AppKey("settings", Settings)
GATE = web.AppKey("gate", Gate)
SOCKETS: web.AppKey[set[web.WebSocketResponse]] = web.AppKey("sockets")
