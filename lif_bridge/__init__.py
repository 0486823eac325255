"""lif-bridge: ReLU networks as Linear LIF spiking networks, on Brian2, Lava or NumPy."""
