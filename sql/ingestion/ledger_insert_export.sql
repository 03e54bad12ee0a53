-- One export of a loaded file (the file, or one sheet of a workbook), numbered in file order from 0.
INSERT INTO raw.file_exports (load_id, export_no, export_name)
VALUES (:load_id, :export_no, :export_name);
