"""The store: what is kept on disk. See base.py for what that is and is not."""

from bridgechat.store.base import sqlite_url
from bridgechat.store.events import EventStore
from bridgechat.store.members import Block, Member, MemberStore, PromptRow, hash_token
from bridgechat.store.moderation import ModerationStore
from bridgechat.store.records import RecordStore
from bridgechat.store.report_life import ReportLifeStore
from bridgechat.store.shifts import ShiftStore


class Store(MemberStore, ModerationStore, RecordStore, ReportLifeStore,
            ShiftStore, EventStore):
    """Every table and method of the store, on one engine."""


__all__ = ["Block", "Member", "PromptRow", "Store", "hash_token", "sqlite_url"]
