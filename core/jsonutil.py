"""Turn computed results into strict JSON (no NaN, no numpy scalars).

PostgreSQL's ``json`` type refuses ``NaN``; every JSON column goes through
:func:`dumps`, so a profile with a missing mean stores ``null`` everywhere.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import enum
import hashlib
import json
import math
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["to_jsonable", "dumps", "loads", "canonical_sha"]


def to_jsonable(obj: Any) -> Any:
    """Recursively convert ``obj`` into plain JSON types; NaN and inf become ``None``."""
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, (int, np.integer)) and not isinstance(obj, bool):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        value = float(obj)
        return value if math.isfinite(value) else None
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set, frozenset)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return [to_jsonable(v) for v in obj.tolist()]
    if isinstance(obj, (pd.Timestamp, _dt.datetime, _dt.date)):
        return None if pd.isna(obj) else obj.isoformat()
    if isinstance(obj, (pd.Timedelta, _dt.timedelta)):
        return None if pd.isna(obj) else pd.Timedelta(obj).isoformat()
    if obj is pd.NaT or obj is pd.NA:
        return None
    if isinstance(obj, enum.Enum):
        return to_jsonable(obj.value)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        if hasattr(obj, "to_dict"):
            return to_jsonable(obj.to_dict())
        return to_jsonable(dataclasses.asdict(obj))
    if hasattr(obj, "item"):
        try:
            return to_jsonable(obj.item())
        except (ValueError, TypeError):
            pass
    return str(obj)


def dumps(obj: Any, **kwargs: Any) -> str:
    return json.dumps(to_jsonable(obj), allow_nan=False, ensure_ascii=False, **kwargs)


def loads(text: str | bytes) -> Any:
    return json.loads(text)


def canonical_sha(obj: Any) -> str:
    """sha256 of the canonical JSON of ``obj`` (sorted keys, no spaces)."""
    text = json.dumps(to_jsonable(obj), sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
