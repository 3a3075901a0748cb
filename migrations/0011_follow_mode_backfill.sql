-- Follows written before the follow mode had a per-trading-mode default stored 'auto' whether or not the member
-- chose it. Those become the default (NULL: auto on paper, confirm live), so no live account auto-trades without
-- the member having turned it on; an explicit 'confirm' is kept.
UPDATE `follows` SET `mode` = NULL WHERE `mode` = 'auto';
