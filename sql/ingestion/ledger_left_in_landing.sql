-- Why a processed file stays in the landing folder (NULL once it was moved after all).
UPDATE raw.file_loads SET left_in_landing = :reason WHERE load_id = :load_id;
