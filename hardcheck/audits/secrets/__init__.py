"""audits/secrets"""
