"""Tests of the applicants domain."""
