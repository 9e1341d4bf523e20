"""Functions and classes named by their import path ("package.module:qualname"), so a
model can travel between processes as data: the receiver imports the name, and
nothing in the data is executed."""
import importlib

__all__ = ["import_path", "import_by_path"]


def import_path(obj, what):
    """"module:qualname" of an importable function or class.

    Raises:
        TypeError: ``obj`` cannot be imported by name elsewhere (a lambda, a local
            function, something defined in ``__main__``).

    >>> import_path(import_by_path, "factory")
    'fastnn._importpath:import_by_path'
    """
    mod, qual = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
    if not mod or not qual or "<" in qual or mod == "__main__":
        raise TypeError(f"{what} must be importable by name in the worker processes (a "
                        f"function or class defined at the top level of a module, not in "
                        f"__main__, not a lambda or a local function), got {obj!r}.")
    return f"{mod}:{qual}"


def import_by_path(path):
    """The object an ``import_path`` string names (imports its module)."""
    mod, sep, qual = path.partition(":")
    if not sep or not mod or not qual:
        raise ValueError(f"import_by_path: expected 'package.module:name', got {path!r}.")
    obj = importlib.import_module(mod)
    for part in qual.split("."):
        obj = getattr(obj, part)
    return obj
