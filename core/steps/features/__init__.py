"""Feature steps: fitted on training rows only, replayed on new rows with what they learned.

Each module registers its step kinds (``stage = "feature"``); ``base`` holds what
they share (column-kind checks, new-column names, the replay kernels' helpers).
"""

from core.steps.features import (  # noqa: F401  (each module registers its steps)
    categorical,
    dates,
    derived,
    groups,
    missing,
    numeric,
    selection,
    text,
    timeseries,
)
