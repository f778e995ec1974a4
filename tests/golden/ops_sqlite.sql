-- amigrate up head
BEGIN;

CREATE TABLE IF NOT EXISTS amigrate_version (
	version_num VARCHAR(32) NOT NULL, 
	CONSTRAINT amigrate_version_pkc PRIMARY KEY (version_num)
);

COMMIT;

-- Running upgrade <base> -> e1

BEGIN;

CREATE TABLE account (
	id INTEGER NOT NULL, 
	email VARCHAR(255) NOT NULL, 
	active BOOLEAN DEFAULT 1 NOT NULL, 
	mood VARCHAR(5), 
	settings JSON, 
	created DATETIME DEFAULT CURRENT_TIMESTAMP, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_account_email UNIQUE (email)
);

INSERT INTO account (id, email, mood) VALUES (1, 'o''brien@example.com', 'happy');

INSERT INTO account (id, email) VALUES (2, 'b@example.com');

CREATE TABLE orders (
	id INTEGER NOT NULL, 
	account_id INTEGER NOT NULL, 
	total NUMERIC(10, 2) DEFAULT '0', 
	note TEXT, 
	PRIMARY KEY (id)
);

CREATE INDEX ix_account_email_lower ON account (lower(email));

CREATE INDEX ix_orders_note ON orders (note);

CREATE TABLE _amigrate_tmp_orders (
	id INTEGER NOT NULL, 
	account_id INTEGER NOT NULL, 
	total NUMERIC(10, 2) DEFAULT '0', 
	paid BOOLEAN DEFAULT 0, 
	remark VARCHAR(200), 
	PRIMARY KEY (id), 
	CONSTRAINT fk_orders_account FOREIGN KEY(account_id) REFERENCES account (id) ON DELETE CASCADE, 
	CONSTRAINT ck_orders_total CHECK (total >= 0), 
	CONSTRAINT uq_orders_note UNIQUE (remark)
);

INSERT INTO _amigrate_tmp_orders (id, account_id, total, remark) SELECT orders.id, orders.account_id, orders.total, orders.note 
FROM orders;

DROP TABLE orders;

PRAGMA legacy_alter_table = ON;

ALTER TABLE _amigrate_tmp_orders RENAME TO orders;

PRAGMA legacy_alter_table = OFF;

CREATE INDEX ix_orders_note ON orders (remark);

ALTER TABLE account ADD COLUMN name VARCHAR(50) DEFAULT 'n/a';

ALTER TABLE account RENAME COLUMN name TO full_name;

UPDATE account SET mood='sad' WHERE account.mood IS NULL;

UPDATE account SET email = lower(email);

DROP VIEW IF EXISTS active_account;

CREATE VIEW active_account AS SELECT id, email 
FROM account 
WHERE active;

ALTER TABLE orders RENAME TO purchase;

ALTER TABLE account DROP COLUMN settings;

INSERT INTO amigrate_version (version_num) VALUES ('e1');

COMMIT;

-- amigrate down head:base
-- Running downgrade e1 -> <base>

BEGIN;

DROP VIEW IF EXISTS active_account;

DROP TABLE purchase;

DROP TABLE IF EXISTS account;

DELETE FROM amigrate_version WHERE amigrate_version.version_num = 'e1';

COMMIT;

