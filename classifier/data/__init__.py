"""The labelled corpus (JSON Lines; see README.md). A package so the files install."""
