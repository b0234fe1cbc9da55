"""RetailNext datamine: resolve date ranges, check requests against the documented rules,
split work into requests the API accepts in full, and flatten responses into rows."""
