-- A database holding chain alerts cannot go back without losing their
-- rows (their records would stay, anchored, with no alert to list), so
-- this fails, changing nothing, rather than delete them. The hunter's
-- progress goes: a hunter started afresh reads the chain again.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM alerts WHERE source = 'chain') THEN
        RAISE EXCEPTION 'alerts holds chain alerts; migration 000013 cannot go down without losing them';
    END IF;
END $$;
DROP TABLE chain_hunt_accounts;
DROP TABLE chain_hunt_checkpoints;
-- Dropping the columns drops their indexes and constraints with them.
ALTER TABLE alerts
    DROP COLUMN source,
    DROP COLUMN chain_id,
    DROP COLUMN block_number,
    DROP COLUMN block_hash,
    DROP COLUMN tx_hash,
    DROP COLUMN account,
    DROP COLUMN rule,
    DROP COLUMN subject,
    DROP COLUMN method;
