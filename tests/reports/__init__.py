"""Tests of the reports area."""
