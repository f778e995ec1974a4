-- amigrate up head
SET NAMES utf8mb4;

BEGIN;

CREATE TABLE IF NOT EXISTS amigrate_version (
	version_num VARCHAR(32) NOT NULL, 
	PRIMARY KEY (version_num)
);

SET @amigrate_ddl = IF((SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = 'amigrate_history') = 0, 'CREATE TABLE IF NOT EXISTS amigrate_history (
	id INTEGER NOT NULL AUTO_INCREMENT, 
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
	PRIMARY KEY (id),
	INDEX ix_amigrate_history_revision (revision)
)CHARSET=utf8mb4', 'DO 0');

PREPARE amigrate_ddl FROM @amigrate_ddl;

EXECUTE amigrate_ddl;

DEALLOCATE PREPARE amigrate_ddl;

COMMIT;

-- Running upgrade <base> -> e1

BEGIN;

CREATE SEQUENCE invoice_no INCREMENT BY 1 START WITH 1000;

CREATE TABLE account (
	id INTEGER NOT NULL AUTO_INCREMENT, 
	email VARCHAR(255) NOT NULL COMMENT 'login', 
	active BOOL NOT NULL DEFAULT true, 
	mood ENUM('happy','sad'), 
	settings JSON, 
	created DATETIME DEFAULT (now()), 
	PRIMARY KEY (id), 
	CONSTRAINT uq_account_email UNIQUE (email)
)COMMENT='people';

BEGIN;

INSERT INTO account (id, email, mood) VALUES (1, 'o''brien@example.com', 'happy');

INSERT INTO account (id, email) VALUES (2, 'b@example.com');

CREATE TABLE orders (
	id INTEGER NOT NULL AUTO_INCREMENT, 
	account_id INTEGER NOT NULL, 
	total NUMERIC(10, 2) DEFAULT '0', 
	note TEXT, 
	PRIMARY KEY (id)
);

CREATE INDEX ix_orders_note ON orders (note(20));

ALTER TABLE orders ADD CONSTRAINT fk_orders_account FOREIGN KEY(account_id) REFERENCES account (id) ON DELETE CASCADE ON UPDATE CASCADE;

ALTER TABLE orders ADD CONSTRAINT ck_orders_total CHECK (total >= 0);

ALTER TABLE orders CHANGE note remark VARCHAR(200) NULL;

ALTER TABLE orders ADD COLUMN paid BOOL DEFAULT false;

ALTER TABLE account ADD COLUMN name VARCHAR(50) DEFAULT 'n/a';

ALTER TABLE account RENAME COLUMN name TO full_name;

ALTER TABLE account MODIFY full_name VARCHAR(50) NOT NULL COMMENT 'shown';

ALTER TABLE orders MODIFY total NUMERIC(12, 2) NULL DEFAULT '0';

ALTER TABLE orders COMMENT 'what was bought';

ALTER TABLE account COMMENT '';

CREATE TABLE tag (
	name VARCHAR(20) NOT NULL
);

ALTER TABLE tag ADD CONSTRAINT pk_tag PRIMARY KEY (name);

ALTER TABLE orders MODIFY total NUMERIC(12, 2) NULL DEFAULT '0' AFTER id;

BEGIN;

UPDATE account SET mood='sad' WHERE account.mood IS NULL;

UPDATE account SET email = lower(email);

CREATE OR REPLACE VIEW active_account AS SELECT id, email 
FROM account 
WHERE active;

ALTER TABLE orders RENAME TO purchase;

ALTER TABLE account DROP COLUMN IF EXISTS settings;

BEGIN;

INSERT INTO amigrate_version (version_num) VALUES ('e1');

INSERT INTO amigrate_history (run_id, revision, direction, from_revisions, to_revisions, message, checksum, status, error, applied_at, duration, db_user, os_user, amigrate_version) VALUES ('<run id>', 'e1', 'up', '', 'e1', 'every op', 'v1:afb455167e9ebbafa29b9a5940e8c33b6e4d7c59ddfa99e53dc8c3a58111c6a5', 'applied', NULL, utc_timestamp(6), 0.0, CASE WHEN (char_length(CURRENT_USER) > 128) THEN concat(left(CURRENT_USER, 125), '...') ELSE CURRENT_USER END, '<os user>', '<amigrate version>');

COMMIT;

-- amigrate down head:base
SET NAMES utf8mb4;

BEGIN;

SET @amigrate_ddl = IF((SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = 'amigrate_history') = 0, 'CREATE TABLE IF NOT EXISTS amigrate_history (
	id INTEGER NOT NULL AUTO_INCREMENT, 
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
	PRIMARY KEY (id),
	INDEX ix_amigrate_history_revision (revision)
)CHARSET=utf8mb4', 'DO 0');

PREPARE amigrate_ddl FROM @amigrate_ddl;

EXECUTE amigrate_ddl;

DEALLOCATE PREPARE amigrate_ddl;

COMMIT;

-- Running downgrade e1 -> <base>

BEGIN;

DROP VIEW IF EXISTS active_account;

DROP TABLE purchase;

ALTER TABLE tag DROP PRIMARY KEY;

DROP TABLE tag;

ALTER TABLE account DROP INDEX uq_account_email;

DROP TABLE IF EXISTS account;

DROP SEQUENCE IF EXISTS invoice_no;

BEGIN;

DELETE FROM amigrate_version WHERE amigrate_version.version_num = 'e1';

INSERT INTO amigrate_history (run_id, revision, direction, from_revisions, to_revisions, message, checksum, status, error, applied_at, duration, db_user, os_user, amigrate_version) VALUES ('<run id>', 'e1', 'down', 'e1', '', 'every op', 'v1:afb455167e9ebbafa29b9a5940e8c33b6e4d7c59ddfa99e53dc8c3a58111c6a5', 'applied', NULL, utc_timestamp(6), 0.0, CASE WHEN (char_length(CURRENT_USER) > 128) THEN concat(left(CURRENT_USER, 125), '...') ELSE CURRENT_USER END, '<os user>', '<amigrate version>');

COMMIT;

