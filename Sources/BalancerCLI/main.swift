print("balancer: not built yet")
