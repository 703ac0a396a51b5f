ALTER TABLE anchor_lease DROP COLUMN recheck_from;
