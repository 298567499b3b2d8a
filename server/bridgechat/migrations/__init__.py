"""Alembic revisions of the store's schema; StoreBase applies them on start."""
