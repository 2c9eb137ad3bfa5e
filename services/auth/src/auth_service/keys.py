"""Dev signing keys, generated on first run into an ignored folder (production reads PEM from the environment).

``python -m auth_service.keys FOLDER [KID]`` — used by `make run` and the compose file.
"""

from __future__ import annotations

import sys
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


def ensure_signing_key(folder: Path, kid: str = "dev-1") -> tuple[Path, Path]:
    """``folder/private/<kid>.pem`` and ``folder/public/<kid>.pem`` (RSA 2048), created if missing."""
    private_path = folder / "private" / f"{kid}.pem"
    public_dir = folder / "public"
    if not private_path.exists():
        private_path.parent.mkdir(parents=True, exist_ok=True)
        public_dir.mkdir(parents=True, exist_ok=True)
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        private_path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        private_path.chmod(0o600)
        (public_dir / f"{kid}.pem").write_bytes(
            key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        )
    return private_path, public_dir


if __name__ == "__main__":
    ensure_signing_key(Path(sys.argv[1]), *(sys.argv[2:3] or []))
