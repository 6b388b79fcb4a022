"""Shell-word expansion with BuildKit's semantics (``frontend/dockerfile/shell``).

Supported: ``$x``, ``${x}``, ``${x:-w}``, ``${x-w}``, ``${x:+w}``, ``${x+w}``,
``${x:?msg}``, ``${x?msg}``, ``${x#p}``, ``${x##p}``, ``${x%p}``, ``${x%%p}``,
``${x/p/r}``, ``${x//p/r}``; single quotes (literal), double quotes (only
``\\"``, ``\\$`` and ``\\\\`` are escapes inside), the escape character
(``\\`` or a backtick) outside quotes. An unset variable expands to ``""``.

:func:`expand_word` returns one word (quotes removed) — what BuildKit's
``ProcessWord`` does for ENV values, COPY sources, WORKDIR, USER…;
:func:`expand_words` also splits on unquoted whitespace (``ProcessWords``).
Both report which names were referenced and which of those were unset (the
lint rule UndefinedVar and the cache key need them).

Nesting (``${a:-${b:-…}}``) is bounded by :data:`MAX_NESTING`; deeper input is
a :class:`DockerfileError`, never a ``RecursionError``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import msgspec

from hoist.errors import DockerfileError

MAX_NESTING = 100
_SPECIAL_PARAMS = frozenset("@*#?-$!0")


class Expansion(msgspec.Struct, frozen=True):
    """The result of expanding text: words, and the names seen on the way."""

    words: tuple[str, ...]
    referenced: frozenset[str]
    unset: frozenset[str]

    @property
    def value(self) -> str:
        """The single word (``expand_word``), or the words joined by a space."""
        return " ".join(self.words)


class ExpansionError(DockerfileError):
    """Bad substitution syntax, an unterminated quote, or a ``${x?msg}`` failure."""

    code = "expansion-error"


class _Out(msgspec.Struct):
    """Word builder: ``split`` makes unquoted whitespace separate words."""

    split: bool
    words: list[str] = msgspec.field(default_factory=list)
    current: list[str] = msgspec.field(default_factory=list)
    started: bool = False

    def add(self, text: str, quoted: bool) -> None:
        if not self.split or quoted:
            self.current.append(text)
            self.started = True
            return
        for i, piece in enumerate(re.split(r"[ \t\n\r\v\f]+", text)):
            if i:
                self.end_word()
            if piece:
                self.current.append(piece)
                self.started = True

    def end_word(self) -> None:
        if self.started:
            self.words.append("".join(self.current))
        self.current, self.started = [], False

    def result(self) -> tuple[str, ...]:
        if not self.split:
            return ("".join(self.current),)
        self.end_word()
        return tuple(self.words)


class _Lexer(msgspec.Struct):
    text: str
    env: Mapping[str, str]
    escape: str
    pos: int = 0
    depth: int = 0
    referenced: set[str] = msgspec.field(default_factory=set)
    unset: set[str] = msgspec.field(default_factory=set)

    def error(self, message: str) -> ExpansionError:
        return ExpansionError(f"expanding {self.text[:80]!r}: {message}")

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def next(self) -> str:
        ch = self.peek()
        self.pos += 1 if ch else 0
        return ch

    def run(self, out: _Out, stops: str = "", keep_escapes: bool = False) -> None:
        """``(escape any | 'single' | "double" | $subst | char)*`` up to a stop char."""
        while (ch := self.peek()) and ch not in stops:
            self.pos += 1
            if ch == self.escape:
                nxt = self.next()
                if nxt:
                    out.add(ch + nxt if keep_escapes else nxt, True)
            elif ch == "'":
                out.add(self.single_quoted(), True)
            elif ch == '"':
                out.add(self.double_quoted(), True)
            elif ch == "$":
                self.dollar(out, quoted=False)
            else:
                out.add(ch, False)

    def single_quoted(self) -> str:
        end = self.text.find("'", self.pos)
        if end < 0:
            raise self.error("unexpected end of statement while looking for matching single-quote")
        value, self.pos = self.text[self.pos : end], end + 1
        return value

    def double_quoted(self) -> str:
        out = _Out(split=False)
        while (ch := self.next()) != '"':
            if not ch:
                raise self.error(
                    "unexpected end of statement while looking for matching double-quote")
            if ch == "$":
                self.dollar(out, quoted=True)
            elif ch == self.escape and self.peek() in ('"', "$", self.escape) and self.peek():
                out.add(self.next(), True)
            else:
                out.add(ch, True)
        return out.result()[0]

    def dollar(self, out: _Out, quoted: bool) -> None:
        """``'$' name`` | ``'${' name modifier? '}'``; a lone ``$`` is literal."""
        if self.peek() != "{":
            name = self.name()
            if not name:
                out.add("$", quoted)
                return
            out.add(self.lookup(name) or "", quoted)
            return
        self.pos += 1
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise self.error(f"substitutions nested deeper than {MAX_NESTING}")
        out.add(self.braced(), quoted)
        self.depth -= 1

    def name(self) -> str:
        ch = self.peek()
        if ch.isdigit():
            start = self.pos
            while self.peek().isdigit():
                self.pos += 1
            return self.text[start : self.pos]
        if ch and ch in _SPECIAL_PARAMS:
            self.pos += 1
            return ch
        start = self.pos
        while (c := self.peek()) and (c.isalnum() or c == "_"):
            self.pos += 1
        return self.text[start : self.pos]

    def lookup(self, name: str) -> str | None:
        self.referenced.add(name)
        value = self.env.get(name)
        if value is None:
            self.unset.add(name)
        return value

    def word_until(self, stops: str, keep_escapes: bool = False) -> str:
        out = _Out(split=False)
        self.run(out, stops, keep_escapes)
        return out.result()[0]

    def close(self) -> None:
        if self.next() != "}":
            raise self.error("missing '}' in substitution")

    def braced(self) -> str:
        """After ``${``: the name, then the modifier (see module docstring)."""
        name = self.name()
        if not name:
            raise self.error("bad substitution")
        value = self.lookup(name)
        op = self.next()
        if op == "}":
            return value or ""
        if op == ":":
            return self.test(name, value, self.next(), colon=True)
        if op in "-+?":
            return self.test(name, value, op, colon=False)
        if op in "#%":
            return self.trim(value or "", op)
        if op == "/":
            return self.replace(value or "")
        raise self.error(f"unsupported modifier ({op or 'end of text'}) in substitution")

    def test(self, name: str, value: str | None, op: str, colon: bool) -> str:
        if op not in ("-", "+", "?"):
            raise self.error(f"unsupported modifier ({op or 'end of text'}) in substitution")
        word = self.word_until("}")
        self.close()
        present = value is not None and (value != "" or not colon)
        if op == "-":
            return value if present and value is not None else word
        if op == "+":
            return word if present else ""
        if not present:
            what = "empty" if colon and value is not None else "unset"
            raise ExpansionError(f"{name}: {word or f'is not allowed to be {what}'}")
        return value or ""

    def trim(self, value: str, op: str) -> str:
        greedy = self.peek() == op
        if greedy:
            self.pos += 1
        tokens = glob_tokens(self.word_until("}", keep_escapes=True), self.escape)
        self.close()
        trim = trim_prefix if op == "#" else trim_suffix
        return trim(value, tokens, greedy)

    def replace(self, value: str) -> str:
        """``${x/p/r}`` first match, ``${x//p/r}`` every match; the ``/r`` part is required."""
        every = self.peek() == "/"
        if every:
            self.pos += 1
        pattern = glob_to_regex(self.word_until("/}", keep_escapes=True), self.escape)
        if self.next() != "/":
            raise self.error("missing '/' before the replacement in substitution")
        replacement = self.word_until("}", keep_escapes=True)
        self.close()
        if every and not pattern:
            return value
        return _compile(pattern).sub(lambda _m: replacement, value, count=0 if every else 1)


STAR = "*"


def glob_tokens(pattern: str, escape: str = "\\") -> list[str]:
    """Shell pattern → regex pieces: :data:`STAR` for ``*``, ``.`` for ``?``, classes, literals."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        i += 1
        if ch == escape and i < len(pattern):
            out.append(re.escape(pattern[i]))
            i += 1
        elif ch == "*":
            out.append(STAR)
        elif ch == "?":
            out.append(".")
        elif ch == "[" and (end := pattern.find("]", i + 1)) > 0:
            out.append(_char_class(pattern[i:end]))
            i = end + 1
        else:
            out.append(re.escape(ch))
    return out


def glob_to_regex(pattern: str, escape: str = "\\") -> str:
    """Shell pattern → regex: ``*``, ``?``, ``[...]``, escaped characters literal."""
    return "".join(".*" if t == STAR else t for t in glob_tokens(pattern, escape))


def _char_class(body: str) -> str:
    """``[...]`` body → a regex class; ``!`` negates; set-operation characters escaped."""
    negate = body.startswith("!")
    body = body[1:] if negate else body
    escaped = "".join("\\" + ch if ch in "\\[]&~|" else ch for ch in body).replace("--", "-\\-")
    return "[" + ("^" if negate else "") + escaped + "]"


def _compile(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(f"(?s:{pattern})")
    except re.error as exc:
        raise ExpansionError(f"invalid pattern in substitution: {exc}") from exc


def _anchored(tokens: list[str], greedy: bool) -> re.Pattern[str]:
    star = ".*" if greedy else ".*?"
    return _compile("".join(star if t == STAR else t for t in tokens))


def trim_prefix(value: str, tokens: list[str], greedy: bool) -> str:
    """``${x#p}`` (shortest matching prefix removed) and ``${x##p}`` (longest).

    One anchored match: lazy stars find the shortest prefix, greedy the longest.
    """
    match = _anchored(tokens, greedy).match(value)
    return value[match.end():] if match else value


def trim_suffix(value: str, tokens: list[str], greedy: bool) -> str:
    """``${x%p}`` and ``${x%%p}``: a prefix trim of the reversed value and pattern."""
    match = _anchored(tokens[::-1], greedy).match(value[::-1])
    return value[: len(value) - match.end()] if match else value


def _expand(text: str, env: Mapping[str, str], escape: str, split: bool) -> Expansion:
    lexer = _Lexer(text, env, escape)
    out = _Out(split=split)
    lexer.run(out)
    return Expansion(out.result(), frozenset(lexer.referenced), frozenset(lexer.unset))


def expand_word(text: str, env: Mapping[str, str], escape: str = "\\") -> Expansion:
    """Expand ``text`` into one word (quotes removed, no splitting).

    Raises:
        ExpansionError: bad substitution, unterminated quote, ``${x?msg}``.
    """
    return _expand(text, env, escape, split=False)


def expand_words(text: str, env: Mapping[str, str], escape: str = "\\") -> Expansion:
    """Expand ``text`` and split it on unquoted whitespace.

    Raises:
        ExpansionError: as :func:`expand_word`.
    """
    return _expand(text, env, escape, split=True)


def expand_heredoc(text: str, env: Mapping[str, str], escape: str = "\\") -> Expansion:
    """Expand a heredoc body: only ``$`` substitutions; quotes stay as written.

    An escape character before ``$`` yields a literal ``$``; other escapes
    are kept.

    Raises:
        ExpansionError: bad substitution syntax.
    """
    lexer = _Lexer(text, env, escape)
    out = _Out(split=False)
    while ch := lexer.next():
        if ch == escape and lexer.peek() == "$":
            out.add(lexer.next(), True)
        elif ch == "$":
            lexer.dollar(out, quoted=True)
        else:
            out.add(ch, True)
    return Expansion(out.result(), frozenset(lexer.referenced), frozenset(lexer.unset))


def expand(text: str, env: Mapping[str, str], escape: str = "\\") -> str:
    """Shorthand for ``expand_word(text, env, escape).value``."""
    return expand_word(text, env, escape).value
