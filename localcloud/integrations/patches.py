"""Replace attributes of moto's classes and put the originals back, in reverse order."""

from __future__ import annotations

from typing import Any

_MISSING = object()


class Patches:
    def __init__(self) -> None:
        self._originals: list[tuple[Any, str, Any]] = []

    def replace(self, owner: Any, name: str, value: Any) -> Any:
        """Set ``owner.name = value``; returns what was there (the original, for wrappers to call)."""
        original = getattr(owner, name)
        self._originals.append((owner, name, owner.__dict__.get(name, _MISSING)))
        setattr(owner, name, value)
        return original

    def restore(self) -> None:
        while self._originals:
            owner, name, original = self._originals.pop()
            if original is _MISSING:
                delattr(owner, name)
            else:
                setattr(owner, name, original)
