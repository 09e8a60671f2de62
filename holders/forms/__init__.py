"""The portal's forms, one module per document: they parse and check what a person
typed; the services act.
"""
