"""Deployment tooling for MyBlog (not shipped to Lambda)."""
