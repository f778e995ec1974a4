-- amigrate up head
SET client_encoding = 'UTF8';

BEGIN;

CREATE TABLE IF NOT EXISTS amigrate_version (
	version_num VARCHAR(32) NOT NULL, 
	CONSTRAINT amigrate_version_pkc PRIMARY KEY (version_num)
);

COMMIT;

-- Running upgrade <base> -> a1

BEGIN;

CREATE TABLE account (
	id SERIAL NOT NULL, 
	email VARCHAR(255) NOT NULL, 
	active BOOLEAN DEFAULT true, 
	PRIMARY KEY (id), 
	UNIQUE (email)
);

CREATE INDEX ix_account_email_lower ON account (lower(email));

INSERT INTO amigrate_version (version_num) VALUES ('a1');

COMMIT;

-- Running upgrade a1 -> b2

BEGIN;

CREATE TABLE orders (
	id SERIAL NOT NULL, 
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
SET client_encoding = 'UTF8';

-- Running downgrade c3 -> b2

BEGIN;

UPDATE amigrate_version SET version_num='b2' WHERE amigrate_version.version_num = 'c3';

COMMIT;

-- Running downgrade b2 -> a1

BEGIN;

DO $$
DECLARE
    amigrate_enums oid[] := ARRAY(SELECT q.oid FROM (
        SELECT DISTINCT t.oid, t.typarray, tn.nspname, t.typname,
            tn.nspname = current_schema() AS in_current
        FROM pg_catalog.pg_attribute a
        JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
        JOIN pg_catalog.pg_namespace cn ON cn.oid = c.relnamespace
        JOIN pg_catalog.pg_type at ON at.oid = a.atttypid
        JOIN pg_catalog.pg_type t ON t.oid =
            CASE WHEN at.typelem <> 0 AND at.typlen = -1 THEN at.typelem ELSE at.oid END
        JOIN pg_catalog.pg_namespace tn ON tn.oid = t.typnamespace
        WHERE c.relname = 'account' AND cn.nspname = coalesce(NULL, current_schema())
        AND a.attnum > 0 AND NOT a.attisdropped AND t.typtype = 'e'
        AND a.attname = 'name'
        ORDER BY tn.nspname, t.typname
    ) AS q);
    amigrate_enum record;
BEGIN
    ALTER TABLE account DROP COLUMN name;
    FOR amigrate_enum IN SELECT t.oid, t.typarray, n.nspname, t.typname
        FROM pg_catalog.pg_type t
        JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
        WHERE t.oid = ANY (amigrate_enums) ORDER BY n.nspname, t.typname
    LOOP
        IF (SELECT count(*) FROM pg_catalog.pg_depend d
            WHERE d.refclassid = 'pg_catalog.pg_type'::regclass AND d.deptype <> 'i'
            AND d.refobjid IN (amigrate_enum.oid, amigrate_enum.typarray)) = 0 THEN
            EXECUTE format('DROP TYPE %I.%I', amigrate_enum.nspname, amigrate_enum.typname);
        END IF;
    END LOOP;
END;
$$;

DO $$
DECLARE
    amigrate_enums oid[] := ARRAY(SELECT q.oid FROM (
        SELECT DISTINCT t.oid, t.typarray, tn.nspname, t.typname,
            tn.nspname = current_schema() AS in_current
        FROM pg_catalog.pg_attribute a
        JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
        JOIN pg_catalog.pg_namespace cn ON cn.oid = c.relnamespace
        JOIN pg_catalog.pg_type at ON at.oid = a.atttypid
        JOIN pg_catalog.pg_type t ON t.oid =
            CASE WHEN at.typelem <> 0 AND at.typlen = -1 THEN at.typelem ELSE at.oid END
        JOIN pg_catalog.pg_namespace tn ON tn.oid = t.typnamespace
        WHERE c.relname = 'orders' AND cn.nspname = coalesce(NULL, current_schema())
        AND a.attnum > 0 AND NOT a.attisdropped AND t.typtype = 'e'
        ORDER BY tn.nspname, t.typname
    ) AS q);
    amigrate_enum record;
BEGIN
    DROP TABLE orders;
    FOR amigrate_enum IN SELECT t.oid, t.typarray, n.nspname, t.typname
        FROM pg_catalog.pg_type t
        JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
        WHERE t.oid = ANY (amigrate_enums) ORDER BY n.nspname, t.typname
    LOOP
        IF (SELECT count(*) FROM pg_catalog.pg_depend d
            WHERE d.refclassid = 'pg_catalog.pg_type'::regclass AND d.deptype <> 'i'
            AND d.refobjid IN (amigrate_enum.oid, amigrate_enum.typarray)) = 0 THEN
            EXECUTE format('DROP TYPE %I.%I', amigrate_enum.nspname, amigrate_enum.typname);
        END IF;
    END LOOP;
END;
$$;

UPDATE amigrate_version SET version_num='a1' WHERE amigrate_version.version_num = 'b2';

COMMIT;

-- Running downgrade a1 -> <base>

BEGIN;

DROP INDEX ix_account_email_lower;

DO $$
DECLARE
    amigrate_enums oid[] := ARRAY(SELECT q.oid FROM (
        SELECT DISTINCT t.oid, t.typarray, tn.nspname, t.typname,
            tn.nspname = current_schema() AS in_current
        FROM pg_catalog.pg_attribute a
        JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
        JOIN pg_catalog.pg_namespace cn ON cn.oid = c.relnamespace
        JOIN pg_catalog.pg_type at ON at.oid = a.atttypid
        JOIN pg_catalog.pg_type t ON t.oid =
            CASE WHEN at.typelem <> 0 AND at.typlen = -1 THEN at.typelem ELSE at.oid END
        JOIN pg_catalog.pg_namespace tn ON tn.oid = t.typnamespace
        WHERE c.relname = 'account' AND cn.nspname = coalesce(NULL, current_schema())
        AND a.attnum > 0 AND NOT a.attisdropped AND t.typtype = 'e'
        ORDER BY tn.nspname, t.typname
    ) AS q);
    amigrate_enum record;
BEGIN
    DROP TABLE account;
    FOR amigrate_enum IN SELECT t.oid, t.typarray, n.nspname, t.typname
        FROM pg_catalog.pg_type t
        JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
        WHERE t.oid = ANY (amigrate_enums) ORDER BY n.nspname, t.typname
    LOOP
        IF (SELECT count(*) FROM pg_catalog.pg_depend d
            WHERE d.refclassid = 'pg_catalog.pg_type'::regclass AND d.deptype <> 'i'
            AND d.refobjid IN (amigrate_enum.oid, amigrate_enum.typarray)) = 0 THEN
            EXECUTE format('DROP TYPE %I.%I', amigrate_enum.nspname, amigrate_enum.typname);
        END IF;
    END LOOP;
END;
$$;

DELETE FROM amigrate_version WHERE amigrate_version.version_num = 'a1';

COMMIT;

-- amigrate up a1:b2
SET client_encoding = 'UTF8';

-- Running upgrade a1 -> b2

BEGIN;

CREATE TABLE orders (
	id SERIAL NOT NULL, 
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
SET client_encoding = 'UTF8';

BEGIN;

CREATE TABLE IF NOT EXISTS amigrate_version (
	version_num VARCHAR(32) NOT NULL, 
	CONSTRAINT amigrate_version_pkc PRIMARY KEY (version_num)
);

COMMIT;

-- Running stamp <base> -> b2

BEGIN;

INSERT INTO amigrate_version (version_num) VALUES ('b2');

COMMIT;

