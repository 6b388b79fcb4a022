"""Table-driven tests of .dockerignore semantics (BuildKit / moby patternmatcher)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from hoist.context import load_ignore, parse_ignore
from hoist.context.ignore import MatchKind, clean_path, find_ignore_file
from hoist.errors import ContextError, HoistError

# (ignore file text, path, excluded?)
MATCHES = [
    # literals, and the parent-directory rule
    ("foo", "foo", True),
    ("foo", "foo/bar", True),
    ("foo", "foo/bar/baz", True),
    ("foo", "foobar", False),
    ("foo", "bar/foo", False),
    ("foo/bar", "foo", False),
    ("foo/bar", "foo/bar/x", True),
    # cleaning: leading / and ./, trailing /, dot-dot, doubled slashes
    ("/foo", "foo", True),
    ("./foo", "foo/x", True),
    ("foo/", "foo", True),
    ("foo//bar", "foo/bar", True),
    ("a/../foo", "foo", True),
    ("foo", "./foo", True),
    ("foo", "foo/", True),
    # * and ? never cross a slash, but the parent rule applies
    ("*", "a", True),
    ("*", "a/b", True),
    ("*.md", "README.md", True),
    ("*.md", "docs/README.md", False),
    ("*/*.md", "docs/README.md", True),
    ("*/b", "b", False),
    ("a?c", "abc", True),
    ("a?c", "a/c", False),
    ("a*c", "a/c", False),
    ("a*c", "a\nc", True),  # newline in a file name is an ordinary character
    # classes: only ^ negates; ranges; escapes
    ("[a-c]x", "bx", True),
    ("[a-c]x", "dx", False),
    ("[^a-c]x", "dx", True),
    ("[^a-c]x", "ax", False),
    ("[!a]x", "!x", True),  # ! is not a negation in Go's filepath.Match
    ("[!a]x", "bx", False),
    ("[\\]]", "]", True),
    ("\\*", "*", True),
    ("\\*", "x", False),
    ("a\\?", "a?", True),
    # regexp specials are literal
    ("a.b", "a.b", True),
    ("a.b", "axb", False),
    ("(a|b)+{1}$", "(a|b)+{1}$", True),
    # **
    ("**", "anything/at/all", True),
    ("**/", "x", True),
    ("**/foo", "foo", True),
    ("**/foo", "a/b/foo", True),
    ("**/foo", "a/foo/bar", True),
    ("**/foo", "afoo", False),
    ("**foo", "barfoo", True),  # patternmatcher's suffix match
    ("foo/**", "foo/x/y", True),
    ("foo/**", "foo", False),
    ("foo**", "foobar", True),
    ("**/*.pyc", "x.pyc", True),
    ("**/*.pyc", "a/b/x.pyc", True),
    ("**/*.pyc", "a/b/x.py", False),
    ("a/**/b", "a/b", True),
    ("a/**/b", "a/x/y/b", True),
    ("a/**/b", "ab", False),
    ("a/**/b/*.c", "a/1/2/b/x.c", True),
    ("*/**", "a/b", True),
    ("**/**/**/**/x*y*z", "p/q/xayaz", True),
    ("**/**/**/**/x*y*z", "p/q/xaya", False),
    # comments, blanks, whitespace
    ("#foo", "#foo", False),
    (" #foo", "#foo", True),  # a comment only at column 0
    ("\n\n  foo  \n", "foo", True),
    ("\ufefffoo", "foo", True),
    ("foo\r\nbar\r\n", "bar", True),
    ("\u3000foo\xa0", "foo", True),  # Go trims Unicode spaces ...
    ("\x1cfoo", "\x1cfoo", True),  # ... but not the separators Python's strip() takes
    # exceptions: the last match wins
    ("*.md\n!README.md", "README.md", False),
    ("*.md\n!README.md", "CHANGES.md", True),
    ("*.md\n!README.md\nREADME*", "README.md", True),
    ("!README.md\n*.md", "README.md", True),
    ("docs\n!docs/keep", "docs/keep", False),
    ("docs\n!docs/keep", "docs/keep/inner", False),
    ("docs\n!docs/keep", "docs/other", True),
    ("docs\n! docs/keep", "docs/keep", False),
    ("*\n!src\nsrc/*.tmp", "src/a.tmp", True),
    ("*\n!src\nsrc/*.tmp", "src/a.go", False),
    # the root is never excluded
    ("*", ".", False),
    ("**", "", False),
]


@pytest.mark.parametrize(("text", "path", "excluded"), MATCHES)
def test_matches(text: str, path: str, excluded: bool) -> None:
    assert parse_ignore(text).matches(path) is excluded


BAD = [
    ("[", "unclosed"),
    ("a[b", "unclosed"),
    ("[]", "in character class"),
    ("[]a]", "in character class"),
    ("[^]", "in character class"),
    ("[-a]", "in character class"),
    ("[a-]", "in character class"),
    ("[a-\\", "unclosed"),
    ("a\\", "trailing backslash"),
    ("[z-a]", "invalid character class range"),
    ("!", "illegal exclusion pattern"),
    ("!/", "illegal exclusion pattern"),
    ("  !  ", "illegal exclusion pattern"),
]


@pytest.mark.parametrize(("text", "why"), BAD)
def test_invalid_pattern_is_a_context_error(text: str, why: str) -> None:
    with pytest.raises(ContextError) as info:
        parse_ignore("ok\n" + text, filename="ctx/.dockerignore")
    assert why in info.value.message
    assert "ctx/.dockerignore" in info.value.message
    assert "line 2" in info.value.message
    assert isinstance(info.value, HoistError)


def test_kinds_follow_patternmatcher() -> None:
    kinds = {p.text: p.kind for p in parse_ignore("a/b\nfoo/**\n**/foo\n**/*.go\na?").patterns}
    assert kinds == {
        "a/b": MatchKind.EXACT,
        "foo/**": MatchKind.PREFIX,
        "**/foo": MatchKind.SUFFIX,
        "**/*.go": MatchKind.GLOB,
        "a?": MatchKind.GLOB,
    }


def test_line_of_64k_is_refused_like_go_scanner() -> None:
    parse_ignore("a" * (64 * 1024 - 1))
    with pytest.raises(ContextError, match="line 2: line too long"):
        parse_ignore("ok\n" + "\u00e9" * (32 * 1024))  # 64 KiB of UTF-8


def test_pattern_records_line_and_exception() -> None:
    (first, second) = parse_ignore("# c\n\n/a/\n!./b").patterns
    assert (first.text, first.exception, first.line) == ("a", False, 3)
    assert (second.text, second.exception, second.line) == ("b", True, 4)


@pytest.mark.parametrize(
    ("path", "cleaned"),
    [
        ("", "."),
        (".", "."),
        ("./a/", "a"),
        ("a//b/./c/..", "a/b"),
        ("../../a", "../../a"),
        ("/../a", "/a"),
        ("//a", "/a"),
        ("/", "/"),
        ("a/../..", ".."),
    ],
)
def test_clean_path_is_go_filepath_clean(path: str, cleaned: str) -> None:
    assert clean_path(path) == cleaned


# --- walking: pruning as BuildKit's walker does -----------------------------------------------


def test_prune_without_exceptions() -> None:
    m = parse_ignore("node_modules\n*.log")
    assert m.can_prune("node_modules")
    assert not m.can_prune("src")
    assert not m.has_exceptions


def test_no_prune_when_an_exception_names_a_path_below() -> None:
    m = parse_ignore("docs\n!docs/api/index.md")
    assert not m.can_prune("docs")
    assert not m.can_prune("docs/api")
    assert m.can_prune("docs/other")  # excluded, and no exception starts with docs/other/
    assert not m.excludes("docs/api/index.md")
    assert m.excludes("docs/other/x.md")


def test_wildcard_exception_keeps_every_directory_open() -> None:
    # fsutil: an exception with a wildcard means no directory may be skipped,
    # so `*` + `!**/keep` re-includes sub/keep.
    m = parse_ignore("*\n!**/keep")
    assert m.matches("sub")
    assert not m.can_prune("sub")
    assert not m.excludes("sub/keep")
    assert m.excludes("sub/other")
    assert not m.excludes("keep")


@pytest.mark.parametrize(
    ("exception", "prunable"),
    [
        ("!keep", True),
        ("!keep/**", True),  # a trailing /** or /* is not a wildcard for fsutil
        ("!keep/*", True),
        ("!keep/*.go", False),
        ("!a\\*b", False),  # fsutil counts the backslash itself
        ("!x^y", False),
        ("!x]", False),
    ],
)
def test_which_exceptions_disable_pruning(exception: str, prunable: bool) -> None:
    m = parse_ignore(f"*\n{exception}")
    assert m.can_prune("sub") is prunable
    assert not m.can_prune("keep")


def test_walk_order_quirk_of_matches_using_parent_results() -> None:
    # `d` excludes, `!d/e` re-includes, the second `d` was skipped for the
    # directory d (it could not change d's verdict), so d/e stays included.
    m = parse_ignore("d\n!d/e\nd")
    assert m.matches("d")
    assert not m.can_prune("d")
    assert not m.matches("d/e")
    assert not m.excludes("d/e")
    assert m.matches("d/f")


def test_parent_results_are_reused_across_calls() -> None:
    m = parse_ignore("a\n!a/b/c")
    assert m.matches("a/b")
    assert not m.matches("a/b/c")
    assert m.matches("a/b/d")
    assert not m.matches("a/b/c/deeper")


def test_excludes_of_included_path_under_unpruned_dir() -> None:
    m = parse_ignore("*\n!src\nsrc/gen")
    assert not m.excludes("src/main.go")
    assert m.excludes("src/gen/x.go")
    assert m.excludes("other")


# --- hostile inputs (SECURITY.md A6) ----------------------------------------------------------


def test_100k_patterns_compile_and_match_fast() -> None:
    literal = [f"dir{i}/file{i}.txt" for i in range(50_000)]
    globbed = [f"gen{i}/*.o" for i in range(50_000)]
    text = "\n".join(literal + globbed + ["!dir7/file7.txt"])
    start = time.perf_counter()
    m = parse_ignore(text)
    for i in range(20):
        assert m.matches(f"dir{i}/file{i}.txt") is (i != 7)
    assert m.matches("gen49999/x.o")
    assert not m.matches("src/main.c")
    assert time.perf_counter() - start < 60  # quadratic would take hours; generous for loaded CI


def test_many_double_stars_do_not_backtrack_exponentially() -> None:
    m = parse_ignore("**/" * 12 + "a*b*c*d*e*f*g*h*z")
    path = "/".join(["abcdefgh" * 4] * 30)
    start = time.perf_counter()
    assert not m.matches(path)
    assert time.perf_counter() - start < 20  # exponential backtracking would never finish


# --- finding the file -------------------------------------------------------------------------


def test_dockerfile_specific_ignore_file_wins(tmp_path: Path) -> None:
    (tmp_path / ".dockerignore").write_text("a\n")
    sub = tmp_path / "build"
    sub.mkdir()
    dockerfile = sub / "app.Dockerfile"
    dockerfile.write_text("FROM scratch\n")
    (sub / "app.Dockerfile.dockerignore").write_text("b\n")
    m = load_ignore(tmp_path, dockerfile)
    assert m.matches("b") and not m.matches("a")
    assert m.source.endswith("app.Dockerfile.dockerignore")
    assert load_ignore(tmp_path, sub / "other.Dockerfile").matches("a")


def test_default_dockerfile_and_missing_ignore_file(tmp_path: Path) -> None:
    assert find_ignore_file(tmp_path) is None
    m = load_ignore(tmp_path)
    assert not m and not m.matches("anything")
    (tmp_path / "Dockerfile.dockerignore").write_text("x\n")
    assert load_ignore(tmp_path).matches("x")


def test_dockerfile_from_stdin_uses_only_the_context_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "-.dockerignore").write_text("nope\n")
    (tmp_path / ".dockerignore").write_text("yes\n")
    m = load_ignore(tmp_path, Path("-"))
    assert m.matches("yes") and not m.matches("nope")


def test_non_utf8_pattern_matches_fsdecoded_name(tmp_path: Path) -> None:
    (tmp_path / ".dockerignore").write_bytes(b"caf\xe9*\n")
    name = "caf\udce9.txt"  # os.fsdecode(b"caf\xe9.txt")
    assert load_ignore(tmp_path).matches(name)


def test_non_file_ignore_entries_are_skipped(tmp_path: Path) -> None:
    (tmp_path / ".dockerignore").mkdir()  # not a file: find skips it
    assert not load_ignore(tmp_path)
    ignore = tmp_path / "Dockerfile.dockerignore"
    ignore.symlink_to(ignore)  # a symlink loop: is_file() is False too
    assert not load_ignore(tmp_path)


def test_invalid_pattern_in_file_names_the_file(tmp_path: Path) -> None:
    (tmp_path / ".dockerignore").write_text("ok\n[\n")
    with pytest.raises(ContextError, match=r"\.dockerignore: line 2: invalid pattern '\['"):
        load_ignore(tmp_path)
