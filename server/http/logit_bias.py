"""`logit_bias` checked as the API checks it, on every endpoint that takes one: keys are token ids
written as non-negative integers, values lie in -100..100, and ids exist in the model's vocabulary."""

from __future__ import annotations

from collections.abc import Mapping

from server.errors import invalid_request


def check_logit_bias(bias: Mapping[str, int] | None) -> None:
    for token, value in (bias or {}).items():
        if not (token.isascii() and token.isdigit() and len(token) <= 10):
            raise invalid_request(
                f"Invalid key in 'logit_bias': {token}. You should only be submitting non-negative integers.",
                param="logit_bias",
                code="invalid_value",
            )
        if not -100 <= value <= 100:
            raise invalid_request(
                f"Invalid value in 'logit_bias': {value}. Bias values must be between -100 and 100.",
                param="logit_bias",
                code="invalid_value",
            )


def check_logit_bias_tokens(bias: Mapping[str, int] | None, vocabulary_size: int) -> None:
    """Biased token ids must exist in the model's vocabulary."""
    for token in bias or {}:
        if int(token) >= vocabulary_size:
            raise invalid_request(
                f"Invalid key in 'logit_bias': {token}. Token ids must be below {vocabulary_size} for this model.",
                param="logit_bias",
                code="invalid_value",
            )
