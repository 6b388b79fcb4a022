"""fit_lowers: each dir once at its topmost place, empties out, the bottom folded past the limit."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from hoist.models.digest import Digest
from hoist.snapshot.lowers import CHUNK, MAX_LOWERS, fit_lowers


class _FoldingStore:
    """The one store call fit_lowers makes: an unpacked dir per key, made once."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.made: dict[Digest, Path] = {}

    def unpacked_layer(self, key: Digest, unpack: Callable[[Path], None]) -> Path:
        if key not in self.made:
            directory = self.root / key.hex
            directory.mkdir()
            unpack(directory)
            self.made[key] = directory
        return self.made[key]


def _dirs(base: Path, count: int, *, empty: frozenset[int] = frozenset()) -> list[Path]:
    out = []
    for i in range(count):
        d = base / f"l{i:04d}"
        d.mkdir(parents=True)
        if i not in empty:
            (d / f"f{i}").write_text(str(i))
        out.append(d)
    return out


def test_a_dir_keeps_its_topmost_place_and_empty_dirs_go(tmp_path: Path) -> None:
    a, b, e, c = _dirs(tmp_path / "l", 4, empty=frozenset({2}))
    store = _FoldingStore(tmp_path / "folds")
    assert fit_lowers(store, [a, e, b, a, e, c, e]) == [b, a, c]  # type: ignore[arg-type]
    assert store.made == {}


def test_a_stack_at_the_limit_is_left_alone(tmp_path: Path) -> None:
    layers = _dirs(tmp_path / "l", MAX_LOWERS)
    (tmp_path / "folds").mkdir()
    assert fit_lowers(_FoldingStore(tmp_path / "folds"), layers) == layers  # type: ignore[arg-type]


def test_deeper_stacks_fold_aligned_chunks_that_later_stacks_reuse(tmp_path: Path) -> None:
    layers = _dirs(tmp_path / "l", 300)
    (tmp_path / "folds").mkdir()
    store = _FoldingStore(tmp_path / "folds")
    first = fit_lowers(store, layers[:129])  # type: ignore[arg-type]
    assert len(first) == 1 + 65 and first[1:] == layers[CHUNK:129]
    assert {p.name for p in first[0].iterdir()} == {f"f{i}" for i in range(CHUNK)}
    deeper = fit_lowers(store, layers)  # type: ignore[arg-type]
    assert len(deeper) <= MAX_LOWERS and deeper[0] == first[0]  # the bottom chunk reused
    chunks = len(store.made)
    assert deeper[chunks:] == layers[chunks * CHUNK:]
    for k, fold in enumerate(deeper[:chunks]):
        want = {f"f{i}" for i in range(k * CHUNK, (k + 1) * CHUNK)}
        assert {p.name for p in fold.iterdir()} == want
