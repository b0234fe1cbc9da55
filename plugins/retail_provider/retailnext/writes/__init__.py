"""retailnext/writes"""
