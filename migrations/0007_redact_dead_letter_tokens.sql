-- Dead letters stored before bodies were redacted on arrival may hold a Discord
-- interaction token (notifications of kind interaction.edit / interaction.followup).
-- Redact it in place; the operator API also redacts text on the way out.
UPDATE `dead_letters`
SET `body` = json_set(`body`, '$.token', '[redacted]')
WHERE `queue` = 'notifications'
  AND json_valid(`body`)
  AND json_type(`body`, '$.token') IS NOT NULL;
