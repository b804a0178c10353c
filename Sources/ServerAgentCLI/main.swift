print("server-agent: not built yet")
