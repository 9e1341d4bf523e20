"""Ctrl-C that waits for a lazy import or a first compilation to finish.

A KeyboardInterrupt raised half-way through ``import numba`` (or the imports Numba
itself does lazily during its first compilation) leaves modules in ``sys.modules``
that their parent package never got as attributes: every later kernel call in the
process then fails (``module 'numba' has no attribute 'core'``). Inside
:func:`sigint_deferred` a SIGINT is only recorded; it is raised as usual the
moment the block ends, so the interrupt still arrives, just not mid-import.

>>> from fastnn._interrupts import sigint_deferred
>>> with sigint_deferred():
...     import json
"""
import contextlib
import os
import signal
import threading

__all__ = ["sigint_deferred"]

_depth = 0      # nesting in the main thread: only the outermost block swaps handlers


@contextlib.contextmanager
def sigint_deferred():
    """Run the block with SIGINT recorded, then delivered when the block ends.

    Only the main thread receives KeyboardInterrupt, so elsewhere (and where
    Python does not own the SIGINT handler) the block simply runs.
    """
    global _depth
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    if _depth:              # an outer block already defers
        _depth += 1
        try:
            yield
        finally:
            _depth -= 1
        return
    old = signal.getsignal(signal.SIGINT)
    if old is None or old == signal.SIG_IGN:    # not Python's to defer, or ignored anyway
        yield
        return
    caught = []
    try:
        signal.signal(signal.SIGINT, lambda signum, frame: caught.append(frame))
    except ValueError:      # not the main interpreter
        yield
        return
    _depth = 1
    try:
        yield
    finally:
        _depth = 0
        signal.signal(signal.SIGINT, old)
        if caught:
            if callable(old):
                old(signal.SIGINT, caught[0])       # default_int_handler: KeyboardInterrupt
            elif old == signal.SIG_DFL:
                os.kill(os.getpid(), signal.SIGINT)
