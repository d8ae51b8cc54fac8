"""The GraphQL resolvers, one module per domain, each exporting its ariadne ``bindables``.

They read and write through the repositories of :mod:`aiokili.server.store`.
"""
