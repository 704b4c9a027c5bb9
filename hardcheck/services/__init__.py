"""The service model: how the audited tree is deployed, built once per run after the
inventory and read by every audit (hardcheck.services.model)."""
