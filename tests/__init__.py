import pytest

# The shared helpers assert too: rewritten, their failures show the values compared, as a test's do.
pytest.register_assert_rewrite("tests.support")
