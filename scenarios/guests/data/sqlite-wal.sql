PRAGMA page_size = 1024;
PRAGMA journal_mode = WAL;
PRAGMA wal_autocheckpoint = 0;
CREATE TABLE log(id INTEGER PRIMARY KEY, at INTEGER, msg TEXT);
CREATE INDEX log_at ON log(at);
WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 120)
INSERT INTO log SELECT i, i * 31 % 97, 'message ' || i FROM c;
.echo the log and the shared-memory index are beside the database:
.files
SELECT count(*), sum(at), max(msg) FROM log;
BEGIN;
UPDATE log SET msg = msg || '!' WHERE at < 20;
ROLLBACK;
SELECT count(*) FROM log WHERE msg LIKE '%!';
PRAGMA wal_checkpoint(PASSIVE);
.files
.reopen
PRAGMA journal_mode;
SELECT count(*), sum(at) FROM log WHERE at BETWEEN 10 AND 60;
DELETE FROM log WHERE id % 5 = 0;
PRAGMA wal_checkpoint(TRUNCATE);
.files
.check
PRAGMA journal_mode = DELETE;
.echo back to a rollback journal, the log and index are gone:
.files
SELECT count(*), sum(id) FROM log;
