"""Rows of the op table for dropout (see ops_table.py)."""
OPS = []
ERRORS = []
