"""The Chat Completions dialect: its wire schema, validation, prompt counting, rendering and routes."""
