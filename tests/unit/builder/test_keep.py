"""Which RUN containers a build keeps: docker classic's --rm / --force-rm rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from hoist.builder.keep import keeps, kept_hint
from hoist.builder.options import BuildOptions


@pytest.mark.parametrize(
    ("remove", "force", "kept_on_success", "kept_on_failure"),
    [
        (True, False, False, True),  # the default: a failed step's container stays
        (False, False, True, True),  # --rm=false keeps every RUN container
        (True, True, False, False),  # --force-rm removes even a failed one
        (False, True, False, False),  # --force-rm wins over --rm=false
    ],
)
def test_keep_rules(
    remove: bool, force: bool, kept_on_success: bool, kept_on_failure: bool
) -> None:
    options = BuildOptions(Path("."), remove_containers=remove, force_remove=force)
    assert keeps(options, failed=False) is kept_on_success
    assert keeps(options, failed=True) is kept_on_failure


def test_hint_names_the_short_id() -> None:
    assert kept_hint("3a4b81250301" + "0" * 52) == (
        "the failed step's container is kept: hoist shell 3a4b81250301"
        "  (remove it: hoist rm 3a4b81250301)"
    )
