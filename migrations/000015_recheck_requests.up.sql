-- The re-check a chain follower asks for after a reorg (Worker.RecheckFrom)
-- is kept in the database until a pass settles it: the worker that serves
-- it may be another instance's (the one holding the anchoring lock), or
-- this one after a restart. NULL: nothing asked for.
ALTER TABLE anchor_lease ADD COLUMN recheck_from bigint CHECK (recheck_from >= 0);
