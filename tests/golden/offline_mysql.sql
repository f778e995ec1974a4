-- amigrate up head
SET NAMES utf8mb4;

BEGIN;

CREATE TABLE IF NOT EXISTS amigrate_version (
	version_num VARCHAR(32) NOT NULL, 
	PRIMARY KEY (version_num)
);

COMMIT;

-- Running upgrade <base> -> a1

BEGIN;

CREATE TABLE account (
	id INTEGER NOT NULL AUTO_INCREMENT, 
	email VARCHAR(255) NOT NULL, 
	active BOOL DEFAULT true, 
	PRIMARY KEY (id), 
	UNIQUE (email)
);

CREATE INDEX ix_account_email_lower ON account ((lower(email)));

INSERT INTO amigrate_version (version_num) VALUES ('a1');

COMMIT;

-- Running upgrade a1 -> b2

BEGIN;

CREATE TABLE orders (
	id INTEGER NOT NULL AUTO_INCREMENT, 
	account_id INTEGER, 
	note TEXT, 
	PRIMARY KEY (id), 
	FOREIGN KEY(account_id) REFERENCES account (id) ON DELETE CASCADE
);

ALTER TABLE account ADD COLUMN name VARCHAR(50) DEFAULT 'n/a';

UPDATE account SET name = 'o''brien' WHERE name IS NULL;

UPDATE amigrate_version SET version_num='b2' WHERE amigrate_version.version_num = 'a1';

COMMIT;

-- Running upgrade b2 -> c3

BEGIN;

UPDATE amigrate_version SET version_num='c3' WHERE amigrate_version.version_num = 'b2';

COMMIT;

-- amigrate down head:base
SET NAMES utf8mb4;

-- Running downgrade c3 -> b2

BEGIN;

UPDATE amigrate_version SET version_num='b2' WHERE amigrate_version.version_num = 'c3';

COMMIT;

-- Running downgrade b2 -> a1

BEGIN;

ALTER TABLE account DROP COLUMN name;

DROP TABLE orders;

UPDATE amigrate_version SET version_num='a1' WHERE amigrate_version.version_num = 'b2';

COMMIT;

-- Running downgrade a1 -> <base>

BEGIN;

DROP INDEX ix_account_email_lower ON account;

DROP TABLE account;

DELETE FROM amigrate_version WHERE amigrate_version.version_num = 'a1';

COMMIT;

-- amigrate up a1:b2
SET NAMES utf8mb4;

-- Running upgrade a1 -> b2

BEGIN;

CREATE TABLE orders (
	id INTEGER NOT NULL AUTO_INCREMENT, 
	account_id INTEGER, 
	note TEXT, 
	PRIMARY KEY (id), 
	FOREIGN KEY(account_id) REFERENCES account (id) ON DELETE CASCADE
);

ALTER TABLE account ADD COLUMN name VARCHAR(50) DEFAULT 'n/a';

UPDATE account SET name = 'o''brien' WHERE name IS NULL;

UPDATE amigrate_version SET version_num='b2' WHERE amigrate_version.version_num = 'a1';

COMMIT;

-- amigrate stamp b2
SET NAMES utf8mb4;

BEGIN;

CREATE TABLE IF NOT EXISTS amigrate_version (
	version_num VARCHAR(32) NOT NULL, 
	PRIMARY KEY (version_num)
);

COMMIT;

-- Running stamp <base> -> b2

BEGIN;

INSERT INTO amigrate_version (version_num) VALUES ('b2');

COMMIT;

