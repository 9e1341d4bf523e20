"""Rows of the op table for losses (see ops_table.py)."""
OPS = []
ERRORS = []
