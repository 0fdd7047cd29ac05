-- A deterministic SQL workload for the user-mode tests and benchmarks (the
-- sqlite3 shell built from Debian's source package): tables, indexes, joins,
-- aggregates, window functions, triggers, views, transactions with rollback and
-- savepoints, JSON, printf-style output, on a file database in WAL mode.
-- Run: sqlite3 -cmd '.parameter set @scale N' FILE.db < workload.sql
-- Every result is printed; it must be identical natively and under emulation.
.bail on
.headers off
.mode list
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
PRAGMA cache_size = 20;   -- pages: small, so pages go back and forth to the file

CREATE TABLE city(id INTEGER PRIMARY KEY, name TEXT NOT NULL, region TEXT);
CREATE TABLE customer(id INTEGER PRIMARY KEY, name TEXT, city_id INTEGER REFERENCES city(id),
                      balance REAL, tier INTEGER);
CREATE TABLE product(id INTEGER PRIMARY KEY, label TEXT, price REAL, weight INTEGER);
CREATE TABLE orders(id INTEGER PRIMARY KEY, customer_id INTEGER, day INTEGER, status TEXT);
CREATE TABLE line(order_id INTEGER, product_id INTEGER, qty INTEGER, discount REAL,
                  PRIMARY KEY (order_id, product_id)) WITHOUT ROWID;
CREATE TABLE audit(seq INTEGER PRIMARY KEY AUTOINCREMENT, what TEXT, n INTEGER);

-- a linear congruential generator in a recursive CTE keeps the data deterministic
WITH RECURSIVE r(i, x) AS (SELECT 1, 12345 UNION ALL
    SELECT i + 1, (x * 1103515245 + 12345) % 2147483648 FROM r WHERE i < 40)
INSERT INTO city SELECT i, printf('city%02d-%s', i, substr('abcdefghijklmnopqrstuvwxyz', x % 26 + 1, 3)),
    CASE x % 4 WHEN 0 THEN 'north' WHEN 1 THEN 'south' WHEN 2 THEN 'east' ELSE 'west' END FROM r;

BEGIN;
WITH RECURSIVE r(i, x) AS (SELECT 1, 777 UNION ALL
    SELECT i + 1, (x * 1103515245 + 12345) % 2147483648 FROM r WHERE i < 1000 * @scale)
INSERT INTO customer SELECT i, printf('cust%04X', x % 65536), x % 40 + 1, (x % 100000) / 100.0, x % 5 FROM r;
WITH RECURSIVE r(i, x) AS (SELECT 1, 4242 UNION ALL
    SELECT i + 1, (x * 1103515245 + 12345) % 2147483648 FROM r WHERE i < 200)
INSERT INTO product SELECT i, printf('P%06x', x % 16777216), (x % 9973) / 7.0, x % 50 + 1 FROM r;
WITH RECURSIVE r(i, x) AS (SELECT 1, 99 UNION ALL
    SELECT i + 1, (x * 1103515245 + 12345) % 2147483648 FROM r WHERE i < 3000 * @scale)
INSERT INTO orders SELECT i, x % (1000 * @scale) + 1, x % 365,
    CASE x % 7 WHEN 0 THEN 'cancelled' WHEN 1 THEN 'open' ELSE 'shipped' END FROM r;
WITH RECURSIVE r(i, x) AS (SELECT 1, 31337 UNION ALL
    SELECT i + 1, (x * 1103515245 + 12345) % 2147483648 FROM r WHERE i < 9000 * @scale)
INSERT OR IGNORE INTO line SELECT (i - 1) / 3 + 1, x % 200 + 1, x % 9 + 1, (x % 4) * 0.05 FROM r;
COMMIT;

CREATE INDEX customer_city ON customer(city_id, tier);
CREATE INDEX orders_customer ON orders(customer_id, day);
CREATE INDEX orders_status ON orders(status) WHERE status <> 'shipped';
CREATE VIEW order_total AS
    SELECT o.id, o.customer_id, o.day, o.status, sum(l.qty * p.price * (1 - l.discount)) AS total,
           sum(l.qty * p.weight) AS weight
    FROM orders o JOIN line l ON l.order_id = o.id JOIN product p ON p.id = l.product_id
    GROUP BY o.id;
CREATE TRIGGER cancel_log AFTER UPDATE OF status ON orders WHEN new.status = 'cancelled'
BEGIN INSERT INTO audit(what, n) VALUES ('cancel', new.id); END;

SELECT 'counts', (SELECT count(*) FROM city), (SELECT count(*) FROM customer),
       (SELECT count(*) FROM product), (SELECT count(*) FROM orders), (SELECT count(*) FROM line);
SELECT 'revenue by region', c.region, count(DISTINCT o.id), printf('%.2f', sum(t.total)), max(t.weight)
    FROM order_total t JOIN orders o ON o.id = t.id JOIN customer cu ON cu.id = o.customer_id
    JOIN city c ON c.id = cu.city_id WHERE o.status = 'shipped' GROUP BY c.region ORDER BY c.region;
SELECT 'top customers', cu.name, printf('%10.2f', sum(t.total)), count(*)
    FROM customer cu JOIN order_total t ON t.customer_id = cu.id
    GROUP BY cu.id ORDER BY sum(t.total) DESC, cu.id LIMIT 10;
SELECT 'tiers', tier, count(*), printf('%.3f', avg(balance)), printf('%.2f', min(balance)),
       printf('%.2f', max(balance)), total(balance > 500) FROM customer GROUP BY tier HAVING count(*) > 10;
SELECT 'monthly', day / 30 AS month, count(*), sum(status = 'open'),
       printf('%.1f', sum(count(*)) OVER (ORDER BY day / 30)) FROM orders GROUP BY month ORDER BY month;
SELECT 'rank', id, printf('%.2f', total), rank() OVER w, ntile(4) OVER w, printf('%.2f', lag(total) OVER w)
    FROM order_total WHERE customer_id % 97 = 3 WINDOW w AS (ORDER BY total DESC, id) LIMIT 12;
SELECT 'no orders', count(*) FROM customer WHERE NOT EXISTS (SELECT 1 FROM orders WHERE customer_id = customer.id);
SELECT 'popular', p.label, sum(l.qty), count(DISTINCT l.order_id)
    FROM product p LEFT JOIN line l ON l.product_id = p.id GROUP BY p.id ORDER BY 3 DESC, p.id LIMIT 8;
SELECT 'strings', group_concat(name, '|') FROM (SELECT replace(lower(name), 'cust', 'c') AS name
    FROM customer WHERE instr(name, 'A') > 0 ORDER BY name LIMIT 15);
SELECT 'like', count(*), sum(length(name)) FROM customer WHERE name LIKE 'cust1%' OR name GLOB '*F?';
SELECT 'json', json_object('region', region, 'cities', json_group_array(name))
    FROM city GROUP BY region ORDER BY region;
SELECT 'math', printf('%.6f', sum(price * price) / count(*)), printf('%e', max(price) / 3),
       printf('%x', sum(weight) * 65537), abs(-7) % 3, 17 / 5, 17.0 / 5, round(2.675, 2), cast(-7.9 AS INTEGER)
    FROM product;

SELECT 'correlated', count(*) FROM customer cu
    WHERE balance > (SELECT avg(balance) FROM customer WHERE city_id = cu.city_id);
WITH RECURSIVE r(i, x) AS (SELECT 1, 5 UNION ALL
    SELECT i + 1, (x * 1103515245 + 12345) % 2147483648 FROM r WHERE i < 50000 * @scale)
SELECT 'cte', count(*), sum(x % 1000), printf('%.4f', avg(x) / 2147483648.0), max(length(printf('%d', x))) FROM r;

-- updates, deletes, a trigger, savepoints and rollbacks
BEGIN;
UPDATE orders SET status = 'cancelled' WHERE status = 'open' AND day < 30;
SAVEPOINT sp;
DELETE FROM line WHERE qty > 7;
SELECT 'after delete', count(*) FROM line;
ROLLBACK TO sp;
RELEASE sp;
UPDATE customer SET balance = round(balance * 1.1, 2) WHERE tier = 4;
COMMIT;
SELECT 'audit', count(*), min(n), max(n) FROM audit;
SELECT 'lines kept', count(*), sum(qty) FROM line;
BEGIN;
DELETE FROM orders WHERE status = 'cancelled';
SELECT 'inside', count(*) FROM orders;
ROLLBACK;
SELECT 'after rollback', count(*) FROM orders;
SELECT 'tier4', printf('%.2f', sum(balance)) FROM customer WHERE tier = 4;

-- the indexes are used and the database is whole
SELECT 'indexes', name, "unique", partial FROM pragma_index_list('orders') ORDER BY name;
SELECT 'index count', count(*) FROM orders INDEXED BY orders_status WHERE status <> 'shipped';
PRAGMA wal_checkpoint(TRUNCATE);
VACUUM;
PRAGMA integrity_check;
SELECT 'pages', page_count > 0 FROM pragma_page_count();
