"""Matching: tickets in, groups with reasons out (pure)."""

from bridgechat.matching.model import *  # noqa: F403
