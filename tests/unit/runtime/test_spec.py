"""build_config is pure and gives Docker's defaults."""

from __future__ import annotations

import pytest

from hoist.runtime.spec import (
    DEFAULT_CAPABILITIES,
    DEFAULT_PATH,
    MASKED_PATHS,
    READONLY_PATHS,
    BindMount,
    ProcessSpec,
    build_config,
    mount_destinations,
)

SPEC = ProcessSpec(
    args=("sh", "-c", "true"),
    env=("A=1",),
    cwd="/work",
    uid=1000,
    gid=1000,
    additional_gids=(29, 44),
    hostname="builder",
)


def test_same_spec_gives_the_same_config() -> None:
    assert build_config(SPEC, "/r", "/b") == build_config(SPEC, "/r", "/b")


def test_process_section() -> None:
    process = build_config(SPEC, "/r", "/b")["process"]
    assert process["args"] == ["sh", "-c", "true"]
    assert process["cwd"] == "/work"
    assert process["user"] == {"uid": 1000, "gid": 1000, "additionalGids": [29, 44]}
    assert process["noNewPrivileges"] is True
    assert process["terminal"] is False
    assert process["env"] == [f"PATH={DEFAULT_PATH}", "A=1"]
    assert process["rlimits"] == [{"type": "RLIMIT_NOFILE", "soft": 1048576, "hard": 1048576}]


def test_capabilities_are_dockers_default_set_and_nothing_more() -> None:
    caps = build_config(SPEC, "/r", "/b")["process"]["capabilities"]
    assert set(caps) == {"bounding", "effective", "permitted"}
    for name in ("bounding", "effective", "permitted"):
        assert caps[name] == list(DEFAULT_CAPABILITIES)
    assert len(DEFAULT_CAPABILITIES) == 14
    assert "CAP_SYS_ADMIN" not in DEFAULT_CAPABILITIES


def test_image_path_is_kept() -> None:
    spec = ProcessSpec(args=("x",), env=("PATH=/opt/bin",))
    assert build_config(spec, "/r", "/b")["process"]["env"] == ["PATH=/opt/bin"]


@pytest.mark.parametrize(("network", "has_netns"), [("none", True), ("host", False)])
def test_namespaces(network: str, has_netns: bool) -> None:
    spec = ProcessSpec(args=("x",), network=network)  # type: ignore[arg-type]
    kinds = [n["type"] for n in build_config(spec, "/r", "/b")["linux"]["namespaces"]]
    assert kinds[:4] == ["pid", "ipc", "uts", "mount"]
    assert ("network" in kinds) is has_netns


def test_mounts_masks_and_etc_files() -> None:
    config = build_config(SPEC, "/r", "/bundle")
    by_dest = {m["destination"]: m for m in config["mounts"]}
    for dest in ("/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys"):
        assert dest in by_dest
    assert "ro" in by_dest["/sys"]["options"]
    for name in ("hosts", "resolv.conf", "hostname"):
        mount = by_dest[f"/etc/{name}"]
        assert mount["type"] == "bind"
        assert mount["source"] == f"/bundle/etc/{name}"
    assert config["linux"]["maskedPaths"] == list(MASKED_PATHS)
    assert "/proc/kcore" in MASKED_PATHS
    assert config["linux"]["readonlyPaths"] == list(READONLY_PATHS)
    assert "/proc/sys" in READONLY_PATHS
    assert config["hostname"] == "builder"
    assert config["root"] == {"path": "/r", "readonly": False}


def test_extra_bind_mounts_follow_the_defaults() -> None:
    spec = ProcessSpec(args=("x",), mounts=(BindMount("/src", "/mnt", readonly=True),))
    config = build_config(spec, "/r", "/b")
    assert mount_destinations(config)[-1] == "/mnt"
    assert "ro" in config["mounts"][-1]["options"]


@pytest.mark.parametrize("spec", [ProcessSpec(args=()), ProcessSpec(args=("x",), cwd="rel")])
def test_contract_violations_are_refused(spec: ProcessSpec) -> None:
    with pytest.raises(ValueError):
        build_config(spec, "/r", "/b")


def test_rlimits_above_our_hard_limit_are_clamped_without_cap_sys_resource(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import resource

    from hoist.runtime import oci
    from hoist.runtime.spec import Rlimit

    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = (Rlimit("RLIMIT_NOFILE", 1 << 40, 1 << 40),)
    monkeypatch.setattr(oci, "_has_cap_sys_resource", lambda: False)
    clamped = oci.clamp_rlimits(wanted)
    if hard == resource.RLIM_INFINITY:
        assert clamped == wanted
    else:
        assert clamped == (Rlimit("RLIMIT_NOFILE", hard, hard),)
    monkeypatch.setattr(oci, "_has_cap_sys_resource", lambda: True)
    assert oci.clamp_rlimits(wanted) == wanted
