PRAGMA journal_mode;
PRAGMA page_size = 1024;
CREATE TABLE kv(k INTEGER PRIMARY KEY, v TEXT);
WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 100)
INSERT INTO kv SELECT i, printf('value-%04d-%s', i, hex(i * 2654435761 % 4294967296)) FROM c;
.files
BEGIN;
UPDATE kv SET v = v || '-changed' WHERE k % 2 = 0;
.echo inside a write transaction, the journal is beside the database:
.files
ROLLBACK;
.echo after the rollback, it has been unlinked:
.files
SELECT count(*), sum(length(v)) FROM kv;
BEGIN;
DELETE FROM kv WHERE k > 50;
INSERT INTO kv VALUES (1000, 'last');
COMMIT;
.reopen
SELECT count(*), max(k), sum(length(v)) FROM kv;
PRAGMA journal_mode = TRUNCATE;
UPDATE kv SET v = upper(v) WHERE k < 10;
.files
PRAGMA journal_mode = PERSIST;
UPDATE kv SET v = lower(v) WHERE k < 5;
.files
PRAGMA journal_mode = DELETE;
.files
VACUUM;
.files
.check
SELECT k, v FROM kv ORDER BY k DESC LIMIT 3;
