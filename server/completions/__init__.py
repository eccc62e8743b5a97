"""The legacy Completions dialect (`POST /v1/completions`): prompts in, `text_completion` out."""
