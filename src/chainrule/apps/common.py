"""Helpers shared by the command-line applications."""

from __future__ import annotations

from pathlib import Path

from ..errors import UserError


def output_folder(path):
    """``path`` as a folder that exists (created with its parents when missing)."""
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {path}: exists and is not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UserError(f"--out {path}: cannot create the folder: {e.strerror or e}") from None
    return out
