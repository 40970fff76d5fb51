"""Tests of the rounds domain."""
