"""Split a shell script from a RUN instruction into simple commands.

This is not a shell parser: it finds the words of each command between `&&`, `||`,
`;`, `|`, `&`, parentheses and line ends, which is enough to see what a command
installs or downloads. Command substitutions and `sh -c` strings are not looked into.
"""

from __future__ import annotations

import json
import os
import shlex

SEPARATORS = frozenset({"&&", "||", ";", "|", "&", "(", ")", ";;", "|&", "{", "}"})
REDIRECTIONS = frozenset({">", ">>", "<", "<<", "2>", "&>", ">&", "<&", "<<<"})
# Words that run the command after them, and words that only set the environment.
PREFIX_COMMANDS = frozenset({"sudo", "env", "command", "exec", "nice", "nohup", "time"})


def run_script(arguments: str, heredocs: tuple[str, ...]) -> str:
    """Return the shell script of a RUN: its shell form, its exec form or its here-documents.

    `run_arguments` flags such as `--mount=...` are dropped.
    """
    text = arguments
    while text.startswith("--"):
        _, _, text = text.partition(" ")
        text = text.lstrip()
    if text.startswith("["):
        try:
            words = json.loads(text)
        except (json.JSONDecodeError, RecursionError):
            words = None
        if isinstance(words, list) and all(isinstance(word, str) for word in words):
            if len(words) >= 3 and words[1] == "-c":
                return str(words[2])
            return " ".join(shlex.quote(word) for word in words)
    return "\n".join([text, *heredocs])


def split_commands(script: str) -> list[list[str]]:
    """Return the words of every simple command in `script`, in order.

    Leading variable assignments and prefixes such as `sudo` are removed, so the first
    word is the program. Text that shlex cannot split (an unclosed quote) is split on
    white space instead.
    """
    joined = script.replace("\\\n", " ")
    commands: list[list[str]] = []
    for line in joined.splitlines():
        current: list[str] = []
        for word in _words(line):
            if word in SEPARATORS:
                commands.append(current)
                current = []
            else:
                current.append(word)
        commands.append(current)
    return [words for words in (_strip_prefixes(command) for command in commands) if words]


def _words(line: str) -> list[str]:
    lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|()")
    lexer.whitespace_split = True
    lexer.commenters = "#"
    try:
        return list(lexer)
    except ValueError:
        return line.split()


def _strip_prefixes(words: list[str]) -> list[str]:
    index = 0
    while index < len(words):
        word = words[index]
        if "=" in word and not word.startswith("-") and word.split("=", 1)[0].isidentifier():
            index += 1
        elif word in PREFIX_COMMANDS:
            index += 1
        elif word in REDIRECTIONS:
            index += 2
        elif index > 0 and words[index - 1] in {"sudo", "env"} and word.startswith("-"):
            index += 1
        else:
            break
    return words[index:]


def program_name(word: str) -> str:
    """Return the program a command word runs: `/usr/bin/pip3` runs `pip3`."""
    return os.path.basename(word)
