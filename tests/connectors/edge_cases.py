"""Edge-case schemas, one per dialect, exercising every row of the type map.

Shared by tests/connectors and tests/schema. Identifiers include a reserved word
(``select``), mixed case and non-ASCII letters on purpose.
"""

from __future__ import annotations

MYSQL_EDGE = [
    "SET SESSION sql_mode = ''",
    """CREATE TABLE `select` (
      `id` INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
      `Größe` VARCHAR(20) CHARACTER SET utf8mb4 COMMENT 'größe ✓',
      `MixedCase` INT,
      `ti1` TINYINT(1) DEFAULT '1', `ti` TINYINT, `tiu` TINYINT UNSIGNED,
      `si` SMALLINT, `siu` SMALLINT UNSIGNED, `mi` MEDIUMINT, `miu` MEDIUMINT UNSIGNED,
      `iu` INT UNSIGNED, `bi` BIGINT, `biu` BIGINT UNSIGNED,
      `d65` DECIMAL(65,30), `f` FLOAT, `dbl` DOUBLE, `b1` BIT(1) DEFAULT b'0', `b12` BIT(12),
      `y` YEAR, `d` DATE, `dt` DATETIME(6), `ts` TIMESTAMP NULL, `t` TIME,
      `c` CHAR(3), `vc` VARCHAR(10) CHARACTER SET latin1 DEFAULT 'it''s', `tt` TINYTEXT,
      `tx` TEXT, `mt` MEDIUMTEXT, `lt` LONGTEXT,
      `bn` BINARY(4), `vb` VARBINARY(8), `tb` TINYBLOB, `bl` BLOB, `mb` MEDIUMBLOB, `lb` LONGBLOB,
      `e` ENUM('a','b c','it''s') DEFAULT 'a', `s` SET('x','y','z') DEFAULT 'x,y', `j` JSON,
      `g` GEOMETRY, `p` POINT,
      `gen` INT AS (`MixedCase` * 2) STORED,
      `dz` DATETIME DEFAULT '0000-00-00 00:00:00',
      CONSTRAINT `uq_größe` UNIQUE (`Größe`),
      CONSTRAINT `positive` CHECK (`MixedCase` >= 0)
    ) COMMENT 'edge cases'""",
    """INSERT INTO `select` (`id`, `Größe`, `MixedCase`, `ti1`, `ti`, `tiu`, `si`, `siu`, `mi`,
      `miu`, `iu`, `bi`, `biu`, `d65`, `f`, `dbl`, `b1`, `b12`, `y`, `d`, `dt`, `ts`, `t`, `c`,
      `vc`, `tt`, `tx`, `mt`, `lt`, `bn`, `vb`, `tb`, `bl`, `mb`, `lb`, `e`, `s`, `j`, `g`, `p`,
      `dz`)
    VALUES
     (1, 'größe 😀', 1, 1, -128, 255, -32768, 65535, -8388608, 16777215, 4294967295,
      -9223372036854775808, 18446744073709551615,
      '99999999999999999999999999999999999.999999999999999999999999999999', 1.5, 2.5e300,
      b'1', b'101010101010', 2155, '0000-00-00', '2024-00-10 00:00:00', NULL, '838:59:59',
      'abc', 'café', 'tiny', 'text', 'medium', 'long', x'00ff0001', x'00', x'01', x'02', x'03',
      x'04', 'it''s', 'x,z', '{"a": [1, "é"]}', ST_GeomFromText('POINT(1 2)'),
      ST_GeomFromText('POINT(3 4)'), '0000-00-00 00:00:00'),
     (2, NULL, 0, 0, 127, 0, 32767, 0, 8388607, 0, 0, 9223372036854775807, 0,
      '-0.000000000000000000000000000001', -1.5, -0.0, b'0', b'0', 1901, '0009-03-04',
      '0009-03-04 05:06:07.123456', '2024-05-06 07:08:09', '-00:00:01', '', '', '', '', '', '',
      x'', x'', x'', x'', x'', x'', 'b c', '', 'null', NULL, NULL, '2024-05-00 00:00:00'),
     (3, 'z', 2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
      NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
      NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)""",
    """CREATE TABLE `Child Table` (
      `ChildID` BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
      `select_id` INT UNSIGNED,
      `note` VARCHAR(30),
      PRIMARY KEY (`ChildID`),
      KEY `idx_note` (`note`(10)),
      CONSTRAINT `fk_child_select` FOREIGN KEY (`select_id`) REFERENCES `select` (`id`)
        ON DELETE CASCADE ON UPDATE SET NULL
    )""",
    "INSERT INTO `Child Table` (`select_id`, `note`) VALUES (1, 'one'), (2, 'two'), (3, NULL)",
]

PG_EDGE = [
    'CREATE SCHEMA "Sales Ünits"',
    "CREATE TYPE \"Sales Ünits\".mood AS ENUM ('sad', 'ok', 'it''s fine')",
    'CREATE DOMAIN "Sales Ünits".posint AS integer NOT NULL CHECK (VALUE > 0)',
    """CREATE TABLE "Sales Ünits"."Order" (
      "ID" bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      "select" text,
      "Größe" numeric(38, 10),
      n numeric,
      tags text[],
      grid integer[][],
      mood "Sales Ünits".mood DEFAULT 'ok',
      qty "Sales Ünits".posint,
      at timestamptz(3),
      span interval,
      uid uuid,
      doc jsonb,
      b bytea,
      flag boolean,
      bits bit(4),
      total numeric(12, 2) GENERATED ALWAYS AS (qty * 2) STORED,
      CONSTRAINT "Order_select_key" UNIQUE ("select"),
      CONSTRAINT qty_small CHECK (qty < 1000000)
    )""",
    'COMMENT ON TABLE "Sales Ünits"."Order" IS \'orders ✓\'',
    'COMMENT ON COLUMN "Sales Ünits"."Order"."Größe" IS \'size\'',
    """CREATE TABLE "Sales Ünits".line (
      id serial PRIMARY KEY,
      order_id bigint NOT NULL REFERENCES "Sales Ünits"."Order" ("ID") ON DELETE CASCADE,
      note varchar(20)
    )""",
    'CREATE INDEX line_lower_note ON "Sales Ünits".line (lower(note)) WHERE note IS NOT NULL',
    """INSERT INTO "Sales Ünits"."Order" ("select", "Größe", n, tags, grid, mood, qty, at, span,
      uid, doc, b, flag, bits) VALUES
      ('a', 1234567890123456789012345678.0123456789, 1e-40, '{"x","y z"}', '{{1,2},{3,4}}',
       'it''s fine', 5, '2024-01-02 03:04:05.678+02', '1 year 2 mons 3 days 04:05:06.789',
       'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"k": [1, "é"]}', '\\x00ff', true, B'1010'),
      ('b', -1, 'NaN', '{}', NULL, 'sad', 1, '-infinity', '-838:59:59', NULL, 'null', '', false,
       B'0000')""",
    "INSERT INTO \"Sales Ünits\".line (order_id, note) VALUES (1, 'Hello'), (1, NULL), (2, 'x')",
]

SQLITE_EDGE = [
    """CREATE TABLE "select" (
      id INTEGER PRIMARY KEY,
      "Größe" NVARCHAR(10),
      flag BOOLEAN DEFAULT 0,
      amount NUMERIC(10, 2),
      ratio REAL,
      born DATE,
      at DATETIME DEFAULT CURRENT_TIMESTAMP,
      anything,
      data BLOB,
      qty INT NOT NULL DEFAULT 1,
      label TEXT DEFAULT 'it''s'
    )""",
    """CREATE TABLE child (
      id INTEGER PRIMARY KEY,
      parent INTEGER REFERENCES "select" ON DELETE CASCADE,
      code VARCHAR(5) UNIQUE
    )""",
    """INSERT INTO "select" VALUES
      (1, 'größe', 1, 12.34, 0.5, '2024-01-02', '2024-01-02 03:04:05', 'x', X'00FF', 3, 'a'),
      (2, NULL, 0, 'n/a', 1, '0009-03-04', NULL, 42, NULL, 'many', NULL),
      (3, 'z', NULL, NULL, NULL, NULL, NULL, NULL, 'text in blob', 4, 'b')""",
    "INSERT INTO child VALUES (1, 1, 'a'), (2, 2, 'b')",
]
