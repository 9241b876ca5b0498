pytest_plugins = ["naervaer.testing.pytest_plugin"]
