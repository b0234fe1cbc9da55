"""ocds"""
