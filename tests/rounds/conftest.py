"""Fixtures of the round tests (shared with the workflow tests)."""

from tests.applications.conftest import _real_time_afterwards, api  # noqa: F401
