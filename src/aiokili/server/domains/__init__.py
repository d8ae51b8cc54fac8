"""One module per domain: its rows, its storage (a repository) and its ariadne bindables."""
