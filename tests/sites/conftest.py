"""Fixtures of the after-award tests (the workflow's HTTP helper, real time afterwards)."""

from tests.applications.conftest import _real_time_afterwards, api  # noqa: F401
