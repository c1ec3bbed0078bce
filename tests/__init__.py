"""Gatehouse's tests; the helpers they share live in ``tests.kit``."""

import pytest

# The kit's helpers assert too: have pytest explain their failures as it does a test's.
pytest.register_assert_rewrite("tests.kit")
