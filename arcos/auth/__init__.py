"""Access control: principals, API tokens, scopes, and the checks every transport shares."""
