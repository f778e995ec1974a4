-- amigrate up head
SET NAMES utf8mb4;

BEGIN;

CREATE TABLE IF NOT EXISTS amigrate_version (
	version_num VARCHAR(32) NOT NULL, 
	PRIMARY KEY (version_num)
);

COMMIT;

-- Running upgrade <base> -> e1

BEGIN;

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

INSERT INTO account (id, email, mood) VALUES (1, 'o''brien@example.com', 'happy');

INSERT INTO account (id, email) VALUES (2, 'b@example.com');

CREATE TABLE orders (
	id INTEGER NOT NULL AUTO_INCREMENT, 
	account_id INTEGER NOT NULL, 
	total NUMERIC(10, 2) DEFAULT '0', 
	note TEXT, 
	PRIMARY KEY (id)
);

CREATE INDEX ix_account_email_lower ON account ((lower(email)));

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

UPDATE account SET mood='sad' WHERE account.mood IS NULL;

UPDATE account SET email = lower(email);

CREATE OR REPLACE VIEW active_account AS SELECT id, email 
FROM account 
WHERE active;

ALTER TABLE orders RENAME TO purchase;

ALTER TABLE account DROP COLUMN settings;

INSERT INTO amigrate_version (version_num) VALUES ('e1');

COMMIT;

-- amigrate down head:base
SET NAMES utf8mb4;

-- Running downgrade e1 -> <base>

BEGIN;

DROP VIEW IF EXISTS active_account;

DROP TABLE purchase;

ALTER TABLE tag DROP PRIMARY KEY;

DROP TABLE tag;

ALTER TABLE account DROP INDEX uq_account_email;

DROP TABLE IF EXISTS account;

DELETE FROM amigrate_version WHERE amigrate_version.version_num = 'e1';

COMMIT;

