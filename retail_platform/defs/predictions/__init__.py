"""Customer intelligence (SPEC 4.4, 4.5): lifetime value and churn risk, product recommendations, next best
actions, their evaluations on a time split, the decile chart and the checks. The models' pure code lives in
``retail_platform.analytics``; these modules only read, call and write."""
