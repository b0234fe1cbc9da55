"""retailnext"""
