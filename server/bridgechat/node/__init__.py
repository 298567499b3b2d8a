"""The node: this process's parts, composed (see node.py)."""

from bridgechat.node.node import Node

__all__ = ["Node"]
