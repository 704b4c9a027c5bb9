"""audits/logging"""
