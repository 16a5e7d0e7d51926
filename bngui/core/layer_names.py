"""Names of the network's layers that the statistics views talk about (no TensorFlow).

Every variant has the same layers under the same names (``models.build_model``),
so a statistic recorded per layer lines up across variants.
"""

CONV_LAYERS = 19

# Layers whose weight gradient is measured: every convolution, the 100-unit
# layer and the output layer, from input to output.
WEIGHT_LAYERS = tuple(f"conv{number}" for number in range(1, CONV_LAYERS + 1)) + ("fc", "logits")

# Layers with a ReLU; the activation statistics are of the ReLU's input.
NONLINEAR_LAYERS = tuple(f"conv{number}" for number in range(1, CONV_LAYERS + 1)) + ("fc",)
DEFAULT_ACTIVATION_LAYER = "conv10"  # a middle convolution

ACTIVATION_PERCENTILES = (15, 50, 85)  # Ioffe & Szegedy (2015), Figure 1(b, c)


def relu_layer_name(layer: str) -> str:
    """The name of the ReLU that follows ``layer`` in a built model."""
    return "relu_fc" if layer == "fc" else f"relu{layer[len('conv'):]}"
