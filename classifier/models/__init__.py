"""The trained default model(s) shipped with dophu (a package, so the files install)."""
