-- The role matrix (openspec/specs/rbac) makes a stored `admin` membership grant admin rights. Rows stored before it
-- granted nothing (admin rights came only from Discord's live Manage Server permission) and were never given through
-- the audited role change, so they are migrated to `trader` rather than promoted silently. Discord's Manage Server
-- still makes a member an admin in Discord; an owner or admin re-grants the stored role through the API, audited.
UPDATE `memberships` SET `role` = 'trader', `updated_at` = (unixepoch('subsec') * 1000) WHERE `role` = 'admin';
