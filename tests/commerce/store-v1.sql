-- A voxcart store at schema version 1, as the build before conversation metrics
-- made it (sqlite3 .dump of a seeded store after `voxcart ask` placed order 872,
-- trimmed to two products and two orders). test_metrics opens it with the
-- current code to check that migrating keeps the data.
PRAGMA foreign_keys=OFF;
BEGIN TRANSACTION;
CREATE TABLE products(  sku TEXT PRIMARY KEY,  name TEXT NOT NULL,  price REAL NOT NULL CHECK(price >= 0),  currency TEXT NOT NULL,  category TEXT NOT NULL,  stock INTEGER NOT NULL CHECK(stock >= 0),  position INTEGER NOT NULL,  search_text TEXT NOT NULL);
INSERT INTO products VALUES('HH-0001','Bounty Select-A-Size Paper Towels, 6 Double Rolls',15.990000000000000213,'USD','household',30,0,' bounty select a size paper towel 6 double roll paper towel bounty bounty paper towel household ');
INSERT INTO products VALUES('HH-0012','Melitta #4 Cone Coffee Filters, 100 ct',3.4900000000000002131,'USD','household',38,11,' melitta 4 cone coffee filter 100 ct coffee filter filter melitta filter household ');
CREATE TABLE product_aliases(  sku TEXT NOT NULL REFERENCES products(sku) ON DELETE CASCADE,  position INTEGER NOT NULL,  alias TEXT NOT NULL,  PRIMARY KEY(sku, position));
INSERT INTO product_aliases VALUES('HH-0001',0,'paper towels');
INSERT INTO product_aliases VALUES('HH-0001',1,'bounty');
INSERT INTO product_aliases VALUES('HH-0001',2,'bounty paper towels');
INSERT INTO product_aliases VALUES('HH-0012',0,'coffee filters');
INSERT INTO product_aliases VALUES('HH-0012',1,'filters');
INSERT INTO product_aliases VALUES('HH-0012',2,'melitta filters');
CREATE TABLE product_attributes(  sku TEXT NOT NULL REFERENCES products(sku) ON DELETE CASCADE,  position INTEGER NOT NULL,  key TEXT NOT NULL,  value TEXT NOT NULL,  PRIMARY KEY(sku, key));
INSERT INTO product_attributes VALUES('HH-0001',0,'unit','pack');
INSERT INTO product_attributes VALUES('HH-0012',0,'color','natural brown');
INSERT INTO product_attributes VALUES('HH-0012',1,'unit','pack');
CREATE TABLE customers(  id TEXT PRIMARY KEY,  name TEXT NOT NULL);
INSERT INTO customers VALUES('demo','Alex');
CREATE TABLE orders(  number TEXT PRIMARY KEY,  customer_id TEXT NOT NULL REFERENCES customers(id),  status TEXT NOT NULL CHECK(status IN ('placed','packed','shipped','delivered','cancelled')),  placed_at TEXT NOT NULL,  currency TEXT NOT NULL,  total REAL NOT NULL);
INSERT INTO orders VALUES('802','demo','delivered','2026-10-02T15:04:05Z','USD',92.469999999999998863);
INSERT INTO orders VALUES('872','demo','placed','2026-11-30T10:12:43Z','USD',6.9800000000000004263);
CREATE TABLE order_lines(  order_number TEXT NOT NULL REFERENCES orders(number) ON DELETE CASCADE,  line INTEGER NOT NULL,  sku TEXT NOT NULL,  description TEXT NOT NULL,  quantity INTEGER NOT NULL CHECK(quantity > 0),  unit_price REAL NOT NULL,  PRIMARY KEY(order_number, line));
INSERT INTO order_lines VALUES('802',0,'HH-0012','Melitta #4 Cone Coffee Filters, 100 ct',2,3.4900000000000002131);
INSERT INTO order_lines VALUES('802',1,'HH-0001','Bounty Select-A-Size Paper Towels, 6 Double Rolls',1,15.990000000000000213);
INSERT INTO order_lines VALUES('802',2,'AP-0015','Levi''s Men''s 511 Slim Fit Jeans, Dark Indigo, 32x32',1,69.499999999999999998);
INSERT INTO order_lines VALUES('872',0,'HH-0012','Melitta #4 Cone Coffee Filters, 100 ct',2,3.4900000000000002131);
CREATE TABLE handovers(  id INTEGER PRIMARY KEY AUTOINCREMENT,  customer_id TEXT,  reason TEXT NOT NULL,  transcript TEXT NOT NULL,  created_at TEXT NOT NULL);
CREATE TABLE sessions(  id TEXT PRIMARY KEY,  state TEXT NOT NULL,  updated_at TEXT NOT NULL);
DELETE FROM sqlite_sequence;
CREATE INDEX products_by_position ON products(position);
CREATE INDEX orders_by_customer ON orders(customer_id, placed_at);
CREATE INDEX order_lines_by_sku ON order_lines(sku);
COMMIT;
PRAGMA application_id=1986228852;
PRAGMA user_version=1;
