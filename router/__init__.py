"""The pure core of relaydesk: vocabulary and decisions, no IO, no clock reads."""
