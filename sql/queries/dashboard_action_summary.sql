-- Next best actions: how many customers each action is for.
SELECT action, count(*)::integer AS customers
FROM marts.customer_actions
GROUP BY action
ORDER BY customers DESC, action
