"""Data files shipped with the bot."""
