"""audits/permissions"""
