"""One exception family for everything a user can cause.

Every message says what is wrong and what to do about it. Pages catch only
:class:`AssayError` and show its message; anything else is a bug.
"""

from __future__ import annotations

__all__ = [
    "AssayError",
    "InputError",
    "ValidationError",
    "NotFoundError",
    "ConflictError",
    "StoreError",
    "JobError",
    "param_error",
]


class AssayError(Exception):
    """Base class: a problem the user can understand and act on."""

    def __init__(self, message: str, *, hint: str | None = None):
        self.message = message
        self.hint = hint
        super().__init__(message if not hint else f"{message} {hint}")


class InputError(AssayError):
    """A file, query or value given by the user cannot be used as it is."""


class ValidationError(AssayError):
    """A parameter or combination of parameters is not allowed."""


class NotFoundError(AssayError):
    """A project, dataset, job or model does not exist (any more)."""


class ConflictError(AssayError):
    """A name is taken, or someone else changed the same thing first."""


class StoreError(AssayError):
    """The store cannot be read or written (disk full, read-only file, ...)."""


class JobError(AssayError):
    """A background job cannot be started, or failed."""


def param_error(owner: str, name: str, allowed: object, got: object) -> ValidationError:
    """Build a message in scikit-learn's style.

    >>> str(param_error("Impute", "strategy", ["mean", "median"], "avg"))
    "The 'strategy' parameter of Impute must be one of ['mean', 'median']. Got 'avg' instead."
    """
    if isinstance(allowed, (list, tuple)):
        allowed_text = f"one of {list(allowed)!r}"
    else:
        allowed_text = str(allowed)
    return ValidationError(
        f"The {name!r} parameter of {owner} must be {allowed_text}. Got {got!r} instead."
    )
