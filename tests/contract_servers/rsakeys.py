"""RSA test keys for the contract servers (needs `cryptography`, see requirements.txt).

A server that verifies signatures generates its key pair at start, writes the private
key next to itself (0600) for the client under test, and keeps the public key.
"""

import base64
import os
import sys

try:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding, rsa
except ImportError:  # the Rust harness reads this line and skips (or fails under CI)
    print("MISSING_MODULE cryptography", file=sys.stderr, flush=True)
    sys.exit(3)


def generate(path, pkcs1=False):
    """A fresh 2048-bit key; writes its PEM to path (mode 0600). Returns the key."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    fmt = serialization.PrivateFormat.TraditionalOpenSSL if pkcs1 else serialization.PrivateFormat.PKCS8
    pem = key.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    return key


def pem_text(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def fingerprint(key):
    """OCI key fingerprint: MD5 of the DER public key, colon-separated hex."""
    import hashlib
    der = key.public_key().public_bytes(serialization.Encoding.DER,
                                        serialization.PublicFormat.SubjectPublicKeyInfo)
    h = hashlib.md5(der).hexdigest()
    return ":".join(h[i:i + 2] for i in range(0, len(h), 2))


def verify(public_key, signature, message):
    """RSASSA-PKCS1-v1_5 SHA-256."""
    try:
        public_key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
        return True
    except InvalidSignature:
        return False


def b64url_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
