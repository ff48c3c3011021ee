-- The privacy-budget ledger survives restores (package privacy/dp,
-- docs/backup.md). A data backup brings back the releases it knew of;
-- the key backup carries the whole ledger too, and restoring it merges
-- the two by each release's identity, so a release made after the data
-- backup is never forgotten.
--
-- uid identifies a release across backups and restores: random for new
-- releases; for releases recorded before this migration, derived from the
-- row, which is the same in every copy made from the same history.
-- rho is the zCDP parameter of a discrete Gaussian release ('' for
-- Laplace), kept beside the (ε, δ) it was charged.
ALTER TABLE dp_releases ADD COLUMN uid TEXT NOT NULL DEFAULT '';
ALTER TABLE dp_releases ADD COLUMN rho TEXT NOT NULL DEFAULT '';
UPDATE dp_releases SET uid = 'v1-' || CAST(id AS TEXT) || '-' || CAST(released_at AS TEXT);
CREATE UNIQUE INDEX dp_releases_uid ON dp_releases (uid);

-- A restore puts the ledger on hold: releases made after the backup
-- cannot be known from it, so no budget is spent until a key backup made
-- after the data backup was merged, or an operator confirmed that none is
-- missing. One row per restore; the hold is active while lifted_at is
-- NULL. The table describes this database's own restores, so data
-- backups leave it out (every restore places a new hold).
CREATE TABLE dp_ledger_holds (
	id {{ID}},
	placed_at BIGINT NOT NULL,
	known_until BIGINT NOT NULL,
	lifted_at BIGINT,
	lifted_by TEXT NOT NULL DEFAULT ''
);
