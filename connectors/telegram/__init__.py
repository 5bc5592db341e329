"""The Telegram channel: a synchronous Bot API client, the update poller and the sender."""
