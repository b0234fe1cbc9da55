"""retailnext/video"""
