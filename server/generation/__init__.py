"""The dialect-neutral generation layer: a conversation in, events out, with the API's semantics.

Dialects (Chat Completions, later the Responses API) map their requests into `Conversation` and render
the pipeline's events in their own wire format. Nothing here imports a dialect, HTTP code or settings.
"""
