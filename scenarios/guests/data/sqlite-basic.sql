CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, score REAL, tag BLOB);
WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 50)
INSERT INTO t SELECT i, 'n' || (i * 7919 % 1000), (i * 37 % 101) / 7.0, randomblob(0) || x'00ff' FROM c;
CREATE INDEX t_name ON t(name);
SELECT count(*), sum(id), min(name), max(name) FROM t;
SELECT round(avg(score), 6), total(score), max(score) FROM t;
SELECT name, count(*) FROM t GROUP BY name HAVING count(*) > 1 ORDER BY name LIMIT 5;
CREATE TABLE u(k INTEGER, v TEXT);
INSERT INTO u SELECT id % 17, upper(name) FROM t WHERE id % 3 = 0;
SELECT u.k, count(*), group_concat(DISTINCT substr(u.v, 1, 2)) FROM u JOIN t ON t.id = u.k GROUP BY u.k ORDER BY u.k LIMIT 6;
SELECT printf('%.3f|%e|%d', 1.0 / 3, 12345.678, 1 << 40), 7 / 2, 7 % 3, -7 / 2, 1e308 * 10, typeof(1e308 * 10);
SELECT sqrt(2), exp(1), ln(10), pow(2, 0.5), sin(1), atan2(1, 2);
SELECT json_object('a', 1, 'b', json_array(1, 2.5, 'x')), json_extract('{"x":[1,{"y":42}]}', '$.x[1].y');
SELECT hex(zeroblob(4)), quote(x'0102'), length('héllo'), unicode('é'), lower('ÀB');
SELECT id, name FROM t WHERE name LIKE 'n9%' ORDER BY score DESC, id LIMIT 3;
SELECT * FROM (SELECT id, row_number() OVER (PARTITION BY id % 4 ORDER BY score) AS r FROM t) WHERE r = 1 ORDER BY id;
UPDATE t SET score = score * 2 WHERE id <= 10;
DELETE FROM t WHERE id > 40;
SELECT count(*), sum(score) FROM t;
SELECT 'bad' FROM no_such_table;
.check
