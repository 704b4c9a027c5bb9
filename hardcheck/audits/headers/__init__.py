"""audits/headers"""
