"""The base of the hierarchy: :class:`InventoryError` and how its message is rendered."""

from __future__ import annotations

from typing import Any, ClassVar

from inventory_core.errors.i18n import Steps, Text, current_language


class _Missing(dict[str, Any]):
    """A format map that leaves unknown placeholders visible instead of failing."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


class InventoryError(Exception):
    """Base of every error raised by inventory_core."""

    code: ClassVar[str] = "INV_000"
    title: ClassVar[Text] = Text("inventory_core error")
    template: ClassVar[Text] = Text("An unexpected error occurred: {detail}")
    steps: ClassVar[Steps] = Steps(
        Text("Run the command again with --debug and report the output."),
    )
    runbook: ClassVar[str | None] = None

    def __init__(self, detail: str | None = None, /, **context: Any) -> None:
        self.detail = detail or ""
        self.context: dict[str, Any] = dict(context)
        super().__init__(self.message)

    def _values(self) -> _Missing:
        values = _Missing(self.context)
        values.setdefault("detail", self.detail)
        return values

    @property
    def message(self) -> str:
        """The message in the current language, with the context filled in."""
        return self.template[current_language()].format_map(self._values())

    @property
    def recovery_steps(self) -> list[str]:
        """What the user can do about it, in the current language."""
        values = self._values()
        return [step.format_map(values) for step in self.steps[current_language()]]

    def __str__(self) -> str:
        return f"[{self.code}] {self.message}"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly view: code, message, steps and context."""
        return {
            "code": self.code,
            "error": type(self).__name__,
            "message": self.message,
            "recovery_steps": self.recovery_steps,
            "context": {k: _jsonable(v) for k, v in self.context.items()},
        }


def _jsonable(value: Any) -> Any:
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def catalogue() -> list[type[InventoryError]]:
    """Every error class, sorted by code (what docs/errors.md documents)."""
    seen: list[type[InventoryError]] = []
    stack: list[type[InventoryError]] = [InventoryError]
    while stack:
        cls = stack.pop()
        seen.append(cls)
        stack.extend(cls.__subclasses__())
    return sorted(set(seen), key=lambda c: c.code)


__all__ = ["InventoryError", "catalogue"]
