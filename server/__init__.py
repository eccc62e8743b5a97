"""chatdouble: an OpenAI Chat Completions stand-in server."""

__version__ = "0.1.0"
