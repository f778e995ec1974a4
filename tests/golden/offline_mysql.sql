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

BEGIN;

INSERT INTO amigrate_version (version_num) VALUES ('a1');

INSERT INTO amigrate_history (run_id, revision, direction, from_revisions, to_revisions, message, checksum, status, error, applied_at, duration, db_user, os_user, amigrate_version) VALUES ('<run id>', 'a1', 'up', '', 'a1', 'create account', 'v1:f8a07cddfdb733d503cbd44f942a666e5ffa192ff5296cdeb1f5d4b322426a67', 'applied', NULL, utc_timestamp(6), 0.0, CASE WHEN (char_length(CURRENT_USER) > 128) THEN concat(left(CURRENT_USER, 125), '...') ELSE CURRENT_USER END, '<os user>', '<amigrate version>');

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

BEGIN;

UPDATE account SET name = 'o''brien' WHERE name IS NULL;

UPDATE amigrate_version SET version_num='b2' WHERE amigrate_version.version_num = 'a1';

INSERT INTO amigrate_history (run_id, revision, direction, from_revisions, to_revisions, message, checksum, status, error, applied_at, duration, db_user, os_user, amigrate_version) VALUES ('<run id>', 'b2', 'up', 'a1', 'b2', 'orders and data', 'v1:a1af3fd3c7cc31f0ff4b771611ca2d044c735f41b2502fca44a7935cf4167451', 'applied', NULL, utc_timestamp(6), 0.0, CASE WHEN (char_length(CURRENT_USER) > 128) THEN concat(left(CURRENT_USER, 125), '...') ELSE CURRENT_USER END, '<os user>', '<amigrate version>');

COMMIT;

-- Running upgrade b2 -> c3

BEGIN;

UPDATE amigrate_version SET version_num='c3' WHERE amigrate_version.version_num = 'b2';

INSERT INTO amigrate_history (run_id, revision, direction, from_revisions, to_revisions, message, checksum, status, error, applied_at, duration, db_user, os_user, amigrate_version) VALUES ('<run id>', 'c3', 'up', 'b2', 'c3', 'nothing', 'v1:daeebcc2523b2e0504578e0f885ecf4197cec3a11d2a1bb03868400a68eb4b65', 'applied', NULL, utc_timestamp(6), 0.0, CASE WHEN (char_length(CURRENT_USER) > 128) THEN concat(left(CURRENT_USER, 125), '...') ELSE CURRENT_USER END, '<os user>', '<amigrate version>');

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

-- Running downgrade c3 -> b2

BEGIN;

UPDATE amigrate_version SET version_num='b2' WHERE amigrate_version.version_num = 'c3';

INSERT INTO amigrate_history (run_id, revision, direction, from_revisions, to_revisions, message, checksum, status, error, applied_at, duration, db_user, os_user, amigrate_version) VALUES ('<run id>', 'c3', 'down', 'c3', 'b2', 'nothing', 'v1:daeebcc2523b2e0504578e0f885ecf4197cec3a11d2a1bb03868400a68eb4b65', 'applied', NULL, utc_timestamp(6), 0.0, CASE WHEN (char_length(CURRENT_USER) > 128) THEN concat(left(CURRENT_USER, 125), '...') ELSE CURRENT_USER END, '<os user>', '<amigrate version>');

COMMIT;

-- Running downgrade b2 -> a1

BEGIN;

ALTER TABLE account DROP COLUMN name;

DROP TABLE orders;

BEGIN;

UPDATE amigrate_version SET version_num='a1' WHERE amigrate_version.version_num = 'b2';

INSERT INTO amigrate_history (run_id, revision, direction, from_revisions, to_revisions, message, checksum, status, error, applied_at, duration, db_user, os_user, amigrate_version) VALUES ('<run id>', 'b2', 'down', 'b2', 'a1', 'orders and data', 'v1:a1af3fd3c7cc31f0ff4b771611ca2d044c735f41b2502fca44a7935cf4167451', 'applied', NULL, utc_timestamp(6), 0.0, CASE WHEN (char_length(CURRENT_USER) > 128) THEN concat(left(CURRENT_USER, 125), '...') ELSE CURRENT_USER END, '<os user>', '<amigrate version>');

COMMIT;

-- Running downgrade a1 -> <base>

BEGIN;

DROP INDEX ix_account_email_lower ON account;

DROP TABLE account;

BEGIN;

DELETE FROM amigrate_version WHERE amigrate_version.version_num = 'a1';

INSERT INTO amigrate_history (run_id, revision, direction, from_revisions, to_revisions, message, checksum, status, error, applied_at, duration, db_user, os_user, amigrate_version) VALUES ('<run id>', 'a1', 'down', 'a1', '', 'create account', 'v1:f8a07cddfdb733d503cbd44f942a666e5ffa192ff5296cdeb1f5d4b322426a67', 'applied', NULL, utc_timestamp(6), 0.0, CASE WHEN (char_length(CURRENT_USER) > 128) THEN concat(left(CURRENT_USER, 125), '...') ELSE CURRENT_USER END, '<os user>', '<amigrate version>');

COMMIT;

-- amigrate up a1:b2
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

BEGIN;

UPDATE account SET name = 'o''brien' WHERE name IS NULL;

UPDATE amigrate_version SET version_num='b2' WHERE amigrate_version.version_num = 'a1';

INSERT INTO amigrate_history (run_id, revision, direction, from_revisions, to_revisions, message, checksum, status, error, applied_at, duration, db_user, os_user, amigrate_version) VALUES ('<run id>', 'b2', 'up', 'a1', 'b2', 'orders and data', 'v1:a1af3fd3c7cc31f0ff4b771611ca2d044c735f41b2502fca44a7935cf4167451', 'applied', NULL, utc_timestamp(6), 0.0, CASE WHEN (char_length(CURRENT_USER) > 128) THEN concat(left(CURRENT_USER, 125), '...') ELSE CURRENT_USER END, '<os user>', '<amigrate version>');

COMMIT;

-- amigrate stamp b2
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

-- Running stamp <base> -> b2

BEGIN;

INSERT INTO amigrate_version (version_num) VALUES ('b2');

INSERT INTO amigrate_history (run_id, revision, direction, from_revisions, to_revisions, message, checksum, status, error, applied_at, duration, db_user, os_user, amigrate_version) VALUES ('<run id>', 'b2', 'stamp', '', 'b2', 'orders and data', 'v1:a1af3fd3c7cc31f0ff4b771611ca2d044c735f41b2502fca44a7935cf4167451', 'applied', NULL, utc_timestamp(6), 0.0, CASE WHEN (char_length(CURRENT_USER) > 128) THEN concat(left(CURRENT_USER, 125), '...') ELSE CURRENT_USER END, '<os user>', '<amigrate version>');

COMMIT;

