-- Which database this is: its oid and the server's address and port.
SELECT d.oid, coalesce(host(inet_server_addr()), 'socket'), coalesce(inet_server_port(), 0)
FROM pg_database AS d
WHERE d.datname = current_database()
