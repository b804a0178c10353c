print("chat-bench: not built yet")
