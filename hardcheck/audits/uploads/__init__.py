"""audits/uploads"""
