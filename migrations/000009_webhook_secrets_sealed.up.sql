-- Webhook secrets are stored sealed from now on (AES-256-GCM under a key
-- the database does not hold): 'v1:<key id>:<base64url sealed>'. SQL has no
-- key, so the rows written before are only marked here as 'plain:<secret>';
-- serve seals them when it starts (storage.SealWebhookSecrets) and reads
-- them as marked meanwhile. The check keeps an unmarked plaintext secret
-- from being written again (by an older binary, for one).
UPDATE webhooks SET secret = 'plain:' || secret;
ALTER TABLE webhooks ADD CONSTRAINT webhooks_secret_sealed CHECK (secret LIKE 'v1:%' OR secret LIKE 'plain:%');
