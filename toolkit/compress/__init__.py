"""Model compression in Keras 3: weight, neuron and structured pruning, and distillation."""
