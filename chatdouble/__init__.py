"""chatdouble's import root for what it offers other projects: `chatdouble.testing` (a client for the
admin API, servers started from Python, the pytest plugin). In an installed wheel the server itself is
here too, as `chatdouble.server` and `chatdouble.backends` (build_backend/chatdouble_build.py)."""
