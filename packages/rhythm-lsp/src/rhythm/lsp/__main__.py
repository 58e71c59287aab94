"""`python -m rhythm.lsp`: run the language server on stdio."""

from rhythm.lsp.server import main

if __name__ == "__main__":
    main()
