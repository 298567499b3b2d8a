"""Bridgechat: pairs strangers across social divides on a prompt they both chose."""

__version__ = "0.1.0"
