"""audits/dependencies"""
