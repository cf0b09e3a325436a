"""The key ring of shipped Alpine signing keys."""

from __future__ import annotations

from compiler.apk.keys import load_keyring

SHIPPED_KEY = "alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub"


def test_keyring_mapping_methods() -> None:
    keyring = load_keyring()

    assert SHIPPED_KEY in keyring.keys()
    assert keyring.get(SHIPPED_KEY) is keyring[SHIPPED_KEY]
    assert len(list(keyring.items())) == len(keyring)
