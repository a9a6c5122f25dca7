"""Turn a :class:`Prompt` into the exact text a model sees: plain or through a chat template."""

from __future__ import annotations

from typing import Any, Literal

from promptkit.errors import ModelError
from promptkit.records import Prompt, joined

ChatMode = Literal["auto", "on", "off"]


def use_chat_template(tokenizer: Any, mode: ChatMode) -> bool:
    """Resolve ``auto``/``on``/``off`` against what the tokenizer has.

    Raises:
        ModelError: ``on`` was asked for and the tokenizer has no chat template.
    """
    has = bool(getattr(tokenizer, "chat_template", None))
    if mode == "on" and not has:
        raise ModelError(
            "--chat-template on: this tokenizer has no chat template; use 'auto' or 'off'"
        )
    return has if mode == "auto" else mode == "on"


def messages(prompt: Prompt) -> list[dict[str, str]]:
    """Chat messages: the instruction opens the first user turn, each shot is a user/assistant pair.

    The instruction goes into the user turn rather than a system message because several chat
    templates reject or silently drop system messages.
    """
    turns: list[dict[str, str]] = []
    first_prefix = prompt.instruction_prefix
    for shot in prompt.shots:
        turns.append({"role": "user", "content": first_prefix + shot.input})
        turns.append({"role": "assistant", "content": joined(shot.prefix or "", shot.target.strip(), " ")})
        first_prefix = ""
    turns.append({"role": "user", "content": first_prefix + prompt.query})
    return turns


def format_prompt(prompt: Prompt, tokenizer: Any, chat: bool) -> str:
    """The text fed to the model, ending where the model's answer starts."""
    if not chat:
        return prompt.text
    # an answer prefix opens the assistant's turn, as lm-eval's gen_prefix does
    return str(tokenizer.apply_chat_template(messages(prompt), add_generation_prompt=True, tokenize=False)) + (prompt.answer_prefix or "")


def format_target(prompt: Prompt, tokenizer: Any, chat: bool) -> str:
    """The text the model should produce after :func:`format_prompt` (training target).

    Plain: the target delimiter plus the target. Chat: the assistant turn as the template writes
    it (answer plus end-of-turn marker), found as the suffix after the generation prompt.
    """
    if not chat:
        return prompt.target_delimiter + prompt.target
    head = format_prompt(prompt, tokenizer, chat=True)
    full = str(
        tokenizer.apply_chat_template(
            [*messages(prompt), {"role": "assistant", "content": prompt.target.strip()}],
            tokenize=False,
        )
    )
    if not full.startswith(head):
        # Templates that rewrite earlier turns when an answer follows: fall back to the answer.
        return prompt.target.strip()
    return full[len(head):]
