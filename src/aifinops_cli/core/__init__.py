"""The core model: observations, rules, findings, reports. No cloud code lives here."""
