"""Deprecated alias of :mod:`inventory_core.opening.maintenance`, removed in the next release."""

from __future__ import annotations

import sys
import warnings

from inventory_core.opening import maintenance as _moved

warnings.warn(
    f"{__name__} moved to {_moved.__name__}; this alias is removed in the next release",
    DeprecationWarning,
    stacklevel=2,
)
sys.modules[__name__] = _moved
