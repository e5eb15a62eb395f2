"""The schema, pure: the normalized model, cross-dialect type rules, target DDL text and
the SQL expressions a mapping may hold (parsed, never pasted). Imports no driver.
"""
