-- Fencing the chain hunting lock, as anchor_lease fences the anchoring
-- lock: every time a hunter takes the lock, epoch grows by one and it keeps
-- the new value; each of its commits checks, under a share lock of this
-- row, that its token is still the latest, and writes nothing if not. A
-- hunter whose lock session died (and whose last commit would otherwise
-- replace the checkpoint and accounts of the instance that took over)
-- commits nothing more.
CREATE TABLE chain_hunt_lease (
    singleton boolean     PRIMARY KEY DEFAULT true CHECK (singleton),
    epoch     bigint      NOT NULL CHECK (epoch >= 0),
    taken_at  timestamptz NOT NULL
);
INSERT INTO chain_hunt_lease (epoch, taken_at) VALUES (0, now());
