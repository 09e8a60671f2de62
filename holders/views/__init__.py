"""The holder portal's pages, one module per document. Thin: the forms parse, the
services act, the selectors scope.
"""
