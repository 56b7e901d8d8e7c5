"""One prompt filter for the whole safety suite: building it compiles every index, so share it."""

from __future__ import annotations

import pytest

from horde_core.safety.prompt_filter import PromptFilter


@pytest.fixture(scope="session")
def pf() -> PromptFilter:
    return PromptFilter()
