"""Importing optional dependencies with an error that says which extra to install."""

from __future__ import annotations

import importlib

from .errors import UserError


class MissingExtraError(UserError, ImportError):
    """An optional dependency is not installed; the message names the ``pip install`` to run."""


def require(module: str, extra: str, purpose: str):
    """Import ``module`` or raise :class:`MissingExtraError` naming the extra that provides it.

    Parameters
    ----------
    module : str
        Module to import, e.g. ``"sklearn.datasets"``.
    extra : str
        The chainrule extra that installs it, e.g. ``"data"``.
    purpose : str
        What needs it, for the message, e.g. ``"the 8x8 digits data set"``.
    """
    try:
        return importlib.import_module(module)
    except ImportError as e:
        top = module.split(".")[0]
        raise MissingExtraError(
            f"{purpose} needs the optional package {top!r}, which is not installed; "
            f'run: pip install "chainrule[{extra}]"'
        ) from e
