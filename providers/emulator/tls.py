"""Certificates for the ARM emulator's HTTPS endpoint: a private CA and a loopback server certificate.

`aibplan emulator` makes its own with `cryptography` (already installed as a dependency of
azure-identity, so the command needs nothing from the test extra); tests use `trustme`. Files are
written into the emulator's state folder and reused while they are valid, so a client that trusts the
CA file keeps trusting a restarted emulator.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_FILE = "ca.pem"
CERT_FILE = "server.pem"  # the server certificate followed by its private key
_VALID_DAYS = 30


@dataclass(frozen=True)
class CertificatePaths:
    """The CA a client must trust and the server's certificate chain + key (one PEM file)."""

    ca_file: Path
    server_file: Path


def ensure_certificates(folder: Path) -> CertificatePaths:
    """Reuse the certificates in `folder` while they have a day left; make new ones otherwise."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = CertificatePaths(folder / CA_FILE, folder / CERT_FILE)
    if _still_valid(paths):
        return paths
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "aibplan ARM emulator CA")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=_VALID_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    server_key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = [
        x509.DNSName("localhost"),
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        x509.IPAddress(ipaddress.ip_address("::1")),
    ]
    server_cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=_VALID_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    _write(paths.ca_file, ca_cert.public_bytes(serialization.Encoding.PEM), private=False)
    key_pem = server_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    _write(paths.server_file, server_cert.public_bytes(serialization.Encoding.PEM) + key_pem, private=True)
    return paths


def _still_valid(paths: CertificatePaths) -> bool:
    if not (paths.ca_file.is_file() and paths.server_file.is_file()):
        return False
    try:
        ca = x509.load_pem_x509_certificate(paths.ca_file.read_bytes())
        server = x509.load_pem_x509_certificate(paths.server_file.read_bytes())
    except ValueError:
        return False
    horizon = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1)
    return (
        server.issuer == ca.subject
        and ca.not_valid_after_utc > horizon
        and server.not_valid_after_utc > horizon
    )


def _write(path: Path, data: bytes, *, private: bool) -> None:
    temporary = path.with_suffix(path.suffix + ".tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    descriptor = os.open(temporary, flags, 0o600 if private else 0o644)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
    os.replace(temporary, path)
