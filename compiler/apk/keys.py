"""RSA public keys that APKINDEX signatures are verified against."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from spec.errors import InvalidInputError, Location

# Alpine's signing keys for the official mirrors, shipped with the package.
SHIPPED_KEYS_DIR = Path(__file__).resolve().parent / "keys"


class KeyLoadError(InvalidInputError):
    """A key file or key folder that cannot be read as RSA public keys."""


@dataclass(frozen=True)
class KeyRing(Mapping[str, RSAPublicKey]):
    """Public keys by file name (`alpine-devel@...-6165ee59.rsa.pub`), as signatures name them."""

    # Named `by_name`, because a field named `keys` would hide Mapping.keys().
    by_name: Mapping[str, RSAPublicKey]

    def __getitem__(self, name: str) -> RSAPublicKey:
        return self.by_name[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.by_name)

    def __len__(self) -> int:
        return len(self.by_name)


def load_public_key(path: Path) -> RSAPublicKey:
    """Read one PEM RSA public key; raise KeyLoadError naming `path` when that fails."""
    try:
        key = load_pem_public_key(path.read_bytes())
    except (OSError, ValueError) as error:
        message = f"cannot read RSA public key: {error}"
        raise KeyLoadError(message, location=Location(path)) from None
    if not isinstance(key, RSAPublicKey):
        raise KeyLoadError("not an RSA public key", location=Location(path))
    return key


def load_keyring(extra_dirs: Sequence[Path] = (), extra_files: Sequence[Path] = ()) -> KeyRing:
    """Load the shipped Alpine keys, every `*.pub` file of `extra_dirs`, and `extra_files`.

    A later key replaces an earlier one of the same file name.
    Raises KeyLoadError for a missing folder or an unreadable key.
    """
    keys: dict[str, RSAPublicKey] = {}
    for folder in (SHIPPED_KEYS_DIR, *extra_dirs):
        if not folder.is_dir():
            raise KeyLoadError("key folder not found", location=Location(folder))
        for path in sorted(folder.glob("*.pub")):
            keys[path.name] = load_public_key(path)
    for path in extra_files:
        keys[path.name] = load_public_key(path)
    return KeyRing(keys)
