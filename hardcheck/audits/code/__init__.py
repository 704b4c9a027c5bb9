"""audits/code"""
