"""MariaDB over TLS: every path of the MySQL connector honours the URL's TLS settings.

A private MariaDB with certificates made here (a CA and a server certificate for localhost /
127.0.0.1) and ``require_secure_transport=ON``; its user is created ``REQUIRE SSL``.
Introspection, profiling, counts, split points (PyMySQL) and the bulk reads (connectorx) all
connect with ssl_mode REQUIRED and VERIFY_CA + ssl_ca, and a whole ``copy_database`` into
PostgreSQL lands the same rows cell by cell. Each session's cipher is read from inside that
session (for the bulk reader: as a read expression of the partition's own SELECT), so a read
over the server's Unix socket, which require_secure_transport also lets in, would show.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import itertools
import os
import shutil
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.servers import BINLOG_ARGS, MySQLServer, start_private_mariadb
from workbench.connectors import connect
from workbench.connectors.base import Partition
from workbench.connectors.mysql import MySQLConnector, TlsSettings
from workbench.engine.run import CopyOptions, copy_database
from workbench.errors import AuthenticationError, InvalidInputError, TlsError
from workbench.profiling import profile_table

pytestmark = pytest.mark.slow  # a private MariaDB with certificates

USER, PASSWORD = "wbtls", "tls-pw-1"
ROWS = 1500
CIPHER = (
    "(SELECT VARIABLE_VALUE FROM information_schema.SESSION_STATUS"
    " WHERE VARIABLE_NAME = 'SSL_CIPHER')"
)


# --- certificates and the server ---------------------------------------------------------------


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def make_ca(cn: str) -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = dt.datetime.now(dt.UTC)
    usage = x509.KeyUsage(
        digital_signature=True, content_commitment=False, key_encipherment=False,
        data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
        encipher_only=False, decipher_only=False,
    )  # fmt: skip
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(_name(cn))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(usage, critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return cert, key


def make_server_cert(
    ca: x509.Certificate, ca_key: rsa.RSAPrivateKey
) -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = dt.datetime.now(dt.UTC)
    names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("localhost"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    return cert, key


def write_pem(path: Path, cert: x509.Certificate, key: rsa.RSAPrivateKey | None = None) -> None:
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    if key is not None:
        path.with_suffix(".key").write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.TraditionalOpenSSL,
                serialization.NoEncryption(),
            )
        )


class TlsServer:
    def __init__(self, server: MySQLServer, base: Path, database: str) -> None:
        self.server, self.base, self.database = server, base, database
        self.ca = base / "ca.pem"
        self.other_ca = base / "other-ca.pem"  # a CA that did not sign the server's certificate

    def url(self, query: str = "", password: str = PASSWORD) -> str:
        s = self.server
        return f"mysql://{USER}:{password}@{s.host}:{s.port}/{self.database}" + (
            f"?{query}" if query else ""
        )


@pytest.fixture(scope="module")
def tls_server() -> Iterator[TlsServer]:
    base = Path("/tmp") / f"wbmytls-{os.getpid()}"  # short: the socket path is limited
    shutil.rmtree(base, ignore_errors=True)
    base.mkdir(parents=True)
    ca, ca_key = make_ca("workbench test CA")
    write_pem(base / "ca.pem", ca)
    write_pem(base / "other-ca.pem", make_ca("someone else's CA")[0])
    cert, key = make_server_cert(ca, ca_key)
    write_pem(base / "server.pem", cert, key)
    server = start_private_mariadb(
        base / "mariadb",
        extra_args=[
            f"--ssl-ca={base / 'ca.pem'}",
            f"--ssl-cert={base / 'server.pem'}",
            f"--ssl-key={base / 'server.key'}",
            "--require-secure-transport=ON",
            *BINLOG_ARGS,  # a follower's binary log stream goes over TLS too
            "--server-id=13",
        ],
    )
    try:
        # root over TCP (PyMySQL's default negotiates TLS, which the server demands)
        with server.connect() as conn, conn.cursor() as cur:
            cur.execute("SHOW SESSION STATUS LIKE 'Ssl_cipher'")
            assert cur.fetchone()[1], "the private MariaDB did not start with TLS"
            cur.execute("CREATE DATABASE shop CHARACTER SET utf8mb4")
            for host in ("localhost", "127.0.0.1", "%"):
                cur.execute(f"CREATE USER '{USER}'@'{host}' IDENTIFIED BY '{PASSWORD}' REQUIRE SSL")
                cur.execute(f"GRANT ALL ON shop.* TO '{USER}'@'{host}'")
                cur.execute(f"GRANT REPLICATION SLAVE, BINLOG MONITOR ON *.* TO '{USER}'@'{host}'")
            cur.execute(
                "CREATE TABLE shop.items (id int PRIMARY KEY, name varchar(100) NOT NULL,"
                " price decimal(12,2), added datetime(3), active tinyint(1) NOT NULL,"
                " photo blob, note text) ENGINE=InnoDB"
            )
            rows = [
                (
                    i,
                    f"item {i} ünïcødé ✓ 東京" if i % 7 else f"it'em\\{i}",
                    Decimal(i) / 4 if i % 11 else None,
                    dt.datetime(2024, 1, 1, 12) + dt.timedelta(minutes=i, milliseconds=i % 1000),
                    i % 2,
                    bytes([i % 256, 0, 255]) if i % 5 else None,
                    None if i % 3 else "x" * (i % 40),
                )
                for i in range(1, ROWS + 1)
            ]
            cur.executemany("INSERT INTO shop.items VALUES (%s, %s, %s, %s, %s, %s, %s)", rows)
        yield TlsServer(server, base, "shop")
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def target_url(pg_server) -> Iterator[str]:
    name = pg_server.create_database("wbtarget")
    yield pg_server.url(name)
    pg_server.drop_database(name)


def modes(server: TlsServer) -> dict[str, str]:
    return {
        "REQUIRED": "ssl_mode=REQUIRED",
        "VERIFY_CA": f"ssl_mode=VERIFY_CA&ssl_ca={server.ca}",
        "VERIFY_IDENTITY": f"ssl_mode=VERIFY_IDENTITY&ssl_ca={server.ca}",
        "PREFERRED": "",  # no setting: encrypted because the server offers TLS
    }


def bulk_ciphers(connector: MySQLConnector, table) -> set[str]:
    """The cipher of the bulk reader's own session, read inside the partition's SELECT."""
    batches = connector.read_partition(
        table, Partition(table.name, table.schema, 0), ["id", "name"], expressions={"name": CIPHER}
    )
    return {r["name"] for b in batches for r in b.to_pylist()}


# --- the URL's settings ------------------------------------------------------------------------


def test_tls_settings_from_the_url(tmp_path):
    ca = tmp_path / "ca.pem"
    ca.write_text("-")
    parse = TlsSettings.from_query
    assert parse({}) == TlsSettings("PREFERRED", None)
    assert parse({"ssl_mode": "required"}).mode == "REQUIRED"
    verify = TlsSettings("VERIFY_CA", "/x.pem")
    assert parse({"ssl-mode": "VERIFY-CA", "ssl-ca": "/x.pem"}) == verify
    assert parse({"sslmode": "verify-full"}).mode == "VERIFY_IDENTITY"
    assert parse({"ssl_ca": "/x.pem"}).mode == "VERIFY_CA"  # as MySQL's client
    assert parse({"ssl": "true"}).mode == "REQUIRED"
    assert parse({"ssl_mode": "DISABLED"}).mode == "DISABLED"
    with pytest.raises(InvalidInputError, match="ssl_mode 'REQUIERD'"):
        connect("mysql://u@db1/shop?ssl_mode=REQUIERD")

    def cx(query: str) -> str:
        return MySQLConnector(f"mysql://u:p@db1:3307/shop?{query}")._connectorx_url()

    assert cx("ssl_mode=DISABLED") == "mysql://u:p@db1:3307/shop"
    assert cx("ssl_mode=REQUIRED") == (
        "mysql://u:p@db1:3307/shop?ssl-mode=REQUIRED&prefer_socket=false"
    )
    assert cx(f"ssl_mode=VERIFY_IDENTITY&ssl_ca={ca}") == (
        f"mysql://u:p@db1:3307/shop?ssl-mode=VERIFY_IDENTITY&ssl-ca={str(ca).replace('/', '%2F')}"
        "&prefer_socket=false"
    )
    with pytest.raises(TlsError, match="does not exist"):
        cx(f"ssl_mode=VERIFY_CA&ssl_ca={tmp_path / 'missing.pem'}")


# --- every path over TLS -----------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["REQUIRED", "VERIFY_CA", "VERIFY_IDENTITY", "PREFERRED"])
def test_catalog_profile_and_bulk_reads_are_encrypted(tls_server, mode):
    connector = connect(tls_server.url(modes(tls_server)[mode]))
    assert isinstance(connector, MySQLConnector)
    try:
        assert connector.test().ok
        (cipher,) = [v for _, v in connector.run("SHOW SESSION STATUS LIKE 'Ssl_cipher'")]
        assert cipher  # the catalog connection (PyMySQL)
        items = connector.introspect().table("items")
        assert items.primary_key == ("id",) and len(items.columns) == 7
        assert connector.count(items) == ROWS
        points = connector.split_points(items, ["id"], 3)
        assert len(points) == 2
        profile = profile_table(connector, items)
        assert profile.rows == ROWS
        assert {c.name: c.nulls for c in profile.columns}["note"] == ROWS - ROWS // 3
        # the bulk reader (connectorx): TLS over TCP, the cipher of its own session
        assert bulk_ciphers(connector, items) == {cipher}
        bounds = [None, *points, None]
        read = [
            sum(
                b.num_rows
                for b in connector.read_partition(
                    items, Partition("items", items.schema, i, ("id",), lo, hi), batch_rows=200
                )
            )
            for i, (lo, hi) in enumerate(itertools.pairwise(bounds))
        ]
        assert sum(read) == ROWS and min(read) > 0
    finally:
        connector.close()


def test_bulk_reads_use_tls_over_tcp_also_for_a_user_without_require_ssl(tls_server):
    """root may log in over the server's Unix socket (require_secure_transport lets it in),
    where the mysql crate under connectorx would move a local connection: the reads must stay
    on the URL's host and port, encrypted as the URL says."""
    s = tls_server.server
    connector = connect(f"mysql://root@{s.host}:{s.port}/shop?ssl_mode=REQUIRED")
    try:
        (cipher,) = [v for _, v in connector.run("SHOW SESSION STATUS LIKE 'Ssl_cipher'")]
        assert cipher
        assert bulk_ciphers(connector, connector.introspect().table("items")) == {cipher}
    finally:
        connector.close()


def source_rows(server: TlsServer) -> list[tuple]:
    connector = connect(server.url("ssl_mode=VERIFY_CA&ssl_ca=" + str(server.ca)))
    try:
        return [
            tuple(r)
            for r in connector.run(
                "SELECT id, name, price, added, active, photo, note FROM items ORDER BY id"
            )
        ]
    finally:
        connector.close()


def normalize(row: tuple) -> tuple:
    return tuple(
        bytes(v) if isinstance(v, memoryview | bytearray) else int(v) if isinstance(v, bool) else v
        for v in row
    )


@pytest.mark.parametrize("mode", ["REQUIRED", "VERIFY_CA"])
def test_copy_database_over_tls(tls_server, target_url, store, mode):
    before = tls_server.server.connect()
    with before.cursor() as cur:
        cur.execute("SHOW GLOBAL STATUS LIKE 'Ssl_finished_accepts'")
        accepted = int(cur.fetchone()[1])
    before.close()
    result = copy_database(
        tls_server.url(modes(tls_server)[mode]),
        target_url,
        CopyOptions(workers=1, partition_rows=500),
        store=store,
    )
    assert result.status == "succeeded" and result.validated and result.validation.ok
    assert result.tables["shop.items"]["rows_written"] == ROWS
    assert result.tables["shop.items"]["partitions"] >= 3
    with psycopg.connect(target_url) as conn:
        types = dict(
            conn.execute(
                "SELECT column_name, data_type FROM information_schema.columns"
                " WHERE table_schema = 'shop' AND table_name = 'items'"
            ).fetchall()
        )
        target = conn.execute(
            "SELECT id, name, price, added, active, photo, note FROM shop.items ORDER BY id"
        ).fetchall()
    assert types["active"] == "boolean" and types["photo"] == "bytea"
    source = source_rows(tls_server)
    assert len(source) == len(target) == ROWS
    for s, t in zip(source, target, strict=True):
        assert normalize(s) == normalize(t)
    # every session the job opened was a TLS handshake (the user is REQUIRE SSL, and a Unix
    # socket session would not count here): catalog, partitions, validation
    check = tls_server.server.connect()
    with check.cursor() as cur:
        cur.execute("SHOW GLOBAL STATUS LIKE 'Ssl_finished_accepts'")
        assert int(cur.fetchone()[1]) - accepted >= 1 + result.tables["shop.items"]["partitions"]
    check.close()


# --- refused ------------------------------------------------------------------------------------


def test_disabled_against_a_tls_only_server_is_a_tls_error(tls_server, target_url, store):
    url = tls_server.url("ssl_mode=DISABLED")
    connector = connect(url)
    with pytest.raises(TlsError) as caught:
        connector.test()
    message = str(caught.value)
    assert "refuses unencrypted connections" in message and "ssl_mode=REQUIRED" in message
    assert PASSWORD not in message
    with pytest.raises(TlsError, match="refuses unencrypted connections"):
        copy_database(url, target_url, CopyOptions(workers=1), store=store)
    # a wrong password stays a wrong password, also under DISABLED
    with pytest.raises(AuthenticationError):
        connect(tls_server.url("ssl_mode=DISABLED", password="wrong")).test()


def test_verify_ca_refuses_a_certificate_of_another_ca(tls_server):
    url = tls_server.url(f"ssl_mode=VERIFY_CA&ssl_ca={tls_server.other_ca}")
    with pytest.raises(TlsError, match=r"(?i)certificate"):
        connect(url).test()
    # the bulk reader checks the certificate as well (connectorx gives up after its pool's
    # 30 s connection timeout)
    reader = connect(tls_server.url("ssl_mode=REQUIRED"))
    items = reader.introspect().table("items")
    reader.close()
    with pytest.raises(TlsError, match=r"(?i)certificate verify failed"):
        bulk_ciphers(connect(url), items)


def test_the_binlog_stream_keeps_the_urls_tls_settings(tls_server):
    """A follower reads the binary log over its own connection: with the URL's TLS settings
    (a certificate of another CA refused, as for every other connection), and encrypted."""
    from workbench.connectors.changes import Commit, RowChange

    good = connect(tls_server.url(f"ssl_mode=VERIFY_CA&ssl_ca={tls_server.ca}"))
    items = good.introspect().table("items")
    start = good.start_change_stream([items], "tls-test")
    good.run("UPDATE items SET price = price + 1 WHERE id <= 3")
    changes = list(good.read_changes(start, [items]))
    assert [c.op for c in changes if isinstance(c, RowChange)] == ["update"] * 3
    assert isinstance(changes[-1], Commit)
    good.close()
    wrong = connect(tls_server.url(f"ssl_mode=VERIFY_CA&ssl_ca={tls_server.other_ca}"))
    with pytest.raises(TlsError, match=r"(?i)certificate"):
        list(wrong.read_changes(start, [items]))
