"""Rows of the op table for activations (see ops_table.py)."""
OPS = []
ERRORS = []
