ALTER TABLE webhooks DROP CONSTRAINT webhooks_secret_sealed;
-- SQL cannot open a sealed secret, and the older version cannot sign with
-- one: those webhooks are disabled (an admin creates them again, with a new
-- secret). Secrets still marked plaintext get their old form back.
UPDATE webhooks SET disabled_at = coalesce(disabled_at, now()) WHERE secret LIKE 'v1:%';
UPDATE webhooks SET secret = substr(secret, length('plain:') + 1) WHERE secret LIKE 'plain:%';
