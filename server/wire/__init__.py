"""The OpenAI wire schema: request models and response shapes. Imports nothing of chatdouble's."""
