"""COPY destination rules, table-driven: context + rootfs + instruction -> resulting tree."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from hoist.builder.steps.copy import copy_into
from hoist.builder.steps.copydest import CopyOptions
from hoist.builder.steps.inline import InlineFile, write_file
from hoist.builder.steps.owner import parse_chmod
from hoist.context.ignore import parse_ignore
from hoist.context.select import SourceTree, select_sources
from hoist.errors import BuildError
from hoist.fs.resolve import Root
from tests.unit.context.trees import describe, make_tree

pytestmark = pytest.mark.root  # chown to other ids

CONTEXT = {
    "a.txt": "a",
    "b.txt": "b",
    "exe": ("file", "#!/bin/sh\n", 0o755),
    "sub/foo": "foo",
    "sub/deep/x.txt": "x",
    "sub/rel-link": ("link", "../../../etc/group"),
    "sub/abs-link": ("link", "/etc/passwd"),
}
ROOTFS: dict[str, Any] = {
    "etc/passwd": "root:x:0:0::/root:/bin/sh\napp:x:1000:1001::/home/app:/bin/sh\n",
    "etc/group": "root:x:0:\napp:x:1001:\nstaff:x:50:\n",
    "existing-dir": None,
    "old-file": "old",
    "run": None,
    "var/run": ("link", "/run"),
    "tmp/symlink-target": None,
    "symlink": ("link", "../tmp/symlink-target"),
}


@dataclass
class Row:
    sources: list[str]
    dest: str
    expected: dict[str, str]
    workdir: str = "/"
    chown: tuple[int, int] | None = None
    chmod: str | None = None
    parents: bool = False
    exclude: str | None = None
    prepare: dict[str, Any] = field(default_factory=dict)


ROWS = {
    "file to file": Row(["a.txt"], "/new.txt", {"new.txt": "file 0644 0:0 a"}),
    "file into dir by slash": Row(
        ["a.txt"], "/d/", {"d": "dir 0755 0:0", "d/a.txt": "file 0644 0:0 a"}
    ),
    "file into existing dir": Row(
        ["a.txt"], "/existing-dir", {"existing-dir/a.txt": "file 0644 0:0 a"}
    ),
    "relative to workdir": Row(
        ["a.txt"], "rel.txt", {"w": "dir 0755 0:0", "w/rel.txt": "file 0644 0:0 a"}, workdir="/w"
    ),
    "dot is the workdir": Row(
        ["a.txt"], ".", {"w": "dir 0755 0:0", "w/a.txt": "file 0644 0:0 a"}, workdir="/w"
    ),
    "dotdot clamped": Row(["a.txt"], "../../x", {"x": "file 0644 0:0 a"}, workdir="/w"),
    "mode kept": Row(
        ["exe"], "/bin/", {"bin": "dir 0755 0:0", "bin/exe": "file 0755 0:0 #!/bin/sh\n"}
    ),
    "dir copies its contents": Row(
        ["sub"],
        "/dst",
        {
            "dst": "dir 0755 0:0",
            "dst/foo": "file 0644 0:0 foo",
            "dst/deep": "dir 0755 0:0",
            "dst/deep/x.txt": "file 0644 0:0 x",
            "dst/rel-link": "link 0777 0:0 -> ../../../etc/group",
            "dst/abs-link": "link 0777 0:0 -> /etc/passwd",
        },
    ),
    "several sources make a dir": Row(
        ["a.txt", "b.txt"],
        "/m",
        {"m": "dir 0755 0:0", "m/a.txt": "file 0644 0:0 a", "m/b.txt": "file 0644 0:0 b"},
    ),
    "wildcard makes a dir": Row(
        ["a.*"], "/one", {"one": "dir 0755 0:0", "one/a.txt": "file 0644 0:0 a"}
    ),
    "chown on created parents and files": Row(
        ["a.txt"],
        "/p/q/r.txt",
        {"p": "dir 0755 5:6", "p/q": "dir 0755 5:6", "p/q/r.txt": "file 0644 5:6 a"},
        chown=(5, 6),
    ),
    # BuildKit (compat case copy-chown-chmod): "/c/" is made like a parent, 0755
    "chmod octal, dest dir by syntax": Row(
        ["sub/deep"], "/c/", {"c": "dir 0755 0:0", "c/x.txt": "file 0700 0:0 x"}, chmod="700"
    ),
    "chmod octal on a created dest dir": Row(  # the dest is made 0755 (recorded BuildKit)
        ["sub"],
        "/c",
        {
            "c": "dir 0755 0:0",
            "c/foo": "file 0700 0:0 foo",
            "c/deep": "dir 0700 0:0",
            "c/deep/x.txt": "file 0700 0:0 x",
            "c/rel-link": "link 0777 0:0 -> ../../../etc/group",
            "c/abs-link": "link 0777 0:0 -> /etc/passwd",
        },
        chmod="700",
    ),
    "chmod symbolic": Row(
        ["a.txt", "exe"],
        "/s/",
        {"s": "dir 0755 0:0", "s/a.txt": "file 0760 0:0 a", "s/exe": "file 0770 0:0 #!/bin/sh\n"},
        chmod="u+x,g-r+w,o=,g+r",
    ),
    "chmod X": Row(
        ["a.txt", "exe"],
        "/x/",
        {"x": "dir 0755 0:0", "x/a.txt": "file 0644 0:0 a", "x/exe": "file 0755 0:0 #!/bin/sh\n"},
        chmod="a+X",
    ),
    "through rootfs symlink /var/run": Row(["a.txt"], "/var/run/x", {"run/x": "file 0644 0:0 a"}),
    "into symlinked dir": Row(
        ["a.txt"], "/symlink/", {"tmp/symlink-target/a.txt": "file 0644 0:0 a"}
    ),
    "replaces a file": Row(["a.txt"], "/old-file", {"old-file": "file 0644 0:0 a"}),
    "existing dir keeps its metadata": Row(
        ["sub/deep"], "/kept", {"kept/x.txt": "file 0644 0:0 x"}, prepare={"kept": ("mode", 0o700)}
    ),
    "parents": Row(
        ["sub/deep/x.txt", "a.txt"],
        "/p",
        {
            "p": "dir 0755 0:0",
            "p/a.txt": "file 0644 0:0 a",
            "p/sub": "dir 0755 0:0",
            "p/sub/deep": "dir 0755 0:0",
            "p/sub/deep/x.txt": "file 0644 0:0 x",
        },
        parents=True,
    ),
    "parents with pivot": Row(
        ["sub/./deep/x.txt"],
        "/p",
        {"p": "dir 0755 0:0", "p/deep": "dir 0755 0:0", "p/deep/x.txt": "file 0644 0:0 x"},
        parents=True,
    ),
    "exclude": Row(
        ["sub"],
        "/e",
        {
            "e": "dir 0755 0:0",
            "e/deep": "dir 0755 0:0",
            "e/deep/x.txt": "file 0644 0:0 x",
            "e/rel-link": "link 0777 0:0 -> ../../../etc/group",
            "e/abs-link": "link 0777 0:0 -> /etc/passwd",
        },
        exclude="foo",
    ),
    "copy to root": Row(["sub/deep"], "/", {"x.txt": "file 0644 0:0 x"}),
}


def run_row(tmp_path: Path, row: Row) -> dict[str, str]:
    ctx = make_tree(tmp_path / "ctx", CONTEXT)
    rootfs = make_tree(tmp_path / "rootfs", ROOTFS)
    for rel, (what, value) in row.prepare.items():
        assert what == "mode"
        (rootfs / rel).mkdir()
        os.chmod(rootfs / rel, value)
    before = describe(rootfs)
    exclude = parse_ignore(row.exclude) if row.exclude else None
    with Root(ctx) as croot, Root(rootfs) as droot:
        tree = SourceTree(croot, exclude=exclude)
        sources = select_sources(tree, row.sources)
        chmod = parse_chmod(row.chmod) if row.chmod else None
        options = CopyOptions(chown=row.chown, chmod=chmod, parents=row.parents)
        copy_into(sources, row.dest, row.workdir, droot, options=options)
    after = describe(rootfs)
    return {k: v for k, v in after.items() if before.get(k) != v}


@pytest.mark.parametrize("name", list(ROWS))
def test_destination_rules(tmp_path: Path, name: str) -> None:
    row = ROWS[name]
    assert run_row(tmp_path, row) == row.expected


def test_mtime_and_atime_preserved(tmp_path: Path) -> None:
    ctx = make_tree(tmp_path / "ctx", {"d/f": "f"})
    os.utime(ctx / "d" / "f", ns=(1_000_000_123, 2_000_000_456))
    os.utime(ctx / "d", ns=(3_000_000_000, 4_000_000_000))
    rootfs = make_tree(tmp_path / "rootfs", {})
    with Root(ctx) as croot, Root(rootfs) as droot:
        copy_into(select_sources(SourceTree(croot), ["d"]), "/new", "/", droot)
    st = os.stat(rootfs / "new" / "f")
    assert (st.st_atime_ns, st.st_mtime_ns) == (1_000_000_123, 2_000_000_456)
    # the destination is made like a parent (0755), not a copy of the source dir
    assert os.stat(rootfs / "new").st_mtime_ns != 4_000_000_000


def test_hardlinks_within_tree_preserved(tmp_path: Path) -> None:
    ctx = make_tree(tmp_path / "ctx", {"d/one": "1", "d/sub/two": ("hardlink", "d/one")})
    rootfs = make_tree(tmp_path / "rootfs", {})
    with Root(ctx) as croot, Root(rootfs) as droot:
        copy_into(select_sources(SourceTree(croot), ["d"]), "/h", "/", droot)
    one, two = os.stat(rootfs / "h" / "one"), os.stat(rootfs / "h" / "sub" / "two")
    assert one.st_ino == two.st_ino and one.st_nlink == 2
    assert os.stat(ctx / "d" / "one").st_ino != one.st_ino


def test_from_stage_keeps_owner_context_does_not(tmp_path: Path) -> None:
    src = make_tree(tmp_path / "stage", {"f": "f"})
    os.chown(src / "f", 1000, 1001)
    rootfs = make_tree(tmp_path / "rootfs", {})
    with Root(src) as sroot, Root(rootfs) as droot:
        copy_into(select_sources(SourceTree(sroot, keep_owner=True), ["f"]), "/kept", "/", droot)
        copy_into(select_sources(SourceTree(sroot), ["f"]), "/reset", "/", droot)
    assert describe(rootfs)["kept"] == "file 0644 1000:1001 f"
    assert describe(rootfs)["reset"] == "file 0644 0:0 f"


def test_fifo_recreated_never_opened(tmp_path: Path) -> None:
    ctx = make_tree(tmp_path / "ctx", {"d/fifo": ("fifo",), "d/f": "f"})
    rootfs = make_tree(tmp_path / "rootfs", {})
    with Root(ctx) as croot, Root(rootfs) as droot:
        copy_into(select_sources(SourceTree(croot), ["d"]), "/p", "/", droot)
    assert describe(rootfs)["p/fifo"] == "fifo 0644 0:0"


def test_file_onto_directory_entry_is_an_error(tmp_path: Path) -> None:
    ctx = make_tree(tmp_path / "ctx", {"d/x": "file"})
    rootfs = make_tree(tmp_path / "rootfs", {"t/x/inner": "i"})
    with Root(ctx) as croot, Root(rootfs) as droot:
        sources = select_sources(SourceTree(croot), ["d"])
        with pytest.raises(BuildError, match=r"copying to 't/x' \(Dockerfile:4\)"):
            copy_into(sources, "/t", "/", droot, where="Dockerfile:4")
    assert (rootfs / "t" / "x" / "inner").read_text() == "i"
    assert not [p for p in os.listdir(rootfs / "t") if p.startswith(".hoist")]


def test_heredoc_file(tmp_path: Path) -> None:
    rootfs = make_tree(tmp_path / "rootfs", {"etc": None})
    data = tmp_path / "data"
    data.write_text("hello\n")
    with Root(rootfs) as droot, open(data, "rb") as f:
        path = write_file(InlineFile("EOF"), f.fileno(), "/etc/", "/", droot)
    assert path == "/etc/EOF"
    assert describe(rootfs)["etc/EOF"] == "file 0644 0:0 hello\n"


def test_dir_source_onto_symlinked_dir_follows_it(tmp_path: Path) -> None:
    ctx = make_tree(tmp_path / "ctx", {"d/f": "f"})
    rootfs = make_tree(tmp_path / "rootfs", {"usr/real": None, "link": ("link", "usr/real")})
    with Root(ctx) as croot, Root(rootfs) as droot:
        copy_into(select_sources(SourceTree(croot), ["d"]), "/link", "/", droot)
    assert os.path.islink(rootfs / "link")
    assert (rootfs / "usr" / "real" / "f").read_text() == "f"


def test_nested_symlinked_dir_is_an_error_like_buildkit(tmp_path: Path) -> None:
    # merged-usr: /bin -> usr/bin; BuildKit: "cannot copy to non-directory" (moby#47367)
    ctx = make_tree(tmp_path / "ctx", {"rootfs/bin/tool": "t"})
    rootfs = make_tree(tmp_path / "rootfs", {"usr/bin": None, "bin": ("link", "usr/bin")})
    with Root(ctx) as croot, Root(rootfs) as droot:
        sources = select_sources(SourceTree(croot), ["rootfs"])
        with pytest.raises(BuildError, match="cannot copy to non-directory"):
            copy_into(sources, "/", "/", droot, where="Dockerfile:2")
    assert os.readlink(rootfs / "bin") == "usr/bin"
    assert os.listdir(rootfs / "usr" / "bin") == []


def test_xattrs_copied_but_not_overlay_internal(tmp_path: Path) -> None:
    ctx = make_tree(tmp_path / "ctx", {"f": "f", "d/sub/g": "g"})
    os.setxattr(ctx / "d" / "sub", "user.dir", b"d")
    os.setxattr(ctx / "f", "user.note", b"kept")
    os.setxattr(ctx / "f", "trusted.overlay.opaque", b"y")
    rootfs = make_tree(tmp_path / "rootfs", {})
    with Root(ctx) as croot, Root(rootfs) as droot:
        copy_into(select_sources(SourceTree(croot), ["f"]), "/f", "/", droot)
        copy_into(select_sources(SourceTree(croot), ["d"]), "/d", "/", droot)
    assert os.getxattr(rootfs / "f", "user.note") == b"kept"
    assert os.getxattr(rootfs / "d" / "sub", "user.dir") == b"d"
    assert "trusted.overlay.opaque" not in os.listxattr(rootfs / "f")


def test_existing_entries_replaced_not_followed(tmp_path: Path) -> None:
    # A free name is created in place; a taken one (file, symlink) is replaced by rename.
    ctx = make_tree(
        tmp_path / "ctx", {"d/new": "n", "d/file": "f", "d/link": "l", "d/sym": ("link", "t")}
    )
    outside = tmp_path / "outside"
    outside.write_text("victim")
    rootfs = make_tree(
        tmp_path / "rootfs", {"t/file": "old", "t/sym": "old", "t/link": ("link", str(outside))}
    )
    with Root(ctx) as croot, Root(rootfs) as droot:
        copy_into(select_sources(SourceTree(croot), ["d"]), "/t", "/", droot)
    tree = describe(rootfs)
    assert (tree["t/new"], tree["t/file"], tree["t/link"]) == (
        "file 0644 0:0 n",
        "file 0644 0:0 f",
        "file 0644 0:0 l",
    )
    assert tree["t/sym"] == "link 0777 0:0 -> t"
    assert outside.read_text() == "victim"
    assert not [p for p in os.listdir(rootfs / "t") if p.startswith(".hoist")]


@pytest.mark.parametrize("taken", [False, True])
def test_failed_file_copy_leaves_nothing_half_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, taken: bool
) -> None:
    from hoist.builder.steps import copy as copy_mod

    def no_space(src: int, dst: int) -> None:
        raise OSError(28, "No space left on device")

    ctx = make_tree(tmp_path / "ctx", {"f": "new"})
    rootfs = make_tree(tmp_path / "rootfs", {"d/f": "old"} if taken else {"d": None})
    monkeypatch.setattr(copy_mod, "_copy_xattrs", no_space)
    with (
        Root(ctx) as croot,
        Root(rootfs) as droot,
        pytest.raises(BuildError, match="No space left on device"),
    ):
        copy_into(select_sources(SourceTree(croot), ["f"]), "/d/f", "/", droot)
    assert os.listdir(rootfs / "d") == (["f"] if taken else [])
    if taken:
        assert (rootfs / "d" / "f").read_text() == "old"
