import CZooKeeper
