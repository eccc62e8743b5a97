"""Testing with chatdouble: see docs/testing.md."""
