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


def tls_files(directory):
    """A test CA, a server certificate for 127.0.0.1 and a client certificate (CN
    "leaksweep-rotator", EC P-256 key in SEC1 PEM), all PEM files in directory.
    Returns their paths."""
    import datetime
    import ipaddress
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.timezone.utc)

    def name(cn):
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    def write(fname, data):
        path = os.path.join(directory, fname)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        return path

    def cert(subject, key, issuer, issuer_key, ca=False, san=None, eku=None):
        b = (x509.CertificateBuilder().subject_name(name(subject)).issuer_name(name(issuer))
             .public_key(key.public_key()).serial_number(x509.random_serial_number())
             .not_valid_before(now - datetime.timedelta(minutes=5))
             .not_valid_after(now + datetime.timedelta(days=1))
             .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
        if ca:
            b = b.add_extension(x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True)
        if san:
            b = b.add_extension(x509.SubjectAlternativeName(san), critical=False)
        if eku:
            b = b.add_extension(x509.ExtendedKeyUsage(eku), critical=False)
        return b.sign(issuer_key, hashes.SHA256())

    pem = serialization.Encoding.PEM
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = cert("leaksweep-test-ca", ca_key, "leaksweep-test-ca", ca_key, ca=True)
    srv_key = ec.generate_private_key(ec.SECP256R1())
    srv = cert("127.0.0.1", srv_key, "leaksweep-test-ca", ca_key,
               san=[x509.IPAddress(ipaddress.ip_address("127.0.0.1"))], eku=[ExtendedKeyUsageOID.SERVER_AUTH])
    cli_key = ec.generate_private_key(ec.SECP256R1())
    cli = cert("leaksweep-rotator", cli_key, "leaksweep-test-ca", ca_key, eku=[ExtendedKeyUsageOID.CLIENT_AUTH])
    trad = serialization.PrivateFormat.TraditionalOpenSSL
    none = serialization.NoEncryption()
    return {
        "ca": write("ca.pem", ca.public_bytes(pem)),
        "server_cert": write("server.pem", srv.public_bytes(pem)),
        "server_key": write("server-key.pem", srv_key.private_bytes(pem, trad, none)),
        "client_cert": write("client.pem", cli.public_bytes(pem)),
        "client_key": write("client-key.pem", cli_key.private_bytes(pem, trad, none)),
    }


def b64url_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
