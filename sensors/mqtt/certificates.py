"""A private certificate authority and the broker's TLS certificate, made with the
``cryptography`` package (no openssl command line).

Clients verify the broker against the private CA's certificate (``--ca-certs ca.crt``) and
its host name against the certificate's subject alternative names, so the broker's
certificate names every host the clients reach it by: in docker-compose ``mosquitto``, on
the host ``localhost`` and ``127.0.0.1``, and whatever ``--hostname`` adds. Keys are ECDSA
on P-256, which Mosquitto (OpenSSL) and Python's ssl module both accept.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

DEFAULT_HOSTNAMES = ("mosquitto", "localhost", "127.0.0.1", "::1")
"""The broker's names in docker-compose (its service name) and on the host."""

CA_DAYS = 3650
"""The private CA lives ten years: it is made once and kept (see :func:`load_or_make_ca`)."""
SERVER_DAYS = 825
"""The longest validity Apple platforms accept for a TLS server certificate ("Requirements
for trusted certificates in iOS 13 and macOS 10.15", support.apple.com/HT210176), so a
dashboard on a Mac trusts it too; ``trafficsim credentials`` makes a new one each run."""

_LABEL = r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"
_DNS_NAME = re.compile(rf"^{_LABEL}(\.{_LABEL})*$", re.IGNORECASE)
"""A host name of RFC 1123 labels (up to 63 characters each, 253 in all)."""


@dataclass(frozen=True, slots=True)
class Authority:
    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate


def check_hostname(name: str) -> str:
    """``name`` as a certificate can hold it (an IP address or a DNS name); ValueError
    otherwise."""
    try:
        return str(ipaddress.ip_address(name))
    except ValueError:
        pass
    if len(name) > 253 or not _DNS_NAME.match(name):
        raise ValueError(
            f"{name!r} is neither an IP address nor a host name (letters, digits, '-' and '.')"
        )
    return name.lower()


def _san(hostnames: Sequence[str]) -> x509.SubjectAlternativeName:
    entries: list[x509.GeneralName] = []
    for name in dict.fromkeys(check_hostname(h) for h in hostnames):
        try:
            entries.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            entries.append(x509.DNSName(name))
    return x509.SubjectAlternativeName(entries)


def _now() -> dt.datetime:
    # An hour back: a client whose clock runs a little behind still accepts a fresh one.
    return dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)


def make_ca(common_name: str = "trafficsim private CA") -> Authority:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "trafficsim"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )
    start = _now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=CA_DAYS))
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
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return Authority(key, cert)


def server_certificate(
    ca: Authority, hostnames: Sequence[str]
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    """A key and a certificate for a TLS server reached by ``hostnames`` (the first is its
    common name), signed by ``ca``."""
    key = ec.generate_private_key(ec.SECP256R1())
    start = _now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostnames[0])]))
        .issuer_name(ca.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=SERVER_DAYS))
        .add_extension(_san(hostnames), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()),
            critical=False,
        )
        .sign(ca.key, hashes.SHA256())
    )
    return key, cert


def pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def pem_cert(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def load_or_make_ca(key_path: Path, cert_path: Path) -> tuple[Authority, bool]:
    """The CA kept in ``key_path`` and ``cert_path`` (True: it was there), or a new one (False):
    keeping it means a client that trusts it keeps trusting each new broker certificate."""
    if key_path.is_file() and cert_path.is_file():
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        if isinstance(key, ec.EllipticCurvePrivateKey) and cert.public_key() == key.public_key():
            return Authority(key, cert), True
    return make_ca(), False
