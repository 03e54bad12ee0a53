-- A file rejected for too many bad lines keeps nothing: its loaded lines go again (its rejected lines stay
-- listed in raw.rejected_lines, its ledger row says why).
DELETE FROM raw.transaction_lines WHERE load_id = :load_id;
