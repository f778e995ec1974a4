-- amigrate up head
BEGIN;

CREATE TABLE IF NOT EXISTS amigrate_version (
	version_num VARCHAR(32) NOT NULL, 
	CONSTRAINT amigrate_version_pkc PRIMARY KEY (version_num)
);

CREATE TABLE IF NOT EXISTS amigrate_history (
	id INTEGER NOT NULL, 
	run_id VARCHAR(32) NOT NULL, 
	revision VARCHAR(32) NOT NULL, 
	direction VARCHAR(8) NOT NULL, 
	from_revisions VARCHAR(255) NOT NULL, 
	to_revisions VARCHAR(255) NOT NULL, 
	message VARCHAR(255) NOT NULL, 
	checksum VARCHAR(80), 
	status VARCHAR(16) NOT NULL, 
	error TEXT, 
	applied_at DATETIME NOT NULL, 
	duration FLOAT NOT NULL, 
	db_user VARCHAR(128), 
	os_user VARCHAR(255) NOT NULL, 
	amigrate_version VARCHAR(32) NOT NULL, 
	PRIMARY KEY (id)
);

CREATE INDEX IF NOT EXISTS ix_amigrate_history_revision ON amigrate_history (revision);

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

INSERT INTO amigrate_history (run_id, revision, direction, from_revisions, to_revisions, message, checksum, status, error, applied_at, duration, db_user, os_user, amigrate_version) VALUES ('<run id>', 'e1', 'up', '', 'e1', 'every op', 'v1:afb455167e9ebbafa29b9a5940e8c33b6e4d7c59ddfa99e53dc8c3a58111c6a5', 'applied', NULL, strftime('%Y-%m-%d %H:%M:%f000', 'now'), 0.0, NULL, '<os user>', '<amigrate version>');

COMMIT;

-- amigrate down head:base
BEGIN;

CREATE TABLE IF NOT EXISTS amigrate_history (
	id INTEGER NOT NULL, 
	run_id VARCHAR(32) NOT NULL, 
	revision VARCHAR(32) NOT NULL, 
	direction VARCHAR(8) NOT NULL, 
	from_revisions VARCHAR(255) NOT NULL, 
	to_revisions VARCHAR(255) NOT NULL, 
	message VARCHAR(255) NOT NULL, 
	checksum VARCHAR(80), 
	status VARCHAR(16) NOT NULL, 
	error TEXT, 
	applied_at DATETIME NOT NULL, 
	duration FLOAT NOT NULL, 
	db_user VARCHAR(128), 
	os_user VARCHAR(255) NOT NULL, 
	amigrate_version VARCHAR(32) NOT NULL, 
	PRIMARY KEY (id)
);

CREATE INDEX IF NOT EXISTS ix_amigrate_history_revision ON amigrate_history (revision);

COMMIT;

-- Running downgrade e1 -> <base>

BEGIN;

DROP VIEW IF EXISTS active_account;

DROP TABLE purchase;

DROP TABLE IF EXISTS account;

DELETE FROM amigrate_version WHERE amigrate_version.version_num = 'e1';

INSERT INTO amigrate_history (run_id, revision, direction, from_revisions, to_revisions, message, checksum, status, error, applied_at, duration, db_user, os_user, amigrate_version) VALUES ('<run id>', 'e1', 'down', 'e1', '', 'every op', 'v1:afb455167e9ebbafa29b9a5940e8c33b6e4d7c59ddfa99e53dc8c3a58111c6a5', 'applied', NULL, strftime('%Y-%m-%d %H:%M:%f000', 'now'), 0.0, NULL, '<os user>', '<amigrate version>');

COMMIT;

