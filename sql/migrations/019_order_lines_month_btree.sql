-- clean.order_lines: the months of a run are found through a B-tree index on invoice_month instead of the BRIN
-- index of migration 012. A month run deletes a month's lines and inserts them again; the inserted rows go
-- wherever the table has free space, and a BRIN range that receives them widens to span both months, forever
-- (BRIN summaries only grow). After a full refresh and a few day refreshes of a warehouse of 10,673,710 lines
-- over ten years, deleting one month of 151,482 lines read 246,867 heap blocks and rechecked 3.6 million rows
-- (5.6 s) and the refresh of one day's file took 200-250 s. A B-tree finds exactly a month's rows wherever
-- they are, whatever the history of the table. Run at deployment (`retail-platform migrate`, the compose
-- `migrate` service): building the index blocks writes to the table meanwhile (about 5 s at 10,673,710 lines)
-- and the DROP takes a brief exclusive lock, so readers wait that long once.
CREATE INDEX order_lines_month ON clean.order_lines (invoice_month);
DROP INDEX clean.order_lines_invoice_month;
