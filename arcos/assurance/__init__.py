"""Assurance cases: GSN arguments whose claims are decided by live evidence."""
