PRAGMA journal_mode = WAL;
CREATE TABLE items(id INTEGER PRIMARY KEY, grp INTEGER, name TEXT, price REAL);
WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < param())
INSERT INTO items SELECT i, i * 7919 % 97, 'item' || (i * 104729 % 100003), (i * 31 % 1000) / 10.0 FROM c;
CREATE INDEX items_grp ON items(grp, price);
CREATE INDEX items_name ON items(name);
SELECT count(*), round(sum(price), 2), min(name), max(name) FROM items;
SELECT grp, count(*), round(avg(price), 4) FROM items GROUP BY grp ORDER BY 3 DESC LIMIT 5;
CREATE TABLE orders(id INTEGER PRIMARY KEY, item INTEGER, qty INTEGER);
WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < param())
INSERT INTO orders SELECT i, 1 + i * 6007 % param(), 1 + i % 9 FROM c;
SELECT i.grp, sum(o.qty), round(sum(o.qty * i.price), 2) FROM orders o JOIN items i ON i.id = o.item GROUP BY i.grp ORDER BY 3 DESC LIMIT 5;
UPDATE items SET price = price * 1.1 WHERE grp % 3 = 0;
DELETE FROM orders WHERE qty = 4;
SELECT count(*), sum(qty) FROM orders;
SELECT name FROM items WHERE name LIKE 'item99%' ORDER BY name LIMIT 3;
PRAGMA wal_checkpoint(TRUNCATE);
.check
