"""The owner's password and the HTTP API's key: salted scrypt hashes, where they live, and the checks against them.

Sharing the studio (docs/sharing.md) gives visitors the Generate page and keeps training, uploads,
the model in use and the run folders to its owner, who signs in with a password. Neither the
password nor the API key is kept anywhere in plain text: the password is stored as ``scrypt$N$r$p$salt$hash``
(hashlib.scrypt, a random 16-byte salt: slow on purpose, a guess costs the same), the API key, random and
long, as ``sha256$hex`` (checked on every request, so fast); either in ``.streamlit/secrets.toml`` (the secrets home Streamlit
reads; ignored by git) or in an environment variable, which wins when set (a hosted service's secret
settings). The studio (``studio.access``), the API (``core.serving``) and ``python -m core owner``
all read them here; checks compare in constant time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import secrets
import tomllib
from pathlib import Path

from core.errors import EnvironmentFault, InputError

#: where the hashes live unless ``CHORDSMITH_SECRETS`` names another file.
SECRETS_FILE = Path(__file__).resolve().parent.parent / ".streamlit" / "secrets.toml"
#: the secrets file's keys, and the environment variables that override them.
OWNER_KEY = "chordsmith_owner_password"
API_KEY_KEY = "chordsmith_api_key"
ENVIRONMENT = {OWNER_KEY: "CHORDSMITH_OWNER_PASSWORD_HASH", API_KEY_KEY: "CHORDSMITH_API_KEY_HASH"}
#: scrypt's cost: 2**14 rounds of 8-block rows, 16 MiB and some 50 ms a check (a guess costs the same).
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
MIN_PASSWORD_CHARACTERS = 10
MAX_PASSWORD_CHARACTERS = 1_024
_HASH_FORMAT = re.compile(r"^scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$")
_TOML_LINE = re.compile(r"^\s*([A-Za-z0-9_-]+)\s*=")


def secrets_file() -> Path:
    """The secrets file in use: ``CHORDSMITH_SECRETS`` when set, else :data:`SECRETS_FILE`."""
    return Path(os.environ.get("CHORDSMITH_SECRETS") or SECRETS_FILE)


def hashed(secret: str) -> str:
    """``secret`` as a salted scrypt hash, ``scrypt$N$r$p$salt$hash`` (base64), never reversible."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(secret.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32)
    encoded = (base64.b64encode(part).decode() for part in (salt, digest))
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${'$'.join(encoded)}"


def key_hashed(api_key: str) -> str:
    """A random API key's hash, ``sha256$hex`` (a key of :func:`new_api_key`'s length needs no slow hash)."""
    return f"sha256${hashlib.sha256(api_key.encode()).hexdigest()}"


def matches(secret: str, stored: str) -> bool:
    """Whether ``secret`` is the one ``stored`` (a :func:`hashed` or :func:`key_hashed` value) was made from.

    A malformed hash matches nothing.
    """
    if (stored or "").startswith("sha256$"):
        return hmac.compare_digest(key_hashed(secret[:MAX_PASSWORD_CHARACTERS]), stored)
    found = _HASH_FORMAT.match(stored or "")
    if not found or len(secret) > MAX_PASSWORD_CHARACTERS:
        return False
    n, r, p = (int(found.group(i)) for i in (1, 2, 3))
    if n > 2**20 or r > 32 or p > 16:  # a hash asking for gigabytes is refused, not computed
        return False
    salt, expected = (base64.b64decode(found.group(i)) for i in (4, 5))
    digest = hashlib.scrypt(secret.encode(), salt=salt, n=n, r=r, p=p, dklen=len(expected), maxmem=2**30)
    return hmac.compare_digest(digest, expected)


def stored_hash(key: str) -> str | None:
    """The hash stored under ``key`` (:data:`OWNER_KEY` or :data:`API_KEY_KEY`): environment first, then the file."""
    from_environment = os.environ.get(ENVIRONMENT[key], "").strip()
    if from_environment:
        return from_environment
    path = secrets_file()
    try:
        values = tomllib.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise EnvironmentFault(f"the secrets file {path.name} cannot be read: {error}") from error
    value = values.get(key)
    return value.strip() if isinstance(value, str) and value.strip() else None


def owner_password_set() -> bool:
    """Whether an owner password is configured (then visitors must sign in to act as the owner)."""
    return stored_hash(OWNER_KEY) is not None


def checked_password(password: str) -> str:
    """``password`` when it is long enough to guard a studio on a network; else :class:`InputError` saying why."""
    if len(password) < MIN_PASSWORD_CHARACTERS:
        raise InputError(f"the owner password needs at least {MIN_PASSWORD_CHARACTERS} characters")
    if len(password) > MAX_PASSWORD_CHARACTERS:
        raise InputError(f"the owner password may have at most {MAX_PASSWORD_CHARACTERS} characters")
    return password


def store_hash(key: str, value: str | None) -> Path:
    """Write ``value`` (a hash; ``None`` removes it) under ``key`` in the secrets file, keeping its other lines.

    The file is written whole (to a temporary file, then renamed) and readable by its owner only.
    """
    path = secrets_file()
    lines = path.read_text(encoding="utf-8").splitlines() if path.is_file() else []
    kept = [line for line in lines if (m := _TOML_LINE.match(line)) is None or m.group(1) != key]
    table = next((i for i, line in enumerate(kept) if line.lstrip().startswith("[")), len(kept))
    if value is not None:  # top-level keys go before the first [table]
        kept.insert(table, f'{key} = "{value}"')
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text("\n".join(kept) + "\n", encoding="utf-8")
    temporary.chmod(0o600)
    temporary.replace(path)
    return path


def new_api_key() -> str:
    """A fresh random API key (43 URL-safe characters) for :data:`API_KEY_KEY`'s hash; shown once, never stored."""
    return secrets.token_urlsafe(32)
