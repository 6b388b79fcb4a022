"""A small variable scanner for the lint rules: which names a word refers to,
and its value under a set of defaults.

It follows BuildKit's word rules closely enough for linting (escape
character, single quotes switch expansion off, ``$name`` and ``${name…}``
with nested words); the build itself uses :mod:`hoist.dockerfile.shell`.
"""

from __future__ import annotations

from collections.abc import Mapping

import msgspec

_NAME_START = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_"
_NAME_CHARS = _NAME_START + "0123456789"
_MODIFIERS = (":-", ":+", ":?", "-", "+", "?", "##", "#", "%%", "%", "//", "/")


class Ref(msgspec.Struct, frozen=True):
    """A reference to ``name``; ``plain`` when it has no default-like modifier
    (``$x``, ``${x}``, ``${x#p}``…), so an unset ``x`` goes unnoticed."""

    name: str
    plain: bool


def scan(word: str, env: Mapping[str, str], escape: str = "\\") -> tuple[str, list[Ref]]:
    """Return ``word`` expanded against ``env`` and the references in it, in order."""
    out: list[str] = []
    refs: list[Ref] = []
    _Scanner(word, env, escape, refs).run(out, stop="")
    return "".join(out), refs


class _Scanner:
    __slots__ = ("env", "escape", "pos", "refs", "text")

    def __init__(self, text: str, env: Mapping[str, str], escape: str, refs: list[Ref]) -> None:
        self.text, self.env, self.escape, self.refs = text, env, escape, refs
        self.pos = 0

    def run(self, out: list[str], stop: str) -> None:
        """Expand until ``stop`` (unconsumed) or the end, appending to ``out``."""
        quote = ""
        while self.pos < len(self.text):
            ch = self.text[self.pos]
            if not quote and ch in stop:
                return
            self.pos += 1
            if ch == self.escape and self.pos < len(self.text) and quote != "'":
                out.append(self.text[self.pos])
                self.pos += 1
            elif ch in "'\"" and quote in ("", ch):
                quote = "" if quote else ch
            elif ch == "$" and quote != "'":
                out.append(self._dollar())
            else:
                out.append(ch)

    def _dollar(self) -> str:
        if self.text.startswith("{", self.pos):
            self.pos += 1
            return self._braced()
        name = self._name()
        if not name:
            return "$"
        self.refs.append(Ref(name, True))
        return self.env.get(name, "")

    def _name(self) -> str:
        start = self.pos
        if self.pos < len(self.text) and self.text[self.pos] in _NAME_START:
            self.pos += 1
            while self.pos < len(self.text) and self.text[self.pos] in _NAME_CHARS:
                self.pos += 1
        return self.text[start : self.pos]

    def _braced(self) -> str:
        name = self._name()
        modifier = next((m for m in _MODIFIERS if self.text.startswith(m, self.pos)), "")
        self.pos += len(modifier)
        word: list[str] = []
        if modifier:
            self.run(word, stop="}")
        self.pos += 1  # the closing brace (or past the end)
        defaulting = modifier in (":-", ":+", ":?", "-", "+", "?")
        if name:
            self.refs.append(Ref(name, not defaulting))
        return _apply(modifier, name in self.env, self.env.get(name, ""), "".join(word))


def _apply(modifier: str, is_set: bool, value: str, word: str) -> str:
    if modifier == ":-":
        return value if value else word
    if modifier == "-":
        return value if is_set else word
    if modifier == ":+":
        return word if value else ""
    if modifier == "+":
        return word if is_set else ""
    return value  # ?-forms and pattern removals: the value is near enough for linting
