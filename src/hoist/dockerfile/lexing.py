"""Lexical helpers of the syntax layer: flags, JSON arrays, words.

Each function mirrors one splitting rule of BuildKit's parser; none expands
variables (that is :mod:`hoist.dockerfile.shell`'s job, one layer up).
"""

from __future__ import annotations

import json
import re

_WHITESPACE = re.compile(r"[\t\v\f\r ]+")


def split_whitespace(rest: str) -> tuple[str, ...]:
    """``word (ws+ word)*`` — quotes are *not* special (BuildKit's rule for COPY/EXPOSE…)."""
    rest = rest.strip("\t\v\f\r ")
    return tuple(_WHITESPACE.split(rest)) if rest else ()


def parse_json_array(rest: str) -> list[str] | None:
    """``'[' string (',' string)* ']'`` or None when ``rest`` is not that (shell form)."""
    if not rest.startswith("[") or not rest.rstrip().endswith("]"):
        return None
    try:
        value = json.loads(rest)
    except (ValueError, RecursionError):
        return None
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        return None
    return value


def extract_flags(text: str) -> tuple[tuple[str, ...], str]:
    """Split leading ``--flag[=value]`` words off ``text``.

    Quotes inside a flag word are removed and a backslash escapes the next
    character; a bare ``--`` ends the flags. Returns (flags, rest).
    """
    flags: list[str] = []
    pos = 0
    while True:
        while pos < len(text) and text[pos] in " \t\v\f\r":
            pos += 1
        if not text.startswith("--", pos):
            return tuple(flags), text[pos:]
        word, pos = _flag_word(text, pos)
        if word == "--":
            return tuple(flags), text[pos:]
        flags.append(word)


def _flag_word(text: str, pos: int) -> tuple[str, int]:
    out: list[str] = []
    quote = ""
    while pos < len(text):
        ch = text[pos]
        pos += 1
        if quote:
            if ch == quote:
                quote = ""
                continue
        elif ch in " \t\v\f\r":
            break
        elif ch in "'\"":
            quote = ch
            continue
        if ch == "\\" and pos < len(text):
            ch = text[pos]
            pos += 1
        out.append(ch)
    return "".join(out), pos


def split_words(rest: str, escape: str) -> list[str]:
    """BuildKit's ``parseWords``: whitespace-separated words, quotes and escapes kept.

    A quoted empty string is a word; an escape at the very end is dropped.
    """
    words: list[str] = []
    word: list[str] = []
    quote = ""
    blank_ok = False
    pos, n = 0, len(rest)
    while pos < n:
        ch = rest[pos]
        pos += 1
        if not quote and ch.isspace():
            if blank_ok or word:
                words.append("".join(word))
            word, blank_ok = [], False
            continue
        if quote and ch == quote:
            quote = ""
        elif not quote and ch in "'\"":
            quote, blank_ok = ch, True
        elif ch == escape and quote != "'":
            if pos == n:
                continue
            word.append(ch)
            ch = rest[pos]
            pos += 1
        word.append(ch)
    if blank_ok or word:
        words.append("".join(word))
    return words


def split_name_value_words(keyword: str, rest: str, escape: str) -> tuple[tuple[str, ...], bool]:
    """ENV/LABEL/ARG words. Returns (words, legacy).

    ``ENV k v w`` (first word without ``=``) is the legacy form: the words are
    ``(k, "v w")`` and legacy is True. ARG never uses the legacy form.

    Raises:
        ValueError: no words, a legacy form without a value, or a word
            without ``=`` in the ``k=v`` form.
    """
    words = split_words(rest, escape)
    name = keyword.upper()
    if keyword == "arg":
        return tuple(words), False
    if not words:
        raise ValueError(f"{name} requires at least one argument")
    if "=" not in words[0]:
        parts = _WHITESPACE.split(rest.strip(), maxsplit=1)
        if len(parts) < 2:
            raise ValueError(f"{name} must have two arguments")
        return (parts[0], parts[1]), True
    for word in words:
        if "=" not in word:
            raise ValueError(
                f"Syntax error - can't find = in {word!r}. Must be of the form: name=value"
            )
    return tuple(words), False
