def single_neuron_rates(*a, **k):
    raise NotImplementedError
