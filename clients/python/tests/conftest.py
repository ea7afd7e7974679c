# The plugin under test, loaded from this checkout (an installed package
# registers it through its pytest11 entry point instead).
pytest_plugins = ["usermock_pytest.plugin"]
