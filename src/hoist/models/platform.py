"""OS/architecture/variant triples as the OCI image spec names them."""

from __future__ import annotations

import os

import msgspec

_MACHINE_TO_ARCH = {
    "x86_64": ("amd64", ""),
    "amd64": ("amd64", ""),
    "aarch64": ("arm64", ""),
    "arm64": ("arm64", ""),
    "armv7l": ("arm", "v7"),
    "armv6l": ("arm", "v6"),
    "i686": ("386", ""),
    "i386": ("386", ""),
    "ppc64le": ("ppc64le", ""),
    "s390x": ("s390x", ""),
    "riscv64": ("riscv64", ""),
}


class Platform(msgspec.Struct, frozen=True):
    os: str
    architecture: str
    variant: str = ""

    @classmethod
    def parse(cls, text: str) -> Platform:
        """Parse ``linux/amd64`` or ``linux/arm/v7``."""
        parts = text.strip().lower().split("/")
        if len(parts) not in (2, 3) or not all(parts):
            from hoist.errors import UserInputError

            raise UserInputError(f"invalid platform {text!r}: want os/arch[/variant]")
        return cls(parts[0], parts[1], parts[2] if len(parts) == 3 else "")

    @classmethod
    def host(cls) -> Platform:
        machine = os.uname().machine  # what platform.machine() answers, without importing it
        arch, variant = _MACHINE_TO_ARCH.get(machine.lower(), (machine, ""))
        return cls("linux", arch, variant)

    def __str__(self) -> str:
        base = f"{self.os}/{self.architecture}"
        return f"{base}/{self.variant}" if self.variant else base
